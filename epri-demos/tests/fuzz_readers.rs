//! Mutation fuzzing of the file readers (`.npy` and BES3T): valid seed files are mutated (bit
//! flips, byte insertions, deletions, duplications, truncations, header values replaced by
//! hostile ones) and each case must return `Ok` with a consistent, finite array, or an `Err`
//! whose message is one line without control characters, within [`CASE_TIME_LIMIT`]; a panic
//! reports the input that caused it.
//!
//! `EPRI_FUZZ_EXECS` sets the number of cases per reader (default [`DEFAULT_EXECS`]),
//! `EPRI_FUZZ_SEED` the random seed (default 1). Failing inputs are written to
//! `fuzz-failures/` under Cargo's test scratch folder.

use epri_demos::io::bes3t::{self as reader_bes3t, Bes3t, Bes3tHeader};
use epri_demos::io::npy as reader_npy;
use epri_demos::io::HostArray;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Cases per reader when `EPRI_FUZZ_EXECS` is not set (a few seconds in release mode).
const DEFAULT_EXECS: u64 = 20_000;
/// Longest time one case may take.
const CASE_TIME_LIMIT: Duration = Duration::from_secs(1);
/// Every this many cases, the mutated bytes also go through the file reader (a real file).
const FILE_CASE_EVERY: u64 = 97;

fn execs() -> u64 {
    std::env::var("EPRI_FUZZ_EXECS")
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(DEFAULT_EXECS)
}

fn rng(salt: u64) -> StdRng {
    let seed = std::env::var("EPRI_FUZZ_SEED")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(1u64);
    StdRng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt)
}

fn scratch(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// Escaped start of an input, for failure reports.
fn show(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(300)];
    format!("{} bytes, starting {}", bytes.len(), head.escape_ascii())
}

/// Writes a failing input to disk and panics with what went wrong.
fn fail(reader: &str, case: u64, inputs: &[(&str, &[u8])], what: &str) -> ! {
    let dir = scratch("fuzz-failures");
    let mut saved = Vec::new();
    for (ext, bytes) in inputs {
        let p = dir.join(format!("{reader}-{case}.{ext}"));
        std::fs::write(&p, bytes).unwrap();
        saved.push(format!("{} ({})", p.display(), show(bytes)));
    }
    panic!(
        "{reader} case {case}: {what}; input saved as {}",
        saved.join(" and ")
    );
}

/// An error message must be one non-empty line of printable text.
fn clean_message(msg: &str) -> Result<(), String> {
    if msg.trim().is_empty() {
        return Err("empty error message".into());
    }
    if let Some(c) = msg.chars().find(|c| c.is_control()) {
        return Err(format!(
            "error message holds the control character {c:?}: {msg:?}"
        ));
    }
    Ok(())
}

/// Runs `f` under `catch_unwind` and a stopwatch.
fn run_case<T>(f: impl FnOnce() -> T) -> (std::thread::Result<T>, Duration) {
    let t = Instant::now();
    let r = catch_unwind(AssertUnwindSafe(f));
    (r, t.elapsed())
}

/// Mutations of raw bytes shared by both readers.
mod mutate {
    use super::*;

    /// Bytes that often change the meaning of a header.
    const INTERESTING: &[u8] = b"\0\x01\x7f\x80\xff\n\r\t\\'\"#*.,:()[]{}-+0123456789eE ";

    /// Applies 1 to 4 random byte-level mutations; `donor` gives spliced material.
    pub fn bytes(rng: &mut StdRng, data: &mut Vec<u8>, donor: &[u8]) {
        for _ in 0..rng.random_range(1..=4) {
            let len = data.len();
            let pos = if len == 0 {
                0
            } else {
                rng.random_range(0..len)
            };
            match rng.random_range(0..10) {
                0 if len > 0 => data[pos] ^= 1 << rng.random_range(0..8),
                1 if len > 0 => data[pos] = INTERESTING[rng.random_range(0..INTERESTING.len())],
                2 if len > 0 => data[pos] = rng.random(),
                3 => {
                    let n = rng.random_range(1..=16);
                    let ins: Vec<u8> = (0..n)
                        .map(|_| INTERESTING[rng.random_range(0..INTERESTING.len())])
                        .collect();
                    data.splice(pos..pos, ins);
                }
                4 if len > 0 => {
                    let end = (pos + rng.random_range(1..=64)).min(len);
                    data.drain(pos..end);
                }
                5 if len > 0 => {
                    let end = (pos + rng.random_range(1..=256)).min(len);
                    let copy = data[pos..end].to_vec();
                    let at = rng.random_range(0..=len);
                    data.splice(at..at, copy);
                }
                6 => data.truncate(pos),
                7 if !donor.is_empty() => {
                    let a = rng.random_range(0..donor.len());
                    let b = (a + rng.random_range(1..=128)).min(donor.len());
                    let end = (pos + rng.random_range(0..=128)).min(len);
                    data.splice(pos..end, donor[a..b].iter().copied());
                }
                8 if len >= 8 => {
                    // Overwrite 8 bytes with an extreme little- or big-endian integer.
                    let pos = rng.random_range(0..=len - 8);
                    let v: u64 = match rng.random_range(0..4) {
                        0 => u64::MAX,
                        1 => 1 << rng.random_range(0..64),
                        2 => 0x7ff0_0000_0000_0000,
                        _ => rng.random(),
                    };
                    let b = if rng.random_bool(0.5) {
                        v.to_le_bytes()
                    } else {
                        v.to_be_bytes()
                    };
                    data[pos..pos + 8].copy_from_slice(&b);
                }
                _ => {
                    let n = rng.random_range(1..=32);
                    data.extend((0..n).map(|_| rng.random::<u8>()));
                }
            }
        }
    }

    /// A value deeply nested in brackets (the exponential-backtracking trigger of other parsers).
    pub fn nested(rng: &mut StdRng) -> String {
        let depth = rng.random_range(10..=60);
        let (open, close) = [("[", "]"), ("(", ",)"), ("{'a': ", "}")][rng.random_range(0..3)];
        format!("{}1{}", open.repeat(depth), close.repeat(depth))
    }

    /// A long run of one character, sometimes a control character: up to 2,000 characters,
    /// one time in 20 up to 300,000 (where work quadratic in the length takes seconds).
    pub fn long_text(rng: &mut StdRng) -> String {
        let c = ['a', '#', '\\', '\x1b', '\r', ' ', '(', '\'', '%'][rng.random_range(0..9)];
        let max = if rng.random_bool(0.05) {
            300_000
        } else {
            2_000
        };
        std::iter::repeat_n(c, rng.random_range(100..=max)).collect()
    }

    /// A hostile number: huge, negative, overflowing, fractional, not a number.
    pub fn number(rng: &mut StdRng) -> String {
        const VALUES: &[&str] = &[
            "0",
            "-1",
            "1e15",
            "1e308",
            "-1e308",
            "1e400",
            "inf",
            "-inf",
            "nan",
            "NaN",
            "2305843009213693952",
            "4294967296",
            "9223372036854775807",
            "9223372036854775808",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999999999",
            "1.5",
            "0x10",
            "+3",
            " 3",
            "3 3",
            "",
            "-0",
            "1_000",
        ];
        VALUES[rng.random_range(0..VALUES.len())].to_string()
    }
}

/// Checks one `parse_npy` result.
fn check_npy(result: &Result<HostArray, String>) -> Result<(), String> {
    match result {
        Ok(a) => {
            let n: usize = a.shape().iter().product();
            let (len, finite) = match a {
                HostArray::F32(x) => (x.len(), x.iter().all(|v| v.is_finite())),
                HostArray::F64(x) => (x.len(), x.iter().all(|v| v.is_finite())),
            };
            if n != len {
                return Err(format!("Ok with shape {:?} but {len} values", a.shape()));
            }
            if !finite {
                return Err("Ok with non-finite values".into());
            }
            Ok(())
        }
        Err(msg) => clean_message(msg),
    }
}

/// Checks one BES3T result: shapes consistent, values finite, or a clean message.
fn check_bes3t(result: &Result<Bes3t, reader_bes3t::Bes3tError>) -> Result<(), String> {
    match result {
        Ok(r) => {
            let nb = r.b.len();
            let rows = match r.data.shape() {
                [n] if *n == nb => 1,
                [p, n] if *n == nb && *p > 1 => *p,
                s => return Err(format!("data shape {s:?} with B of {nb} points")),
            };
            if let Some(g) = &r.fgrad {
                let ok_dim = g.nrows() == 2 || g.nrows() == 3;
                if !ok_dim || (rows > 1 && g.ncols() != rows) {
                    return Err(format!("fgrad shape {:?} with {rows} rows", g.shape()));
                }
                if !g.iter().all(|v| v.is_finite()) {
                    return Err("Ok with non-finite gradients".into());
                }
            }
            if !r.data.iter().chain(r.b.iter()).all(|v| v.is_finite()) {
                return Err("Ok with non-finite data or field values".into());
            }
            Ok(())
        }
        Err(e) => clean_message(e.message()),
    }
}

/// The error of a file reader must name the file and be one clean line.
fn check_file_error(path: &Path, result: Result<(), epri_demos::Error>) -> Result<(), String> {
    match result {
        Ok(()) => Ok(()),
        Err(e) => {
            let msg = e.to_string();
            let name = path.file_name().unwrap().to_string_lossy();
            if !msg.contains(name.as_ref()) {
                return Err(format!("the error does not name {name}: {msg:?}"));
            }
            clean_message(&msg)
        }
    }
}

mod npy {
    use super::*;

    /// A `.npy` file from a header dict text and data bytes (version 1.0, or 2.0 for long
    /// headers; padded as numpy does).
    pub fn file(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut header = dict.as_bytes().to_vec();
        let v1 = header.len() + 11 < 65_536;
        let pre = if v1 { 10 } else { 12 };
        while !(pre + header.len() + 1).is_multiple_of(64) {
            header.push(b' ');
        }
        header.push(b'\n');
        let mut out = b"\x93NUMPY".to_vec();
        if v1 {
            out.extend([1, 0]);
            out.extend((header.len() as u16).to_le_bytes());
        } else {
            out.extend([2, 0]);
            out.extend((header.len() as u32).to_le_bytes());
        }
        out.extend(header);
        out.extend(data);
        out
    }

    fn dict(descr: &str, fortran: &str, shape: &str, extra: &str) -> String {
        format!("{{'descr': {descr}, 'fortran_order': {fortran}, 'shape': {shape}, {extra}}}")
    }

    fn values(n: usize, size: usize, big: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..n {
            let x = i as f64 * 0.5 - 1.0;
            match (size, big) {
                (4, false) => out.extend((x as f32).to_le_bytes()),
                (4, true) => out.extend((x as f32).to_be_bytes()),
                (_, false) => out.extend(x.to_le_bytes()),
                (_, true) => out.extend(x.to_be_bytes()),
            }
        }
        out
    }

    /// Small valid files of every supported kind, and the phalanx dataset's small arrays.
    pub fn seeds() -> Vec<Vec<u8>> {
        let mut seeds = vec![
            file(&dict("'<f4'", "False", "(2, 3)", ""), &values(6, 4, false)),
            file(&dict("'<f8'", "False", "(3,)", ""), &values(3, 8, false)),
            file(&dict("'<f4'", "True", "(2, 3)", ""), &values(6, 4, false)),
            file(&dict("'>f8'", "True", "(2, 2)", ""), &values(4, 8, true)),
            file(
                &dict("'>f4'", "False", "(1, 1, 2, 1)", ""),
                &values(2, 4, true),
            ),
            file(&dict("'<f8'", "False", "()", ""), &values(1, 8, false)),
            file(&dict("'<f4'", "False", "(0, 4)", ""), &[]),
        ];
        let a = ndarray::Array2::from_shape_fn((3, 5), |(i, j)| (i * 5 + j) as f64);
        let mut written = Vec::new();
        ndarray_npy::WriteNpyExt::write_npy(&a, &mut written).unwrap();
        seeds.push(written);
        let dir = epri_demos::datasets::datasets_root().join("phalanx-20220203");
        for name in ["fgrad.npy", "fgrad_float64.npy", "B.npy"] {
            seeds.push(std::fs::read(dir.join(name)).unwrap());
        }
        seeds
    }

    /// A header built from valid and hostile parts, with data of a plausible length.
    fn hostile(rng: &mut StdRng) -> Vec<u8> {
        const DESCRS: &[&str] = &[
            "'<f4'",
            "'<f8'",
            "'>f4'",
            "'>f8'",
            "'=f8'",
            "'|f4'",
            "'<f2'",
            "'<i8'",
            "'<c16'",
            "'O'",
            "''",
            "[('a', '<f4')]",
            "'<f4",
            "4",
            "None",
        ];
        const FORTRAN: &[&str] = &["False", "True", "1", "None", "'True'", "Fals"];
        let pick =
            |rng: &mut StdRng, list: &[&str]| list[rng.random_range(0..list.len())].to_string();
        let descr = pick(rng, DESCRS);
        let fortran = pick(rng, FORTRAN);
        let ndim = rng.random_range(0..=4);
        let mut dims: Vec<String> = (0..ndim)
            .map(|_| {
                if rng.random_bool(0.8) {
                    rng.random_range(0..6).to_string()
                } else {
                    mutate::number(rng)
                }
            })
            .collect();
        if rng.random_bool(0.05) {
            dims = vec!["1".into(); rng.random_range(60..200)];
        }
        let shape = match rng.random_range(0..12) {
            0 => format!("[{}]", dims.join(", ")),
            1 => mutate::nested(rng),
            2 => dims.join(", "),
            _ if dims.len() == 1 => format!("({},)", dims[0]),
            _ => format!("({})", dims.join(", ")),
        };
        let extra = match rng.random_range(0..8) {
            0 => format!("'x': {}", mutate::nested(rng)),
            1 => format!("'x': '{}'", mutate::long_text(rng)),
            2 => format!("'shape': {shape}"),
            3 => format!("'x': {}", mutate::number(rng)),
            4 => "'x': \x1b[31m".into(),
            _ => String::new(),
        };
        let mut dict = dict(&descr, &fortran, &shape, &extra);
        if rng.random_bool(0.1) {
            dict = match rng.random_range(0..3) {
                0 => dict.replace("'shape'", "'shaper'"),
                1 => dict.replace("'descr'", "'desc'"),
                _ => dict.replace("'fortran_order': ", ""),
            };
        }
        // Data: as long as the shape says (when it is small), or any length.
        let n = dims
            .iter()
            .try_fold(1usize, |acc, d| acc.checked_mul(d.parse::<usize>().ok()?));
        let size = if descr.contains('4') { 4 } else { 8 };
        let len = match n {
            Some(n) if n <= 4096 && rng.random_bool(0.8) => n * size,
            _ => rng.random_range(0..64),
        };
        let mut data: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        if rng.random_bool(0.5) {
            // Mostly finite values, sometimes a NaN/inf pattern.
            data = values(len / size, size, descr.starts_with("'>"));
            if !data.is_empty() && rng.random_bool(0.3) {
                let at = rng.random_range(0..data.len());
                data[at] = 0xff;
            }
        }
        file(&dict, &data)
    }

    fn case(rng: &mut StdRng, seeds: &[Vec<u8>]) -> Vec<u8> {
        let seed = &seeds[rng.random_range(0..seeds.len())];
        let donor = &seeds[rng.random_range(0..seeds.len())];
        let mut data = match rng.random_range(0..4) {
            0 => hostile(rng),
            _ => seed.clone(),
        };
        if rng.random_bool(0.8) {
            mutate::bytes(rng, &mut data, donor);
        }
        data
    }

    #[test]
    fn seeds_are_read() {
        for (i, s) in seeds().iter().enumerate() {
            let r = reader_npy::parse_npy(s);
            assert!(r.is_ok(), "seed {i}: {r:?}");
            check_npy(&r).unwrap();
        }
    }

    #[test]
    fn mutated_files_give_an_array_or_a_clean_error_fast() {
        let seeds = seeds();
        let mut rng = rng(1);
        let dir = scratch("fuzz-npy");
        let n = execs();
        let (mut ok, start) = (0u64, Instant::now());
        let (mut parsing, mut slowest) = (Duration::ZERO, Duration::ZERO);
        for case_no in 0..n {
            let input = case(&mut rng, &seeds);
            let (result, took) = run_case(|| reader_npy::parse_npy(&input));
            let inputs = [("npy", input.as_slice())];
            let result = match result {
                Ok(r) => r,
                Err(_) => fail("npy", case_no, &inputs, "panicked"),
            };
            (parsing, slowest) = (parsing + took, slowest.max(took));
            if took > CASE_TIME_LIMIT {
                fail("npy", case_no, &inputs, &format!("took {took:?}"));
            }
            if let Err(what) = check_npy(&result) {
                fail("npy", case_no, &inputs, &what);
            }
            ok += result.is_ok() as u64;
            if case_no % FILE_CASE_EVERY == 0 {
                let path = dir.join("case.npy");
                std::fs::write(&path, &input).unwrap();
                let (r, took) = run_case(|| reader_npy::read_npy(&path).map(|_| ()));
                let r = r.unwrap_or_else(|_| fail("npy", case_no, &inputs, "read_npy panicked"));
                if took > CASE_TIME_LIMIT {
                    fail("npy", case_no, &inputs, &format!("read_npy took {took:?}"));
                }
                if let Err(what) = check_file_error(&path, r) {
                    fail("npy", case_no, &inputs, &what);
                }
            }
        }
        eprintln!(
            "npy: {n} cases ({ok} read, {} rejected) in {:.1?}, {:.1?} of it parsing, slowest case {:.1?}",
            n - ok,
            start.elapsed(),
            parsing,
            slowest
        );
    }
}

mod bes3t {
    use super::*;

    /// A descriptor of a small sinogram or spectrum, with a gradient unit when `grad`.
    fn dsc(
        xpts: usize,
        ypts: usize,
        zpts: usize,
        fmt: char,
        bseq: &str,
        grad: Option<(&str, usize)>,
    ) -> String {
        let mut s = format!(
            "#DESC\t1.2 * DESCRIPTOR INFORMATION ***********************\n*\nDSRC\tEXP\nBSEQ\t{bseq}\nIKKF\tREAL\nIRFMT\t{fmt}\nXPTS\t{xpts}\nXMIN\t3400.0\nXWID\t60.0\n"
        );
        if ypts > 1 {
            s += &format!("YPTS\t{ypts}\n");
        }
        if zpts > 1 {
            s += &format!("ZPTS\t{zpts}\n");
        }
        s += "TITL\t'a title'\n*\n#SPL\t1.2 * STANDARD PARAMETER LAYER\nGRAD 168.0\nLONG part1\\\npart2\n";
        if let Some((kind, n)) = grad {
            s += &format!(
                "#DSL\t1.0 * DEVICE SPECIFIC LAYER\n.DVC     grdUnit, 1.0\nFirstAlpha         0.796 deg\nNrOfAlpha          {n}\nImageType          {kind}\n"
            );
        }
        s
    }

    fn dta(n: usize, fmt: char, big: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..n {
            let x = (i % 200) as f64 - 100.0;
            macro_rules! put {
                ($t:ty) => {
                    out.extend(if big {
                        (x as $t).to_be_bytes().to_vec()
                    } else {
                        (x as $t).to_le_bytes().to_vec()
                    })
                };
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

    /// (dsc, dta) seeds: small pairs of every format, 2D and 3D gradient tables, and the
    /// phalanx dataset's spectrum and projections.
    pub fn seeds() -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut seeds = Vec::new();
        for (i, fmt) in ['C', 'S', 'I', 'F', 'D'].into_iter().enumerate() {
            let big = i % 2 == 0;
            let bseq = if big { "BIG" } else { "LIT" };
            seeds.push((dsc(6, 4, 1, fmt, bseq, Some(("2D", 4))), dta(24, fmt, big)));
            seeds.push((dsc(5, 1, 1, fmt, bseq, None), dta(5, fmt, big)));
        }
        seeds.push((
            dsc(4, 3, 3, 'D', "BIG", Some(("3D", 3))),
            dta(36, 'D', true),
        ));
        seeds.push((dsc(3, 1, 1, 'F', "BIG", Some(("2D", 7))), dta(3, 'F', true)));
        let mut seeds: Vec<(Vec<u8>, Vec<u8>)> = seeds
            .into_iter()
            .map(|(d, t)| (d.into_bytes(), t))
            .collect();
        let dir = epri_demos::datasets::datasets_root().join("phalanx-20220203/bes3t");
        for kind in ["h", "proj"] {
            let read = |ext: &str| {
                std::fs::read(dir.join(format!("phalanx-20220203-{kind}.{ext}"))).unwrap()
            };
            seeds.push((read("DSC"), read("DTA")));
        }
        seeds
    }

    const KEYS: &[&str] = &[
        "XPTS",
        "YPTS",
        "ZPTS",
        "BSEQ",
        "IRFMT",
        "IIFMT",
        "IKKF",
        "XMIN",
        "XWID",
        "NrOfAlpha",
        "FirstAlpha",
        "GRAD",
        "ImageType",
    ];

    /// A hostile value for a descriptor key.
    fn value(rng: &mut StdRng) -> String {
        match rng.random_range(0..10) {
            0 => ["BIG", "LIT", "MIDDLE", "lit", ""][rng.random_range(0..5)].into(),
            1 => {
                ["C", "S", "I", "F", "D", "A", "N", "0", "Q", "FF"][rng.random_range(0..10)].into()
            }
            2 => ["REAL", "CPLX", "2D", "3D", "4D", "2d"][rng.random_range(0..6)].into(),
            3 => mutate::long_text(rng),
            4 => mutate::nested(rng),
            5 => "\x1b[2J\x07".into(),
            _ => mutate::number(rng),
        }
    }

    /// Replaces (or adds) a key's value, deletes or duplicates lines, adds long or odd lines.
    fn mutate_descriptor(rng: &mut StdRng, text: &[u8]) -> Vec<u8> {
        let text = String::from_utf8_lossy(text);
        let mut lines: Vec<String> = text.split('\n').map(String::from).collect();
        for _ in 0..rng.random_range(1..=3) {
            let at = rng.random_range(0..lines.len());
            match rng.random_range(0..8) {
                0..=3 => {
                    let key = KEYS[rng.random_range(0..KEYS.len())];
                    let line = format!("{key} {}", value(rng));
                    match lines
                        .iter()
                        .position(|l| l.split_whitespace().next() == Some(key))
                    {
                        Some(i) if rng.random_bool(0.8) => lines[i] = line,
                        _ => lines.insert(at, line),
                    }
                }
                4 => {
                    lines.remove(at);
                    if lines.is_empty() {
                        lines.push(String::new());
                    }
                }
                5 => {
                    let l = lines[at].clone();
                    lines.insert(at, l);
                }
                6 => lines.insert(at, mutate::long_text(rng)),
                _ => {
                    let odd = [
                        "#DESC 1.2",
                        "#FOO 1.0",
                        ".DVC grdUnit, 1.0",
                        "#DSL 1.0",
                        "\\",
                        "#a #b #1.",
                        "*",
                    ];
                    lines.insert(at, odd[rng.random_range(0..odd.len())].into());
                }
            }
        }
        lines.join("\n").into_bytes()
    }

    fn case(rng: &mut StdRng, seeds: &[(Vec<u8>, Vec<u8>)]) -> (Vec<u8>, Vec<u8>) {
        // The phalanx projections (1.8 MB of data) are picked rarely, to keep cases fast.
        let pick = if rng.random_bool(0.02) {
            seeds.len() - 1
        } else {
            rng.random_range(0..seeds.len() - 1)
        };
        let (mut d, mut t) = seeds[pick].clone();
        let donor = &seeds[rng.random_range(0..seeds.len() - 1)].0;
        match rng.random_range(0..6) {
            0 | 1 => d = mutate_descriptor(rng, &d),
            2 => mutate::bytes(rng, &mut d, donor),
            3 => mutate::bytes(rng, &mut t, &[]),
            4 => {
                d = mutate_descriptor(rng, &d);
                mutate::bytes(rng, &mut t, &[]);
            }
            _ => {
                d = mutate_descriptor(rng, &d);
                mutate::bytes(rng, &mut d, donor);
            }
        }
        // Often give the data the length the (mutated) descriptor asks for, to reach the decoder.
        if rng.random_bool(0.5) {
            if let Ok(h) = Bes3tHeader::parse(&d) {
                let len = h.data_len();
                if len <= 1 << 21 {
                    t.resize(len, 0);
                    if rng.random_bool(0.3) && len > 0 {
                        let at = rng.random_range(0..len);
                        t[at] = rng.random();
                    }
                }
            }
        }
        (d, t)
    }

    #[test]
    fn seeds_are_read() {
        for (i, (d, t)) in seeds().iter().enumerate() {
            let r = reader_bes3t::parse_bes3t(d, t);
            assert!(r.is_ok(), "seed {i}: {:?}", r.err());
            check_bes3t(&r).unwrap();
        }
    }

    #[test]
    fn mutated_files_give_a_dataset_or_a_clean_error_fast() {
        let seeds = seeds();
        let mut rng = rng(2);
        let dir = scratch("fuzz-bes3t");
        let n = execs();
        let (mut ok, start) = (0u64, Instant::now());
        let (mut parsing, mut slowest) = (Duration::ZERO, Duration::ZERO);
        for case_no in 0..n {
            let (d, t) = case(&mut rng, &seeds);
            let (result, took) = run_case(|| reader_bes3t::parse_bes3t(&d, &t));
            let inputs = [("DSC", d.as_slice()), ("DTA", t.as_slice())];
            let result = match result {
                Ok(r) => r,
                Err(_) => fail("bes3t", case_no, &inputs, "panicked"),
            };
            (parsing, slowest) = (parsing + took, slowest.max(took));
            if took > CASE_TIME_LIMIT {
                fail("bes3t", case_no, &inputs, &format!("took {took:?}"));
            }
            if let Err(what) = check_bes3t(&result) {
                fail("bes3t", case_no, &inputs, &what);
            }
            ok += result.is_ok() as u64;
            if case_no % FILE_CASE_EVERY == 0 {
                let path = dir.join("case.DSC");
                std::fs::write(&path, &d).unwrap();
                std::fs::write(dir.join("case.DTA"), &t).unwrap();
                let (r, took) = run_case(|| reader_bes3t::read_bes3t(&path).map(|_| ()));
                let r =
                    r.unwrap_or_else(|_| fail("bes3t", case_no, &inputs, "read_bes3t panicked"));
                if took > CASE_TIME_LIMIT {
                    fail(
                        "bes3t",
                        case_no,
                        &inputs,
                        &format!("read_bes3t took {took:?}"),
                    );
                }
                // The error names the .DSC or the .DTA: both are called `case`.
                if let Err(what) = check_file_error(&dir.join("case"), r) {
                    fail("bes3t", case_no, &inputs, &what);
                }
            }
        }
        eprintln!(
            "bes3t: {n} cases ({ok} read, {} rejected) in {:.1?}, {:.1?} of it parsing, slowest case {:.1?}",
            n - ok,
            start.elapsed(),
            parsing,
            slowest
        );
    }
}
