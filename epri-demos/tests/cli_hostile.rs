//! The `epri` command on hostile input (CPU backend): malformed and mutated files, inconsistent
//! datasets, extreme option values, outputs naming inputs, interrupted runs. Every case must end
//! quickly with the expected exit code and one line `error: ...` naming the file or option at
//! fault (no panic, no abort, no hang), leave every input byte for byte as it was, and write
//! only finite outputs.

use ndarray::{Array1, Array2, ArrayD, IxDyn};
use ndarray_npy::{ReadNpyExt, WriteNpyExt};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The longest any hostile case may take (they all fail or finish in well under a second).
const TIME_LIMIT: Duration = Duration::from_secs(20);

/// Runs `epri args`, killing it (and failing the test) if it runs past [`TIME_LIMIT`].
fn epri(args: &[&str]) -> (Output, Duration) {
    use std::io::Read;
    use std::process::Stdio;
    let t0 = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_epri"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the epri binary runs");
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if t0.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("epri {args:?} still running after {TIME_LIMIT:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let o = Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    (o, t0.elapsed())
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("hostile-{name}"));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every file below `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    files
}

/// Runs `args`, which must fail with exit `code` and exactly one stderr line `error: ...` that
/// holds every needle, has no control character, within [`TIME_LIMIT`]; and must leave the
/// files of `inputs` (a folder) untouched.
fn fails(inputs: &Path, args: &[&str], code: i32, needles: &[&str]) -> String {
    let before = snapshot(inputs);
    let (o, took) = epri(args);
    let err = stderr(&o);
    assert!(took < TIME_LIMIT, "epri {args:?} took {took:?}");
    assert_eq!(o.status.code(), Some(code), "epri {args:?}: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "epri {args:?}: one line expected, got {err:?}"
    );
    assert!(lines[0].starts_with("error: "), "{err}");
    assert!(
        !err.contains("internal error") && !err.contains("panicked"),
        "{err}"
    );
    assert!(
        !lines[0].chars().any(char::is_control),
        "control characters in {err:?}"
    );
    for n in needles {
        assert!(err.contains(n), "epri {args:?}: expected {n:?} in {err}");
    }
    assert!(
        snapshot(inputs) == before,
        "epri {args:?} changed its inputs"
    );
    err
}

/// Runs `args`, which must succeed within [`TIME_LIMIT`]; returns stderr.
fn succeeds(args: &[&str]) -> String {
    let (o, took) = epri(args);
    assert!(took < TIME_LIMIT, "epri {args:?} took {took:?}");
    assert!(o.status.success(), "epri {args:?}: {}", stderr(&o));
    stderr(&o)
}

fn write_npy<A: WriteNpyExt>(path: &Path, a: &A) {
    a.write_npy(std::fs::File::create(path).unwrap()).unwrap();
}

/// A small consistent 2D dataset in `dir` (float32): Nb = 64 field samples over 63 G, 16
/// gradients of 20 G/cm, a Lorentzian-derivative spectrum and smooth positive projections.
/// With 16×16 pixels of 0.1 cm the image spans 32 G of the 63 G sweep.
fn dataset(dir: &Path) -> PathBuf {
    let ds = dir.join("ds");
    std::fs::create_dir_all(&ds).unwrap();
    let nb = 64;
    let p = 16;
    let b = Array1::from_shape_fn(nb, |i| 3400.0f32 + i as f32);
    let h = Array1::from_shape_fn(nb, |i| {
        let x = (i as f32 - 31.5) / 3.0;
        -2.0 * x / (1.0 + x * x).powi(2)
    });
    let fgrad = Array2::from_shape_fn((2, p), |(a, k)| {
        let t = std::f32::consts::PI * k as f32 / p as f32;
        20.0 * if a == 0 { t.cos() } else { t.sin() }
    });
    let proj = Array2::from_shape_fn((p, nb), |(k, i)| {
        let x = (i as f32 - 31.5 - (k as f32 - 8.0) * 0.5) / 4.0;
        -2.0 * x / (1.0 + x * x).powi(2)
    });
    write_npy(&ds.join("B.npy"), &b);
    write_npy(&ds.join("h.npy"), &h);
    write_npy(&ds.join("fgrad.npy"), &fgrad);
    write_npy(&ds.join("proj.npy"), &proj);
    ds
}

/// The phalanx BES3T pair copied to `dir` with its descriptor edited by `edit` (and the data
/// file replaced by `dta` when given); returns the `.DSC` path.
fn bes3t(dir: &Path, edit: impl Fn(&str) -> String, dta: Option<Vec<u8>>) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../datasets/phalanx-20220203/bes3t");
    let dsc = dir.join("p.DSC");
    let text = std::fs::read_to_string(src.join("phalanx-20220203-proj.DSC")).unwrap();
    std::fs::write(&dsc, edit(&text)).unwrap();
    let data = dta.unwrap_or_else(|| std::fs::read(src.join("phalanx-20220203-proj.DTA")).unwrap());
    std::fs::write(dir.join("p.DTA"), data).unwrap();
    dsc
}

/// Replaces the value of `key` on its own line of a descriptor.
fn set_key(text: &str, key: &str, value: &str) -> String {
    text.lines()
        .map(|l| {
            if l.split_whitespace().next() == Some(key) {
                format!("{key}\t{value}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A `.npy` file (format 1.0) with the header dictionary `dict`, padded as numpy pads it,
/// followed by `data_len` zero bytes.
fn npy_bytes(dict: &[u8], data_len: usize) -> Vec<u8> {
    let mut header = dict.to_vec();
    while !(header.len() + 11).is_multiple_of(64) {
        header.push(b' ');
    }
    header.push(b'\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header);
    bytes.extend(vec![0u8; data_len]);
    bytes
}

/// `epri fbp` on the BES3T projections `dsc` (with the phalanx spectrum) must fail naming
/// `needle`, leaving the files of `dir` untouched.
fn fbp_on_bes3t_fails(dir: &Path, dsc: &Path, needle: &str) {
    let out = dir.join("u.npy");
    let h = Path::new(env!("CARGO_MANIFEST_DIR")).join("../datasets/phalanx-20220203/h.npy");
    let args = [
        "fbp",
        "--proj",
        s(dsc),
        "--h",
        s(&h),
        "--delta",
        "0.008",
        "--shape",
        "40,20",
        "--out",
        s(&out),
    ];
    fails(dir, &args, 1, &[needle]);
    assert!(!out.exists());
}

fn tv_args<'a>(ds: &'a str, out: &'a str, shape: &'a str) -> Vec<&'a str> {
    vec![
        "tv", "--data", ds, "--delta", "0.1", "--shape", shape, "--lambda", "1", "--iters", "5",
        "--quiet", "--out", out,
    ]
}

mod hang {
    use super::*;

    #[test]
    fn a_deeply_nested_npy_header_is_refused_at_once() {
        let dir = scratch("nested");
        let ds = dataset(&dir);
        let nest = format!("{}{}", "[".repeat(40), "]".repeat(40));
        let dict =
            format!("{{'descr': '<f4', 'fortran_order': False, 'shape': (64,), 'x': {nest}, }}");
        std::fs::write(ds.join("h.npy"), npy_bytes(dict.as_bytes(), 64 * 4)).unwrap();
        let out = dir.join("u.npy");
        fails(&dir, &tv_args(s(&ds), s(&out), "16,16"), 1, &["h.npy"]);
    }
}

mod inputs_kept {
    use super::*;

    #[test]
    fn out_naming_an_input_of_the_dataset_is_refused() {
        let dir = scratch("out-input");
        let ds = dataset(&dir);
        let proj = ds.join("proj.npy");
        let err = fails(
            &dir,
            &tv_args(s(&ds), s(&proj), "16,16"),
            2,
            &["--out", "input"],
        );
        assert!(err.contains("proj.npy"), "{err}");
        let via = format!("{}/../ds/fgrad.npy", s(&ds));
        fails(&dir, &tv_args(s(&ds), &via, "16,16"), 2, &["fgrad.npy"]);
    }

    #[test]
    fn png_naming_an_input_is_refused() {
        let dir = scratch("png-input");
        let ds = dataset(&dir);
        let out = dir.join("u.npy");
        let mut args = tv_args(s(&ds), s(&out), "16,16");
        let h = ds.join("h.npy");
        args.extend(["--png", s(&h)]);
        fails(&dir, &args, 2, &["--png", "h.npy"]);
        assert!(
            !out.exists(),
            "nothing is written when the command is refused"
        );
    }

    #[test]
    fn project_onto_its_own_image_is_refused() {
        let dir = scratch("project-self");
        let ds = dataset(&dir);
        let image = dir.join("u.npy");
        write_npy(&image, &Array2::<f32>::ones((16, 16)));
        let args = [
            "project",
            "--image",
            s(&image),
            "--data",
            s(&ds),
            "--delta",
            "0.1",
            "--out",
            s(&image),
        ];
        fails(&dir, &args, 2, &["--out", "u.npy", "input"]);
    }

    #[test]
    fn out_naming_the_data_file_of_a_bes3t_input_is_refused() {
        let dir = scratch("bes3t-self");
        let dsc = bes3t(&dir, str::to_string, None);
        let ds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../datasets/phalanx-20220203");
        let dta = dir.join("p.DTA");
        let h = ds.join("h.npy");
        let args = [
            "fbp",
            "--proj",
            s(&dsc),
            "--h",
            s(&h),
            "--delta",
            "0.008",
            "--shape",
            "40,20",
            "--out",
            s(&dta),
        ];
        fails(&dir, &args, 2, &["p.DTA", "input"]);
    }
}

mod atomic {
    use super::*;

    /// A run killed at any moment leaves the previous output or a complete new one, never a
    /// truncated file.
    #[test]
    fn an_interrupted_run_never_leaves_a_truncated_output() {
        let dir = scratch("killed");
        let ds = dataset(&dir);
        let out = dir.join("u.npy");
        // The previous result: a valid 8x8 image.
        write_npy(&out, &Array2::<f32>::from_elem((8, 8), 1.0));
        let args = [
            "backproject",
            "--data",
            s(&ds),
            "--delta",
            "0.02",
            "--shape",
            "1500,1500",
            "--precision",
            "f64",
            "--out",
            s(&out),
        ];
        for delay_ms in [5u64, 60, 150, 300, 600, 1200] {
            let mut child = Command::new(env!("CARGO_BIN_EXE_epri"))
                .args(args)
                .stderr(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_millis(delay_ms));
            let _ = child.kill();
            let _ = child.wait();
            let a = epri_demos::io::npy::read_npy(&out)
                .unwrap_or_else(|e| panic!("after a kill at {delay_ms} ms: {e}"));
            assert!(
                a.shape() == [8, 8] || a.shape() == [1500, 1500],
                "{:?}",
                a.shape()
            );
            assert!(a.all_finite());
        }
    }
}

mod sizes {
    use super::*;

    #[test]
    fn an_image_too_large_for_memory_is_refused_with_the_figures() {
        let dir = scratch("huge-shape");
        let ds = dataset(&dir);
        let out = dir.join("u.npy");
        for cmd in ["tv", "fbp", "backproject"] {
            let mut args = vec![
                cmd,
                "--data",
                s(&ds),
                "--delta",
                "0.0001",
                "--shape",
                "100000,100000",
                "--out",
                s(&out),
            ];
            if cmd == "tv" {
                args.extend(["--lambda", "1", "--quiet"]);
            }
            fails(&dir, &args, 1, &["GiB", "--shape"]);
        }
        let args = [
            "separate",
            "--data",
            "tam-and-tempo-tubes-2d-20210609",
            "--delta",
            "0.0001",
            "--shapes",
            "100000,100000",
            "--lambda",
            "1",
            "--quiet",
            "--out",
            s(&out),
        ];
        fails(&dir, &args, 1, &["GiB"]);
        assert!(!out.exists());
    }

    #[test]
    fn a_shape_beyond_the_address_space_is_a_usage_error() {
        let dir = scratch("overflow-shape");
        let ds = dataset(&dir);
        let out = dir.join("u.npy");
        let args = tv_args(s(&ds), s(&out), "4294967296,4294967296");
        fails(&dir, &args, 2, &["--shape"]);
    }

    #[test]
    fn an_npy_declaring_more_values_than_it_holds_is_refused() {
        let dir = scratch("npy-declares-huge");
        let ds = dataset(&dir);
        std::fs::write(
            ds.join("B.npy"),
            npy_bytes(
                b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }",
                8,
            ),
        )
        .unwrap();
        let out = dir.join("u.npy");
        fails(&dir, &tv_args(s(&ds), s(&out), "16,16"), 1, &["B.npy"]);
    }

    #[test]
    fn a_bes3t_gradient_table_of_absurd_size_is_refused() {
        let dir = scratch("bes3t-alpha");
        let dsc = bes3t(&dir, |t| set_key(t, "NrOfAlpha", "1000000000000000"), None);
        fbp_on_bes3t_fails(&dir, &dsc, "p.DSC");
    }

    #[test]
    fn a_bes3t_point_count_near_the_address_limit_with_no_data_is_refused() {
        let dir = scratch("bes3t-xpts");
        let dsc = bes3t(
            &dir,
            |t| set_key(t, "XPTS", "2305843009213693952"),
            Some(Vec::new()),
        );
        let out = dir.join("u.npy");
        let args = ["info", "--proj", s(&dsc)];
        let _ = out;
        fails(&dir, &args, 1, &["p."]);
    }
}

mod finite {
    use super::*;

    #[test]
    fn a_projection_sample_without_headroom_in_f32_is_refused() {
        let dir = scratch("huge-sample");
        let ds = dataset(&dir);
        let mut proj = Array2::<f32>::zeros((16, 64));
        proj[[3, 20]] = 3e38;
        proj[[4, 21]] = 1.0;
        write_npy(&ds.join("proj.npy"), &proj);
        let out = dir.join("u.npy");
        let args = [
            "fbp",
            "--data",
            s(&ds),
            "--delta",
            "0.1",
            "--shape",
            "16,16",
            "--out",
            s(&out),
        ];
        fails(&dir, &args, 1, &["proj", "float32", "--precision f64"]);
        assert!(!out.exists());
    }

    #[test]
    fn gradients_or_pixels_off_by_many_orders_of_magnitude_are_refused() {
        let dir = scratch("huge-gradients");
        let ds = dataset(&dir);
        let out = dir.join("u.npy");
        let args = [
            "backproject",
            "--data",
            s(&ds),
            "--delta",
            "1e30",
            "--shape",
            "16,16",
            "--out",
            s(&out),
        ];
        fails(&dir, &args, 1, &["--delta", "sweep"]);
        let g = Array2::<f32>::from_shape_fn((2, 16), |(a, k)| {
            let t = std::f32::consts::PI * k as f32 / 16.0;
            2e31 * if a == 0 { t.cos() } else { t.sin() }
        });
        write_npy(&ds.join("fgrad.npy"), &g);
        let args = [
            "fbp",
            "--data",
            s(&ds),
            "--delta",
            "0.1",
            "--shape",
            "16,16",
            "--out",
            s(&out),
        ];
        fails(&dir, &args, 1, &["fgrad", "sweep"]);
        assert!(!out.exists());
    }

    #[test]
    fn bes3t_data_decoded_in_the_wrong_byte_order_is_refused() {
        let dir = scratch("bes3t-bseq");
        let dsc = bes3t(&dir, |t| set_key(t, "BSEQ", "LIT"), None);
        fbp_on_bes3t_fails(&dir, &dsc, "p.DTA");
    }

    #[test]
    fn an_all_zero_fbp_image_is_written_with_a_warning() {
        let dir = scratch("cutoff");
        let ds = dataset(&dir);
        let out = dir.join("u.npy");
        let args = [
            "fbp",
            "--data",
            s(&ds),
            "--delta",
            "0.1",
            "--shape",
            "16,16",
            "--cutoff",
            "1e-4",
            "--quiet",
            "--out",
            s(&out),
        ];
        let (o, _) = epri(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        let err = stderr(&o);
        if epri_demos::io::npy::read_npy(&out).unwrap().max_abs() == 0.0 {
            assert!(err.contains("warning: the FBP image is all zero") && err.contains("--cutoff"));
        }
        assert!(epri_demos::io::npy::read_npy(&out).unwrap().all_finite());
    }

    #[test]
    fn no_projection_or_only_zero_gradients_are_refused() {
        let dir = scratch("no-gradient");
        let ds = dataset(&dir);
        let out = dir.join("u.npy");
        write_npy(&ds.join("fgrad.npy"), &Array2::<f32>::zeros((2, 16)));
        fails(
            &dir,
            &tv_args(s(&ds), s(&out), "16,16"),
            1,
            &["fgrad", "zero"],
        );
        write_npy(&ds.join("fgrad.npy"), &Array2::<f32>::zeros((2, 0)));
        write_npy(&ds.join("proj.npy"), &Array2::<f32>::zeros((0, 64)));
        fails(
            &dir,
            &tv_args(s(&ds), s(&out), "16,16"),
            1,
            &["fgrad", "no projection"],
        );
        assert!(!out.exists());
    }

    #[test]
    fn all_zero_projections_are_refused() {
        let dir = scratch("zero-proj");
        let ds = dataset(&dir);
        write_npy(&ds.join("proj.npy"), &Array2::<f32>::zeros((16, 64)));
        let out = dir.join("u.npy");
        fails(
            &dir,
            &tv_args(s(&ds), s(&out), "16,16"),
            1,
            &["proj", "all zero"],
        );
    }
}

mod messages {
    use super::*;

    #[test]
    fn negative_option_values_name_the_option() {
        let dir = scratch("negative");
        let ds = dataset(&dir);
        let out = dir.join("u.npy");
        for (opt, value) in [
            ("--eps", "-1"),
            ("--tol", "-1"),
            ("--iters", "-1"),
            ("--lambda", "-2"),
        ] {
            let mut args = tv_args(s(&ds), s(&out), "16,16");
            match args.iter().position(|a| *a == opt) {
                Some(i) => args[i + 1] = value,
                None => args.extend([opt, value]),
            }
            fails(&dir, &args, 2, &[opt, value, "epri tv --help"]);
        }
        fails(
            &dir,
            &tv_args(s(&ds), s(&out), "-16,16"),
            2,
            &["--shape", "-16,16"],
        );
        let args = [
            "fbp",
            "--data",
            s(&ds),
            "--delta",
            "-0.1",
            "--shape",
            "16,16",
            "--out",
            s(&out),
        ];
        fails(&dir, &args, 2, &["--delta", "-0.1"]);
    }

    #[test]
    fn accuracies_and_weights_out_of_the_precision_s_range_are_refused() {
        let dir = scratch("eps-lambda");
        let ds = dataset(&dir);
        let out = dir.join("u.npy");
        for eps in ["1e-300", "10"] {
            let mut args = tv_args(s(&ds), s(&out), "16,16");
            args.extend(["--eps", eps]);
            fails(&dir, &args, 2, &["--eps", "float32"]);
        }
        for lambda in ["1e300", "1e-300"] {
            let mut args = tv_args(s(&ds), s(&out), "16,16");
            let i = args.iter().position(|a| *a == "--lambda").unwrap();
            args[i + 1] = lambda;
            fails(&dir, &args, 1, &["λ", "closer to 1"]);
        }
        assert!(!out.exists());
    }

    #[test]
    fn a_device_is_never_replaced_by_an_output() {
        let dir = scratch("device-out");
        let ds = dataset(&dir);
        fails(
            &dir,
            &tv_args(s(&ds), "/dev/null", "16,16"),
            2,
            &["/dev/null", "regular file"],
        );
        assert!(!Path::new("/dev/null").is_file());
    }

    #[test]
    fn missing_arguments_are_named_on_the_one_line() {
        let dir = scratch("missing-args");
        fails(
            &dir,
            &["tv", "--lambda", "1"],
            2,
            &["--delta", "--shape", "--out", "epri tv --help"],
        );
    }

    #[test]
    fn a_truncated_npy_names_the_file() {
        let dir = scratch("truncated");
        let ds = dataset(&dir);
        let bytes = std::fs::read(ds.join("proj.npy")).unwrap();
        std::fs::write(ds.join("proj.npy"), &bytes[..bytes.len() - 10]).unwrap();
        let out = dir.join("u.npy");
        fails(&dir, &tv_args(s(&ds), s(&out), "16,16"), 1, &["proj.npy"]);
    }

    #[test]
    fn control_bytes_of_a_header_are_escaped() {
        let dir = scratch("control");
        let ds = dataset(&dir);
        std::fs::write(
            ds.join("h.npy"),
            npy_bytes(
                b"{'descr': '<f4\x1b[31m\x07', 'fortran_order': False, 'shape': (64,), }",
                256,
            ),
        )
        .unwrap();
        let out = dir.join("u.npy");
        fails(&dir, &tv_args(s(&ds), s(&out), "16,16"), 1, &["h.npy"]);
    }

    #[test]
    fn a_header_without_shape_says_so() {
        let dir = scratch("no-shape");
        let ds = dataset(&dir);
        std::fs::write(
            ds.join("h.npy"),
            npy_bytes(
                b"{'descr': '<f4', 'fortran_order': False, 'shaper': (64,), }",
                256,
            ),
        )
        .unwrap();
        let out = dir.join("u.npy");
        fails(
            &dir,
            &tv_args(s(&ds), s(&out), "16,16"),
            1,
            &["h.npy", "shape"],
        );
    }

    #[test]
    fn a_mixed_case_bes3t_extension_is_found() {
        let dir = scratch("mixed-case");
        bes3t(&dir, str::to_string, None);
        std::fs::rename(dir.join("p.DSC"), dir.join("p.Dsc")).unwrap();
        let (o, _) = epri(&["info", "--proj", s(&dir.join("p.Dsc"))]);
        assert!(o.status.success(), "{}", stderr(&o));
    }

    #[test]
    fn a_megabyte_descriptor_line_is_not_echoed() {
        let dir = scratch("long-line");
        let dsc = bes3t(&dir, |t| format!("{t}\n{}\n", "Z".repeat(5_000_000)), None);
        let (o, _) = epri(&["info", "--proj", s(&dsc)]);
        let err = stderr(&o);
        assert!(err.len() < 2000, "{} bytes of stderr", err.len());
    }

    #[test]
    fn a_five_dimensional_image_names_the_file_and_the_dimension() {
        let dir = scratch("five-d");
        let ds = dataset(&dir);
        let image = dir.join("u5.npy");
        write_npy(&image, &ArrayD::<f32>::ones(IxDyn(&[2, 2, 2, 2, 2])));
        let out = dir.join("p.npy");
        let args = [
            "project",
            "--image",
            s(&image),
            "--data",
            s(&ds),
            "--delta",
            "0.1",
            "--out",
            s(&out),
        ];
        let err = fails(&dir, &args, 2, &["u5.npy", "5D", "(NY, NX)"]);
        assert!(!err.contains("give NY,NX"), "{err}");
    }
}

mod sources {
    use super::*;

    #[test]
    fn source_names_are_stems_inside_the_folder() {
        let dir = scratch("sources");
        let out = dir.join("sep");
        let base = [
            "separate",
            "--data",
            "tam-and-tempo-tubes-2d-20210609",
            "--delta",
            "0.03",
            "--shapes",
            "20,20",
            "--lambda",
            "5",
            "--iters",
            "2",
            "--quiet",
            "--out",
            s(&out),
        ];
        for bad in ["../../x", "/etc/passwd", "..", "h tam", ""] {
            let mut args = base.to_vec();
            args.extend(["--sources", bad]);
            let (o, _) = epri(&args);
            assert_eq!(
                o.status.code(),
                Some(2),
                "--sources {bad:?}: {}",
                stderr(&o)
            );
        }
        let mut args = base.to_vec();
        args.extend(["--sources", "htam,htam"]);
        fails(&dir, &args, 2, &["htam", "twice"]);
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            0,
            "nothing written"
        );
    }
}

mod small {
    use super::*;

    #[test]
    fn gallery_list_needs_no_output_folder() {
        let (o, _) = epri(&["gallery", "--list"]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains("tv_2d_phalanx"));
    }

    #[test]
    fn fbp_takes_quiet_like_the_other_computing_commands() {
        let dir = scratch("fbp-quiet");
        let ds = dataset(&dir);
        let out = dir.join("u.npy");
        let err = succeeds(&[
            "fbp",
            "--data",
            s(&ds),
            "--delta",
            "0.1",
            "--shape",
            "16,16",
            "--quiet",
            "--out",
            s(&out),
        ]);
        assert!(!err.contains("error"), "{err}");
        assert!(epri_demos::io::npy::read_npy(&out).unwrap().all_finite());
    }
}

mod oximetry {
    use super::*;

    /// A (64, 4, 3) float32 image of Lorentzian-derivative lines and its B grid in `dir`.
    fn inputs(dir: &Path) -> (PathBuf, PathBuf) {
        let b = Array1::linspace(3390.0, 3410.0, 64);
        let u = ndarray::Array3::from_shape_fn((64, 4, 3), |(k, i, j)| {
            let x = b[k] - 3400.0 - 0.1 * (i + j) as f64;
            (-x / (1.0 + x * x).powi(2)) as f32
        });
        let (image, field) = (dir.join("u.npy"), dir.join("B.npy"));
        write_npy(&image, &u);
        write_npy(&field, &b);
        (image, field)
    }

    fn args<'a>(image: &'a Path, field: &'a Path, out: &'a Path) -> Vec<&'a str> {
        vec![
            "oximetry",
            "--image",
            s(image),
            "--B",
            s(field),
            "--derivative",
            "--out",
            s(out),
        ]
    }

    #[test]
    fn images_of_the_wrong_dimension_or_empty_name_the_file() {
        let dir = scratch("oxi-shape");
        let (image, field) = inputs(&dir);
        let out = dir.join("r");
        let flat = dir.join("flat.npy");
        write_npy(&flat, &Array2::<f32>::ones((64, 12)));
        fails(
            &dir,
            &args(&flat, &field, &out),
            1,
            &["flat.npy", "2-D", "(Nb, Ny, Nx)"],
        );
        let five = dir.join("five.npy");
        write_npy(&five, &ArrayD::<f32>::ones(IxDyn(&[64, 2, 2, 2, 2])));
        fails(&dir, &args(&five, &field, &out), 1, &["five.npy", "5-D"]);
        let empty = dir.join("empty.npy");
        write_npy(&empty, &ArrayD::<f32>::zeros(IxDyn(&[64, 0, 3])));
        fails(
            &dir,
            &args(&empty, &field, &out),
            1,
            &["empty.npy", "empty"],
        );
        let b2 = dir.join("B2.npy");
        write_npy(&b2, &Array2::<f64>::zeros((8, 8)));
        fails(&dir, &args(&image, &b2, &out), 1, &["B2.npy", "(Nb,)"]);
        assert!(!dir.join("r_width.npy").exists());
    }

    #[test]
    fn a_field_grid_that_disagrees_or_is_not_increasing_is_named() {
        let dir = scratch("oxi-field");
        let (image, _) = inputs(&dir);
        let out = dir.join("r");
        let short = dir.join("short.npy");
        write_npy(&short, &Array1::linspace(3390.0, 3410.0, 60));
        fails(
            &dir,
            &args(&image, &short, &out),
            1,
            &["short.npy", "60", "64", "u.npy"],
        );
        let reversed = dir.join("reversed.npy");
        write_npy(&reversed, &Array1::linspace(3410.0, 3390.0, 64));
        fails(
            &dir,
            &args(&image, &reversed, &out),
            1,
            &["reversed.npy", "strictly increasing"],
        );
    }

    #[test]
    fn nan_in_the_image_is_refused() {
        let dir = scratch("oxi-nan");
        let (_, field) = inputs(&dir);
        let mut u = ndarray::Array3::<f32>::ones((64, 2, 2));
        u[[5, 1, 0]] = f32::NAN;
        let image = dir.join("nan.npy");
        write_npy(&image, &u);
        fails(
            &dir,
            &args(&image, &field, &dir.join("r")),
            1,
            &["nan.npy", "NaN"],
        );
    }

    #[test]
    fn option_values_and_outputs_naming_inputs_are_refused() {
        let dir = scratch("oxi-options");
        let (image, field) = inputs(&dir);
        let out = dir.join("r");
        let with = |extra: &[&'static str]| {
            let mut a = args(&image, &field, &out);
            a.extend_from_slice(extra);
            a.into_iter().map(String::from).collect::<Vec<_>>()
        };
        let run = |extra: &[&'static str], needles: &[&str]| {
            let a = with(extra);
            let a: Vec<&str> = a.iter().map(String::as_str).collect();
            fails(&dir, &a, 2, needles);
        };
        run(&["--threshold", "1.5"], &["--threshold", "[0, 1)"]);
        run(&["--slope", "0.01"], &["--width0"]);
        run(
            &["--slope", "-0.01", "--width0", "0.1"],
            &["--slope", "positive"],
        );
        run(&["--model", "cauchy"], &["--model", "cauchy"]);
        run(&["--probe", "linc"], &["0.0312 G/mmHg", "--width0"]);
        run(&["--width0", "0.1"], &["--slope, --probe"]);
        let both = ["--probe", "linc", "--slope", "0.1", "--width0", "0"];
        run(&both, &["--probe", "cannot be used with '--slope"]);
        // An output that is the image itself: PREFIX_width.npy with PREFIX = r when the image
        // is r_width.npy.
        let victim = dir.join("r_width.npy");
        std::fs::copy(&image, &victim).unwrap();
        let a = args(&victim, &field, &out);
        fails(&dir, &a, 2, &["r_width.npy", "input"]);
    }

    /// Lines of γ = 1 G (peak-to-peak 2/√3 G), linc (0.0312 G/mmHg), W0 = 1 G: pO2 ≈ 4.96.
    #[test]
    fn a_probe_preset_with_the_measured_width_gives_the_po2_map() {
        let dir = scratch("oxi-probe");
        let (image, field) = inputs(&dir);
        let out = dir.join("r");
        let mut a = args(&image, &field, &out);
        a.extend_from_slice(&["--probe", "linc", "--width0", "1"]);
        succeeds(&a);
        let po2 =
            ArrayD::<f32>::read_npy(std::fs::File::open(dir.join("r_po2.npy")).unwrap()).unwrap();
        assert_eq!(po2.shape(), &[4, 3]);
        let expected = (2.0 / 3f64.sqrt() - 1.0) / 0.0312;
        assert!(po2.iter().all(|&p| (f64::from(p) - expected).abs() < 0.05));
    }

    #[test]
    fn an_all_zero_image_gives_masked_maps_and_a_warning() {
        let dir = scratch("oxi-zero");
        let (_, field) = inputs(&dir);
        let image = dir.join("zero.npy");
        write_npy(&image, &ndarray::Array4::<f32>::zeros((64, 2, 3, 2)));
        let out = dir.join("r");
        let err = succeeds(&args(&image, &field, &out));
        assert!(err.contains("warning: no voxel was fitted"), "{err}");
        let mask =
            ArrayD::<bool>::read_npy(std::fs::File::open(dir.join("r_mask.npy")).unwrap()).unwrap();
        assert_eq!(mask.shape(), &[2, 3, 2]);
        assert!(mask.iter().all(|&m| !m));
        let width =
            ArrayD::<f32>::read_npy(std::fs::File::open(dir.join("r_width.npy")).unwrap()).unwrap();
        assert!(width.iter().all(|&w| w == 0.0));
    }
}

/// A small consistent spectral-spatial dataset in `dir` (float32, no h): Nb = 16 field samples
/// over 15 G, 12 gradients of 10 G/cm in 3D, smooth projections; with 4 voxels of 0.1 cm per
/// axis the volume spans 4 G of the sweep.
fn dataset4d(dir: &Path) -> PathBuf {
    let ds = dir.join("ds4d");
    std::fs::create_dir_all(&ds).unwrap();
    let (nb, p) = (16, 12);
    let b = Array1::from_shape_fn(nb, |i| 3400.0f32 + i as f32);
    let fgrad = Array2::from_shape_fn((3, p), |(a, k)| {
        let t = std::f32::consts::PI * k as f32 / p as f32;
        10.0 * [t.cos(), t.sin(), (2.0 * t).cos()][a]
    });
    let proj = Array2::from_shape_fn((p, nb), |(k, i)| {
        let x = (i as f32 - 7.5 - (k as f32 - 6.0) * 0.2) / 2.0;
        -2.0 * x / (1.0 + x * x).powi(2)
    });
    write_npy(&ds.join("B.npy"), &b);
    write_npy(&ds.join("fgrad.npy"), &fgrad);
    write_npy(&ds.join("proj.npy"), &proj);
    ds
}

fn spectral_args<'a>(ds: &'a str, out: &'a str, shape: &'a str) -> Vec<&'a str> {
    vec![
        "spectral",
        "--data",
        ds,
        "--delta",
        "0.1",
        "--shape",
        shape,
        "--lambda",
        "1e-3",
        "--lambda-spectral",
        "1e-4",
        "--iters",
        "5",
        "--quiet",
        "--out",
        out,
    ]
}

mod spectral {
    use super::*;

    #[test]
    fn a_small_reconstruction_writes_the_image_and_its_figure() {
        let dir = scratch("spectral-ok");
        let ds = dataset4d(&dir);
        let (out, png) = (dir.join("u.npy"), dir.join("u.png"));
        let mut args = spectral_args(s(&ds), s(&out), "16,4,4,4");
        args.extend(["--png", s(&png)]);
        succeeds(&args);
        let u = epri_demos::io::npy::read_npy(&out).unwrap();
        assert_eq!(u.shape(), &[16, 4, 4, 4]);
        assert!(u.all_finite());
        assert!(std::fs::metadata(&png).unwrap().len() > 0);
    }

    #[test]
    fn a_shape_without_four_sizes_is_a_usage_error() {
        let dir = scratch("spectral-3d-shape");
        let ds = dataset4d(&dir);
        let out = dir.join("u.npy");
        fails(
            &ds,
            &spectral_args(s(&ds), s(&out), "4,4,4"),
            2,
            &["--shape", "NB,NY,NX,NZ"],
        );
    }

    #[test]
    fn a_spectral_axis_other_than_the_length_of_b_is_refused() {
        let dir = scratch("spectral-nb");
        let ds = dataset4d(&dir);
        let out = dir.join("u.npy");
        fails(
            &ds,
            &spectral_args(s(&ds), s(&out), "15,4,4,4"),
            2,
            &["--shape", "length of B (16)"],
        );
    }

    #[test]
    fn two_dimensional_gradients_are_refused() {
        let dir = scratch("spectral-2d");
        let ds = dataset(&dir);
        let out = dir.join("u.npy");
        fails(
            &ds,
            &spectral_args(s(&ds), s(&out), "64,4,4,4"),
            2,
            &["3D gradients", "2 rows"],
        );
    }

    #[test]
    fn nan_in_the_projections_is_refused() {
        let dir = scratch("spectral-nan");
        let ds = dataset4d(&dir);
        let mut proj = Array2::<f32>::ones((12, 16));
        proj[[3, 5]] = f32::NAN;
        write_npy(&ds.join("proj.npy"), &proj);
        let out = dir.join("u.npy");
        fails(
            &ds,
            &spectral_args(s(&ds), s(&out), "16,4,4,4"),
            1,
            &["proj", "NaN"],
        );
    }

    #[test]
    fn projections_not_matching_fgrad_are_refused() {
        let dir = scratch("spectral-p");
        let ds = dataset4d(&dir);
        write_npy(&ds.join("proj.npy"), &Array2::<f32>::ones((11, 16)));
        let out = dir.join("u.npy");
        fails(
            &ds,
            &spectral_args(s(&ds), s(&out), "16,4,4,4"),
            1,
            &["proj"],
        );
    }
}

/// The support rule of spectral-spatial imaging: the largest shift `|<γ, r>|` of a voxel's
/// spectrum must stay within the sweep width (a warning above half of it).
mod sweep {
    use super::*;

    /// `dataset4d`'s gradients reach |γ| = 14.1 G/cm and its sweep is 15 G: 4 voxels per axis
    /// of 0.1 cm shift the spectra by 4 G at most, of 0.2 cm by 8 G (more than half the
    /// sweep), of 0.4 cm by 16 G (more than the sweep).
    #[test]
    fn spectral_warns_above_half_the_sweep_and_refuses_above_it() {
        let dir = scratch("sweep-spectral");
        let ds = dataset4d(&dir);
        let out = dir.join("u.npy");
        let quiet = succeeds(&spectral_args(s(&ds), s(&out), "16,4,4,4"));
        assert!(!quiet.contains("warning"), "{quiet}");
        let mut args = spectral_args(s(&ds), s(&out), "16,4,4,4");
        args[4] = "0.2";
        let err = succeeds(&args);
        assert!(
            err.contains("warning: the field of view of --shape (16, 4, 4, 4) and --delta 0.2 cm")
                && err.contains("more than half the sweep width 15.0000 G"),
            "{err}"
        );
        args[4] = "0.4";
        fails(
            &ds,
            &args,
            1,
            &[
                "--shape (16, 4, 4, 4)",
                "--delta 0.4 cm",
                "more than the sweep width 15.0000 G",
            ],
        );
    }

    #[test]
    fn backproject_applies_the_rule_to_its_field_of_view() {
        let dir = scratch("sweep-backproject");
        let ds = dataset4d(&dir);
        let out = dir.join("u.npy");
        let args = |delta: &'static str| {
            vec![
                "backproject".to_string(),
                "--data".into(),
                s(&ds).into(),
                "--delta".into(),
                delta.into(),
                "--shape".into(),
                "16,4,4,4".into(),
                "--out".into(),
                s(&out).into(),
            ]
        };
        let a = args("0.2");
        let err = succeeds(&a.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(
            err.contains("warning") && err.contains("half the sweep"),
            "{err}"
        );
        let a = args("0.4");
        fails(
            &ds,
            &a.iter().map(String::as_str).collect::<Vec<_>>(),
            1,
            &["--shape", "sweep width"],
        );
    }

    /// `epri project` checks the voxels that hold a spectrum, not the whole grid: a 16³ grid of
    /// 0.2 cm would shift the spectra by up to 32 G, its central 2³ voxels by 4 G.
    #[test]
    fn project_applies_the_rule_to_the_image_s_non_zero_voxels() {
        let dir = scratch("sweep-project");
        let ds = dataset4d(&dir);
        let image = dir.join("u4.npy");
        let mut u = ArrayD::<f32>::zeros(IxDyn(&[16, 16, 16, 16]));
        for l in 6..10 {
            for i in 7..9 {
                for j in 7..9 {
                    for k in 7..9 {
                        u[[l, i, j, k]] = 1.0;
                    }
                }
            }
        }
        write_npy(&image, &u);
        let out = dir.join("p.npy");
        let args = [
            "project",
            "--image",
            s(&image),
            "--data",
            s(&ds),
            "--delta",
            "0.2",
            "--out",
            s(&out),
        ];
        let err = succeeds(&args);
        assert!(!err.contains("warning"), "{err}");
        // One voxel in a corner: 32 G.
        u[[8, 0, 0, 0]] = 1.0;
        write_npy(&image, &u);
        fails(
            &dir,
            &args,
            1,
            &[
                "non-zero voxels of --image",
                "--delta 0.2 cm",
                "sweep width 15.0000 G",
            ],
        );
    }
}

/// `epri project` / `epri backproject` with spectral-spatial images: inconsistent shapes and
/// options.
mod project4d {
    use super::*;

    fn image(dir: &Path, shape: &[usize]) -> PathBuf {
        let p = dir.join("u4.npy");
        write_npy(&p, &ArrayD::<f32>::ones(IxDyn(shape)));
        p
    }

    #[test]
    fn h_given_with_a_spectral_spatial_image_or_shape_is_refused() {
        let dir = scratch("p4d-h");
        let ds = dataset4d(&dir);
        let u = image(&dir, &[16, 4, 4, 4]);
        let h = dir.join("h.npy");
        write_npy(&h, &Array1::<f32>::ones(16));
        let out = dir.join("p.npy");
        let project = [
            "project",
            "--image",
            s(&u),
            "--data",
            s(&ds),
            "--h",
            s(&h),
            "--delta",
            "0.1",
            "--out",
            s(&out),
        ];
        fails(
            &dir,
            &project,
            2,
            &["--h", "u4.npy", "spectral-spatial", "drop --h"],
        );
        let backproject = [
            "backproject",
            "--data",
            s(&ds),
            "--h",
            s(&h),
            "--delta",
            "0.1",
            "--shape",
            "16,4,4,4",
            "--out",
            s(&out),
        ];
        fails(&dir, &backproject, 2, &["--h", "--shape", "drop --h"]);
        let mut spectral = spectral_args(s(&ds), s(&out), "16,4,4,4");
        spectral.extend(["--h", s(&h)]);
        fails(&dir, &spectral, 2, &["--h", "--shape", "drop --h"]);
    }

    #[test]
    fn a_spectral_axis_other_than_the_length_of_b_names_the_file_or_option() {
        let dir = scratch("p4d-nb");
        let ds = dataset4d(&dir);
        let u = image(&dir, &[15, 4, 4, 4]);
        let out = dir.join("p.npy");
        let project = [
            "project",
            "--image",
            s(&u),
            "--data",
            s(&ds),
            "--delta",
            "0.1",
            "--out",
            s(&out),
        ];
        fails(&dir, &project, 2, &["u4.npy", "length of B (16)", "got 15"]);
        let backproject = [
            "backproject",
            "--data",
            s(&ds),
            "--delta",
            "0.1",
            "--shape",
            "15,4,4,4",
            "--out",
            s(&out),
        ];
        fails(&dir, &backproject, 2, &["--shape", "length of B (16)"]);
    }

    #[test]
    fn two_dimensional_gradients_are_refused() {
        let dir = scratch("p4d-2d");
        let ds = dataset(&dir);
        let u = image(&dir, &[64, 4, 4, 4]);
        let out = dir.join("p.npy");
        let project = [
            "project",
            "--image",
            s(&u),
            "--data",
            s(&ds),
            "--delta",
            "0.1",
            "--out",
            s(&out),
        ];
        fails(&dir, &project, 2, &["u4.npy", "3D gradients", "2 rows"]);
        let backproject = [
            "backproject",
            "--data",
            s(&ds),
            "--delta",
            "0.1",
            "--shape",
            "64,4,4,4",
            "--out",
            s(&out),
        ];
        fails(&dir, &backproject, 2, &["--shape", "3D gradients"]);
    }

    #[test]
    fn absorption_with_a_2d_or_3d_image_is_refused() {
        let dir = scratch("p4d-abs");
        let ds = dataset(&dir);
        let u = image(&dir, &[16, 16]);
        let out = dir.join("p.npy");
        let project = [
            "project",
            "--image",
            s(&u),
            "--data",
            s(&ds),
            "--delta",
            "0.1",
            "--absorption",
            "--out",
            s(&out),
        ];
        fails(&dir, &project, 2, &["--absorption", "u4.npy", "2D"]);
        let backproject = [
            "backproject",
            "--data",
            s(&ds),
            "--delta",
            "0.1",
            "--shape",
            "16,16",
            "--absorption",
            "--out",
            s(&out),
        ];
        fails(&dir, &backproject, 2, &["--absorption", "--shape", "2D"]);
    }

    #[test]
    fn a_shape_of_five_sizes_is_a_usage_error() {
        let dir = scratch("p4d-5");
        let ds = dataset4d(&dir);
        let out = dir.join("p.npy");
        let (o, _) = epri(&[
            "backproject",
            "--data",
            s(&ds),
            "--delta",
            "0.1",
            "--shape",
            "16,4,4,4,4",
            "--out",
            s(&out),
        ]);
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains("NB,NY,NX,NZ"), "{}", stderr(&o));
    }

    #[test]
    fn a_dataset_folder_s_h_plays_no_part_in_4d() {
        // An all-zero h.npy in the folder would be refused for a 2D/3D image.
        let dir = scratch("p4d-folder-h");
        let ds = dataset4d(&dir);
        write_npy(&ds.join("h.npy"), &Array1::<f32>::zeros(16));
        let out = dir.join("u.npy");
        succeeds(&[
            "backproject",
            "--data",
            s(&ds),
            "--delta",
            "0.1",
            "--shape",
            "16,4,4,4",
            "--out",
            s(&out),
        ]);
        let u = epri_demos::io::npy::read_npy(&out).unwrap();
        assert_eq!(u.shape(), &[16, 4, 4, 4]);
    }
}
