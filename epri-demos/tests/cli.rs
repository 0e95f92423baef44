//! The `epri` binary end to end: outputs against PyEPRI's, and the one-line errors and exit
//! codes of bad inputs.

use ndarray::{ArrayD, IxDyn};
use ndarray_npy::{ReadNpyExt, WriteNpyExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn epri(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_epri"))
        .args(args)
        .output()
        .expect("the epri binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(args: &[&str]) -> String {
    let o = epri(args);
    assert!(
        o.status.success(),
        "epri {args:?} failed: {}{}",
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

/// Runs a command that must fail with `code` and a one-line `error: ...` containing `needles`.
fn fails(args: &[&str], code: i32, needles: &[&str]) {
    let o = epri(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(code), "epri {args:?}: {err}");
    assert!(err.starts_with("error: "), "epri {args:?}: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
    for n in needles {
        assert!(err.contains(n), "epri {args:?}: expected {n:?} in {err}");
    }
}

/// One-line errors of our own (clap's usage errors add a usage block).
fn fails_one_line(args: &[&str], code: i32, needles: &[&str]) {
    fails(args, code, needles);
    let err = stderr(&epri(args));
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

fn tmp(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn read<T: ndarray_npy::ReadableElement>(p: &Path) -> ArrayD<T> {
    ArrayD::<T>::read_npy(std::fs::File::open(p).unwrap()).unwrap()
}

/// A float32 or float64 .npy as f64.
fn read_f64(p: &Path) -> ArrayD<f64> {
    epri_demos::io::npy::read_npy(p).unwrap().to_f64()
}

fn rel_err(a: &ArrayD<f64>, b: &ArrayD<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    let num: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
    let den: f64 = b.iter().map(|y| y * y).sum();
    (num / den).sqrt()
}

/// PyEPRI reference outputs committed with epri-ops.
fn reference(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../epri-ops/tests/data")
        .join(dir)
}

#[test]
fn info_describes_a_dataset_and_lists_the_embedded_ones() {
    let out = ok(&["info", "--data", "phalanx-20220203"]);
    for needle in [
        "2D",
        "P = 113",
        "Nb = 2000",
        "dB = 0.35986 G",
        "719.440 G",
        "168.000 .. 168.000 G/cm",
    ] {
        assert!(out.contains(needle), "{needle} in {out}");
    }
    let out = ok(&["info"]);
    assert!(out.contains("fusillo-20091002") && out.contains("tamtubes-20211201"));
    let out = ok(&["info", "--data", "tam-insert-in-tempo-20230929"]);
    assert!(
        out.contains("multi-source") && out.contains("htempo"),
        "{out}"
    );
    let bes3t = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../datasets/fusillo-20091002/bes3t/fusillo-20091002-proj.DSC");
    let out = ok(&["info", "--proj", s(&bes3t)]);
    assert!(
        out.contains("3D") && out.contains("P = 961") && out.contains("14.000"),
        "{out}"
    );
}

#[test]
fn devices_lists_the_cpu() {
    let out = ok(&["devices"]);
    assert!(out.starts_with("CPU"), "{out}");
    assert!(out.contains("OpenCL") && out.contains("CUDA"), "{out}");
}

/// PyEPRI's eprfbp2d on phalanx (δ = 8e-3 cm, 400×200, cutoff 0.1, float32).
#[test]
fn fbp_matches_pyepri_and_draws_a_png() {
    let dir = tmp("fbp");
    let (npy, png) = (dir.join("fbp.npy"), dir.join("fbp.png"));
    ok(&[
        "fbp",
        "--data",
        "phalanx-20220203",
        "--delta",
        "0.008",
        "--shape",
        "400,200",
        "--cutoff",
        "0.1",
        "--out",
        s(&npy),
        "--png",
        s(&png),
    ]);
    let u = read::<f32>(&npy).mapv(f64::from);
    let r = read_f64(&reference("d_fbp2d_phalanx").join("fbp.npy"));
    let e = rel_err(&u, &r);
    assert!(e < 1e-4, "relative error {e}");
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let info = decoder.read_info().unwrap().info().clone();
    assert!(
        info.width >= 200 && info.height >= 400,
        "{}x{}",
        info.width,
        info.height
    );
}

/// The README's main command: PyEPRI's tv_monosrc on phalanx, 1000 iterations, float32.
#[test]
fn tv_matches_pyepri() {
    let dir = tmp("tv");
    let npy = dir.join("tv.npy");
    let out = ok(&[
        "tv",
        "--data",
        "phalanx-20220203",
        "--delta",
        "0.008",
        "--shape",
        "400,200",
        "--lambda",
        "1",
        "--iters",
        "1000",
        "--quiet",
        "--out",
        s(&npy),
    ]);
    assert!(out.contains("1000 iterations"), "{out}");
    let u = read::<f32>(&npy).mapv(f64::from);
    let r = read_f64(&reference("e_tv2d_phalanx").join("tv.npy"));
    let e = rel_err(&u, &r);
    assert!(e < 1e-3, "relative error {e}");
}

/// PyEPRI's source separation example (tv_multisrc, tam and tempo tubes 2D, float32).
#[test]
fn separate_matches_pyepri() {
    let dir = tmp("separate");
    let prefix = dir.join("sep");
    let out = ok(&[
        "separate",
        "--data",
        "tam-and-tempo-tubes-2d-20210609",
        "--delta",
        "0.03",
        "--shapes",
        "100,100;100,100",
        "--sources",
        "htam,htempo",
        "--lambda",
        "5",
        "--tol",
        "1e-5",
        "--iters",
        "5000",
        "--quiet",
        "--png",
        "--out",
        s(&prefix),
    ]);
    assert!(out.contains("separated 2 sources"), "{out}");
    for name in ["tam", "tempo"] {
        let u = read::<f32>(&dir.join(format!("sep_{name}.npy"))).mapv(f64::from);
        let r = read_f64(&reference("f_multisrc2d_tam_tempo").join(format!("{name}.npy")));
        let e = rel_err(&u, &r);
        assert!(e < 1e-2, "{name}: relative error {e}");
        assert!(dir.join(format!("sep_{name}.png")).exists());
    }
}

#[test]
fn separate_rejects_bad_sources_and_shapes() {
    let out = tmp("separate-bad").join("sep");
    let base = [
        "separate",
        "--data",
        "tam-and-tempo-tubes-2d-20210609",
        "--delta",
        "0.03",
        "--lambda",
        "5",
        "--iters",
        "2",
        "--quiet",
        "--out",
        s(&out),
    ];
    let with = |extra: &[&'static str]| {
        let mut a = base.to_vec();
        a.extend_from_slice(extra);
        a
    };
    fails_one_line(
        &with(&["--shapes", "100,100;100,100;50,50"]),
        2,
        &["3 shapes for 2 sources", "htam, htempo"],
    );
    fails_one_line(
        &with(&["--shapes", "100,100", "--sources", "htam,hnone"]),
        1,
        &["hnone.npy", "no spectrum for source"],
    );
    fails_one_line(
        &with(&["--shapes", "20,20,20"]),
        2,
        &["--shapes is 3D", "give NY,NX"],
    );
    // A single-source folder (only h.npy) has nothing to separate.
    fails_one_line(
        &[
            "separate",
            "--data",
            "tamtubes-20211201",
            "--delta",
            "0.01",
            "--lambda",
            "1",
            "--shapes",
            "20,20,20",
            "--iters",
            "2",
            "--quiet",
            "--out",
            s(&out),
        ],
        2,
        &["no source spectra", "epri tv"],
    );
}

/// proj2d and backproj2d of PyEPRI (float64, eps 1e-12) from single files: a 128×128 image,
/// the phalanx B and h with every 6th gradient.
#[test]
fn project_and_backproject_match_pyepri_in_f64() {
    let r = reference("a_proj2d_f64");
    let dir = tmp("proj");
    let (p, u) = (dir.join("p.npy"), dir.join("u.npy"));
    let (bf, hf, gf, image) = (
        r.join("B.npy"),
        r.join("h.npy"),
        r.join("fgrad.npy"),
        r.join("u.npy"),
    );
    let files = ["--B", s(&bf), "--h", s(&hf), "--fgrad", s(&gf)];
    let mut a = vec![
        "project",
        "--image",
        s(&image),
        "--delta",
        "0.008",
        "--eps",
        "1e-12",
        "--out",
        s(&p),
    ];
    a.extend(files);
    ok(&a);
    let got = read::<f64>(&p);
    let e = rel_err(&got, &read::<f64>(&r.join("proj.npy")));
    assert!(e < 1e-9, "projection relative error {e}");

    let proj = r.join("proj.npy");
    let mut a = vec![
        "backproject",
        "--proj",
        s(&proj),
        "--delta",
        "0.008",
        "--shape",
        "128,128",
        "--eps",
        "1e-12",
        "--out",
        s(&u),
    ];
    a.extend(files);
    ok(&a);
    let got = read::<f64>(&u);
    let e = rel_err(&got, &read::<f64>(&r.join("backproj_proj.npy")));
    assert!(e < 1e-9, "backprojection relative error {e}");
}

#[test]
fn precision_follows_the_data_unless_asked() {
    let dir = tmp("precision");
    let (a, b) = (dir.join("a.npy"), dir.join("b.npy"));
    let base = [
        "fbp",
        "--data",
        "bacteria-inkjet-20100709",
        "--delta",
        "0.01",
        "--shape",
        "20,30",
        "--cutoff",
        "0.25",
    ];
    let mut args = base.to_vec();
    args.extend(["--out", s(&a)]);
    ok(&args);
    assert!(ArrayD::<f32>::read_npy(std::fs::File::open(&a).unwrap()).is_ok());
    let mut args = base.to_vec();
    args.extend(["--out", s(&b), "--precision", "f64"]);
    ok(&args);
    let u64 = read::<f64>(&b);
    assert_eq!(u64.shape(), &[20, 30]);
    let e = rel_err(&read::<f32>(&a).mapv(f64::from), &u64);
    assert!(e < 1e-4, "f32 vs f64: {e}");
}

#[test]
fn gallery_runs_one_small_example() {
    let dir = tmp("gallery");
    ok(&[
        "gallery",
        "--out",
        s(&dir),
        "--only",
        "fbp_2d_bacteria_inkjet",
    ]);
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(
        html.contains("fbp_2d_bacteria_inkjet") && html.contains("cutoff 0.25"),
        "{html}"
    );
    assert!(dir.join("fbp_2d_bacteria_inkjet.png").exists());
    let list = ok(&["gallery", "--out", s(&dir), "--list"]);
    assert_eq!(list.lines().count(), 24, "{list}");
    fails(
        &["gallery", "--out", s(&dir), "--only", "nothing_like_this"],
        2,
        &["no example matches"],
    );
}

/// A TV example of the gallery: PyEPRI's hand-tuned image and the automatic-λ image side by
/// side, the caption carrying both weights, the rule, σ and the residual.
#[test]
fn gallery_draws_the_automatic_lambda_beside_the_hand_tuned_one() {
    let dir = tmp("gallery_auto");
    ok(&["gallery", "--out", s(&dir), "--only", "tv_2d_cnrs_inkjet"]);
    assert!(dir.join("tv_2d_cnrs_inkjet.png").exists());
    assert!(dir.join("tv_2d_cnrs_inkjet_auto.png").exists());
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.contains("PyEPRI's hand-tuned λ = 1;"), "{html}");
    let auto = html
        .split("automatic λ = ")
        .nth(1)
        .unwrap_or_else(|| panic!("no automatic λ in {html}"));
    let value: f64 = auto.split_whitespace().next().unwrap().parse().unwrap();
    assert!(value > 0.0 && value.is_finite(), "{auto}");
    for part in [
        "PyEPRI's λ = 1)",
        "chosen by SURE",
        "noise σ = ",
        "residual ",
    ] {
        assert!(auto.contains(part), "{part} not in {auto}");
    }
    assert!(
        html.contains("src=\"tv_2d_cnrs_inkjet_auto.png\""),
        "{html}"
    );
}

fn as_refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// A dataset folder of small arrays, with `edit` applied to the projections.
fn small_dataset(name: &str, edit: impl FnOnce(&mut ArrayD<f32>)) -> PathBuf {
    let dir = tmp(name);
    let nb = 64;
    let b = ArrayD::from_shape_fn(IxDyn(&[nb]), |i| 3400.0 + 0.5 * i[0] as f32);
    let h = ArrayD::from_shape_fn(IxDyn(&[nb]), |i| {
        let x = (i[0] as f32 - 32.0) / 4.0;
        -x * (-x * x).exp()
    });
    let fgrad = ArrayD::from_shape_fn(IxDyn(&[2, 8]), |i| {
        let t = i[1] as f32 * std::f32::consts::PI / 8.0;
        10.0 * if i[0] == 0 { t.cos() } else { t.sin() }
    });
    let mut proj = ArrayD::from_shape_fn(IxDyn(&[8, nb]), |i| h[[i[1]]]);
    edit(&mut proj);
    for (f, a) in [("B", &b), ("h", &h), ("fgrad", &fgrad), ("proj", &proj)] {
        a.write_npy(std::fs::File::create(dir.join(format!("{f}.npy"))).unwrap())
            .unwrap();
    }
    dir
}

#[test]
fn bad_inputs_give_one_line_errors_and_exit_codes() {
    let good = small_dataset("good", |_| {});
    let out = tmp("bad-out").join("u.npy");
    let run = |dir: &Path, extra: &[&str]| {
        // (cutoff 0.2: this Gaussian line's absorption vanishes at high B-frequencies)
        let cutoff = if extra.contains(&"--cutoff") {
            &[][..]
        } else {
            &["--cutoff", "0.2"][..]
        };
        let mut a = vec!["fbp", "--data", s(dir), "--delta", "0.1", "--shape", "8,8"];
        a.extend_from_slice(cutoff);
        a.extend_from_slice(extra);
        a.extend(["--out", s(&out)]);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    // The good one works.
    ok(&as_refs(&run(&good, &[])));

    // Missing file.
    let missing = good.join("nothing.npy");
    fails_one_line(
        &as_refs(&run(&good, &["--proj", s(&missing)])),
        1,
        &["nothing.npy", "no such file"],
    );
    // Unknown dataset name.
    fails_one_line(
        &["info", "--data", "no-such-dataset"],
        2,
        &["no-such-dataset", "embedded datasets:"],
    );
    // Shapes that disagree.
    let wrong = small_dataset("wrong", |p| *p = ArrayD::zeros(IxDyn(&[8, 63])));
    fails_one_line(
        &as_refs(&run(&wrong, &[])),
        1,
        &["proj has shape", "(8, 64)"],
    );
    // Non-finite data.
    let nan = small_dataset("nan", |p| p[[3, 5]] = f32::NAN);
    fails_one_line(&as_refs(&run(&nan, &[])), 1, &["proj", "NaN"]);
    // Image dimension that disagrees with the gradients.
    let v = vec![
        "fbp",
        "--data",
        s(&good),
        "--delta",
        "0.1",
        "--shape",
        "8,8,8",
        "--out",
        s(&out),
    ];
    fails_one_line(&v, 2, &["3D", "2D"]);
    // Multi-source dataset without a spectrum.
    fails_one_line(
        &[
            "fbp",
            "--data",
            "tam-and-tempo-tubes-2d-20210609",
            "--delta",
            "0.03",
            "--shape",
            "10,10",
            "--out",
            s(&out),
        ],
        2,
        &["multi-source", "--h"],
    );
    // Not a .npy.
    let txt = good.join("notes.txt");
    std::fs::write(&txt, "hello").unwrap();
    fails_one_line(
        &as_refs(&run(&good, &["--proj", s(&txt)])),
        1,
        &["notes.txt", "unknown file type"],
    );
    let fake = good.join("fake.npy");
    std::fs::write(&fake, "not numpy").unwrap();
    fails_one_line(
        &as_refs(&run(&good, &["--h", s(&fake)])),
        1,
        &["fake.npy", "not a valid .npy"],
    );

    // Command-line values rejected by clap (exit code 2).
    let v = vec![
        "fbp",
        "--data",
        s(&good),
        "--delta",
        "-0.1",
        "--shape",
        "8,8",
        "--out",
        s(&out),
    ];
    fails(&v, 2, &["--delta", "must be positive"]);
    let v = vec![
        "fbp",
        "--data",
        s(&good),
        "--delta",
        "0.1",
        "--shape",
        "8",
        "--out",
        s(&out),
    ];
    fails(&v, 2, &["--shape"]);
    fails(
        &as_refs(&run(&good, &["--backend", "gpu"])),
        2,
        &["unknown backend 'gpu'"],
    );
    fails(&as_refs(&run(&good, &["--cutoff", "1.5"])), 2, &["(0, 1]"]);
    // A backend this build lacks names its feature.
    if !cfg!(feature = "cuda") {
        fails_one_line(
            &as_refs(&run(&good, &["--backend", "cuda"])),
            1,
            &["--features cuda"],
        );
    }
    if !cfg!(feature = "opencl") {
        fails_one_line(
            &as_refs(&run(&good, &["--backend", "opencl:0:0"])),
            1,
            &["--features opencl"],
        );
    }
}

/// With the `opencl` feature: the same FBP and a short TV (float64) on the first OpenCL device
/// (PoCL in CI) agree with the CPU. Skipped without a device unless `EPRI_REQUIRE_OPENCL` is set.
#[cfg(feature = "opencl")]
#[test]
fn opencl_backend_agrees_with_the_cpu() {
    let found = ok(&["devices"]);
    let has_device = found.lines().any(|l| l.contains("opencl:"));
    if !has_device {
        assert!(
            std::env::var_os("EPRI_REQUIRE_OPENCL").is_none(),
            "no OpenCL device: {found}"
        );
        eprintln!("skipped: no OpenCL device");
        return;
    }
    let dir = tmp("opencl");
    for (cmd, extra) in [
        ("fbp", &["--cutoff", "0.25"][..]),
        ("tv", &["--lambda", "5", "--iters", "20", "--quiet"][..]),
    ] {
        let mut outs = Vec::new();
        for backend in ["cpu", "opencl"] {
            let out = dir.join(format!("{cmd}-{backend}.npy"));
            let mut a = vec![
                cmd,
                "--data",
                "bacteria-inkjet-20100709",
                "--delta",
                "0.01",
                "--shape",
                "50,120",
                "--backend",
                backend,
                "--precision",
                "f64",
                "--out",
                s(&out),
            ];
            a.extend_from_slice(extra);
            ok(&a);
            outs.push(read_f64(&out));
        }
        let e = rel_err(&outs[1], &outs[0]);
        assert!(e < 1e-8, "{cmd}: opencl vs cpu {e}");
    }
}

#[test]
fn compare_prints_the_relative_error_and_refuses_other_shapes() {
    let dir = tmp("compare");
    let write = |name: &str, v: Vec<f32>, shape: &[usize]| {
        let p = dir.join(name);
        let a = ArrayD::from_shape_vec(IxDyn(shape), v).unwrap();
        a.write_npy(std::fs::File::create(&p).unwrap()).unwrap();
        p
    };
    let reference = write("b.npy", vec![3.0, 4.0], &[1, 2]);
    let image = write("a.npy", vec![3.0, 4.5], &[1, 2]);
    let other = write("c.npy", vec![3.0, 4.0], &[2, 1]);
    let out = ok(&["compare", s(&image), s(&reference)]);
    assert_eq!(out.trim(), "relative l2 error ‖A − B‖ / ‖B‖ = 1.000e-1");
    fails_one_line(&["compare", s(&image), s(&other)], 1, &["different shapes"]);
}

/// A simulated acquisition for `--lambda auto`: a 48 × 48 phantom of 0.05 cm pixels (two disks)
/// projected by `epri project` with the phalanx spectrum (every 4th field sample) under 40
/// gradients of 168 G/cm, plus white noise of standard deviation `max|s| / snr` (pure noise
/// when `snr` is 0: the noise level is then that of SNR 30). Returns the folder and σ.
fn simulated_dataset(name: &str, snr: f64) -> (PathBuf, f64) {
    let dir = tmp(name);
    let phalanx = Path::new(env!("CARGO_MANIFEST_DIR")).join("../datasets/phalanx-20220203");
    let every4 = |f: &str| {
        let a = read::<f32>(&phalanx.join(f));
        ArrayD::from_shape_fn(IxDyn(&[a.len() / 4]), |i| a[[4 * i[0]]])
    };
    let fgrad = ArrayD::from_shape_fn(IxDyn(&[2, 40]), |i| {
        let t = i[1] as f32 * std::f32::consts::PI / 40.0;
        168.0 * if i[0] == 0 { t.cos() } else { t.sin() }
    });
    let u = ArrayD::from_shape_fn(IxDyn(&[48, 48]), |i| {
        let (y, x) = (i[0] as f32 - 24.0, i[1] as f32 - 24.0);
        if (x - 5.0).powi(2) + (y - 4.0).powi(2) < 64.0 {
            1.0f32
        } else if (x + 8.0).powi(2) + (y + 6.0).powi(2) < 25.0 {
            0.5
        } else {
            0.0
        }
    });
    for (f, a) in [
        ("B", every4("B.npy")),
        ("h", every4("h.npy")),
        ("fgrad", fgrad),
        ("u", u),
    ] {
        a.write_npy(std::fs::File::create(dir.join(format!("{f}.npy"))).unwrap())
            .unwrap();
    }
    let p = |f: &str| s(&dir.join(f)).to_string();
    ok(&[
        "project",
        "--image",
        &p("u.npy"),
        "--B",
        &p("B.npy"),
        "--h",
        &p("h.npy"),
        "--fgrad",
        &p("fgrad.npy"),
        "--delta",
        "0.05",
        "--out",
        &p("clean.npy"),
    ]);
    let clean = read::<f32>(&dir.join("clean.npy"));
    let peak = clean.iter().fold(0f32, |m, x| m.max(x.abs())) as f64;
    let sigma = peak / if snr > 0.0 { snr } else { 30.0 };
    let noise = backend_core::host::randn::<f64>(clean.shape(), 0.0, sigma, 42).unwrap();
    let keep = if snr > 0.0 { 1.0 } else { 0.0 };
    let proj = ndarray::Zip::from(&clean)
        .and(&noise)
        .map_collect(|c, n| (keep * *c as f64 + n) as f32);
    proj.write_npy(std::fs::File::create(dir.join("proj.npy")).unwrap())
        .unwrap();
    std::fs::remove_file(dir.join("clean.npy")).unwrap();
    (dir, sigma)
}

#[test]
fn lambda_auto_chooses_from_the_noise_and_reports() {
    let (dir, sigma) = simulated_dataset("lambda-auto", 30.0);
    let d = s(&dir);
    // info: the noise estimate, within 20 % of the truth.
    let info = ok(&["info", "--data", d]);
    let line = info
        .lines()
        .find(|l| l.starts_with("noise"))
        .expect("a noise line");
    let est: f64 = line
        .split("σ = ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!((est / sigma - 1.0).abs() < 0.2, "σ {sigma}, {line}");

    let out = tmp("lambda-auto-out");
    let (u, png, report) = (out.join("u.npy"), out.join("u.png"), out.join("report.png"));
    for (rule, name) in [("auto", "SURE"), ("auto:discrepancy", "discrepancy")] {
        let text = ok(&[
            "tv",
            "--data",
            d,
            "--delta",
            "0.05",
            "--shape",
            "48,48",
            "--lambda",
            rule,
            "--iters",
            "500",
            "--quiet",
            "--out",
            s(&u),
            "--png",
            s(&png),
            "--lambda-report",
            s(&report),
        ]);
        assert!(
            text.contains(name) && text.contains("estimated from the data"),
            "{text}"
        );
        let phantom = read_f64(&dir.join("u.npy"));
        let err = rel_err(&read_f64(&u), &phantom);
        assert!(
            err < 0.3,
            "{rule}: relative error {err} to the phantom\n{text}"
        );
        assert!(std::fs::metadata(&report).unwrap().len() > 1000);
    }
    // A given σ is used as given.
    let text = ok(&[
        "tv",
        "--data",
        d,
        "--delta",
        "0.05",
        "--shape",
        "48,48",
        "--lambda",
        "auto:discrepancy",
        "--sigma",
        &format!("{sigma}"),
        "--iters",
        "200",
        "--quiet",
        "--out",
        s(&u),
    ]);
    assert!(text.contains("given"), "{text}");
}

#[test]
fn lambda_auto_on_noise_only_and_bad_options() {
    let (dir, _) = simulated_dataset("lambda-noise", 0.0);
    let d = s(&dir);
    let u = tmp("lambda-noise-out").join("u.npy");
    let base = [
        "tv", "--data", d, "--delta", "0.05", "--shape", "48,48", "--iters", "100",
    ];
    let run = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--quiet", "--out", s(&u)]);
        epri(&args)
    };
    // Pure noise: a finite λ and a warning, never a runaway search.
    let o = run(&["--lambda", "auto:discrepancy"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no signal above the noise"),
        "{}",
        stderr(&o)
    );
    let lambda: f64 = stdout(&o)
        .split("λ = ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(lambda.is_finite() && lambda > 0.0);
    // All-zero projections: a clear error.
    let zero = small_dataset("lambda-zero", |p| p.fill(0.0));
    let mut args = vec!["tv", "--data", s(&zero), "--delta", "0.5", "--shape", "8,8"];
    args.extend_from_slice(&["--lambda", "auto", "--quiet", "--out", s(&u)]);
    fails_one_line(&args, 1, &["zero"]);
    // Options.
    let mut args = base.to_vec();
    args.extend_from_slice(&["--out", s(&u), "--lambda"]);
    for (bad, needle) in [("auto:gcv", "unknown rule"), ("-1", "must be positive")] {
        let mut a = args.clone();
        a.push(bad);
        fails_one_line(&a, 2, &["--lambda", needle]);
    }
    let mut a = args.clone();
    a.extend_from_slice(&["2", "--lambda-report", "r.png"]);
    fails_one_line(&a, 2, &["--lambda-report"]);
    let mut a = args.clone();
    a.extend_from_slice(&["auto", "--sigma", "0"]);
    fails_one_line(&a, 2, &["--sigma"]);
}

/// `epri oximetry` end to end on a 4D image synthesised here: three regions of a 12×10×4
/// volume hold Lorentzian first-derivative lines of peak-to-peak widths 0.6, 0.9 and 1.3 G
/// (centres and amplitudes varying by voxel), the rest is empty; Gaussian noise of 0.5 % of the
/// largest value is added everywhere (seeded), and voxels below 8 % of the largest
/// peak-to-peak are skipped (the weakest line has 16 %, noise alone about 3 %). The maps must mask exactly the empty voxels,
/// give each region's median width within 2 % of the truth, cover the truth within 3
/// reported standard errors in at least 95 % of the voxels, and give pO2 = (width − 0.5)/0.01.
#[test]
fn oximetry_maps_widths_of_regions_and_masks_the_rest() {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};
    let dir = tmp("oximetry");
    let (nb, ny, nx, nz) = (96, 12, 10, 4);
    let b = ndarray::Array1::linspace(3394.0, 3406.0, nb);
    let widths = [0.6, 0.9, 1.3];
    let region = |iy: usize, ix: usize| match (iy, ix) {
        (1..=4, 1..=8) => Some(0),
        (6..=10, 1..=4) => Some(1),
        (6..=10, 5..=8) => Some(2),
        _ => None,
    };
    let mut u = ndarray::Array4::<f32>::zeros((nb, ny, nx, nz));
    for ((k, iy, ix, iz), v) in u.indexed_iter_mut() {
        if let Some(r) = region(iy, ix) {
            let c = 3399.8 + 0.05 * (ix + iz) as f64;
            let g = 3f64.sqrt() / 2.0 * widths[r];
            let x = b[k] - c;
            let area = 1.0 + 0.1 * iz as f64;
            *v = (-2.0 * area * x * g / (std::f64::consts::PI * (x * x + g * g).powi(2))) as f32;
        }
    }
    let peak = u.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let noise = Normal::new(0.0, 0.005 * peak).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(14);
    u.mapv_inplace(|v| v + noise.sample(&mut rng));
    let (image, field) = (dir.join("u.npy"), dir.join("B.npy"));
    u.write_npy(std::fs::File::create(&image).unwrap()).unwrap();
    b.write_npy(std::fs::File::create(&field).unwrap()).unwrap();
    let prefix = dir.join("ox");
    let out = ok(&[
        "oximetry",
        "--image",
        s(&image),
        "--B",
        s(&field),
        "--derivative",
        "--threshold",
        "0.08",
        "--slope",
        "0.01",
        "--width0",
        "0.5",
        "--out",
        s(&prefix),
        "--png",
        "--delta",
        "0.1",
    ]);
    assert!(out.contains("fitted 288 of 480 voxels"), "{out}");
    let map = |name: &str| read_f64(&dir.join(format!("ox_{name}.npy")));
    let (width, err, po2) = (map("width"), map("width_err"), map("po2"));
    let mask = read::<bool>(&dir.join("ox_mask.npy"));
    assert_eq!(width.shape(), &[ny, nx, nz]);
    for name in ["width", "width_err", "amplitude", "center", "po2"] {
        let m = map(name);
        assert!(m.iter().all(|v| v.is_finite()), "{name}");
        assert!(
            m.iter().zip(&mask).all(|(v, &ok)| ok || *v == 0.0),
            "{name}: 0 where masked"
        );
    }
    let mut per_region = vec![Vec::new(); 3];
    let mut covered = 0;
    for ((iy, ix, iz), &w) in width
        .view()
        .into_dimensionality::<ndarray::Ix3>()
        .unwrap()
        .indexed_iter()
    {
        assert_eq!(
            mask[[iy, ix, iz]],
            region(iy, ix).is_some(),
            "mask at ({iy}, {ix}, {iz})"
        );
        if let Some(r) = region(iy, ix) {
            per_region[r].push(w);
            covered += usize::from((w - widths[r]).abs() <= 3.0 * err[[iy, ix, iz]]);
            assert!(
                (po2[[iy, ix, iz]] - (w - 0.5) / 0.01).abs() < 1e-3,
                "pO2 at ({iy}, {ix}, {iz})"
            );
        }
    }
    for (r, mut ws) in per_region.into_iter().enumerate() {
        ws.sort_by(f64::total_cmp);
        let median = ws[ws.len() / 2];
        assert!(
            (median / widths[r] - 1.0).abs() < 0.02,
            "region {r}: median {median} vs {}",
            widths[r]
        );
    }
    assert!(covered * 100 >= 95 * 288, "{covered} of 288 within 3σ");
    for png in ["ox_width.png", "ox_po2.png"] {
        let bytes = std::fs::read(dir.join(png)).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "{png}");
    }
}

/// The spectral-spatial forms of `epri project` and `epri backproject`, one suite per backend
/// (`cpu::project4d::...`, `opencl::project4d::...`): PyEPRI 1.1.1's `proj4d` / `backproj4d`
/// on the tiny case `g_spectral4d` (float64, eps 1e-12, with and without `absorption_mode`), the
/// library's `Projector::new_spectral` on the CPU, and adjointness through the written files.
mod project4d {
    use super::*;
    use backend_core::Backend;
    use epri_ops::{Geometry, Projector, ProjectorOptions};

    const DELTA: f64 = 0.05;

    /// Whether `backend` has a device here (the OpenCL suite is skipped without one, unless
    /// `EPRI_REQUIRE_OPENCL` is set).
    pub fn available(backend: &str) -> bool {
        if backend == "cpu" {
            return true;
        }
        let found = ok(&["devices"]);
        let has = found.lines().any(|l| l.contains(&format!("{backend}:")));
        assert!(
            has || std::env::var_os("EPRI_REQUIRE_OPENCL").is_none(),
            "no {backend} device: {found}"
        );
        if !has {
            eprintln!("skipped: no {backend} device");
        }
        has
    }

    /// `A u` (`adjoint`: false) or `A* p` (true) of the reference geometry with the CPU
    /// backend of the library, float64, eps 1e-12.
    fn library(x: &ArrayD<f64>, shape: &[usize], absorption: bool, adjoint: bool) -> ArrayD<f64> {
        let r = reference("g_spectral4d");
        let b = read::<f64>(&r.join("B.npy"))
            .into_dimensionality::<ndarray::Ix1>()
            .unwrap();
        let fgrad = read::<f64>(&r.join("fgrad.npy"))
            .into_dimensionality::<ndarray::Ix2>()
            .unwrap();
        let g = Geometry::new(b.view(), DELTA, fgrad.view()).unwrap();
        let cpu = backend_cpu::CpuBackend::new().unwrap();
        let opts = ProjectorOptions {
            rfft_mode: true,
            eps: 1e-12,
        };
        let mut a = Projector::new_spectral(&cpu, &g, shape, absorption, opts).unwrap();
        let xb = cpu.upload(x.view()).unwrap();
        let out_shape = if adjoint {
            shape.to_vec()
        } else {
            g.sino_shape().to_vec()
        };
        let mut out = cpu.zeros::<f64>(&out_shape).unwrap();
        if adjoint {
            a.adjoint(&xb, &mut out).unwrap();
        } else {
            a.apply(&xb, &mut out).unwrap();
        }
        cpu.download(&out).unwrap()
    }

    /// `epri project` / `epri backproject` on the reference B and fgrad with `extra` options.
    fn run(backend: &str, cmd: &str, input: &Path, out: &Path, extra: &[&str]) {
        let r = reference("g_spectral4d");
        let (bf, gf) = (r.join("B.npy"), r.join("fgrad.npy"));
        let input_opt = if cmd == "project" {
            "--image"
        } else {
            "--proj"
        };
        let mut a = vec![
            cmd,
            input_opt,
            s(input),
            "--B",
            s(&bf),
            "--fgrad",
            s(&gf),
            "--delta",
            "0.05",
            "--backend",
            backend,
            "--out",
            s(out),
        ];
        a.extend_from_slice(extra);
        ok(&a);
    }

    pub fn matches_pyepri_and_the_library(backend: &str) {
        if !available(backend) {
            return;
        }
        let r = reference("g_spectral4d");
        let dir = tmp(&format!("project4d-{backend}"));
        let u = read::<f64>(&r.join("u.npy"));
        let p = read::<f64>(&r.join("proj_random.npy"));
        for absorption in [false, true] {
            let sfx = if absorption { "_abs" } else { "" };
            let mut extra = vec!["--eps", "1e-12"];
            if absorption {
                extra.push("--absorption");
            }
            let pf = dir.join(format!("proj{sfx}.npy"));
            run(backend, "project", &r.join("u.npy"), &pf, &extra);
            let got = read::<f64>(&pf);
            let e = rel_err(&got, &read::<f64>(&r.join(format!("proj{sfx}.npy"))));
            assert!(e < 1e-9, "project{sfx} vs PyEPRI: {e:e}");
            let e = rel_err(&got, &library(&u, u.shape(), absorption, false));
            assert!(e < 1e-10, "project{sfx} vs the library: {e:e}");

            let uf = dir.join(format!("backproj{sfx}.npy"));
            let png = dir.join(format!("backproj{sfx}.png"));
            extra.extend(["--shape", "16,5,4,3", "--png", s(&png)]);
            run(
                backend,
                "backproject",
                &r.join("proj_random.npy"),
                &uf,
                &extra,
            );
            let got = read::<f64>(&uf);
            let e = rel_err(&got, &read::<f64>(&r.join(format!("backproj{sfx}.npy"))));
            assert!(e < 1e-9, "backproject{sfx} vs PyEPRI: {e:e}");
            let e = rel_err(&got, &library(&p, u.shape(), absorption, true));
            assert!(e < 1e-10, "backproject{sfx} vs the library: {e:e}");
            let header = std::fs::read(&png).unwrap();
            assert!(header.starts_with(b"\x89PNG"), "{}", png.display());
        }
    }

    /// `<A u, p> = <u, A* p>` from the files `epri project` and `epri backproject` write, on a
    /// random image and sinogram stored in `precision` (which the outputs keep).
    pub fn adjoint_through_the_cli_outputs(backend: &str, precision: &str) {
        if !available(backend) {
            return;
        }
        let dir = tmp(&format!("adjoint4d-{backend}-{precision}"));
        let shape = [16, 5, 4, 3];
        let u = backend_core::host::randn::<f64>(&shape, 0.0, 1.0, 7).unwrap();
        let p = backend_core::host::randn::<f64>(&[24, 16], 0.0, 1.0, 8).unwrap();
        let (uf, pf) = (dir.join("u.npy"), dir.join("p.npy"));
        let write = |path: &Path, a: &ArrayD<f64>| {
            let f = std::fs::File::create(path).unwrap();
            match precision {
                "f32" => a.mapv(|v| v as f32).write_npy(f).unwrap(),
                _ => a.write_npy(f).unwrap(),
            }
        };
        write(&uf, &u);
        write(&pf, &p);
        let (eps, tol) = if precision == "f32" {
            ("1e-6", 1e-4)
        } else {
            ("1e-12", 1e-10)
        };
        // The values as written: f32 rounding is part of the inputs.
        let (u, p) = (read_f64(&uf), read_f64(&pf));
        for absorption in [false, true] {
            let mut extra = vec!["--eps", eps];
            if absorption {
                extra.push("--absorption");
            }
            let (au, atp) = (dir.join("au.npy"), dir.join("atp.npy"));
            run(backend, "project", &uf, &au, &extra);
            extra.extend(["--shape", "16,5,4,3"]);
            run(backend, "backproject", &pf, &atp, &extra);
            for f in [&au, &atp] {
                let dtype_ok = match precision {
                    "f32" => ArrayD::<f32>::read_npy(std::fs::File::open(f).unwrap()).is_ok(),
                    _ => ArrayD::<f64>::read_npy(std::fs::File::open(f).unwrap()).is_ok(),
                };
                assert!(dtype_ok, "{} is not {precision}", f.display());
            }
            let (au, atp) = (read_f64(&au), read_f64(&atp));
            let lhs: f64 = au.iter().zip(&p).map(|(a, b)| a * b).sum();
            let rhs: f64 = u.iter().zip(&atp).map(|(a, b)| a * b).sum();
            let scale = (au.iter().map(|v| v * v).sum::<f64>()
                * p.iter().map(|v| v * v).sum::<f64>())
            .sqrt();
            let e = (lhs - rhs).abs() / scale;
            assert!(
                e < tol,
                "absorption {absorption}: <Au, p> = {lhs}, <u, A*p> = {rhs}, relative {e:e}"
            );
        }
    }
}

macro_rules! project4d_suite {
    ($backend:literal) => {
        pub mod project4d {
            #[test]
            fn matches_pyepri_and_the_library() {
                crate::project4d::matches_pyepri_and_the_library($backend);
            }
            #[test]
            fn adjoint_through_the_cli_outputs_f32() {
                crate::project4d::adjoint_through_the_cli_outputs($backend, "f32");
            }
            #[test]
            fn adjoint_through_the_cli_outputs_f64() {
                crate::project4d::adjoint_through_the_cli_outputs($backend, "f64");
            }
        }
    };
}

mod cpu {
    project4d_suite!("cpu");
}

#[cfg(feature = "opencl")]
mod opencl {
    project4d_suite!("opencl");
}

/// `--stop`: each rule stops where it says (the summary names it), the discrepancy rule with a
/// given or an estimated σ; `--sigma` alone is refused.
#[test]
fn stop_rules_are_named_in_the_summary() {
    let (dir, sigma) = simulated_dataset("stop-rules", 30.0);
    let d = s(&dir);
    let u = tmp("stop-rules-out").join("u.npy");
    let base = [
        "tv", "--data", d, "--delta", "0.05", "--shape", "48,48", "--quiet", "--out",
    ];
    let run = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.push(s(&u));
        args.extend_from_slice(extra);
        ok(&args)
    };
    let sig = format!("{sigma}");
    for (extra, needle) in [
        (
            vec!["--lambda", "0.3", "--stop", "gap", "--tol", "1e-3"],
            "primal-dual residual below tol",
        ),
        (
            vec!["--lambda", "0.01", "--stop", "discrepancy", "--sigma", &sig],
            "residual reached the noise level",
        ),
        (
            vec!["--lambda", "0.01", "--stop", "discrepancy"],
            "residual reached the noise level",
        ),
        (
            vec!["--lambda", "0.3", "--tol", "1e-3"],
            "relative change below tol",
        ),
        (
            vec!["--lambda", "0.3", "--stop", "gap", "--iters", "3"],
            "iteration cap reached",
        ),
    ] {
        let text = run(&extra);
        assert!(text.contains(needle), "{extra:?}: {text}");
    }
    let mut args = base.to_vec();
    args.extend_from_slice(&[s(&u), "--lambda", "1", "--sigma", "0.1"]);
    fails_one_line(&args, 2, &["--sigma", "--stop discrepancy"]);
    let mut args = base.to_vec();
    args.extend_from_slice(&[s(&u), "--lambda", "1", "--stop", "gcv"]);
    fails(&args, 2, &["--stop"]);
}

/// `--check-every K` evaluates the stopping rule on every K-th iteration only: the run stops
/// at the first multiple of K at or after the iteration where the rule first holds (K = 1).
/// K = 0 is refused.
#[test]
fn check_every_stops_at_the_next_checked_iteration() {
    let (dir, _) = simulated_dataset("check-every", 30.0);
    let d = s(&dir);
    let u = tmp("check-every-out").join("u.npy");
    let iterations = |k: &str| -> usize {
        let text = ok(&[
            "tv",
            "--data",
            d,
            "--delta",
            "0.05",
            "--shape",
            "48,48",
            "--lambda",
            "0.3",
            "--tol",
            "1e-3",
            "--quiet",
            "--out",
            s(&u),
            "--check-every",
            k,
        ]);
        assert!(text.contains("relative change below tol"), "{text}");
        let before = text.split(" iterations").next().expect("a summary line");
        before
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no iteration count in {text}"))
    };
    let first = iterations("1");
    let k = 7;
    let checked = iterations("7");
    assert!(
        first > k,
        "the rule held after {first} iterations: too few to tell"
    );
    assert_eq!(
        checked % k,
        0,
        "{checked} iterations with --check-every {k}"
    );
    assert!(
        checked >= first && checked < first + k,
        "{checked} iterations with --check-every {k}, {first} with 1"
    );
    fails(
        &[
            "tv",
            "--data",
            d,
            "--delta",
            "0.05",
            "--shape",
            "48,48",
            "--lambda",
            "0.3",
            "--out",
            s(&u),
            "--check-every",
            "0",
        ],
        2,
        &["--check-every", "1 or more"],
    );
}

/// `epri separate --lambda auto` on two simulated sources (the phalanx spectrum and a twice
/// wider copy, the disks of `simulated_dataset` split between them) mixed with white noise:
/// a finite λ, printed with its residual, images within 1.3 times the error of the best of
/// λ = 3, 30 and 300 (the chosen λ was 31, error 0.072), and the λ report drawn.
#[test]
fn separate_lambda_auto() {
    let (dir, _) = simulated_dataset("separate-auto", 30.0);
    let d = s(&dir);
    let h = read::<f32>(&dir.join("h.npy"));
    let n = h.len();
    let wide = ArrayD::from_shape_fn(IxDyn(&[n]), |i| 0.5 * h[[(i[0] + n / 2) / 2]]);
    let u = read::<f32>(&dir.join("u.npy"));
    let one = u.mapv(|v| if v == 1.0 { 1.0f32 } else { 0.0 });
    let half = u.mapv(|v| if v == 0.5 { 1.0f32 } else { 0.0 });
    for (f, a) in [
        ("hone", h.clone()),
        ("htwo", wide),
        ("one", one),
        ("two", half),
    ] {
        a.write_npy(std::fs::File::create(dir.join(format!("{f}.npy"))).unwrap())
            .unwrap();
    }
    let p = |f: &str| s(&dir.join(f)).to_string();
    let mut clean = None::<ArrayD<f32>>;
    for (img, spec) in [("one.npy", "hone.npy"), ("two.npy", "htwo.npy")] {
        ok(&[
            "project",
            "--image",
            &p(img),
            "--B",
            &p("B.npy"),
            "--h",
            &p(spec),
            "--fgrad",
            &p("fgrad.npy"),
            "--delta",
            "0.05",
            "--out",
            &p("part.npy"),
        ]);
        let part = read::<f32>(&dir.join("part.npy"));
        clean = Some(match clean {
            None => part,
            Some(c) => c + part,
        });
    }
    let clean = clean.unwrap();
    let peak = clean.iter().fold(0f32, |m, x| m.max(x.abs())) as f64;
    let noise = backend_core::host::randn::<f64>(clean.shape(), 0.0, peak / 30.0, 43).unwrap();
    let proj = ndarray::Zip::from(&clean)
        .and(&noise)
        .map_collect(|c, n| (*c as f64 + n) as f32);
    proj.write_npy(std::fs::File::create(dir.join("proj.npy")).unwrap())
        .unwrap();
    for f in ["part.npy", "h.npy", "u.npy"] {
        std::fs::remove_file(dir.join(f)).unwrap();
    }
    let out = tmp("separate-auto-out");
    let report = out.join("report.png");
    let run = |lambda: &str| {
        ok(&[
            "separate",
            "--data",
            d,
            "--sources",
            "hone,htwo",
            "--delta",
            "0.05",
            "--shapes",
            "48,48",
            "--lambda",
            lambda,
            "--iters",
            "500",
            "--quiet",
            "--out",
            s(&out.join("u")),
        ])
    };
    let err = || {
        let truth = [
            read_f64(&dir.join("one.npy")),
            read_f64(&dir.join("two.npy")),
        ];
        let got = [
            read_f64(&out.join("u_one.npy")),
            read_f64(&out.join("u_two.npy")),
        ];
        rel_err(&got[0], &truth[0]).max(rel_err(&got[1], &truth[1]))
    };
    let text = ok(&[
        "separate",
        "--data",
        d,
        "--sources",
        "hone,htwo",
        "--delta",
        "0.05",
        "--shapes",
        "48,48",
        "--lambda",
        "auto",
        "--iters",
        "500",
        "--quiet",
        "--out",
        s(&out.join("u")),
        "--lambda-report",
        s(&report),
    ]);
    assert!(
        text.contains("chosen by SURE") && text.contains("residual"),
        "{text}"
    );
    let auto = err();
    assert!(std::fs::metadata(&report).unwrap().len() > 1000);
    let fixed: Vec<f64> = ["3", "30", "300"]
        .iter()
        .map(|l| {
            run(l);
            err()
        })
        .collect();
    eprintln!("separate --lambda auto: error {auto:.3}; at λ 3, 30, 300: {fixed:?}\n{text}");
    let best = fixed.iter().cloned().fold(f64::INFINITY, f64::min);
    assert!(auto <= 1.3 * best, "auto {auto} vs fixed {fixed:?}");
}
