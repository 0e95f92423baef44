//! `fft-bench [--backend NAME] [REPS [FILTER]]`: median times of the batched real FFTs epri runs
//! (forward `rfftn` and inverse `irfftn` over the trailing axes), f32 and f64, on one backend
//! (`cpu` by default; `opencl`, `cuda` in builds with those features).
//!
//! Cases: 1D rFFT of 113 rows of 2000 (phalanx sinogram), 961 rows of 500 (fusillo sinogram),
//! 2D rFFT of 800x400 (TV 2D Toeplitz grid), 3D rFFT of 200x100x100 (TV 3D Toeplitz grid).
//! Compare with `python3 bench/fft_numpy.py` (numpy.fft on the same cases).

use backend_core::{Backend, FftKind, FftSpec, Real, C};
use epri_demos::bench::{main_with, median_ms, timed, BenchArgs};
use epri_demos::dispatch::Job;
use epri_demos::Result;

/// (name, shape, transformed trailing axes).
const CASES: [(&str, &[usize], usize); 4] = [
    ("rfft 113x2000 (axis -1)", &[113, 2000], 1),
    ("rfft 961x500 (axis -1)", &[961, 500], 1),
    ("rfft2 800x400", &[800, 400], 2),
    ("rfftn 200x100x100", &[200, 100, 100], 3),
];

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

/// One table row per case and precision.
struct FftBench<'a>(&'a BenchArgs);

impl Job for FftBench<'_> {
    type Output = ();

    fn run<B: Backend, T: Real>(self, b: &B) -> Result<()> {
        let args = self.0;
        println!("| case | dtype | rfft median (min) ms | irfft median (min) ms |");
        println!("|---|---|---|---|");
        let row = |name: &str, dtype: &str, (f, i): ((f64, f64), (f64, f64))| {
            println!(
                "| {name} | {dtype} | {:.3} ({:.3}) | {:.3} ({:.3}) |",
                f.0, f.1, i.0, i.1
            )
        };
        for (name, shape, axes) in CASES {
            if args.wanted(name, "f32") {
                row(name, "f32", time_case::<B, f32>(b, shape, axes, args.reps)?);
            }
            if b.supports_f64() && args.wanted(name, "f64") {
                row(name, "f64", time_case::<B, f64>(b, shape, axes, args.reps)?);
            }
        }
        Ok(())
    }
}

fn main() {
    // On a worker of a rayon pool, as the `epri` command runs: the CPU backend's parallel loops
    // start inside the pool instead of being handed to it by a foreign thread that sleeps until
    // they end (a wake-up per call, which the short 1D calls would otherwise time).
    main_with(|| {
        let args = BenchArgs::from_env(21)?;
        match rayon::ThreadPoolBuilder::new().build() {
            Ok(pool) => pool.install(|| args.run(FftBench(&args))),
            Err(_) => args.run(FftBench(&args)),
        }
    });
}
