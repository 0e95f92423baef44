//! `fft-bench [REPS [FILTER]]`: median times of the batched real FFTs epri runs (forward `rfftn` and
//! inverse `irfftn` over the trailing axes), f32 and f64, on every backend compiled in.
//!
//! Cases: 1D rFFT of 113 rows of 2000 (phalanx sinogram), 961 rows of 500 (fusillo sinogram),
//! 2D rFFT of 800x400 (TV 2D Toeplitz grid), 3D rFFT of 200x100x100 (TV 3D Toeplitz grid).
//! Compare with `python3 bench/fft_numpy.py` (numpy.fft on the same cases).

use backend_core::{Backend, FftKind, FftSpec, Real, Result, C};
use std::time::Instant;

/// (name, shape, transformed trailing axes).
const CASES: [(&str, &[usize], usize); 4] = [
    ("rfft 113x2000 (axis -1)", &[113, 2000], 1),
    ("rfft 961x500 (axis -1)", &[961, 500], 1),
    ("rfft2 800x400", &[800, 400], 2),
    ("rfftn 200x100x100", &[200, 100, 100], 3),
];

/// Median and minimum (ms) of `reps` runs of `run` (after one warm-up run); each run returns
/// the milliseconds of its timed part.
fn median_ms(reps: usize, mut run: impl FnMut() -> Result<f64>) -> Result<(f64, f64)> {
    run()?;
    let mut t = (0..reps).map(|_| run()).collect::<Result<Vec<f64>>>()?;
    t.sort_by(f64::total_cmp);
    Ok((t[t.len() / 2], t[0]))
}

/// Milliseconds taken by `f`.
fn timed(f: impl FnOnce() -> Result<()>) -> Result<f64> {
    let start = Instant::now();
    f()?;
    Ok(start.elapsed().as_secs_f64() * 1e3)
}

/// Forward and inverse (median, min) times (ms) of one case in precision `T`.
fn time_case<B: Backend, T: Real>(
    b: &B,
    shape: &[usize],
    axes: usize,
    reps: usize,
) -> Result<((f64, f64), (f64, f64))> {
    let spec = FftSpec::new(shape, axes, FftKind::R2C)?;
    let plan = b.fft_plan::<T>(&spec)?;
    let x = b.rand::<T>(shape, 7)?;
    let mut spectrum = b.zeros::<C<T>>(&spec.spectrum_shape())?;
    let mut work = b.zeros::<C<T>>(&spec.spectrum_shape())?;
    let mut y = b.zeros::<T>(shape)?;
    let fwd = median_ms(reps, || {
        timed(|| {
            b.fft_r2c(&plan, &x, &mut spectrum)?;
            b.synchronize()
        })
    })?;
    // c2r overwrites its input: each run gets a fresh copy of the spectrum, untimed.
    let inv = median_ms(reps, || {
        b.copy(&spectrum, &mut work)?;
        b.synchronize()?;
        timed(|| {
            b.fft_c2r(&plan, &mut work, &mut y)?;
            b.synchronize()
        })
    })?;
    Ok((fwd, inv))
}

/// Prints one table row per case and precision for backend `b` (cases whose name contains
/// `filter`).
fn run<B: Backend>(label: &str, b: &B, reps: usize, filter: &str) -> Result<()> {
    println!("# backend {label}: {}", b.name());
    println!("| backend | case | dtype | rfft median (min) ms | irfft median (min) ms |");
    println!("|---|---|---|---|---|");
    for (name, shape, axes) in CASES.into_iter().filter(|c| c.0.contains(filter)) {
        let (f, i) = time_case::<B, f32>(b, shape, axes, reps)?;
        println!(
            "| {label} | {name} | f32 | {:.3} ({:.3}) | {:.3} ({:.3}) |",
            f.0, f.1, i.0, i.1
        );
        if b.supports_f64() {
            let (f, i) = time_case::<B, f64>(b, shape, axes, reps)?;
            println!(
                "| {label} | {name} | f64 | {:.3} ({:.3}) | {:.3} ({:.3}) |",
                f.0, f.1, i.0, i.1
            );
        }
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let reps = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(21);
    let filter = args.get(2).map_or("", String::as_str);
    let result = backend_cpu::CpuBackend::new().and_then(|b| run("cpu", &b, reps, filter));
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
