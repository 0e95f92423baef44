//! `spectral-bench [REPS] [--opencl]`: median times and peak memory of the spectral-spatial (4D)
//! operators on the CPU backend (or the first OpenCL device, with the `opencl` feature), float32, eps 1e-6, on the case PyEPRI's 4D timings use: Nb = 64 field
//! samples (390–410 G), a 32³ volume of δ = 0.025 cm, P = 400 gradients (Fibonacci-sphere
//! directions, magnitudes up to 15 G/cm, the first 4 zero).
//!
//! Each line: the operation, the median of REPS runs (default 5) after a warm-up call, and the
//! growth of the process' peak resident memory over the first call (VmHWM reset through
//! /proc/self/clear_refs beforehand; Linux only, else `-`), which includes the plan or kernel
//! being built and the returned buffer, and the growth of the resident memory (`VmRSS`) over
//! that call: what it left allocated (the plan or kernel itself). Timed calls end with
//! `synchronize`.

#[allow(dead_code)] // the dataset reader is for the other benchmarks
mod common;

use backend_core::Backend;
use backend_cpu::CpuBackend;
use common::{median_ms, Res};
use epri_ops::{Geometry, Projector, ProjectorOptions, ToeplitzKernel};
use ndarray::{Array1, Array2};
use std::process::ExitCode;
use std::time::Instant;

const EPS: f64 = 1e-6;

/// A field of /proc/self/status in MiB (`VmHWM`: peak resident memory, `VmRSS`: resident
/// now), if readable.
fn status_mib(field: &str) -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn peak_mib() -> Option<f64> {
    status_mib("VmHWM:")
}

/// Resets the peak to the current resident memory; returns that.
fn reset_peak() -> Option<f64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    peak_mib()
}

/// Growth of the peak and of the resident memory over one call, MiB.
type Growth = Option<(f64, f64)>;

/// Runs `f` once and returns (its result, its time in ms, the growth of the peak and of the
/// resident memory in MiB: what the call needed at most, and what it left allocated).
fn first_call<R>(f: impl FnOnce() -> Res<R>) -> Res<(R, f64, Growth)> {
    let before = reset_peak();
    let t = Instant::now();
    let r = f()?;
    let ms = t.elapsed().as_secs_f64() * 1e3;
    let grew = before
        .zip(peak_mib())
        .zip(status_mib("VmRSS:"))
        .map(|((b, p), r)| (p - b, r - b));
    Ok((r, ms, grew))
}

fn line(what: &str, ms: f64, mib: Growth) {
    let (peak, held) = mib.map_or(("-".to_string(), "-".to_string()), |(p, h)| {
        (format!("{p:.1}"), format!("{h:.1}"))
    });
    println!("{what:<34} {ms:>10.1} ms {peak:>10} MiB {held:>10} MiB");
}

fn main_res() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let reps: usize = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map_or(Ok(5), |s| s.parse())?;
    if args.iter().any(|a| a == "--opencl") {
        #[cfg(feature = "opencl")]
        return bench(&backend_opencl::OpenClBackend::new(None)?, reps);
        #[cfg(not(feature = "opencl"))]
        return Err("--opencl needs the build feature `opencl`".into());
    }
    bench(&CpuBackend::new()?, reps)
}

fn bench<B: Backend>(be: &B, reps: usize) -> Res<()> {
    let (nb, n, p) = (64usize, 32usize, 400usize);
    let b = Array1::linspace(390.0f32, 410.0, nb);
    let golden = std::f64::consts::PI * (3.0 - 5f64.sqrt());
    let fgrad = Array2::from_shape_fn((3, p), |(a, k)| {
        if k < 4 {
            return 0.0;
        }
        let z = 1.0 - (2 * k + 1) as f64 / p as f64;
        let r = (1.0 - z * z).sqrt();
        let ph = golden * k as f64;
        let mag = 15.0 * (((k * 7919) % 1000) as f64 / 1000.0);
        (mag * [r * ph.cos(), r * ph.sin(), z][a]) as f32
    });
    let g = Geometry::new(b.view(), 0.025f32, fgrad.view())?;
    let shape = [nb, n, n, n];
    println!(
        "spectral-spatial operators, {}, f32, eps {EPS:e}, image {shape:?}, P = {p}; median of {reps}",
        be.name()
    );
    println!(
        "{:<34} {:>13} {:>14} {:>14}",
        "operation", "median", "peak growth", "held after"
    );
    let opts = ProjectorOptions {
        rfft_mode: true,
        eps: EPS,
    };
    let sync = || -> Res<()> { Ok(be.synchronize()?) };
    let (mut a, ms, mib) =
        first_call(|| Ok(Projector::new_spectral(be, &g, &shape, false, opts)?))?;
    line("plan (nodes, NUFFT plans, buffers)", ms, mib);
    let u = be.rand::<f32>(&shape, 1)?;
    let mut s = be.zeros::<f32>(&g.sino_shape())?;
    let (_, _, mib) = first_call(|| {
        a.apply(&u, &mut s)?;
        sync()
    })?;
    line(
        "proj4d",
        median_ms(reps, || {
            a.apply(&u, &mut s)?;
            sync()
        })?,
        mib,
    );
    let mut v = be.zeros::<f32>(&shape)?;
    let (_, _, mib) = first_call(|| {
        a.adjoint(&s, &mut v)?;
        sync()
    })?;
    line(
        "backproj4d",
        median_ms(reps, || {
            a.adjoint(&s, &mut v)?;
            sync()
        })?,
        mib,
    );
    drop(a);
    let (mut t, ms, mib) = first_call(|| {
        let t = ToeplitzKernel::new_spectral(be, &g, &shape, false, EPS)?;
        sync()?;
        Ok(t)
    })?;
    line("Toeplitz kernel (with its rfft)", ms, mib);
    let (_, _, mib) = first_call(|| {
        t.apply(&u, &mut v)?;
        sync()
    })?;
    line(
        "Toeplitz apply",
        median_ms(reps, || {
            t.apply(&u, &mut v)?;
            sync()
        })?,
        mib,
    );
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
