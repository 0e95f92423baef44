//! `nufft-bench [--backend NAME] [REPS [FILTER]]`: median times of NUFFT plans (types 1 and 2) on
//! one backend (`cpu` by default), on the cases of `bench/nufft_finufft.py` (FINUFFT on the same points):
//!
//! * 2D 256x256 and 3D 64^3 modes with 10^6 points uniform in `[−π, π)`, f32 at eps 1e-6 and
//!   f64 at eps 1e-12;
//! * the EPR shapes: the frequency nodes of the phalanx (M = 30284, 400x200 and 800x400 modes)
//!   and fusillo (M = 91295, 100x50x50 and 200x100x100) datasets, built as PyEPRI's
//!   `compute_{2,3}d_frequency_nodes(B, delta, fgrad, rfft_mode=True)`, f32, 1e-6.
//!
//! Three medians per case (ms): `set_points` alone, `execute` alone, and `total` = make plan +
//! set_points + execute (what one `finufft.nufft2d1` call does). Run from the repository root
//! (it reads `datasets/`); the thread count is rayon's (`RAYON_NUM_THREADS`). With `FILTER`,
//! only the cases whose name and dtype (`"<name> f32"`) contain it run.

use backend_core::nufft::{NufftPlan, NufftType};
use backend_core::{Backend, Real, C};
use epri_demos::bench::{main_with, median_ms, timed, BenchArgs};
use epri_demos::dispatch::Job;
use epri_demos::io::{Acquisition, Sources};
use epri_demos::Result;
use epri_ops::geometry::Geometry;
use epri_ops::nodes::FrequencyNodes;
use ndarray::Array1;

/// One benchmark case: a mode grid, a type and the points (one coordinate array per axis).
struct Case {
    name: String,
    modes: Vec<usize>,
    ty: NufftType,
    coords: Vec<Vec<f64>>,
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
        timed(|| {
            plan.set_points(&views)?;
            b.synchronize()
        })
    })?;
    let execute = median_ms(reps, || {
        timed(|| {
            plan.execute(&input, &mut out)?;
            b.synchronize()
        })
    })?;
    let total = median_ms(reps, || {
        timed(|| {
            let mut p = NufftPlan::<B, T>::new(b, case.ty, &case.modes, 1, eps)?;
            p.set_points(&views)?;
            p.execute(&input, &mut out)?;
            b.synchronize()
        })
    })?;
    Ok([setpts.0, execute.0, total.0])
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

/// PyEPRI's `compute_{2,3}d_frequency_nodes(B, delta, fgrad, rfft_mode=True)` of a dataset in
/// float32 (epri-ops' `FrequencyNodes`, bit-identical to PyEPRI's); coordinates in array-axis
/// order (y, x[, z]).
fn frequency_nodes(dataset: &str, delta: f32) -> Result<Vec<Vec<f64>>> {
    let src = Sources {
        data: Some(dataset.to_string()),
        ..Sources::default()
    };
    let acq = Acquisition::load(&src, false, true)?.host::<f32>()?;
    let geometry = Geometry::new(acq.b.view(), delta, acq.fgrad.view())?;
    let nodes = FrequencyNodes::new(&geometry, true)?;
    Ok(nodes
        .coords()
        .iter()
        .map(|c| c.iter().map(|&v| v as f64).collect())
        .collect())
}

/// Every case, in the order of `bench/nufft_finufft.py`.
fn cases() -> Result<(Vec<Case>, Vec<Case>)> {
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

/// One table row per case, f32 then f64 (random points only).
struct NufftBench<'a>(&'a BenchArgs);

impl Job for NufftBench<'_> {
    type Output = ();

    fn run<B: Backend, T: Real>(self, b: &B) -> Result<()> {
        let args = self.0;
        let threads = rayon::current_num_threads();
        let (random, epr) = cases()?;
        println!("| case | dtype | eps | threads | setpts (ms) | execute (ms) | total (ms) |");
        println!("|---|---|---|---|---|---|---|");
        let row = |c: &Case, dtype: &str, eps: f64, t: [f64; 3]| {
            println!(
                "| {} | {dtype} | {eps:e} | {threads} | {:.2} | {:.2} | {:.2} |",
                c.name, t[0], t[1], t[2]
            );
        };
        for c in random
            .iter()
            .chain(&epr)
            .filter(|c| args.wanted(&c.name, "f32"))
        {
            row(c, "f32", 1e-6, time_case::<B, f32>(b, c, 1e-6, args.reps)?);
        }
        if b.supports_f64() {
            for c in random.iter().filter(|c| args.wanted(&c.name, "f64")) {
                row(
                    c,
                    "f64",
                    1e-12,
                    time_case::<B, f64>(b, c, 1e-12, args.reps)?,
                );
            }
        }
        Ok(())
    }
}

fn main() {
    main_with(|| {
        let args = BenchArgs::from_env(5)?;
        args.run(NufftBench(&args))
    });
}
