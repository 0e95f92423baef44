//! `recon-bench [--threads N] [--reps N] [--no-python] [--case CASE]`: the reconstructions on
//! the CPU backend, side by side with PyEPRI 1.1.1 (numpy backend, `bench/recon_pyepri.py`) in
//! the same invocation, float32, eps 1e-6. Run from the workspace root.
//!
//! Workloads (PyEPRI's example calls):
//! * `tv2d_phalanx`: TV, phalanx, 400x200, δ = 8e-3 cm, λ = 1, tol 1e-5, at most 1000 iterations;
//! * `tv3d_fusillo`: TV, fusillo, 100x50x50, δ = 0.05 cm, λ = 500, tol 1e-4, at most 500;
//! * `fbp2d_phalanx`: FBP, phalanx, 400x200, δ = 8e-3 cm, cutoff 0.1;
//! * `fbp3d_fusillo`: FBP, fusillo, 100x50x50, δ = 0.05 cm, cutoff 0.1.
//!
//! Without `--case`, the driver runs every workload in its own process under `/usr/bin/time -v`
//! (this binary with `--case`, then the Python script), so that each peak RSS is that of one
//! workload, and prints a Markdown table. With `--case`, it runs one workload: a warm-up call
//! (for TV, the same call capped at 10 iterations, as in the PyEPRI baseline), then the median
//! of `reps` timed calls, printed as `RESULT<TAB>case<TAB>median_ms<TAB>iterations`.
//! `--breakdown` times the pieces of one TV iteration instead (Toeplitz `A*A`, dual step, primal
//! step measuring the stopping test's two sums, the subtraction of `A* s`) on both TV shapes,
//! and the iteration as the solver runs it (from two runs of different lengths), in rounds
//! that time the Toeplitz apply and the solver runs side by side.
//! `--scale 64,128,256 [--python-max 64]`: TV 3D on cubes N³ with fusillo's projections and
//! geometry, side 5 cm (δ = 5/N cm; the 5 x 2.5 x 2.5 cm field of view of the 100x50x50 example
//! fits inside), λ = 500, eps 1e-6, each N in its own process (`--scale-case N`) under
//! `/usr/bin/time -v`, PyEPRI too up to `--python-max`: plan time (projector, Toeplitz kernel on
//! the (2N)³ grid, A*s, Lipschitz power iteration at tol 1e-4), the median time of one iteration
//! over iterations 4 to 14 (run with tol 0), peak RSS, and the growth exponents between sizes
//! (N³ log N gives ≈ 3.2). `bench/plot_scale.py` plots that output.
//! `--threads` sets the rayon pool (default 2, both cores of the reference machine); PyEPRI
//! runs its NUFFTs on one thread and numpy's FFTs are single-threaded.

mod common;

use backend_core::{Backend, Binary, PrimalStep};
use backend_cpu::CpuBackend;
use common::{median_ms, npy, Res};
use epri_ops::geometry::Geometry;
use epri_ops::recon::{fbp, grid, tv_monosrc, TvOptions, TvProblem};
use epri_ops::toeplitz::ToeplitzKernel;
use ndarray::{Array1, Array2};
use std::process::{Command, ExitCode};
use std::time::Instant;

/// One workload: name, dataset, pixel size (cm), image shape (Y, X[, Z]), default repetitions.
struct Case {
    name: &'static str,
    dataset: &'static str,
    delta: f32,
    shape: &'static [usize],
    reps: usize,
}

const CASES: [Case; 4] = [
    Case {
        name: "tv2d_phalanx",
        dataset: "phalanx-20220203",
        delta: 8e-3,
        shape: &[400, 200],
        reps: 3,
    },
    Case {
        name: "tv3d_fusillo",
        dataset: "fusillo-20091002",
        delta: 0.05,
        shape: &[100, 50, 50],
        reps: 3,
    },
    Case {
        name: "fbp2d_phalanx",
        dataset: "phalanx-20220203",
        delta: 8e-3,
        shape: &[400, 200],
        reps: 20,
    },
    Case {
        name: "fbp3d_fusillo",
        dataset: "fusillo-20091002",
        delta: 0.05,
        shape: &[100, 50, 50],
        reps: 5,
    },
];

/// Runs one workload in this process; returns (median ms, iterations of the last run).
fn run_case(case: &Case, reps: usize) -> Res<(f64, usize)> {
    let backend = CpuBackend::new()?;
    let bgrid: Array1<f32> = npy(case.dataset, "B")?;
    let h: Array1<f32> = npy(case.dataset, "h")?;
    let fgrad: Array2<f32> = npy(case.dataset, "fgrad")?;
    let proj: Array2<f32> = npy(case.dataset, "proj")?;
    let geometry = Geometry::new(bgrid.view(), case.delta, fgrad.view())?;
    let mut run: Box<dyn FnMut(bool) -> Res<usize>> = if case.name.starts_with("tv") {
        let (lambda, tol, max_iter) = if case.shape.len() == 2 {
            (1.0, 1e-5, 1000)
        } else {
            (500.0, 1e-4, 500)
        };
        Box::new(move |warmup| {
            let opts = TvOptions {
                lambda,
                tol,
                max_iter: if warmup { 10 } else { max_iter },
                ..TvOptions::default()
            };
            let r = tv_monosrc(
                &backend,
                proj.view(),
                &geometry,
                h.view(),
                case.shape,
                &opts,
                &mut |_| {},
            )?;
            Ok(r.iterations)
        })
    } else {
        let grids: Vec<Array1<f32>> = case.shape.iter().map(|&n| grid(n, case.delta)).collect();
        Box::new(move |_| {
            let views: Vec<_> = grids.iter().map(|g| g.view()).collect();
            fbp(&backend, proj.view(), &geometry, h.view(), &views, 0.1)?;
            Ok(0)
        })
    };
    run(true)?;
    let mut times = Vec::with_capacity(reps);
    let mut iterations = 0;
    for _ in 0..reps {
        let start = Instant::now();
        iterations = run(false)?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], iterations))
}

/// Iterations of a `--scale-case` run, and how many of the first are left out of the median.
const SCALE_ITERS: usize = 14;
const SCALE_SKIP: usize = 2;

/// TV 3D on the cube `n³` (see the module doc): returns (median ms per iteration, iterations
/// timed, plan ms).
fn scale_case(n: usize) -> Res<(f64, usize, f64)> {
    let be = CpuBackend::new()?;
    let dataset = "fusillo-20091002";
    let bgrid: Array1<f32> = npy(dataset, "B")?;
    let h: Array1<f32> = npy(dataset, "h")?;
    let fgrad: Array2<f32> = npy(dataset, "fgrad")?;
    let proj: Array2<f32> = npy(dataset, "proj")?;
    let geometry = Geometry::new(bgrid.view(), 5.0 / n as f32, fgrad.view())?;
    let opts = TvOptions {
        lambda: 500.0,
        tol: 1e-4,
        ..TvOptions::default()
    };
    let start = Instant::now();
    let mut problem = TvProblem::new(&be, proj.view(), &geometry, h.view(), &[n; 3], &opts)?;
    let plan_ms = start.elapsed().as_secs_f64() * 1e3;
    let mut stamps = Vec::with_capacity(SCALE_ITERS);
    problem.solve(opts.lambda, None, 0.0, SCALE_ITERS, &mut |_| {
        stamps.push(Instant::now())
    })?;
    let mut times: Vec<f64> = stamps[SCALE_SKIP..]
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64() * 1e3)
        .collect();
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], times.len(), plan_ms))
}

/// Runs the `--scale` sizes, each in its own process; prints the table and growth exponents.
fn scale(exe: &str, sizes: &[usize], threads: usize, python_max: usize) -> Res<()> {
    println!("recon-bench --scale: TV 3D, fusillo geometry, cube of side 5 cm, CPU backend, {threads} rayon threads; PyEPRI 1.1.1 numpy, float32, eps 1e-6");
    println!();
    println!("| N | δ (cm) | epri plan (s) | epri ms/iter | epri peak RSS (MiB) | PyEPRI plan (s) | PyEPRI ms/iter | PyEPRI peak RSS (MiB) |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut rows: Vec<(usize, Measure)> = Vec::new();
    for &n in sizes {
        let args = [
            "--scale-case".into(),
            n.to_string(),
            "--threads".into(),
            threads.to_string(),
        ];
        let mine = measure(exe, &args)?;
        let py = if n <= python_max {
            let t = measure(
                "python3",
                &[
                    "bench/recon_pyepri.py".into(),
                    format!("tv3d_cube{n}"),
                    "1".into(),
                ],
            )?;
            format!(
                "{:.2} | {:.1} | {:.0}",
                t.fields[2] / 1e3,
                t.fields[0],
                t.rss_mib
            )
        } else {
            "- | - | -".into()
        };
        println!(
            "| {n} | {:.5} | {:.2} | {:.1} | {:.0} | {py} |",
            5.0 / n as f64,
            mine.fields[2] / 1e3,
            mine.fields[0],
            mine.rss_mib
        );
        rows.push((n, mine));
    }
    println!();
    for w in rows.windows(2) {
        let (n0, a) = (w[0].0 as f64, &w[0].1);
        let (n1, b) = (w[1].0 as f64, &w[1].1);
        let e = |x: f64, y: f64| (y / x).ln() / (n1 / n0).ln();
        let guide = e(n0.powi(3) * n0.ln(), n1.powi(3) * n1.ln());
        println!(
            "growth {n0}→{n1}: plan N^{:.2}, iteration N^{:.2}, peak RSS N^{:.2} (N³ log N: N^{guide:.2})",
            e(a.fields[2], b.fields[2]),
            e(a.fields[0], b.fields[0]),
            e(a.rss_mib, b.rss_mib)
        );
    }
    Ok(())
}

/// Iterations of the short and the long solver run whose difference [`breakdown`] times.
const LOOP_RUNS: (usize, usize) = (20, 220);

/// Rounds of [`breakdown`]'s comparison of the solver iteration with the Toeplitz apply.
const ROUNDS: usize = 5;

/// Times the pieces of one TV iteration on the shape of `case`, then the iteration as the solver
/// runs it: `(t(220 iterations) − t(20 iterations)) / 200` for the case's TV problem (set up once,
/// tol 0 so that both runs reach their cap). The iteration and the Toeplitz apply are compared
/// in [`ROUNDS`] rounds, each timing the apply (median of `reps`) right before the two solver
/// runs: the printed times are medians over the rounds, the ratio the median of the rounds'
/// ratios (on a shared machine whose speed drifts over seconds, a ratio of two figures taken
/// seconds apart measures the drift as much as the solver).
fn breakdown(case: &Case, reps: usize) -> Res<()> {
    let be = CpuBackend::new()?;
    let bgrid: Array1<f32> = npy(case.dataset, "B")?;
    let h: Array1<f32> = npy(case.dataset, "h")?;
    let fgrad: Array2<f32> = npy(case.dataset, "fgrad")?;
    let proj: Array2<f32> = npy(case.dataset, "proj")?;
    let geometry = Geometry::new(bgrid.view(), case.delta, fgrad.view())?;
    let shape = case.shape;
    let mut pshape = vec![shape.len()];
    pshape.extend_from_slice(shape);
    let mut kernel = ToeplitzKernel::new(&be, &geometry, h.view(), h.view(), shape, 1e-6)?;
    let mut u = be.rand::<f32>(shape, 1)?;
    let mut ubar = be.rand::<f32>(shape, 2)?;
    let mut gradf = be.zeros::<f32>(shape)?;
    let mut p = be.zeros::<f32>(&pshape)?;
    let t_apply = median_ms(reps, || Ok(kernel.apply(&u, &mut gradf)?))?;
    let t_dual = median_ms(reps, || Ok(be.tv_dual_step(&mut p, &ubar, 0.1, None)?))?;
    let step = PrimalStep {
        tau: 1e-3,
        lambda: 0.1,
        positivity: false,
        sums: true,
    };
    let t_primal = median_ms(reps, || {
        be.tv_primal_step(&mut u, &mut ubar, &p, &gradf, &step, None, None)?;
        Ok(())
    })?;
    let adj = be.rand::<f32>(shape, 3)?;
    let t_sub = median_ms(reps, || Ok(be.zip(Binary::Sub, &mut gradf, &adj)?))?;
    let pieces = t_apply + t_dual + t_primal + t_sub;

    let opts = TvOptions::<f32> {
        lambda: if shape.len() == 2 { 1.0 } else { 500.0 },
        ..TvOptions::default()
    };
    let mut problem = TvProblem::new(&be, proj.view(), &geometry, h.view(), shape, &opts)?;
    let mut run = |iters: usize| -> Res<f64> {
        let start = Instant::now();
        problem.solve(opts.lambda, None, 0.0, iters, &mut |_| {})?;
        Ok(start.elapsed().as_secs_f64() * 1e3)
    };
    let (short, long) = LOOP_RUNS;
    run(short)?;
    let (mut applies, mut loops, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let apply = median_ms(reps, || Ok(kernel.apply(&u, &mut gradf)?))?;
        let iteration = (run(long)? - run(short)?) / (long - short) as f64;
        applies.push(apply);
        loops.push(iteration);
        ratios.push(iteration / apply);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (t_round_apply, t_loop, ratio) = (median(applies), median(loops), median(ratios));
    println!(
        "{} {:?}: Toeplitz A*A {t_apply:.3} ms, dual step {t_dual:.3} ms, primal step with the 2 sums {t_primal:.3} ms, gradient subtraction {t_sub:.3} ms: pieces {pieces:.3} ms = {:.2}x A*A; in {ROUNDS} rounds, Toeplitz A*A {t_round_apply:.3} ms, solver iteration {t_loop:.3} ms = {ratio:.2}x A*A",
        case.name,
        shape,
        pieces / t_apply,
    );
    Ok(())
}

/// One measured process: the numbers of its `RESULT` line after the case name (median ms and
/// iterations, then any others), peak RSS in MiB.
struct Measure {
    fields: Vec<f64>,
    rss_mib: f64,
}

/// Runs `program args` under `/usr/bin/time -v`; parses the `RESULT` line and the peak RSS.
fn measure(program: &str, args: &[String]) -> Res<Measure> {
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(program)
        .args(args)
        .output()
        .map_err(|e| format!("/usr/bin/time -v {program}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("{program} {args:?} failed:\n{stdout}\n{stderr}").into());
    }
    let fields = stdout
        .lines()
        .find(|l| l.starts_with("RESULT\t"))
        .ok_or_else(|| format!("{program}: no RESULT line in\n{stdout}"))?
        .split('\t')
        .skip(2)
        .map(str::parse)
        .collect::<Result<Vec<f64>, _>>()?;
    if fields.len() < 2 {
        return Err(format!("{program}: short RESULT line in\n{stdout}").into());
    }
    let rss_kib: f64 = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .ok_or("no peak RSS in the output of /usr/bin/time -v")?
        .trim()
        .parse()?;
    Ok(Measure {
        fields,
        rss_mib: rss_kib / 1024.0,
    })
}

fn main_res() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| -> Res<Option<usize>> {
        match args.iter().position(|a| a == flag) {
            Some(i) => Ok(Some(
                args.get(i + 1)
                    .ok_or_else(|| format!("{flag} needs a value"))?
                    .parse()?,
            )),
            None => Ok(None),
        }
    };
    let threads = value("--threads")?.unwrap_or(2);
    let reps = value("--reps")?;
    let python = !args.iter().any(|a| a == "--no-python");
    let only = args
        .iter()
        .position(|a| a == "--case")
        .and_then(|i| args.get(i + 1));

    if let Some(n) = value("--scale-case")? {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()?;
        let (ms, timed, plan_ms) = pool.install(|| scale_case(n))?;
        println!("RESULT\ttv3d_cube{n}\t{ms:.3}\t{timed}\t{plan_ms:.3}");
        return Ok(());
    }
    if let Some(i) = args.iter().position(|a| a == "--scale") {
        let sizes = args
            .get(i + 1)
            .ok_or("--scale needs a value")?
            .split(',')
            .map(str::parse)
            .collect::<Result<Vec<usize>, _>>()?;
        let exe = std::env::current_exe()?.to_string_lossy().into_owned();
        return scale(&exe, &sizes, threads, value("--python-max")?.unwrap_or(64));
    }
    if args.iter().any(|a| a == "--breakdown") {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()?;
        for case in CASES.iter().filter(|c| c.name.starts_with("tv")) {
            pool.install(|| breakdown(case, reps.unwrap_or(20)))?;
        }
        return Ok(());
    }
    if let Some(name) = only {
        let case = CASES
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| format!("unknown case {name}"))?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()?;
        let (ms, iterations) = pool.install(|| run_case(case, reps.unwrap_or(case.reps)))?;
        println!("RESULT\t{}\t{ms:.3}\t{iterations}", case.name);
        return Ok(());
    }

    let exe = std::env::current_exe()?.to_string_lossy().into_owned();
    println!("recon-bench: CPU backend, {threads} rayon threads; PyEPRI 1.1.1 numpy (finufft 1 thread), float32, eps 1e-6");
    println!();
    println!("| workload | epri (ms) | iterations | peak RSS (MiB) | PyEPRI (ms) | iterations | peak RSS (MiB) | speed-up |");
    println!("|---|---|---|---|---|---|---|---|");
    for case in &CASES {
        let n = reps.unwrap_or(case.reps);
        let mine = measure(
            &exe,
            &[
                "--case".into(),
                case.name.into(),
                "--reps".into(),
                n.to_string(),
                "--threads".into(),
                threads.to_string(),
            ],
        )?;
        let theirs = if python {
            Some(measure(
                "python3",
                &[
                    "bench/recon_pyepri.py".into(),
                    case.name.into(),
                    n.to_string(),
                ],
            )?)
        } else {
            None
        };
        let (py_ms, py_it, py_rss, speedup) = match &theirs {
            Some(t) => (
                format!("{:.1}", t.fields[0]),
                t.fields[1].to_string(),
                format!("{:.0}", t.rss_mib),
                format!("{:.1}x", t.fields[0] / mine.fields[0]),
            ),
            None => ("-".into(), "-".into(), "-".into(), "-".into()),
        };
        println!(
            "| {} | {:.1} | {} | {:.0} | {py_ms} | {py_it} | {py_rss} | {speedup} |",
            case.name, mine.fields[0], mine.fields[1], mine.rss_mib
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
