//! `ops-bench [REPS2D] [REPS3D] [--rounds=N] [--no-python]`: median times of the mono-source operators on the
//! CPU backend (1 and 2 rayon threads), side by side with PyEPRI 1.1.1 (numpy backend, run in the
//! same invocation by `python3 bench/ops_pyepri.py`), float32, eps 1e-6.
//!
//! `ops-bench --stages=DIR --delta=CM [REPS]`: the stages of one projection `A u` (what `epri
//! project` does) on DIR/{image,B,h,fgrad}.npy (float32, as `bench/project100.py` writes them),
//! CPU backend, all rayon threads: reading the files, the nodes, the NUFFT plans (fine grid +
//! FFT plan, sorted points), the projector's whole plan, its application and adjoint, the
//! type-2 NUFFT's steps on the half spectrum (what the projector runs on the real image) and on
//! the full complex fine grid, the real type-2 NUFFT at each upsampling factor (plan + points,
//! execution), writing the .npy; median of REPS (default 7) after one warm-up.
//!
//! Cases (datasets/ .npy files, run from the workspace root):
//! * 2D phalanx geometry (113 gradients x 2000 field samples), 256x256 image, delta 8e-3 cm:
//!   proj, backproj (measured sinogram), Toeplitz kernel (512x512, with its rfft2), Toeplitz apply;
//! * 3D fusillo geometry (961 gradients x 500 field samples), 64³ volume, delta 0.05 cm:
//!   the same four operations (kernel on 128³).
//!
//! With `--rounds=N` the whole sequence (epri 1 thread, 2 threads, PyEPRI) is repeated N times
//! and each figure is the median of its N round medians (fairer on a shared, noisy machine).
//! Each median is over REPS runs (default 20 in 2D, 5 in 3D; a quarter of that, at least 3, for
//! the kernels) after one warm-up call. Plans are made once, outside the timings, except for the
//! kernel, whose whole computation (nodes, NUFFT plan, type-1 NUFFT, rfft) is timed.

mod common;

use backend_core::nufft::{NufftPlan, NufftType};
use backend_core::{Backend, Direction, FftKind, FftSpec, Pruning, C};
use backend_cpu::CpuBackend;
use common::{median_ms, npy, Res};
use epri_ops::{FrequencyNodes, Geometry, Projector, ProjectorOptions, ToeplitzKernel};
use ndarray::{Array1, Array2, Array3};
use ndarray_npy::{ReadNpyExt, WriteNpyExt};
use std::collections::BTreeMap;
use std::process::{Command, ExitCode};

const EPS: f64 = 1e-6;

/// One benchmark case: dataset folder, pixel size (cm), image shape.
struct Case {
    dataset: &'static str,
    delta: f32,
    shape: &'static [usize],
}

const CASES: [Case; 2] = [
    Case {
        dataset: "phalanx-20220203",
        delta: 8e-3,
        shape: &[256, 256],
    },
    Case {
        dataset: "fusillo-20091002",
        delta: 0.05,
        shape: &[64, 64, 64],
    },
];

fn tag(shape: &[usize]) -> String {
    let s: Vec<String> = shape.iter().map(|n| n.to_string()).collect();
    format!("{}D {}", shape.len(), s.join("x"))
}

/// Times the four operations of one case; returns (case name, median ms).
fn run_case<B: Backend>(b: &B, case: &Case, reps: usize) -> Res<Vec<(String, f64)>> {
    let bgrid: Array1<f32> = npy(case.dataset, "B")?;
    let h: Array1<f32> = npy(case.dataset, "h")?;
    let fgrad: Array2<f32> = npy(case.dataset, "fgrad")?;
    let proj: Array2<f32> = npy(case.dataset, "proj")?;
    let g = Geometry::new(bgrid.view(), case.delta, fgrad.view())?;
    let shape = case.shape;
    let t = tag(shape);
    let opts = ProjectorOptions {
        rfft_mode: true,
        eps: EPS,
    };
    let mut a = Projector::new(b, &g, h.view(), shape, opts)?;
    let u = b.rand::<f32>(shape, 7)?;
    let p = b.upload(proj.view().into_dyn())?;
    let mut sino = b.zeros::<f32>(&g.sino_shape())?;
    let mut img = b.zeros::<f32>(shape)?;
    let mut out = Vec::new();
    let sync = |b: &B| b.synchronize().map_err(Into::into);
    out.push((
        format!("proj {t}"),
        median_ms(reps, || {
            a.apply(&u, &mut sino)?;
            sync(b)
        })?,
    ));
    out.push((
        format!("backproj {t}"),
        median_ms(reps, || {
            a.adjoint(&p, &mut img)?;
            sync(b)
        })?,
    ));
    out.push((
        format!("toeplitz kernel {t}"),
        median_ms((reps / 4).max(3), || {
            ToeplitzKernel::new(b, &g, h.view(), h.view(), shape, EPS)?;
            sync(b)
        })?,
    ));
    let mut k = ToeplitzKernel::new(b, &g, h.view(), h.view(), shape, EPS)?;
    out.push((
        format!("toeplitz apply {t}"),
        median_ms(reps, || {
            k.apply(&u, &mut img)?;
            sync(b)
        })?,
    ));
    Ok(out)
}

fn run_all(threads: usize, reps: [usize; 2]) -> Res<Vec<(String, f64)>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    pool.install(|| {
        let b = CpuBackend::new()?;
        let mut all = Vec::new();
        for (case, &r) in CASES.iter().zip(&reps) {
            all.extend(run_case(&b, case, r)?);
        }
        Ok(all)
    })
}

fn pyepri(reps: [usize; 2]) -> Res<Vec<(String, f64)>> {
    let out = Command::new("python3")
        .args([
            "bench/ops_pyepri.py",
            &reps[0].to_string(),
            &reps[1].to_string(),
        ])
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "bench/ops_pyepri.py failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let text = String::from_utf8(out.stdout)?;
    let mut m = Vec::new();
    for line in text.lines() {
        if let Some((k, v)) = line.split_once('\t') {
            m.push((k.to_string(), v.trim().parse::<f64>()?));
        }
    }
    Ok(m)
}

/// Median of a non-empty list.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `DIR/NAME.npy`.
fn read<A: ReadNpyExt>(dir: &str, name: &str) -> Res<A> {
    let path = format!("{dir}/{name}.npy");
    let f = std::fs::File::open(&path).map_err(|e| format!("{path}: {e}"))?;
    Ok(A::read_npy(std::io::BufReader::new(f)).map_err(|e| format!("{path}: {e}"))?)
}

/// `--stages`: the stages of one projection of DIR's image (see the module documentation).
fn stages(dir: &str, delta: f32, reps: usize) -> Res<()> {
    let b = CpuBackend::new()?;
    let load = || -> Res<_> {
        let u: Array3<f32> = read(dir, "image")?;
        let bgrid: Array1<f32> = read(dir, "B")?;
        let h: Array1<f32> = read(dir, "h")?;
        let fgrad: Array2<f32> = read(dir, "fgrad")?;
        Ok((u, bgrid, h, fgrad))
    };
    let (u, bgrid, h, fgrad) = load()?;
    let shape = u.shape().to_vec();
    let opts = ProjectorOptions {
        rfft_mode: true,
        eps: EPS,
    };
    let g = Geometry::new(bgrid.view(), delta, fgrad.view())?;
    let nodes = FrequencyNodes::new(&g, true)?;
    let coords = nodes.coord_views();
    let mut rows: Vec<(String, f64)> = Vec::new();
    rows.push((
        "read image, B, h, fgrad (.npy)".into(),
        median_ms(reps, || load().map(drop))?,
    ));
    rows.push((
        "geometry + frequency nodes".into(),
        median_ms(reps, || {
            FrequencyNodes::new(&Geometry::new(bgrid.view(), delta, fgrad.view())?, true)?;
            Ok(())
        })?,
    ));
    // The projector's plans: of the real image (half-spectrum fine grid).
    let make =
        |ty, sigma: Option<f64>| NufftPlan::<_, f32>::new_real(&b, ty, &shape, 1, EPS, sigma);
    for (name, ty) in [("type-2", NufftType::Type2), ("type-1", NufftType::Type1)] {
        let mut plan = make(ty, None)?;
        plan.set_points(&coords)?;
        let sigma = plan.params().kernel.upsampfac;
        rows.push((
            format!(
                "{name} NUFFT plan, whole (sigma {sigma}, width {}, fine grid {:?})",
                plan.params().kernel.width,
                plan.params().fine
            ),
            median_ms(reps, || {
                make(ty, None)?.set_points(&coords)?;
                Ok(())
            })?,
        ));
        rows.push((
            format!("  {name}: fine grid + FFT plan + factors"),
            median_ms(reps, || {
                make(ty, Some(sigma))?;
                Ok(())
            })?,
        ));
        rows.push((
            format!("  {name}: sorted points ({})", nodes.len()),
            median_ms(reps, || {
                b.nufft_setpts(&coords, plan.params())?;
                Ok(())
            })?,
        ));
    }
    rows.push((
        "Projector::new (whole plan)".into(),
        median_ms(reps, || {
            Projector::new(&b, &g, h.view(), &shape, opts)?;
            Ok(())
        })?,
    ));
    let mut a = Projector::new(&b, &g, h.view(), &shape, opts)?;
    let ub = b.upload(u.view().into_dyn())?;
    let mut sino = b.zeros::<f32>(&g.sino_shape())?;
    rows.push((
        "Projector::apply".into(),
        median_ms(reps, || Ok(a.apply(&ub, &mut sino)?))?,
    ));
    let mut back = b.zeros::<f32>(&shape)?;
    rows.push((
        "Projector::adjoint (type-1 plan made in the warm-up)".into(),
        median_ms(reps, || Ok(a.adjoint(&sino, &mut back)?))?,
    ));
    let mut plan = NufftPlan::<_, f32>::new(&b, NufftType::Type2, &shape, 1, EPS)?;
    plan.set_points(&coords)?;
    let params = plan.params().clone();
    let pts = b.nufft_setpts(&coords, &params)?;
    let factors = b.upload_flat(&[shape.iter().sum()], vec![1.0f32; shape.iter().sum()])?;
    let mut fine_shape = vec![1];
    fine_shape.extend(&params.fine);
    let fft = b.fft_plan::<f32>(&FftSpec::new(&fine_shape, 3, FftKind::C2C)?)?;
    let mut fine = b.zeros::<C<f32>>(&fine_shape)?;
    let mut uc = b.zeros::<C<f32>>(&shape)?;
    b.to_complex(&ub, &mut uc)?;
    let mut values = b.zeros::<C<f32>>(&[nodes.len()])?;
    let rfft = b.fft_plan::<f32>(&FftSpec::new(&fine_shape, 3, FftKind::R2C)?)?;
    let mut half = b.zeros::<C<f32>>(&backend_core::check::nufft_half_shape(&params))?;
    rows.push((
        "  half spectrum: precompensate + pruned r2c".into(),
        median_ms(reps, || {
            Ok(b.nufft_precompensate_r2c(&params, &factors, &rfft, &ub, &mut half)?)
        })?,
    ));
    rows.push((
        "  half spectrum: interpolation".into(),
        median_ms(reps, || {
            Ok(b.nufft_interp_half(&pts, &params, &half, &mut values)?)
        })?,
    ));
    rows.push((
        "  full spectrum (before): precompensate (fine grid <- modes)".into(),
        median_ms(reps, || {
            Ok(b.nufft_precompensate(&params, &factors, &uc, &mut fine)?)
        })?,
    ));
    rows.push((
        "  full spectrum (before): fine-grid FFT (pruned)".into(),
        median_ms(reps, || {
            Ok(b.fft_c2c_pruned(
                &fft,
                &mut fine,
                Direction::Forward,
                &params.modes,
                Pruning::ZeroInput,
            )?)
        })?,
    ));
    rows.push((
        "  full spectrum (before): interpolation".into(),
        median_ms(reps, || {
            Ok(b.nufft_interp(&pts, &params, &fine, &mut values)?)
        })?,
    ));
    for sigma in [1.25, 1.5, 2.0] {
        let mut plan = make(NufftType::Type2, Some(sigma))?;
        plan.set_points(&coords)?;
        let (w, fine) = (plan.params().kernel.width, plan.params().fine.clone());
        rows.push((
            format!("real type-2, sigma {sigma} (width {w}, fine {fine:?}): plan + points"),
            median_ms(reps, || {
                make(NufftType::Type2, Some(sigma))?.set_points(&coords)?;
                Ok(())
            })?,
        ));
        rows.push((
            format!("real type-2, sigma {sigma}: execute"),
            median_ms(reps, || Ok(plan.execute_real(&ub, &mut values)?))?,
        ));
    }
    let host = b.download(&sino)?;
    let out = std::env::temp_dir().join("ops-bench-stages.npy");
    rows.push((
        "write projections (.npy)".into(),
        median_ms(reps, || {
            let f = std::io::BufWriter::new(std::fs::File::create(&out)?);
            host.write_npy(f)?;
            Ok(())
        })?,
    ));
    std::fs::remove_file(&out)?;
    println!(
        "# ops-bench --stages={dir}: CPU backend f32, eps {EPS:e}, {} rayon threads, median of {reps} runs",
        rayon::current_num_threads()
    );
    println!("| stage | ms |");
    println!("|---|---|");
    for (name, t) in rows {
        println!("| {name} | {t:.2} |");
    }
    Ok(())
}

fn main_res() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(dir) = args.iter().find_map(|a| a.strip_prefix("--stages=")) {
        let delta = args
            .iter()
            .find_map(|a| a.strip_prefix("--delta="))
            .ok_or("--stages needs --delta=CM")?
            .parse::<f32>()?;
        let reps = args.iter().find_map(|a| a.parse().ok()).unwrap_or(7);
        return stages(dir, delta, reps);
    }
    let python = !args.iter().any(|a| a == "--no-python");
    let rounds = args
        .iter()
        .find_map(|a| a.strip_prefix("--rounds="))
        .map_or(Ok(1), str::parse::<usize>)?
        .max(1);
    let nums: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let reps = [
        nums.first().copied().unwrap_or(20),
        nums.get(1).copied().unwrap_or(5),
    ];
    // Rounds alternate epri and PyEPRI so that both see the same machine load; each figure is
    // the median over rounds of the per-round medians.
    let mut names = Vec::new();
    let mut times: BTreeMap<(String, &str), Vec<f64>> = BTreeMap::new();
    for _ in 0..rounds {
        for (label, threads) in [("1", 1), ("2", 2)] {
            for (name, t) in run_all(threads, reps)? {
                if !names.contains(&name) {
                    names.push(name.clone());
                }
                times.entry((name, label)).or_default().push(t);
            }
        }
        if python {
            for (name, t) in pyepri(reps)? {
                times.entry((name, "py")).or_default().push(t);
            }
        }
    }
    let get = |name: &str, label: &str| {
        times
            .get(&(name.to_string(), label))
            .map(|v| median(v.clone()))
    };
    println!(
        "# ops-bench: CPU backend f32, eps {EPS:e}, median of {} (2D) / {} (3D) runs, median of {rounds} round(s); {} cores available",
        reps[0],
        reps[1],
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("| operation | epri 1 thread (ms) | epri 2 threads (ms) | PyEPRI 1.1.1 (ms) | speed-up 1 thr | speed-up 2 thr |");
    println!("|---|---|---|---|---|---|");
    let fmt = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.2}"));
    for name in &names {
        let (t1, t2, p) = (get(name, "1"), get(name, "2"), get(name, "py"));
        let ratio = |t: Option<f64>| match (p, t) {
            (Some(p), Some(t)) => format!("{:.1}x", p / t),
            _ => "–".to_string(),
        };
        println!(
            "| {name} | {} | {} | {} | {} | {} |",
            fmt(t1),
            fmt(t2),
            fmt(p),
            ratio(t1),
            ratio(t2)
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    match main_res() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
