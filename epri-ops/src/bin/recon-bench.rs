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
//! and the iteration as the solver runs it (from two runs of different lengths).
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

/// Iterations of the short and the long solver run whose difference [`breakdown`] times.
const LOOP_RUNS: (usize, usize) = (20, 220);

/// Times the pieces of one TV iteration on the shape of `case`, then the iteration as the solver
/// runs it: `(t(220 iterations) − t(20 iterations)) / 200` for the case's TV problem (set up once,
/// tol 0 so that both runs reach their cap; medians of 5).
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
    let mut run = |iters: usize| {
        median_ms(5, || {
            problem.solve(opts.lambda, None, 0.0, iters, &mut |_| {})?;
            Ok(())
        })
    };
    let (short, long) = LOOP_RUNS;
    let t_loop = (run(long)? - run(short)?) / (long - short) as f64;
    println!(
        "{} {:?}: Toeplitz A*A {t_apply:.3} ms, dual step {t_dual:.3} ms, primal step with the 2 sums {t_primal:.3} ms, gradient subtraction {t_sub:.3} ms: pieces {pieces:.3} ms = {:.2}x A*A; solver iteration {t_loop:.3} ms = {:.2}x A*A",
        case.name,
        shape,
        pieces / t_apply,
        t_loop / t_apply
    );
    Ok(())
}

/// One measured process: median ms, iterations, peak RSS in MiB.
struct Measure {
    ms: f64,
    iterations: usize,
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
    let fields: Vec<&str> = stdout
        .lines()
        .find(|l| l.starts_with("RESULT\t"))
        .ok_or_else(|| format!("{program}: no RESULT line in\n{stdout}"))?
        .split('\t')
        .collect();
    let rss_kib: f64 = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .ok_or("no peak RSS in the output of /usr/bin/time -v")?
        .trim()
        .parse()?;
    Ok(Measure {
        ms: fields.get(2).ok_or("short RESULT line")?.parse()?,
        iterations: fields.get(3).ok_or("short RESULT line")?.parse()?,
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
                format!("{:.1}", t.ms),
                t.iterations.to_string(),
                format!("{:.0}", t.rss_mib),
                format!("{:.1}x", t.ms / mine.ms),
            ),
            None => ("-".into(), "-".into(), "-".into(), "-".into()),
        };
        println!(
            "| {} | {:.1} | {} | {:.0} | {py_ms} | {py_it} | {py_rss} | {speedup} |",
            case.name, mine.ms, mine.iterations, mine.rss_mib
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
