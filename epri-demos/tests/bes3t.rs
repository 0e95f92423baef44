//! The BES3T reader against the embedded datasets (phalanx, fusillo) and against malformed files.

use epri_demos::datasets::datasets_root;
use epri_demos::io::bes3t::{read_bes3t, Bes3t};
use epri_demos::io::npy::read_npy;
use ndarray::ArrayD;
use std::path::{Path, PathBuf};

fn dataset(name: &str) -> PathBuf {
    datasets_root().join(name)
}

fn npy(path: PathBuf) -> ArrayD<f64> {
    read_npy(&path).unwrap().to_f64()
}

fn max_abs_diff(a: &ArrayD<f64>, b: &ArrayD<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn bes3t(dataset_name: &str, kind: &str) -> Bes3t {
    let p = dataset(dataset_name)
        .join("bes3t")
        .join(format!("{dataset_name}-{kind}.DSC"));
    read_bes3t(&p).unwrap()
}

/// FNV-1a (64 bits) of the little-endian bytes of the values, in C order.
fn fnv1a_le(a: &ArrayD<f64>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in a.iter() {
        for byte in v.to_le_bytes() {
            h = (h ^ byte as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// phalanx: the BES3T data are the float64 arrays bit for bit; the float32 .npy are their
/// rounding; B matches numpy's linspace to 1e-12 G; the gradient table is PyEPRI's.
#[test]
fn phalanx_equals_the_float64_arrays() {
    let d = dataset("phalanx-20220203");
    let proj = bes3t("phalanx-20220203", "proj");
    assert_eq!(proj.data.shape(), &[113, 2000]);
    // PyEPRI's float64 phalanx-20220203-proj.npy (113, 2000) is not kept in datasets/: the
    // .DTA holds the same values. Its digest (FNV-1a of the little-endian bytes, C order) checks
    // that the reader gives those values bit for bit.
    assert_eq!(fnv1a_le(&proj.data), 0x230c_62ec_dbf1_ab14);
    assert_eq!(proj.data[[0, 0]], 1061.092);
    assert_eq!(proj.data[[112, 1999]], -852.4244999999975);
    assert_eq!(proj.data.mapv(|x| x as f32 as f64), npy(d.join("proj.npy")));
    let b = proj.b.clone().into_dyn();
    assert!(max_abs_diff(&b, &npy(d.join("B_float64.npy"))) < 1e-12);
    assert_eq!(b.mapv(|x| x as f32 as f64), npy(d.join("B.npy")));

    let h = bes3t("phalanx-20220203", "h");
    assert_eq!(h.data.shape(), &[2000]);
    // PyEPRI's float64 h (2000,) is not kept as a .npy either: the .DTA holds it.
    assert_eq!(fnv1a_le(&h.data), 0xfc78_3582_4312_501a);
    assert_eq!((h.data[0], h.data[1999]), (1201.998, -806.002));
    assert_eq!(h.data.mapv(|x| x as f32 as f64), npy(d.join("h.npy")));
    assert!(h.fgrad.is_none(), "a spectrum has no gradient table");

    let g = proj.fgrad.clone().unwrap().into_dyn();
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let pyepri = npy(here.join("phalanx_bes3t_fgrad_pyepri.npy"));
    assert!(max_abs_diff(&g, &pyepri) < 1e-12);
    // The descriptor's FirstAlpha (0.796°) is rounded: up to 0.30 G/cm from the dataset's fgrad.
    let diff = max_abs_diff(&g, &npy(d.join("fgrad_float64.npy")));
    assert!(diff > 0.29 && diff < 0.31, "{diff}");
}

/// fusillo (3D, 31×31 angle grid): data, B and gradients equal the float32 .npy after rounding.
#[test]
fn fusillo_equals_the_npy_arrays() {
    let d = dataset("fusillo-20091002");
    let proj = bes3t("fusillo-20091002", "proj");
    assert_eq!(proj.data.shape(), &[961, 500]);
    let f32r = |a: &ArrayD<f64>| a.mapv(|x| x as f32 as f64);
    assert_eq!(f32r(&proj.data), npy(d.join("proj.npy")));
    assert_eq!(f32r(&proj.b.clone().into_dyn()), npy(d.join("B.npy")));
    let g = proj.fgrad.clone().unwrap().into_dyn();
    assert_eq!(g.shape(), &[3, 961]);
    // float32 rounding of values up to 14 G/cm: 1 ulp = 9.5e-7.
    assert!(max_abs_diff(&g, &npy(d.join("fgrad.npy"))) < 1e-6);
    let h = bes3t("fusillo-20091002", "h");
    assert_eq!(f32r(&h.data), npy(d.join("h.npy")));
}

/// A scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("bes3t-{name}"));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

const VALUES: [f64; 8] = [1.0, -2.0, 3.0, -4.0, 5.0, 6.0, 7.0, 8.0];

/// Writes `name.DSC` (XPTS 4, YPTS 2) with the extra `keys` and `name.DTA` with `VALUES` encoded.
fn write_pair(dir: &Path, name: &str, keys: &str, dta: &[u8]) -> PathBuf {
    let dsc = dir.join(format!("{name}.DSC"));
    std::fs::write(
        &dsc,
        format!(
            "#DESC\t1.2 * DESCRIPTOR INFORMATION ***\n*\nXPTS\t4\nYPTS\t2\nXMIN\t10.0\nXWID\t3.0\n{keys}"
        ),
    )
    .unwrap();
    std::fs::write(dir.join(format!("{name}.DTA")), dta).unwrap();
    dsc
}

fn encode(fmt: char, big: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for v in VALUES {
        macro_rules! put {
            ($t:ty) => {{
                let x = v as $t;
                out.extend(if big {
                    x.to_be_bytes().to_vec()
                } else {
                    x.to_le_bytes().to_vec()
                })
            }};
        }
        match fmt {
            'C' => put!(i8),
            'S' => put!(i16),
            'I' => put!(i32),
            'F' => put!(f32),
            _ => put!(f64),
        }
    }
    out
}

#[test]
fn every_item_format_and_byte_order() {
    let dir = scratch("formats");
    for fmt in ['C', 'S', 'I', 'F', 'D'] {
        for (bseq, big) in [("BIG", true), ("LIT", false)] {
            let name = format!("x{fmt}{bseq}");
            let keys = format!("BSEQ\t{bseq}\nIRFMT\t{fmt}\nIKKF\tREAL\n");
            let dsc = write_pair(&dir, &name, &keys, &encode(fmt, big));
            let r = read_bes3t(&dsc).unwrap();
            assert_eq!(r.data.shape(), &[2, 4], "{name}");
            assert_eq!(r.data.iter().copied().collect::<Vec<_>>(), VALUES, "{name}");
            assert_eq!(r.b.to_vec(), vec![10.0, 11.0, 12.0, 13.0]);
        }
    }
    // Without BSEQ the order is big-endian (Bruker's default, as PyEPRI assumes).
    let dsc = write_pair(&dir, "nobseq", "IRFMT\tD\n", &encode('D', true));
    assert_eq!(
        read_bes3t(&dsc)
            .unwrap()
            .data
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        VALUES
    );
}

#[test]
fn the_dta_path_and_lower_case_companions_work() {
    let dir = scratch("case");
    let src = dataset("phalanx-20220203").join("bes3t");
    std::fs::copy(src.join("phalanx-20220203-h.DSC"), dir.join("h.dsc")).unwrap();
    std::fs::copy(src.join("phalanx-20220203-h.DTA"), dir.join("h.dta")).unwrap();
    let r = read_bes3t(&dir.join("h.dta")).unwrap();
    assert_eq!(r.data.shape(), &[2000]);
}

fn error_of(dsc: &Path) -> String {
    let e = read_bes3t(dsc).unwrap_err().to_string();
    assert!(!e.contains('\n'), "one line: {e}");
    e
}

#[test]
fn malformed_files_give_errors_that_name_the_file_and_the_problem() {
    let dir = scratch("errors");
    let ok = encode('D', true);

    let dsc = write_pair(&dir, "trunc", "IRFMT\tD\n", &ok[..ok.len() - 5]);
    let e = error_of(&dsc);
    assert!(e.contains("trunc.DTA") && e.contains("truncated"), "{e}");
    assert!(e.contains("64 bytes") && e.contains("59"), "{e}");

    let dsc = write_pair(&dir, "ascii", "IRFMT\tA\n", &ok);
    let e = error_of(&dsc);
    assert!(e.contains("ascii.DSC") && e.contains("ASCII"), "{e}");

    let dsc = write_pair(&dir, "badfmt", "IRFMT\tQ\n", &ok);
    let e = error_of(&dsc);
    assert!(e.contains("IRFMT") && e.contains("\"Q\""), "{e}");

    let dsc = write_pair(&dir, "nofmt", "", &ok);
    assert!(error_of(&dsc).contains("missing key IRFMT"));

    let dsc = write_pair(&dir, "complex", "IRFMT\tD\nIKKF\tCPLX\n", &ok);
    assert!(error_of(&dsc).contains("IKKF"));

    let dsc = write_pair(&dir, "bseq", "IRFMT\tD\nBSEQ\tMIDDLE\n", &ok);
    assert!(error_of(&dsc).contains("BSEQ"));

    // Missing XPTS / XMIN: a descriptor without them.
    let dsc = dir.join("noxpts.DSC");
    std::fs::write(&dsc, "#DESC 1.2\nIRFMT D\nXMIN 1\nXWID 2\n").unwrap();
    std::fs::write(dir.join("noxpts.DTA"), &ok).unwrap();
    assert!(error_of(&dsc).contains("missing key XPTS"));
    let dsc = dir.join("noxmin.DSC");
    std::fs::write(&dsc, "#DESC 1.2\nIRFMT D\nXPTS 8\nXWID 2\n").unwrap();
    std::fs::write(dir.join("noxmin.DTA"), &ok).unwrap();
    assert!(error_of(&dsc).contains("missing key XMIN"));

    // Not a BES3T descriptor at all.
    let dsc = dir.join("garbage.DSC");
    std::fs::write(&dsc, "hello world\n").unwrap();
    std::fs::write(dir.join("garbage.DTA"), &ok).unwrap();
    let e = error_of(&dsc);
    assert!(e.contains("garbage.DSC"), "{e}");

    // Missing data file.
    let dsc = dir.join("alone.DSC");
    std::fs::write(&dsc, "#DESC 1.2\nIRFMT D\nXPTS 8\nXMIN 1\nXWID 2\n").unwrap();
    let e = error_of(&dsc);
    assert!(e.contains("alone.DTA") && e.contains("no such file"), "{e}");

    // A gradient unit without the gradient magnitude.
    let dsc = write_pair(
        &dir,
        "nograd",
        "IRFMT\tD\n#DSL\t1.0\n.DVC     grdUnit, 1.0\nFirstAlpha  1.0 deg\nNrOfAlpha 2\nImageType 2D\n",
        &ok,
    );
    assert!(error_of(&dsc).contains("GRAD"));
}
