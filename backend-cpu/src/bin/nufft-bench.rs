//! `nufft-bench [REPS] [FILTER]`: median times of NUFFT plans (types 1 and 2) on every backend compiled
//! in, on the cases of `bench/nufft_finufft.py` (FINUFFT on the same points):
//!
//! * 2D 256x256 and 3D 64^3 modes with 10^6 points uniform in `[−π, π)`, f32 at eps 1e-6 and
//!   f64 at eps 1e-12;
//! * the EPR shapes: the frequency nodes of the phalanx (M = 30284, 400x200 and 800x400 modes)
//!   and fusillo (M = 91295, 100x50x50 and 200x100x100) datasets, built as PyEPRI's
//!   `compute_{2,3}d_frequency_nodes(B, delta, fgrad, rfft_mode=True)` (SPEC §2.3), f32, 1e-6.
//!
//! Three medians per case (ms): `set_points` alone, `execute` alone, and `total` = make plan +
//! set_points + execute (what one `finufft.nufft2d1` call does). Run from the repository root
//! (it reads `datasets/`); the thread count is rayon's (`RAYON_NUM_THREADS`). With `FILTER`,
//! only the cases whose name and dtype (`"<name> f32"`) contain it run.

use backend_core::nufft::{NufftPlan, NufftType};
use backend_core::{Backend, Real, Result, C};
use ndarray::{Array1, Array2};
use ndarray_npy::ReadNpyExt;
use std::time::Instant;

/// One benchmark case: a mode grid, a type and the points (one coordinate array per axis).
struct Case {
    name: String,
    modes: Vec<usize>,
    ty: NufftType,
    coords: Vec<Vec<f64>>,
}

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

/// (set_points, execute, total) medians in ms of one case in precision `T`.
fn time_case<B: Backend, T: Real>(b: &B, case: &Case, eps: f64, reps: usize) -> Result<[f64; 3]> {
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
    let mut plan = NufftPlan::<B, T>::new(b, case.ty, &case.modes, 1, eps)?;
    let setpts = median_ms(reps, || {
        plan.set_points(&views)?;
        b.synchronize()
    })?;
    let execute = median_ms(reps, || {
        plan.execute(&input, &mut out)?;
        b.synchronize()
    })?;
    let total = median_ms(reps, || {
        let mut p = NufftPlan::<B, T>::new(b, case.ty, &case.modes, 1, eps)?;
        p.set_points(&views)?;
        p.execute(&input, &mut out)?;
        b.synchronize()
    })?;
    Ok([setpts, execute, total])
}

/// `m` points per axis uniform in `[−π, π)`.
fn uniform_points(dim: usize, m: usize) -> Vec<Vec<f64>> {
    let pi = std::f64::consts::PI;
    (0..dim)
        .map(|a| {
            let r = backend_core::host::rand::<f64>(&[m], 100 + a as u64);
            r.iter().map(|&v| (2.0 * v - 1.0) * pi).collect()
        })
        .collect()
}

/// PyEPRI's `compute_{2,3}d_frequency_nodes(B, delta, fgrad, rfft_mode=True)` in float32, as
/// numpy evaluates it; returns the NUFFT coordinates in array-axis order (y, x[, z]).
fn frequency_nodes(dataset: &str, delta: f64) -> std::result::Result<Vec<Vec<f64>>, String> {
    let read = |f: &str| {
        std::fs::File::open(format!("datasets/{dataset}/{f}"))
            .map_err(|e| format!("{dataset}/{f}: {e}"))
    };
    // fgrad.npy is Fortran-ordered: ndarray-npy reads it into the right (d, P) layout.
    let b = Array1::<f32>::read_npy(read("B.npy")?).map_err(|e| e.to_string())?;
    let g = Array2::<f32>::read_npy(read("fgrad.npy")?).map_err(|e| e.to_string())?;
    let (d, p) = g.dim();
    let nb = b.len();
    let db = b[1] - b[0];
    let d32 = delta as f32;
    let thr = ((0.5 * nb as f64) as f32 * db) / d32;
    let ncols = nb / 2 + 1;
    let xi_den = nb as f32 * db;
    let two_pi = std::f64::consts::TAU as f32;
    let mut axes = vec![Vec::new(); d];
    for k in 0..p {
        let gk: Vec<f32> = (0..d).map(|a| g[[a, k]]).collect();
        let mu = gk.iter().fold(0.0f32, |s, v| s + v * v).sqrt();
        for c in 0..ncols {
            let alf = c as f32;
            if mu * alf < thr && alf < 0.5 * nb as f32 {
                let xi = (two_pi * alf) / xi_den;
                for (a, &ga) in gk.iter().enumerate() {
                    axes[a].push(-((d32 * ga) * xi) as f64);
                }
            }
        }
    }
    // fgrad rows are (x, y[, z]); NUFFT axis 0 is y, axis 1 is x.
    axes.swap(0, 1);
    Ok(axes)
}

/// Every case, in the order of `bench/nufft_finufft.py`.
fn cases() -> std::result::Result<(Vec<Case>, Vec<Case>), String> {
    let case = |name: &str, modes: &[usize], ty, coords: &Vec<Vec<f64>>| Case {
        name: name.to_string(),
        modes: modes.to_vec(),
        ty,
        coords: coords.clone(),
    };
    let (t1, t2) = (NufftType::Type1, NufftType::Type2);
    let p2 = uniform_points(2, 1_000_000);
    let p3 = uniform_points(3, 1_000_000);
    let random = vec![
        case("2D type 1, 256x256, 1e6 pts", &[256, 256], t1, &p2),
        case("2D type 2, 256x256, 1e6 pts", &[256, 256], t2, &p2),
        case("3D type 1, 64^3, 1e6 pts", &[64, 64, 64], t1, &p3),
        case("3D type 2, 64^3, 1e6 pts", &[64, 64, 64], t2, &p3),
    ];
    let ph = frequency_nodes("phalanx-20220203", 8e-3)?;
    let fu = frequency_nodes("fusillo-20091002", 0.05)?;
    let (mp, mf) = (ph[0].len(), fu[0].len());
    let epr = vec![
        case(
            &format!("phalanx nodes (M={mp}), 400x200, type 2 (projection)"),
            &[400, 200],
            t2,
            &ph,
        ),
        case(
            &format!("phalanx nodes (M={mp}), 400x200, type 1 (backprojection)"),
            &[400, 200],
            t1,
            &ph,
        ),
        case(
            &format!("phalanx nodes (M={mp}), 800x400, type 1 (Toeplitz kernel)"),
            &[800, 400],
            t1,
            &ph,
        ),
        case(
            &format!("fusillo nodes (M={mf}), 100x50x50, type 2 (projection)"),
            &[100, 50, 50],
            t2,
            &fu,
        ),
        case(
            &format!("fusillo nodes (M={mf}), 100x50x50, type 1 (backprojection)"),
            &[100, 50, 50],
            t1,
            &fu,
        ),
        case(
            &format!("fusillo nodes (M={mf}), 200x100x100, type 1 (Toeplitz kernel)"),
            &[200, 100, 100],
            t1,
            &fu,
        ),
    ];
    Ok((random, epr))
}

/// Prints one table row per case for backend `b`.
fn run<B: Backend>(
    label: &str,
    b: &B,
    reps: usize,
    filter: &str,
) -> std::result::Result<(), String> {
    let threads = rayon::current_num_threads();
    let (random, epr) = cases()?;
    println!("# backend {label}: {}", b.name());
    println!(
        "| backend | case | dtype | eps | threads | setpts (ms) | execute (ms) | total (ms) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let row = |c: &Case, dtype: &str, eps: f64, t: [f64; 3]| {
        println!(
            "| {label} | {} | {dtype} | {eps:e} | {threads} | {:.2} | {:.2} | {:.2} |",
            c.name, t[0], t[1], t[2]
        );
    };
    let err = |e: backend_core::Error| e.to_string();
    let wanted = |c: &Case, dtype: &str| format!("{} {dtype}", c.name).contains(filter);
    for c in random.iter().chain(&epr).filter(|c| wanted(c, "f32")) {
        let t = time_case::<B, f32>(b, c, 1e-6, reps).map_err(err)?;
        row(c, "f32", 1e-6, t);
    }
    if b.supports_f64() {
        for c in random.iter().filter(|c| wanted(c, "f64")) {
            let t = time_case::<B, f64>(b, c, 1e-12, reps).map_err(err)?;
            row(c, "f64", 1e-12, t);
        }
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let reps = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let filter = args.get(2).map_or("", String::as_str);
    let result = backend_cpu::CpuBackend::new()
        .map_err(|e| e.to_string())
        .and_then(|b| run("cpu", &b, reps, filter));
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
