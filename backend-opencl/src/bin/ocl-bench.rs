//! `ocl-bench fft|nufft [REPS] [FILTER]`: the cases of `backend-cpu`'s `fft-bench` and
//! `nufft-bench`, run on the OpenCL backend (first device), same table columns.
//!
//! * fft: batched rFFT / irFFT medians (ms): 113x2000 and 961x500 along the last axis,
//!   2D 800x400, 3D 200x100x100; f32 and f64.
//! * nufft: `set_points`, `execute` and `total` (plan + set_points + execute) medians (ms):
//!   2D 256² and 3D 64³ modes with 10⁶ uniform points (f32 eps 1e-6, f64 eps 1e-12), and the
//!   phalanx / fusillo frequency nodes (PyEPRI's `compute_{2,3}d_frequency_nodes`, rfft
//!   mode, f32, eps 1e-6). Run from the repository root (reads `datasets/`).

use backend_core::nufft::{NufftPlan, NufftType};
use backend_core::{Backend, FftKind, FftSpec, Real, Result, C};
use backend_opencl::OpenClBackend;
use ndarray::{Array1, Array2};
use ndarray_npy::ReadNpyExt;
use std::time::Instant;

/// Median of `reps` timings of `f` after one warm-up call, in milliseconds.
fn median_ms(reps: usize, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    f()?;
    let mut t = (0..reps)
        .map(|_| {
            let start = Instant::now();
            f().map(|_| start.elapsed().as_secs_f64() * 1e3)
        })
        .collect::<Result<Vec<f64>>>()?;
    t.sort_by(f64::total_cmp);
    Ok(t[t.len() / 2])
}

const FFT_CASES: [(&str, &[usize], usize); 4] = [
    ("rfft 113x2000 (axis -1)", &[113, 2000], 1),
    ("rfft 961x500 (axis -1)", &[961, 500], 1),
    ("rfft2 800x400", &[800, 400], 2),
    ("rfftn 200x100x100", &[200, 100, 100], 3),
];

fn fft_case<T: Real>(
    b: &OpenClBackend,
    shape: &[usize],
    axes: usize,
    reps: usize,
) -> Result<(f64, f64)> {
    let spec = FftSpec::new(shape, axes, FftKind::R2C)?;
    let plan = b.fft_plan::<T>(&spec)?;
    let x = b.rand::<T>(shape, 7)?;
    let mut spectrum = b.zeros::<C<T>>(&spec.spectrum_shape())?;
    let mut work = b.zeros::<C<T>>(&spec.spectrum_shape())?;
    let mut y = b.zeros::<T>(shape)?;
    let fwd = median_ms(reps, || {
        b.fft_r2c(&plan, &x, &mut spectrum)?;
        b.synchronize()
    })?;
    let inv = median_ms(reps, || {
        b.copy(&spectrum, &mut work)?;
        b.fft_c2r(&plan, &mut work, &mut y)?;
        b.synchronize()
    })?;
    Ok((fwd, inv))
}

fn fft_bench(b: &OpenClBackend, reps: usize, filter: &str) -> Result<()> {
    println!("| backend | case | dtype | rfft median (ms) | irfft median (ms) |");
    println!("|---|---|---|---|---|");
    for (name, shape, axes) in FFT_CASES {
        if format!("{name} f32").contains(filter) {
            let (f, i) = fft_case::<f32>(b, shape, axes, reps)?;
            println!("| opencl | {name} | f32 | {f:.3} | {i:.3} |");
        }
        if b.supports_f64() && format!("{name} f64").contains(filter) {
            let (f, i) = fft_case::<f64>(b, shape, axes, reps)?;
            println!("| opencl | {name} | f64 | {f:.3} | {i:.3} |");
        }
    }
    Ok(())
}

struct Case {
    name: String,
    modes: Vec<usize>,
    ty: NufftType,
    coords: Vec<Vec<f64>>,
}

fn nufft_case<T: Real>(b: &OpenClBackend, case: &Case, eps: f64, reps: usize) -> Result<[f64; 3]> {
    let coords: Vec<Array1<T>> = case
        .coords
        .iter()
        .map(|c| c.iter().map(|&v| T::of(v)).collect())
        .collect();
    let views: Vec<_> = coords.iter().map(|a| a.view()).collect();
    let m = coords[0].len();
    let (in_shape, out_shape) = match case.ty {
        NufftType::Type1 => (vec![m], case.modes.clone()),
        NufftType::Type2 => (case.modes.clone(), vec![m]),
    };
    let n_in: usize = in_shape.iter().product();
    let re = backend_core::host::randn::<T>(&[2 * n_in], T::zero(), T::one(), 3)?;
    let host: Vec<C<T>> = (0..n_in)
        .map(|i| C::new(re[2 * i], re[2 * i + 1]))
        .collect();
    let input = b.upload_flat(&in_shape, host)?;
    let mut out = b.zeros::<C<T>>(&out_shape)?;
    let mut plan = NufftPlan::<OpenClBackend, T>::new(b, case.ty, &case.modes, 1, eps)?;
    let setpts = median_ms(reps, || {
        plan.set_points(&views)?;
        b.synchronize()
    })?;
    let execute = median_ms(reps, || {
        plan.execute(&input, &mut out)?;
        b.synchronize()
    })?;
    let total = median_ms(reps, || {
        let mut p = NufftPlan::<OpenClBackend, T>::new(b, case.ty, &case.modes, 1, eps)?;
        p.set_points(&views)?;
        p.execute(&input, &mut out)?;
        b.synchronize()
    })?;
    Ok([setpts, execute, total])
}

/// `m` points per axis uniform in `[−π, π)` (the seeds of nufft-bench).
fn uniform_points(dim: usize, m: usize) -> Vec<Vec<f64>> {
    let pi = std::f64::consts::PI;
    (0..dim)
        .map(|a| {
            let r = backend_core::host::rand::<f64>(&[m], 100 + a as u64);
            r.iter().map(|&v| (2.0 * v - 1.0) * pi).collect()
        })
        .collect()
}

/// PyEPRI's `compute_{2,3}d_frequency_nodes(B, delta, fgrad, rfft_mode=True)` in float32;
/// coordinates in array-axis order (y, x[, z]).
fn frequency_nodes(dataset: &str, delta: f32) -> std::result::Result<Vec<Vec<f64>>, String> {
    let read = |f: &str| {
        std::fs::File::open(format!("datasets/{dataset}/{f}"))
            .map_err(|e| format!("{dataset}/{f}: {e}"))
    };
    let b = Array1::<f32>::read_npy(read("B.npy")?).map_err(|e| e.to_string())?;
    let g = Array2::<f32>::read_npy(read("fgrad.npy")?).map_err(|e| e.to_string())?;
    let (d, p, nb) = (g.nrows(), g.ncols(), b.len());
    let db = b[1] - b[0];
    let thr = ((0.5 * nb as f64) as f32 * db) / delta;
    let xi_den = nb as f32 * db;
    let two_pi = std::f64::consts::TAU as f32;
    let mut axes = vec![Vec::new(); d];
    for k in 0..p {
        let mu = g.column(k).iter().fold(0.0f32, |s, v| s + v * v).sqrt();
        for c in 0..nb / 2 + 1 {
            let alf = c as f32;
            if mu * alf < thr && alf < 0.5 * nb as f32 {
                let xi = (two_pi * alf) / xi_den;
                for (a, ax) in axes.iter_mut().enumerate() {
                    ax.push(-((delta * g[[a, k]]) * xi) as f64);
                }
            }
        }
    }
    axes.swap(0, 1);
    Ok(axes)
}

fn nufft_bench(b: &OpenClBackend, reps: usize, filter: &str) -> std::result::Result<(), String> {
    let case = |name: String, modes: &[usize], ty, coords: &Vec<Vec<f64>>| Case {
        name,
        modes: modes.to_vec(),
        ty,
        coords: coords.clone(),
    };
    let (t1, t2) = (NufftType::Type1, NufftType::Type2);
    let p2 = uniform_points(2, 1_000_000);
    let p3 = uniform_points(3, 1_000_000);
    let random = [
        case("2D type 1, 256x256, 1e6 pts".into(), &[256, 256], t1, &p2),
        case("2D type 2, 256x256, 1e6 pts".into(), &[256, 256], t2, &p2),
        case("3D type 1, 64^3, 1e6 pts".into(), &[64, 64, 64], t1, &p3),
        case("3D type 2, 64^3, 1e6 pts".into(), &[64, 64, 64], t2, &p3),
    ];
    let ph = frequency_nodes("phalanx-20220203", 8e-3)?;
    let fu = frequency_nodes("fusillo-20091002", 0.05)?;
    let (mp, mf) = (ph[0].len(), fu[0].len());
    let epr = vec![
        case(
            format!("phalanx nodes (M={mp}), 400x200, type 2 (projection)"),
            &[400, 200],
            t2,
            &ph,
        ),
        case(
            format!("phalanx nodes (M={mp}), 400x200, type 1 (backprojection)"),
            &[400, 200],
            t1,
            &ph,
        ),
        case(
            format!("phalanx nodes (M={mp}), 800x400, type 1 (Toeplitz kernel)"),
            &[800, 400],
            t1,
            &ph,
        ),
        case(
            format!("fusillo nodes (M={mf}), 100x50x50, type 2 (projection)"),
            &[100, 50, 50],
            t2,
            &fu,
        ),
        case(
            format!("fusillo nodes (M={mf}), 100x50x50, type 1 (backprojection)"),
            &[100, 50, 50],
            t1,
            &fu,
        ),
        case(
            format!("fusillo nodes (M={mf}), 200x100x100, type 1 (Toeplitz kernel)"),
            &[200, 100, 100],
            t1,
            &fu,
        ),
    ];
    println!("| backend | case | dtype | eps | setpts (ms) | execute (ms) | total (ms) |");
    println!("|---|---|---|---|---|---|---|");
    let wanted = |c: &Case, dtype: &str| format!("{} {dtype}", c.name).contains(filter);
    let row = |c: &Case, dtype: &str, eps: f64, t: [f64; 3]| {
        println!(
            "| opencl | {} | {dtype} | {eps:e} | {:.2} | {:.2} | {:.2} |",
            c.name, t[0], t[1], t[2]
        );
    };
    for c in random.iter().chain(&epr).filter(|c| wanted(c, "f32")) {
        row(
            c,
            "f32",
            1e-6,
            nufft_case::<f32>(b, c, 1e-6, reps).map_err(|e| e.to_string())?,
        );
    }
    if b.supports_f64() {
        for c in random.iter().filter(|c| wanted(c, "f64")) {
            row(
                c,
                "f64",
                1e-12,
                nufft_case::<f64>(b, c, 1e-12, reps).map_err(|e| e.to_string())?,
            );
        }
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let what = args.get(1).map_or("fft", String::as_str).to_string();
    let reps = args.get(2).and_then(|s| s.parse().ok());
    let filter = args.get(3).map_or("", String::as_str);
    let result = OpenClBackend::new(None)
        .map_err(|e| e.to_string())
        .and_then(|b| {
            println!("# backend opencl: {}", b.name());
            match what.as_str() {
                "fft" => fft_bench(&b, reps.unwrap_or(21), filter).map_err(|e| e.to_string()),
                "nufft" => nufft_bench(&b, reps.unwrap_or(5), filter),
                other => Err(format!("unknown benchmark '{other}': fft or nufft")),
            }
        });
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
