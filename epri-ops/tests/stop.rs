//! The stopping rules of the TV solvers ([`StopRule`]), written once over `B: Backend` and
//! instantiated per backend by `stop_suite!` (paths read `cpu::gap_rule`, `opencl::...`).
//!
//! The problem: a 32 × 32 phantom (δ = 0.08 cm: two disks and a bar) seen through 40 gradients
//! of up to 5 G/cm, spectrum the derivative of a Gaussian (0.5 G) on 200 field samples of
//! 0.1 G, plus white noise of σ = 3 % of the sinogram's peak. With 8000 measurements for 1024
//! pixels the residual reaches the noise level `m σ²` only for small weights: measured
//! `min_k ‖Au_k − s‖²/(mσ²)` 3.1, 1.27 and 1.04 at λ = 0.1, 3e-3 and 1e-3, and the
//! discrepancy rule fires after 158 iterations at λ = 3e-4.

mod common;

use backend_core::{Backend, Real};
use common::{dgauss, rel_err};
use epri_ops::recon::{
    tv_monosrc, tv_multisrc::tv_multisrc, tv_spectral, SpectralTvOptions, StopReason, StopRule,
    TvOptions, TvProgress,
};
use epri_ops::{Geometry, Projector, ProjectorOptions};
use ndarray::{Array1, Array2, ArrayD, Ix2, IxDyn};
use std::f64::consts::PI;

const N: usize = 32;

struct Case<T: Real> {
    geometry: Geometry<T>,
    h: Array1<T>,
    proj: Array2<T>,
    sigma: f64,
    phantom: ArrayD<T>,
}

fn case<B: Backend, T: Real>(be: &B) -> Case<T> {
    let nb = 200;
    let b64 = Array1::from_iter((0..nb).map(|i| 350.0 + 0.1 * i as f64));
    let h = dgauss::<T>(&b64, 360.0, 0.5);
    let p = 40;
    let fgrad = Array2::from_shape_fn((2, p), |(r, k)| {
        let th = PI * k as f64 / p as f64;
        T::of(5.0 * if r == 0 { th.cos() } else { th.sin() })
    });
    let geometry = Geometry::new(b64.mapv(T::of).view(), T::of(0.08), fgrad.view()).unwrap();
    let c = N as f64 / 2.0;
    let phantom = ArrayD::from_shape_fn(IxDyn(&[N, N]), |ix| {
        let (y, x) = (ix[0] as f64 - c, ix[1] as f64 - c);
        let disk = |cx: f64, cy: f64, r: f64| (x - cx).powi(2) + (y - cy).powi(2) < r * r;
        T::of(if disk(4.0, 5.0, 6.0) {
            1.0
        } else if disk(-7.0, -4.0, 4.0) {
            1.5
        } else if (x - 1.0).abs() < 8.0 && (y + 9.0).abs() < 2.0 {
            0.7
        } else {
            0.0
        })
    });
    let mut a = Projector::new(
        be,
        &geometry,
        h.view(),
        &[N, N],
        ProjectorOptions::default(),
    )
    .unwrap();
    let mut s = be.zeros::<T>(&geometry.sino_shape()).unwrap();
    a.apply(&be.upload(phantom.view()).unwrap(), &mut s)
        .unwrap();
    let clean = be
        .download(&s)
        .unwrap()
        .into_dimensionality::<Ix2>()
        .unwrap();
    let sigma = 0.03 * clean.iter().fold(0f64, |m, x| m.max(x.f64().abs()));
    let noise = backend_core::host::randn::<f64>(&[p, nb], 0.0, sigma, 7)
        .unwrap()
        .into_dimensionality::<Ix2>()
        .unwrap();
    let proj = ndarray::Zip::from(&clean)
        .and(&noise)
        .map_collect(|c, n| T::of(c.f64() + n));
    Case {
        geometry,
        h,
        proj,
        sigma,
        phantom,
    }
}

/// Runs `tv_monosrc` with `stop`, returning the result and the progress reports.
fn run<B: Backend, T: Real>(
    be: &B,
    c: &Case<T>,
    lambda: f64,
    stop: StopRule,
    tol: f64,
    max_iter: usize,
) -> (epri_ops::recon::TvResult<T>, Vec<TvProgress>) {
    let opts = TvOptions {
        lambda,
        tol,
        max_iter,
        stop,
        ..TvOptions::default()
    };
    let mut seen = Vec::new();
    let r = tv_monosrc(
        be,
        c.proj.view(),
        &c.geometry,
        c.h.view(),
        &[N, N],
        &opts,
        &mut |p| seen.push(*p),
    )
    .unwrap();
    assert_eq!(seen.len(), r.iterations);
    (r, seen)
}

/// `‖A u − s‖²` in f64 on the host side (projection on the backend).
fn residual<B: Backend, T: Real>(be: &B, c: &Case<T>, u: &ArrayD<T>) -> f64 {
    let mut a = Projector::new(
        be,
        &c.geometry,
        c.h.view(),
        &[N, N],
        ProjectorOptions::default(),
    )
    .unwrap();
    let mut s = be.zeros::<T>(&c.geometry.sino_shape()).unwrap();
    a.apply(&be.upload(u.view()).unwrap(), &mut s).unwrap();
    let s = be.download(&s).unwrap();
    s.iter()
        .zip(c.proj.iter())
        .map(|(x, y)| (x.f64() - y.f64()).powi(2))
        .sum()
}

mod cases {
    use super::*;

    /// The default rule watches the relative change and stops below `tol`, before the cap.
    pub fn change_rule<B: Backend>(be: &B) {
        let c = case::<B, f32>(be);
        let (r, seen) = run(be, &c, 0.003, StopRule::Change, 1e-4, 5000);
        assert_eq!(r.stop, StopReason::Change);
        assert!(r.iterations < 5000, "{} iterations", r.iterations);
        for p in &seen {
            assert_eq!(p.watched, p.relative_change);
        }
        let last = seen.last().unwrap().watched;
        assert!(last < 1e-4, "{last}");
        assert!(seen[..seen.len() - 1].iter().all(|p| p.watched >= 1e-4));
    }

    /// The primal–dual residual: infinite at the first iteration, then non-increasing up to
    /// the change of `‖u‖` (every value at most 1 % above the previous one; the unnormalised
    /// residual never increases), never below the part it owes to `Δu` (`r_k ≥ 0.5 · change
    /// of iteration k − 1`, the metric's lower bound `√(1 − 1/√2) ≈ 0.54`), ending below `tol`
    /// with the reason `Gap`; the image is then within 1 % of a run to a 100 times smaller tol.
    pub fn gap_rule<B: Backend>(be: &B) {
        let c = case::<B, f64>(be);
        let (r, seen) = run(be, &c, 0.003, StopRule::Gap, 1e-4, 20_000);
        assert_eq!(r.stop, StopReason::Gap, "{} iterations", r.iterations);
        assert!(seen[0].watched.is_infinite());
        let w: Vec<f64> = seen.iter().map(|p| p.watched).collect();
        for k in 2..w.len() {
            assert!(
                w[k] <= 1.01 * w[k - 1],
                "iteration {}: residual {} after {}",
                k + 1,
                w[k],
                w[k - 1]
            );
            assert!(
                w[k] >= 0.5 * seen[k - 1].relative_change,
                "iteration {}: residual {} below half the change {}",
                k + 1,
                w[k],
                seen[k - 1].relative_change
            );
        }
        assert!(*w.last().unwrap() < 1e-4);
        assert!(w[..w.len() - 1].iter().all(|&x| x >= 1e-4));
        let (fine, _) = run(be, &c, 0.003, StopRule::Gap, 1e-6, 50_000);
        assert_eq!(fine.stop, StopReason::Gap);
        let e = rel_err(&r.image, &fine.image);
        eprintln!(
            "gap rule: {} iterations (tol 1e-4), {} (1e-6); distance {e:.2e}; change at stop {:.2e}",
            r.iterations,
            fine.iterations,
            seen.last().unwrap().relative_change
        );
        assert!(e < 1e-2, "{e}");
    }

    /// The discrepancy rule stops at the first iteration whose residual is at most `m σ²`
    /// (the watched value `‖Au − s‖²/(mσ²)` above 1 before, at most 1 there, and the returned
    /// image's residual recomputed independently agrees), with the reason `Discrepancy`; at a
    /// λ so large that the residual cannot reach the noise, the run ends on the relative change.
    pub fn discrepancy_rule<B: Backend>(be: &B) {
        let c = case::<B, f32>(be);
        let m = (c.proj.len()) as f64;
        let stop = StopRule::Discrepancy {
            sigma: c.sigma,
            tau: 1.0,
        };
        let (r, seen) = run(be, &c, 3e-4, stop, 1e-6, 5000);
        assert_eq!(
            r.stop,
            StopReason::Discrepancy,
            "{} iterations",
            r.iterations
        );
        let w: Vec<f64> = seen.iter().map(|p| p.watched).collect();
        assert!(w.len() >= 2 && *w.last().unwrap() <= 1.0);
        assert!(w[..w.len() - 1].iter().all(|&x| x > 1.0));
        let res = residual(be, &c, &r.image) / (m * c.sigma * c.sigma);
        assert!(
            (res - w[w.len() - 1]).abs() < 1e-3 * res,
            "residual {res} vs watched {}",
            w[w.len() - 1]
        );
        // The image is closer to the phantom than the first iterate.
        let (first, _) = run(be, &c, 3e-4, StopRule::Change, 1e-6, 1);
        assert!(rel_err(&r.image, &c.phantom) < rel_err(&first.image, &c.phantom));
        let (big, seen) = run(be, &c, 0.01, stop, 1e-5, 5000);
        assert_eq!(
            big.stop,
            StopReason::Change,
            "{} iterations",
            big.iterations
        );
        assert!(seen.iter().all(|p| p.watched > 1.0));
    }

    /// The iteration cap is reported as such.
    pub fn cap<B: Backend>(be: &B) {
        let c = case::<B, f32>(be);
        for stop in [StopRule::Change, StopRule::Gap] {
            let (r, _) = run(be, &c, 0.003, stop, 1e-12, 7);
            assert_eq!((r.stop, r.iterations), (StopReason::MaxIter, 7));
        }
    }

    /// `check_every = 7` evaluates the rule on every 7th iteration only, with the values a
    /// run checking every iteration sees there (the iterates do not depend on it): the run stops
    /// at the first multiple of 7 where the rule holds, not before the every-iteration run;
    /// the other reports repeat the last evaluated values (`∞` before the first). 0 is refused.
    pub fn check_every<B: Backend>(be: &B) {
        let c = case::<B, f32>(be);
        let k = 7;
        for stop in [StopRule::Change, StopRule::Gap] {
            let (r1, seen1) = run(be, &c, 0.003, stop, 1e-4, 5000);
            let opts = TvOptions {
                lambda: 0.003,
                tol: 1e-4,
                max_iter: 5000,
                stop,
                check_every: k,
                ..TvOptions::default()
            };
            let mut seen = Vec::new();
            let r = tv_monosrc(
                be,
                c.proj.view(),
                &c.geometry,
                c.h.view(),
                &[N, N],
                &opts,
                &mut |p| seen.push(*p),
            )
            .unwrap();
            assert_eq!(r.stop, r1.stop, "{stop:?}");
            assert!(
                r.iterations % k == 0 && r.iterations >= r1.iterations,
                "{stop:?}: {} iterations checking every {k}, {} checking every one",
                r.iterations,
                r1.iterations
            );
            let mut last = (f64::INFINITY, f64::INFINITY);
            for (i, p) in seen.iter().enumerate() {
                assert_eq!(p.checked, (i + 1) % k == 0, "{stop:?}, iteration {}", i + 1);
                if p.checked {
                    last = (p.relative_change, p.watched);
                    if let Some(q) = seen1.get(i) {
                        assert_eq!(
                            (p.relative_change, p.watched),
                            (q.relative_change, q.watched)
                        );
                    }
                }
                assert_eq!((p.relative_change, p.watched), last);
            }
            assert!(last.1 < 1e-4, "{stop:?}: {}", last.1);
        }
        let opts = TvOptions {
            check_every: 0,
            ..TvOptions::default()
        };
        let e = tv_monosrc(
            be,
            c.proj.view(),
            &c.geometry,
            c.h.view(),
            &[N, N],
            &opts,
            &mut |_| {},
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("check_every = 0"), "{e}");
    }

    /// Bad parameters of the discrepancy rule are refused with a message.
    pub fn bad_sigma<B: Backend>(be: &B) {
        let c = case::<B, f32>(be);
        for sigma in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let opts = TvOptions {
                lambda: 1.0,
                stop: StopRule::Discrepancy { sigma, tau: 1.0 },
                ..TvOptions::default()
            };
            let e = tv_monosrc(
                be,
                c.proj.view(),
                &c.geometry,
                c.h.view(),
                &[N, N],
                &opts,
                &mut |_| {},
            )
            .unwrap_err()
            .to_string();
            assert!(e.contains("discrepancy stopping rule needs σ > 0"), "{e}");
        }
    }

    /// The source separation and the spectral-spatial reconstruction share the rules: the gap
    /// and discrepancy rules fire and say so.
    pub fn shared<B: Backend>(be: &B) {
        let c = case::<B, f32>(be);
        let stop = StopRule::Discrepancy {
            sigma: c.sigma,
            tau: 1.0,
        };
        let h = vec![vec![c.h.view()]];
        let cases = [
            (StopRule::Gap, 1e-3, StopReason::Gap),
            (stop, 1e-6, StopReason::Discrepancy),
        ];
        for (rule, tol, want) in cases {
            let opts = TvOptions {
                lambda: 3e-4,
                tol,
                max_iter: 5000,
                stop: rule,
                ..TvOptions::default()
            };
            let r = tv_multisrc(
                be,
                &[c.proj.view()],
                std::slice::from_ref(&c.geometry),
                &h,
                &[vec![N, N]],
                &opts,
                None,
                &mut |_| {},
            )
            .unwrap();
            assert_eq!(r.stop, want, "separation, {rule:?}");
        }
        // A tiny 4D case: 8 field samples, 4 × 4 × 4 voxels, 30 gradients.
        let (g, _) = common::small_geometry::<f32>(3, 8, 30, 6.0, 0.05);
        let shape = [8, 4, 4, 4];
        let u = common::random::<B, f32>(be, &shape, 3);
        let mut a =
            Projector::new_spectral(be, &g, &shape, false, ProjectorOptions::default()).unwrap();
        let mut s = be.zeros::<f32>(&g.sino_shape()).unwrap();
        a.apply(&be.upload(u.view()).unwrap(), &mut s).unwrap();
        let proj = be
            .download(&s)
            .unwrap()
            .into_dimensionality::<Ix2>()
            .unwrap();
        let opts = SpectralTvOptions {
            tv: TvOptions {
                lambda: 1e-3,
                tol: 1e-3,
                max_iter: 5000,
                stop: StopRule::Gap,
                ..TvOptions::default()
            },
            lambda_spectral: 1e-3,
            absorption: false,
        };
        let r = tv_spectral(be, proj.view(), &g, &shape, &opts, &mut |_| {}).unwrap();
        assert_eq!(r.stop, StopReason::Gap, "{} iterations", r.iterations);
    }
}

macro_rules! stop_suite {
    ($name:ident, $make:expr, { $($test:ident),* $(,)? }) => {
        mod $name {
            use super::*;
            $(
                #[test]
                fn $test() {
                    backend_core::conformance::with_backend(stringify!($name), $make, |b| cases::$test(b));
                }
            )*
        }
    };
}

stop_suite!(cpu, backend_cpu::CpuBackend::new, {
    change_rule, gap_rule, discrepancy_rule, cap, check_every, bad_sigma, shared,
});

#[cfg(feature = "opencl")]
stop_suite!(opencl, || backend_opencl::OpenClBackend::new(None), {
    change_rule, gap_rule, discrepancy_rule, cap, check_every, shared,
});

#[cfg(feature = "cuda")]
stop_suite!(cuda, || backend_cuda::CudaBackend::new(0), {
    change_rule, gap_rule, discrepancy_rule, cap, check_every, shared,
});
