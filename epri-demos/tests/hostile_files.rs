//! Regression tests of hostile input files found by fuzzing the `epri` command: each must be
//! refused quickly, with one line that names the file and says what is wrong, never a hang,
//! an abort, a panic or non-finite values.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Longest time a reader may take on one of these files.
const FAST: Duration = Duration::from_secs(1);

/// A scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("hostile-{name}"));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// Runs a reader on `path`, checks that it fails fast with one clean line naming `named`
/// (a file name), and returns the message.
fn error_of<T: std::fmt::Debug>(
    named: &str,
    read: impl FnOnce() -> epri_demos::Result<T>,
) -> String {
    let start = Instant::now();
    let result = read();
    let took = start.elapsed();
    assert!(took < FAST, "took {took:?}");
    let msg = result
        .expect_err("a hostile file must be refused")
        .to_string();
    assert!(msg.contains(named), "does not name {named}: {msg}");
    assert!(
        !msg.chars().any(char::is_control),
        "control characters: {msg:?}"
    );
    assert!(msg.len() < 400, "{} characters: {msg}", msg.len());
    msg
}

mod npy {
    use super::*;
    use epri_demos::io::npy::read_npy;

    /// A version 1.0 `.npy` file: magic, header padded as numpy does, data.
    fn npy_bytes(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut header = dict.as_bytes().to_vec();
        while !(10 + header.len() + 1).is_multiple_of(64) {
            header.push(b' ');
        }
        header.push(b'\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend((header.len() as u16).to_le_bytes());
        out.extend(header);
        out.extend(data);
        out
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn f32s(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    /// Defect 1: a header value nested 30 deep made the old header parser backtrack for minutes.
    #[test]
    fn deeply_nested_header_value_is_refused_fast() {
        let dir = scratch("npy-nested");
        let nested = format!("{}{}", "[".repeat(30), "]".repeat(30));
        let dict =
            format!("{{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': {nested}}}");
        let p = write(
            &dir,
            "nested.npy",
            &npy_bytes(&dict, &f32s(&[1.0, 2.0, 3.0])),
        );
        assert!(std::fs::metadata(&p).unwrap().len() <= 256);
        let e = error_of("nested.npy", || read_npy(&p));
        assert!(e.contains("nested more than 16 deep"), "{e}");
        // A header longer than numpy's own limit.
        let long = format!(
            "{{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': '{}'}}",
            "a".repeat(20_000)
        );
        let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
        bytes.extend((long.len() as u32).to_le_bytes());
        bytes.extend(long.as_bytes());
        let p = write(&dir, "long.npy", &bytes);
        let e = error_of("long.npy", || read_npy(&p));
        assert!(e.contains("10000"), "{e}");
        // Extra keys nested a little are tolerated.
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': [[1, (2,)], {'y': None}]}";
        let p = write(&dir, "extra.npy", &npy_bytes(dict, &f32s(&[1.0, 2.0, 3.0])));
        assert_eq!(read_npy(&p).unwrap().shape(), &[3]);
    }

    /// Defect 2: 1e12 declared values with 8 bytes of data aborted on allocation.
    #[test]
    fn huge_declared_shape_is_refused_before_allocating() {
        let dir = scratch("npy-huge");
        let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }";
        let p = write(&dir, "huge.npy", &npy_bytes(dict, &[0; 8]));
        let e = error_of("huge.npy", || read_npy(&p));
        assert!(
            e.contains("truncated") && e.contains("8000000000000 bytes"),
            "{e}"
        );
        // A product of lengths that overflows.
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }";
        let p = write(&dir, "overflow.npy", &npy_bytes(dict, &[0; 8]));
        let e = error_of("overflow.npy", || read_npy(&p));
        assert!(e.contains("more values than memory can address"), "{e}");
        // A length that is not a usize at all.
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }";
        let p = write(&dir, "negative.npy", &npy_bytes(dict, &[0; 8]));
        let e = error_of("negative.npy", || read_npy(&p));
        assert!(e.contains("'shape' is \"(-3,)\""), "{e}");
    }

    /// Defect 4: NaN or infinite values in an input array are an error naming the file.
    #[test]
    fn non_finite_values_are_refused() {
        let dir = scratch("npy-nan");
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
        for (name, bad) in [("nan.npy", f32::NAN), ("inf.npy", f32::NEG_INFINITY)] {
            let p = write(&dir, name, &npy_bytes(dict, &f32s(&[1.0, 2.0, bad, 4.0])));
            let e = error_of(name, || read_npy(&p));
            assert!(e.contains("value 2 ") && e.contains("finite"), "{e}");
        }
    }

    /// Defect 5: truncated files, unreadable headers, missing keys: one short line naming the
    /// file, control bytes escaped.
    #[test]
    fn errors_name_the_file_in_one_short_escaped_line() {
        let dir = scratch("npy-errors");
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }";
        let p = write(&dir, "truncated.npy", &npy_bytes(dict, &f32s(&[1.0, 2.0])));
        let e = error_of("truncated.npy", || read_npy(&p));
        assert!(
            e.contains("truncated .npy file") && e.contains("needs 16 bytes"),
            "{e}"
        );
        let p = write(&dir, "preamble.npy", b"\x93NUMPY\x01");
        let e = error_of("preamble.npy", || read_npy(&p));
        assert!(e.contains("truncated"), "{e}");

        let garbage = format!("{{'descr': '<f4', \x1b[31m\x07{}", "\x01(".repeat(2000));
        let p = write(&dir, "garbage.npy", &npy_bytes(&garbage, &[]));
        let e = error_of("garbage.npy", || read_npy(&p));
        assert!(
            e.contains("\\u{1b}") || e.contains("\\u{7}") || e.contains("\\u{1}"),
            "{e}"
        );

        let dict = "{'descr': '<f4', 'fortran_order': False, 'shaper': (4,), }";
        let p = write(&dir, "shaper.npy", &npy_bytes(dict, &f32s(&[1.0; 4])));
        let e = error_of("shaper.npy", || read_npy(&p));
        assert!(e.contains("the header has no 'shape' key"), "{e}");

        let dict = "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }";
        let p = write(&dir, "int.npy", &npy_bytes(dict, &[0; 8]));
        let e = error_of("int.npy", || read_npy(&p));
        assert!(e.contains("unsupported element type \"'<i8'\""), "{e}");

        let e = error_of("hostile-npy-errors", || read_npy(&dir));
        assert!(e.contains("directory"), "{e}");
    }
}

mod bes3t {
    use super::*;
    use epri_demos::io::bes3t::{read_bes3t, MAX_DSC_LEN};

    /// Writes `name.DSC` (a 4×2 float64 big-endian sinogram unless `keys` says otherwise, keys
    /// later in the text win) and `name.DTA`.
    fn write_pair(dir: &Path, name: &str, keys: &str, dta: &[u8]) -> PathBuf {
        let dsc = dir.join(format!("{name}.DSC"));
        std::fs::write(
            &dsc,
            format!("#DESC\t1.2 * DESCRIPTOR\nIRFMT\tD\nXPTS\t4\nYPTS\t2\nXMIN\t10.0\nXWID\t3.0\n{keys}"),
        )
        .unwrap();
        std::fs::write(dir.join(format!("{name}.DTA")), dta).unwrap();
        dsc
    }

    fn big_f64(values: &[f64]) -> Vec<u8> {
        values.iter().flat_map(|x| x.to_be_bytes()).collect()
    }

    const GRADIENT_UNIT: &str = "#SPL\t1.2\nGRAD 168.0\n#DSL\t1.0\n.DVC     grdUnit, 1.0\nFirstAlpha  1.0 deg\nImageType 2D\n";

    /// Defect 2: `NrOfAlpha 1e15` asked for a gradient table of 1e15 (or 1e30) entries.
    #[test]
    fn huge_nr_of_alpha_is_refused_before_allocating() {
        let dir = scratch("bes3t-alpha");
        let data = big_f64(&[1.0; 8]);
        for (name, kind, spectrum) in [
            ("sino2d", "2D", ""),
            ("sino3d", "3D", ""),
            ("spec", "2D", "YPTS 1\n"),
        ] {
            let keys = format!("{spectrum}{GRADIENT_UNIT}NrOfAlpha 1e15\nImageType {kind}\n");
            let data = if spectrum.is_empty() {
                data.clone()
            } else {
                big_f64(&[1.0; 4])
            };
            let dsc = write_pair(&dir, name, &keys, &data);
            let e = error_of(&format!("{name}.DSC"), || read_bes3t(&dsc));
            assert!(e.contains("NrOfAlpha = 1000000000000000"), "{e}");
        }
        // The count must match the projections of a sinogram.
        let dsc = write_pair(
            &dir,
            "mismatch",
            &format!("{GRADIENT_UNIT}NrOfAlpha 3\n"),
            &data,
        );
        let e = error_of("mismatch.DSC", || read_bes3t(&dsc));
        assert!(
            e.contains("3 NrOfAlpha gradients (2D)") && e.contains("2 projections"),
            "{e}"
        );
        let dsc = write_pair(
            &dir,
            "fine",
            &format!("{GRADIENT_UNIT}NrOfAlpha 2\n"),
            &data,
        );
        assert_eq!(read_bes3t(&dsc).unwrap().fgrad.unwrap().shape(), &[2, 2]);
    }

    /// Defect 3: `XPTS 2^61` with an empty `.DTA` overflowed the size computation.
    #[test]
    fn overflowing_point_counts_are_errors() {
        let dir = scratch("bes3t-xpts");
        let dsc = write_pair(&dir, "xpts", "XPTS 2305843009213693952\n", &[]);
        let e = error_of("xpts.DSC", || read_bes3t(&dsc));
        assert!(e.contains("more than memory can address"), "{e}");
        // One-byte values: the size fits, the empty data file is too short.
        let dsc = write_pair(
            &dir,
            "bytes",
            "IRFMT C\nXPTS 2305843009213693952\nYPTS 1\n",
            &[],
        );
        let e = error_of("bytes.DTA", || read_bes3t(&dsc));
        assert!(
            e.contains("truncated") && e.contains("2305843009213693952 bytes"),
            "{e}"
        );
    }

    /// Defect 4: big-endian data read as little-endian (`BSEQ LIT`) give NaN: refused, with a
    /// hint at the byte order.
    #[test]
    fn wrong_byte_order_giving_nan_is_refused_with_a_bseq_hint() {
        let dir = scratch("bes3t-bseq");
        // 2.0000000000001 whose last two big-endian bytes read as the top of a NaN.
        let x = f64::from_bits(0x4000_0000_0000_F07F);
        let data = big_f64(&[1.0, 2.0, 3.0, x, 5.0, 6.0, 7.0, 8.0]);
        let dsc = write_pair(&dir, "big", "", &data);
        assert!(read_bes3t(&dsc).unwrap().data.iter().all(|v| v.is_finite()));
        let dsc = write_pair(&dir, "lit", "BSEQ LIT\n", &data);
        let e = error_of("lit.DTA", || read_bes3t(&dsc));
        assert!(
            e.contains("NaN") && e.contains("BSEQ LIT") && e.contains("is BSEQ right?"),
            "{e}"
        );
        let dsc = write_pair(
            &dir,
            "inf",
            "",
            &big_f64(&[1.0, f64::INFINITY, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]),
        );
        let e = error_of("inf.DTA", || read_bes3t(&dsc));
        assert!(e.contains("value 1 ") && e.contains("inf"), "{e}");
    }

    /// Defect 5: `x.Dsc` finds `x.dTa`; a missing companion names what was looked for.
    #[test]
    fn companions_are_found_in_any_letter_case() {
        let dir = scratch("bes3t-case");
        let dsc = write_pair(&dir, "x", "", &big_f64(&[1.0; 8]));
        std::fs::rename(&dsc, dir.join("x.Dsc")).unwrap();
        std::fs::rename(dir.join("x.DTA"), dir.join("x.dTa")).unwrap();
        assert_eq!(
            read_bes3t(&dir.join("x.Dsc")).unwrap().data.shape(),
            &[2, 4]
        );
        assert_eq!(
            read_bes3t(&dir.join("x.dTa")).unwrap().data.shape(),
            &[2, 4]
        );
        std::fs::remove_file(dir.join("x.dTa")).unwrap();
        let e = error_of("x.DTA", || read_bes3t(&dir.join("x.Dsc")));
        assert!(e.contains("no such file, with its extension in any letter case, the BES3T data file that goes with x.Dsc"), "{e}");
        let e = error_of("y.DSC", || read_bes3t(&dir.join("y.DSC")));
        assert!(e.contains("no such file"), "{e}");
    }

    /// Defect 5: long lines and control bytes of a `.DSC` are cut and escaped; a `.DSC` over
    /// the bound is refused without being parsed.
    #[test]
    fn descriptor_text_is_cut_and_escaped_and_bounded() {
        let dir = scratch("bes3t-lines");
        let long = format!("\x1b[{}\n", "%".repeat(1 << 20));
        let dsc = write_pair(&dir, "long", &long, &big_f64(&[1.0; 8]));
        let e = error_of("long.DSC", || read_bes3t(&dsc));
        assert!(
            e.contains("expected `KEY value`, found \"\\u{1b}[%%%") && e.contains("...\""),
            "{e}"
        );

        let huge = format!("TITL {}\n", "a".repeat(MAX_DSC_LEN));
        let dsc = write_pair(&dir, "huge", &huge, &big_f64(&[1.0; 8]));
        let e = error_of("huge.DSC", || read_bes3t(&dsc));
        assert!(e.contains("at most 4 MiB"), "{e}");

        // A line of 3 MB of '#' (each one a candidate layer header) is parsed in linear time.
        let storm = format!("TITL a{}\n", "#".repeat(3 << 20));
        let dsc = write_pair(&dir, "storm", &storm, &big_f64(&[1.0; 8]));
        let start = Instant::now();
        assert_eq!(read_bes3t(&dsc).unwrap().data.shape(), &[2, 4]);
        assert!(start.elapsed() < FAST, "{:?}", start.elapsed());
    }
}
