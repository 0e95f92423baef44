//! The automatic choice of λ, written once over `B: Backend` and instantiated per backend by
//! `lambda_suite!` (paths read `cpu::lambda::...`, `opencl::noise::...`).
//!
//! The simulated acquisition: a piecewise-constant phantom (64 × 64 pixels of 0.04 cm: three
//! disks and a rectangle), projected by epri's own projector with the phalanx dataset's measured
//! spectrum (every 4th of its 2000 field samples, dB = 1.44 G) under 60 gradients of 168 G/cm,
//! plus white Gaussian noise of standard deviation `max|A u| / SNR` for SNR 100, 30 and 10.
//!
//! The λ grid of the comparison: the 12 values `10^(−1 + 3.5 k / 11)`, k = 0..11 (0.1 to 316).
//! Every solve runs at most 1000 iterations with the tolerance 1e-5. The grid comparison runs on
//! the CPU only: it solves 12 + ~10 problems per noise level, minutes on an emulated OpenCL
//! device; the noise, no-signal and CPU-agreement cases run on every backend.

mod common;

use backend_core::{Backend, Real};
use common::{load_dataset, rel_err};
use epri_ops::noise::estimate_noise;
use epri_ops::recon::{
    choose_lambda, LambdaRule, LambdaSearchOptions, TvOptions, TvProblem, TvProgress,
};
use epri_ops::{Geometry, Projector, ProjectorOptions};
use ndarray::{Array1, Array2, ArrayD, Ix2, IxDyn};
use std::f64::consts::PI;

const N: usize = 64;
const DELTA: f64 = 0.04;
const ITERS: usize = 1000;
const TOL: f64 = 1e-5;

/// The acquisition of the module doc: geometry, spectrum, noise-free sinogram, phantom.
struct Acquisition<T: Real> {
    geometry: Geometry<T>,
    h: Array1<T>,
    clean: Array2<T>,
    phantom: ArrayD<T>,
}

fn acquisition<B: Backend, T: Real>(be: &B) -> Acquisition<T> {
    acquisition_of(be, Phantom::Pieces)
}

/// The two test objects.
#[derive(Clone, Copy, Debug)]
enum Phantom {
    /// Three disks and a rectangle of constant intensities.
    Pieces,
    /// Two Gaussian blobs and a thin bar.
    Smooth,
}

fn acquisition_of<B: Backend, T: Real>(be: &B, kind: Phantom) -> Acquisition<T> {
    let b_full = load_dataset::<T>("phalanx-20220203", "B");
    let h_full = load_dataset::<T>("phalanx-20220203", "h");
    let b: Array1<T> = b_full.iter().step_by(4).copied().collect();
    let h: Array1<T> = h_full.iter().step_by(4).copied().collect();
    let p = 60;
    let fgrad = Array2::from_shape_fn((2, p), |(r, k)| {
        let th = PI * k as f64 / p as f64;
        T::of(168.0 * if r == 0 { th.cos() } else { th.sin() })
    });
    let geometry = Geometry::new(b.view(), T::of(DELTA), fgrad.view()).unwrap();
    let c = N as f64 / 2.0;
    let phantom = ArrayD::from_shape_fn(IxDyn(&[N, N]), |ix| {
        let (y, x) = (ix[0] as f64 - c, ix[1] as f64 - c);
        let disk = |cx: f64, cy: f64, r: f64| (x - cx).powi(2) + (y - cy).powi(2) < r * r;
        let blob = |cx: f64, cy: f64, r: f64| {
            (-((x - cx).powi(2) + (y - cy).powi(2)) / (2.0 * r * r)).exp()
        };
        if let Phantom::Smooth = kind {
            let bar = if (x - 2.0).abs() < 10.0 && (y + 12.0).abs() < 2.0 {
                0.5
            } else {
                0.0
            };
            return T::of(blob(5.0, 3.0, 6.0) + 0.7 * blob(-9.0, -7.0, 3.0) + bar);
        }
        T::of(if disk(6.0, 15.0, 3.0) {
            1.5
        } else if disk(8.0, -5.0, 10.0) {
            1.0
        } else if disk(-12.0, 10.0, 6.0) {
            0.6
        } else if (x + 5.0).abs() < 4.0 && (y + 15.0).abs() < 7.0 {
            0.8
        } else {
            0.0
        })
    });
    let mut proj = Projector::new(
        be,
        &geometry,
        h.view(),
        &[N, N],
        ProjectorOptions::default(),
    )
    .unwrap();
    let u = be.upload(phantom.view()).unwrap();
    let mut s = be.zeros::<T>(&geometry.sino_shape()).unwrap();
    proj.apply(&u, &mut s).unwrap();
    let clean = be
        .download(&s)
        .unwrap()
        .into_dimensionality::<Ix2>()
        .unwrap();
    Acquisition {
        geometry,
        h,
        clean,
        phantom,
    }
}

/// The noise-free sinogram plus white noise of standard deviation `max|s| / snr`; returns the
/// noisy sinogram and `σ`.
fn noisy<T: Real>(clean: &Array2<T>, snr: f64, seed: u64) -> (Array2<T>, f64) {
    coloured(clean, snr, seed, 0.0)
}

/// The noise-free sinogram plus AR(1) noise along B of coefficient `a` (autocorrelation `a^j`
/// at lag `j`; white for `a = 0`) and standard deviation `max|s| / snr`; returns the noisy
/// sinogram and `σ`.
fn coloured<T: Real>(clean: &Array2<T>, snr: f64, seed: u64, a: f64) -> (Array2<T>, f64) {
    let peak = clean.iter().fold(0f64, |m, x| m.max(x.f64().abs()));
    let sigma = peak / snr;
    let (p, nb) = clean.dim();
    let mut noise = backend_core::host::randn::<f64>(&[p, nb], 0.0, sigma, seed)
        .unwrap()
        .into_dimensionality::<Ix2>()
        .unwrap();
    // x_0 = w_0, x_j = a x_{j−1} + √(1 − a²) w_j: stationary, of variance σ².
    for mut row in noise.rows_mut() {
        for j in 1..nb {
            row[j] = a * row[j - 1] + (1.0 - a * a).sqrt() * row[j];
        }
    }
    (
        ndarray::Zip::from(clean)
            .and(&noise)
            .map_collect(|c, n| T::of(c.f64() + n)),
        sigma,
    )
}

fn problem<B: Backend, T: Real>(be: &B, acq: &Acquisition<T>, proj: &Array2<T>) -> TvProblem<B, T> {
    TvProblem::new(
        be,
        proj.view(),
        &acq.geometry,
        acq.h.view(),
        &[N, N],
        &TvOptions::default(),
    )
    .unwrap()
}

/// Relative error to the phantom of the image solved at `lambda` from the default start.
fn error_at<B: Backend, T: Real>(
    p: &mut TvProblem<B, T>,
    acq: &Acquisition<T>,
    lambda: f64,
) -> f64 {
    let sol = p
        .solve(lambda, None, TOL, ITERS, &mut |_: &TvProgress| {})
        .unwrap();
    rel_err(&p.download(&sol.image).unwrap(), &acq.phantom)
}

fn grid() -> Vec<f64> {
    (0..12)
        .map(|k| 10f64.powf(-1.0 + 3.5 * k as f64 / 11.0))
        .collect()
}

/// The rule's image against the best image over the λ grid, at SNR 100, 30 and 10.
fn rule_vs_grid<B: Backend, T: Real>(be: &B, rule: LambdaRule, bound: f64) {
    for kind in [Phantom::Pieces, Phantom::Smooth] {
        let acq = acquisition_of::<B, T>(be, kind);
        for (k, snr) in [100.0, 30.0, 10.0].into_iter().enumerate() {
            let data = noisy(&acq.clean, snr, 10 + k as u64);
            rule_vs_grid_at(be, &acq, kind, rule, bound, snr, data, false);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn rule_vs_grid_at<B: Backend, T: Real>(
    be: &B,
    acq: &Acquisition<T>,
    kind: Phantom,
    rule: LambdaRule,
    bound: f64,
    snr: f64,
    (proj, sigma): (Array2<T>, f64),
    coloured: bool,
) {
    let mut p = problem(be, acq, &proj);
    let best = grid()
        .into_iter()
        .map(|l| (l, error_at(&mut p, acq, l)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap();
    let est = estimate_noise(proj.view()).unwrap();
    let choice = choose_lambda(
        &mut p,
        &LambdaSearchOptions {
            rule,
            sigma: if coloured {
                est.corrected_sigma
            } else {
                est.sigma
            },
            correlation: if coloured { est.correlation } else { [0.0; 2] },
            ..LambdaSearchOptions::default()
        },
        &mut |_| {},
    )
    .unwrap();
    assert!(choice.warning.is_none(), "{:?}", choice.warning);
    let sol = p
        .solve(
            choice.lambda,
            Some(&choice.start),
            TOL,
            ITERS,
            &mut |_: &TvProgress| {},
        )
        .unwrap();
    let err = rel_err(&p.download(&sol.image).unwrap(), &acq.phantom);
    eprintln!(
            "{kind:?} {rule:?} SNR {snr}: σ {sigma:.4e} estimated {:.4e}; λ {:.3e} error {err:.4}, best on the grid λ {:.3e} error {:.4} (ratio {:.3}), {} trials",
            est.sigma,
            choice.lambda,
            best.0,
            best.1,
            err / best.1,
            choice.trials.len()
        );
    assert!(
            err <= bound * best.1,
            "{rule:?} at SNR {snr}: λ = {:e} gives the error {err}, more than {bound} times the best of the grid ({} at λ = {:e})",
            choice.lambda,
            best.1,
            best.0
        );
}

mod cases {
    pub use super::more_cases::*;
    use super::*;

    /// σ from the data within 20 % of the truth at every noise level (the bound the issue
    /// sets; the estimate is typically within 2 %).
    pub fn noise_estimate<B: Backend>(be: &B) {
        let acq = acquisition::<B, f32>(be);
        for (k, snr) in [300.0, 100.0, 30.0, 10.0, 3.0].into_iter().enumerate() {
            let (proj, sigma) = noisy(&acq.clean, snr, k as u64);
            let e = estimate_noise(proj.view()).unwrap();
            eprintln!("white noise, SNR {snr}: σ = {sigma:e}, {e:?}");
            assert!(
                (e.sigma / sigma - 1.0).abs() < 0.2,
                "SNR {snr}: σ = {sigma:e}, estimated {:e}",
                e.sigma
            );
            assert!(e.stderr < 0.05 * sigma, "{e:?}");
        }
    }

    /// Noise correlated along B like the embedded datasets' (AR(1) of coefficient 0.45: lag-1
    /// autocorrelation 0.45 as measured on them, 0.2 at lag 2, beyond the estimate's model of
    /// two lags): σ within 20 % at SNR 30, 10 and 3, where the white-noise estimate is 35 %
    /// low. At SNR 100 the sharp signal dominates the differences: on this draw the correction
    /// is refused (`corrected_sigma` is the white-noise estimate, flagged); on others it passes
    /// the check and is biased, hence not the default.
    pub fn noise_estimate_coloured<B: Backend>(be: &B) {
        let acq = acquisition::<B, f32>(be);
        let (proj, _) = coloured(&acq.clean, 100.0, 19, 0.45);
        let e = estimate_noise(proj.view()).unwrap();
        assert!(
            !e.correlation_measured && e.corrected_sigma == e.sigma,
            "{e:?}"
        );
        for (k, snr) in [30.0, 10.0, 3.0].into_iter().enumerate() {
            let (proj, sigma) = coloured(&acq.clean, snr, 20 + k as u64, 0.45);
            let e = estimate_noise(proj.view()).unwrap();
            eprintln!("AR(1) noise, SNR {snr}: σ = {sigma:e}, {e:?}");
            assert!(
                (e.corrected_sigma / sigma - 1.0).abs() < 0.2,
                "SNR {snr}: σ = {sigma:e}, estimated {e:?}"
            );
            assert!(e.correlation_measured && e.sigma < 0.8 * sigma, "{e:?}");
            assert!((e.correlation[0] - 0.45).abs() < 0.15, "{e:?}");
        }
    }

    /// SURE on noise correlated along B (AR(1) of coefficient 0.45, the corrected σ and the
    /// correlation estimated from the data): within 1.35 times the best error of the grid, at SNR 30 and 10
    /// on both phantoms (measured: 1.00, 1.29 on the piecewise-constant one, 1.13, 1.33 on the
    /// smooth one; SURE picks λ 2–3 times below the best at SNR 10, where σ is 10 % low).
    pub fn sure_vs_grid_coloured<B: Backend>(be: &B) {
        for kind in [Phantom::Pieces, Phantom::Smooth] {
            let acq = acquisition_of::<B, f32>(be, kind);
            for (k, snr) in [30.0, 10.0].into_iter().enumerate() {
                let data = coloured(&acq.clean, snr, 40 + k as u64, 0.45);
                rule_vs_grid_at(be, &acq, kind, LambdaRule::Sure, 1.35, snr, data, true);
            }
        }
    }

    /// The default rule: within 1.25 times the best error of the grid (measured: 0.98–1.03
    /// over both phantoms, three noise levels and three noise draws).
    pub fn sure_vs_grid<B: Backend>(be: &B) {
        rule_vs_grid::<B, f32>(be, LambdaRule::Sure, 1.25);
    }

    /// The discrepancy rule is more sensitive to the noise estimate (measured: 0.97–1.22 over
    /// the same 18 cases); its bound here is 1.5.
    pub fn discrepancy_vs_grid<B: Backend>(be: &B) {
        rule_vs_grid::<B, f32>(be, LambdaRule::Discrepancy, 1.5);
    }

    /// Pure noise: a finite λ and a message, never a runaway search.
    pub fn pure_noise<B: Backend>(be: &B) {
        let acq = acquisition::<B, f32>(be);
        let zero = Array2::<f32>::zeros(acq.clean.dim());
        let (proj, _) = noisy(&zero.mapv(|_| 1.0f32), 1.0, 3);
        let proj = proj.mapv(|x| x - 1.0);
        let sigma = estimate_noise(proj.view()).unwrap().sigma;
        let mut p = problem(be, &acq, &proj);
        let choice = choose_lambda(
            &mut p,
            &LambdaSearchOptions {
                sigma,
                ..LambdaSearchOptions::default()
            },
            &mut |_| {},
        )
        .unwrap();
        assert!(choice.lambda.is_finite() && choice.lambda > 0.0);
        assert!(choice.trials.len() <= 20, "{} trials", choice.trials.len());
        let w = choice.warning.expect("a warning for noise-only data");
        assert!(w.contains("no signal above the noise"), "{w}");
    }

    /// All-zero projections: the noise estimate says why it cannot choose.
    pub fn all_zero<B: Backend>(_be: &B) {
        let zero = Array2::<f32>::zeros((60, 500));
        let e = estimate_noise(zero.view()).unwrap_err().to_string();
        assert!(e.contains("no noise to measure"), "{e}");
    }

    /// The backend's choice agrees with the CPU backend's (same trials, same λ to 1 %).
    #[cfg(any(feature = "opencl", feature = "cuda"))]
    pub fn same_as_cpu<B: Backend>(be: &B) {
        fn choose<B: Backend>(be: &B, proj: &Array2<f32>, sigma: f64) -> f64 {
            let acq = acquisition::<B, f32>(be);
            let opts = LambdaSearchOptions {
                sigma,
                trial_iters: 100,
                ..LambdaSearchOptions::default()
            };
            choose_lambda(&mut problem(be, &acq, proj), &opts, &mut |_| {})
                .unwrap()
                .lambda
        }
        let cpu = backend_cpu::CpuBackend::new().unwrap();
        let (proj, _) = noisy(&acquisition::<_, f32>(&cpu).clean, 30.0, 5);
        let sigma = estimate_noise(proj.view()).unwrap().sigma;
        let here = choose(be, &proj, sigma);
        let there = choose(&cpu, &proj, sigma);
        assert!(
            (here / there - 1.0).abs() < 0.01,
            "{here} vs {there} on the CPU"
        );
    }
}

/// Automatic λ for the source separation and the spectral-spatial reconstruction (the search
/// of [`choose_lambda`] through [`epri_ops::recon::LambdaProblem`]), on small simulated data.
mod others {
    use super::*;
    use common::dgauss;
    use epri_ops::multisrc::MultiProjector;
    use epri_ops::recon::{
        LambdaProblem, MultiTvProblem, SpectralTvOptions, SpectralTvProblem, StopRule,
    };

    /// Trial cap of the searches and of the grid solves.
    pub const SMALL_ITERS: usize = 500;

    /// `(λ, error)` of the rule and of the best of `grid`, for a problem `P` whose image error
    /// is `err(problem, image)`.
    fn rule_and_grid<B: Backend, T: Real, P: LambdaProblem<B, T>>(
        p: &mut P,
        rule: LambdaRule,
        sigma: f64,
        grid: &[f64],
        err: &dyn Fn(&P, &P::Image) -> f64,
    ) -> ((f64, f64), (f64, f64), usize) {
        let best = grid
            .iter()
            .map(|&l| {
                let u = p.solve_for(l, None, TOL, SMALL_ITERS).unwrap();
                (l, err(p, &u))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        let opts = LambdaSearchOptions {
            rule,
            sigma,
            trial_iters: SMALL_ITERS,
            ..LambdaSearchOptions::default()
        };
        let choice = match choose_lambda(p, &opts, &mut |_| {}) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{rule:?}: {e}");
                return ((f64::NAN, f64::INFINITY), best, 0);
            }
        };
        assert!(choice.warning.is_none(), "{:?}", choice.warning);
        assert!(choice.lambda.is_finite() && choice.lambda > 0.0);
        let u = p
            .solve_for(choice.lambda, Some(&choice.start), TOL, SMALL_ITERS)
            .unwrap();
        ((choice.lambda, err(p, &u)), best, choice.trials.len())
    }

    /// Two sources, 32 × 32 pixels of 0.08 cm each (two disks; a bar and a disk), with
    /// derivative-of-Gaussian spectra of widths 0.3 and 1 G on 200 samples of 0.1 G, mixed in
    /// one sinogram of 40 gradients up to 5 G/cm, plus white noise of `σ = max|s| / snr`.
    /// Returns the problem, σ and the phantoms.
    fn separation<B: Backend>(
        be: &B,
        snr: f64,
        seed: u64,
        signal: bool,
    ) -> (MultiTvProblem<B, f32>, f64, Vec<ArrayD<f32>>) {
        let n = 32;
        let nb = 200;
        let b64 = Array1::from_iter((0..nb).map(|i| 350.0 + 0.1 * i as f64));
        let h: Vec<Array1<f32>> = vec![dgauss(&b64, 360.0, 0.3), dgauss(&b64, 360.0, 1.0)];
        let p = 40;
        let fgrad = Array2::from_shape_fn((2, p), |(r, k)| {
            let th = PI * k as f64 / p as f64;
            (5.0 * if r == 0 { th.cos() } else { th.sin() }) as f32
        });
        let g = Geometry::new(b64.mapv(|x| x as f32).view(), 0.08f32, fgrad.view()).unwrap();
        let c = n as f64 / 2.0;
        let img = |f: &dyn Fn(f64, f64) -> f64| {
            ArrayD::from_shape_fn(IxDyn(&[n, n]), |ix| {
                f(ix[1] as f64 - c, ix[0] as f64 - c) as f32
            })
        };
        let disk = |x: f64, y: f64, cx: f64, cy: f64, r: f64| {
            if (x - cx).powi(2) + (y - cy).powi(2) < r * r {
                1.0
            } else {
                0.0
            }
        };
        let phantoms = vec![
            img(&|x, y| disk(x, y, 5.0, 4.0, 6.0) + 0.6 * disk(x, y, -8.0, 8.0, 3.0)),
            img(&|x, y| {
                let bar = if (x + 2.0).abs() < 9.0 && (y + 9.0).abs() < 2.0 {
                    0.8
                } else {
                    0.0
                };
                bar + 1.2 * disk(x, y, -6.0, -2.0, 4.0)
            }),
        ];
        let shapes = vec![vec![n, n], vec![n, n]];
        let hv = vec![h.iter().map(|x| x.view()).collect::<Vec<_>>()];
        let mut a = MultiProjector::new(
            be,
            std::slice::from_ref(&g),
            &hv,
            &shapes,
            ProjectorOptions::default(),
        )
        .unwrap();
        let views: Vec<_> = phantoms.iter().map(|x| x.view()).collect();
        let mut clean = a.project_host(&views).unwrap().remove(0);
        if !signal {
            clean.fill(0.0);
        }
        let (proj, sigma) = if signal {
            noisy(&clean, snr, seed)
        } else {
            let (x, _) = noisy(&clean.mapv(|_| 1.0f32), 1.0, seed);
            (x.mapv(|v| v - 1.0), 1.0)
        };
        let problem = MultiTvProblem::new(
            be,
            &[proj.view()],
            std::slice::from_ref(&g),
            &hv,
            &shapes,
            &TvOptions::default(),
            None,
        )
        .unwrap();
        (problem, sigma, phantoms)
    }

    /// Relative error of the separated sources (both images together) to the phantoms.
    fn separation_error<B: Backend>(
        p: &MultiTvProblem<B, f32>,
        u: &[B::Buffer<f32>],
        truth: &[ArrayD<f32>],
    ) -> f64 {
        let got = p.download(u).unwrap();
        let (mut num, mut den) = (0.0, 0.0);
        for (a, b) in got.iter().zip(truth) {
            let e = rel_err(a, b);
            let n2 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>();
            num += e * e * n2;
            den += n2;
        }
        (num / den).sqrt()
    }

    /// The grid of the separation: `10^(−5 + 4k/11)`, k = 0..11 (1e-5 to 0.1).
    pub fn separation_grid() -> Vec<f64> {
        (0..12)
            .map(|k| 10f64.powf(-5.0 + 4.0 * k as f64 / 11.0))
            .collect()
    }

    /// Separation: SURE's λ gives an error within `bound` times the best of the grid, at peak
    /// SNR 30 and 10.
    pub fn separation_vs_grid<B: Backend>(be: &B, bound: f64) {
        for (snr, seed) in [(30.0, 21), (10.0, 22)] {
            let (mut p, _, truth) = separation(be, snr, seed, true);
            let sigma = {
                let proj = be.download(&p.sinograms()[0]).unwrap();
                let proj = proj.into_dimensionality::<Ix2>().unwrap();
                estimate_noise(proj.view()).unwrap().sigma
            };
            let err = |p: &MultiTvProblem<B, f32>, u: &Vec<B::Buffer<f32>>| {
                separation_error(p, u, &truth)
            };
            let ((l, e), (lb, eb), trials) =
                rule_and_grid(&mut p, LambdaRule::Sure, sigma, &separation_grid(), &err);
            eprintln!(
                "separation SNR {snr}: SURE λ {l:.3e} error {e:.4}, grid best λ {lb:.3e} error {eb:.4} (ratio {:.3}), {trials} trials",
                e / eb
            );
            assert!(e <= bound * eb, "SNR {snr}: {e} vs {eb} at λ = {lb:e}");
        }
    }

    /// Separation of pure noise: a finite λ and the no-signal warning.
    pub fn separation_pure_noise<B: Backend>(be: &B) {
        let (mut p, _, _) = separation(be, 1.0, 23, false);
        let proj = be.download(&p.sinograms()[0]).unwrap();
        let sigma = estimate_noise(proj.into_dimensionality::<Ix2>().unwrap().view())
            .unwrap()
            .sigma;
        let opts = LambdaSearchOptions {
            sigma,
            trial_iters: 100,
            ..LambdaSearchOptions::default()
        };
        let choice = choose_lambda(&mut p, &opts, &mut |_| {}).unwrap();
        assert!(choice.lambda.is_finite() && choice.lambda > 0.0);
        assert!(choice.trials.len() <= 20, "{} trials", choice.trials.len());
        let w = choice.warning.expect("a warning for noise-only data");
        assert!(w.contains("no signal above the noise"), "{w}");
    }

    /// Derivative of a Lorentzian of peak-to-peak width `wpp` (G) centred at `bc`.
    fn dlorentz(b: f64, bc: f64, wpp: f64) -> f64 {
        let g = 3f64.sqrt() / 2.0 * wpp;
        -2.0 * g / PI * (b - bc) / ((b - bc).powi(2) + g * g).powi(2)
    }

    /// A tiny spectral-spatial case: 16 field samples over 20 G, 6 × 6 × 6 voxels of 0.05 cm
    /// holding two balls of derivative Lorentzians (2 and 4 G wide), 250 gradients up to
    /// 12 G/cm (4000 measurements for 3456 unknowns: with 60 gradients, fewer measurements
    /// than unknowns, SURE, which estimates the error of `A u`, keeps asking for a smaller λ), white noise `σ = max|s| / snr`; `λ_B = 0`. Returns the problem, σ, the phantom.
    fn spectral_case<B: Backend>(
        be: &B,
        snr: f64,
        seed: u64,
    ) -> (SpectralTvProblem<B, f32>, f64, ArrayD<f32>) {
        let (nb, n, p, delta) = (16, 6, 250, 0.05);
        let b = Array1::linspace(390.0f32, 410.0, nb);
        let golden = PI * (3.0 - 5f64.sqrt());
        let fgrad = Array2::from_shape_fn((3, p), |(a, k)| {
            let z = 1.0 - (2 * k + 1) as f64 / p as f64;
            let r = (1.0 - z * z).sqrt();
            let ph = golden * k as f64;
            (12.0 * (0.4 + 0.6 * ((k * 7) % 5) as f64 / 4.0) * [r * ph.cos(), r * ph.sin(), z][a])
                as f32
        });
        let g = Geometry::new(b.view(), delta as f32, fgrad.view()).unwrap();
        let balls = [
            ([-0.06, 0.03, 0.0], 0.09, 2.0, 1.0),
            ([0.06, -0.03, 0.03], 0.07, 4.0, 1.5),
        ];
        let shape = [nb, n, n, n];
        let phantom = ArrayD::from_shape_fn(IxDyn(&shape), |ix| {
            let pos = [1, 2, 3].map(|a| (ix[a] as f64 - (n / 2) as f64) * delta);
            balls
                .iter()
                .find(|(c, r, _, _)| (0..3).map(|a| (pos[a] - c[a]).powi(2)).sum::<f64>() <= r * r)
                .map_or(0.0, |(_, _, w, amp)| {
                    (amp * dlorentz(b[ix[0]] as f64, 400.0, *w)) as f32
                })
        });
        let mut a =
            Projector::new_spectral(be, &g, &shape, false, ProjectorOptions::default()).unwrap();
        let mut s = be.zeros::<f32>(&g.sino_shape()).unwrap();
        a.apply(&be.upload(phantom.view()).unwrap(), &mut s)
            .unwrap();
        let clean = be
            .download(&s)
            .unwrap()
            .into_dimensionality::<Ix2>()
            .unwrap();
        let (proj, sigma) = noisy(&clean, snr, seed);
        let problem = SpectralTvProblem::new(
            be,
            proj.view(),
            &g,
            &shape,
            &SpectralTvOptions {
                tv: TvOptions {
                    stop: StopRule::Change,
                    ..TvOptions::default()
                },
                ..SpectralTvOptions::default()
            },
        )
        .unwrap();
        (problem, sigma, phantom)
    }

    /// The grid of the spectral case: `10^(−6 + 4k/11)`, k = 0..11 (1e-6 to 1e-2).
    pub fn spectral_grid() -> Vec<f64> {
        (0..12)
            .map(|k| 10f64.powf(-6.0 + 4.0 * k as f64 / 11.0))
            .collect()
    }

    /// Spectral-spatial: the discrepancy rule's spatial λ (σ known) within `bound` times the
    /// best of the grid, at peak SNR 10 and 3 (measured ratios 0.96 and 1.01). SURE is not
    /// reliable on this case: at SNR 10 it keeps decreasing down to λ = 1e-6 (an error), at
    /// SNR 3 it stops on its plateau at λ = 1 (ratio 1.10), and at SNR 30 the discrepancy
    /// rule fails too (the residual stays at 1.005 m σ² down to λ = 1e-6 within the trials'
    /// 500 iterations).
    pub fn spectral_vs_grid<B: Backend>(be: &B, bound: f64) {
        for (snr, seed) in [(10.0, 32), (3.0, 33)] {
            let rule = LambdaRule::Discrepancy;
            let (mut p, sigma, truth) = spectral_case(be, snr, seed);
            let err = |p: &SpectralTvProblem<B, f32>, u: &B::Buffer<f32>| {
                rel_err(&p.download(u).unwrap(), &truth)
            };
            let ((l, e), (lb, eb), trials) =
                rule_and_grid(&mut p, rule, sigma, &spectral_grid(), &err);
            eprintln!(
                "spectral {rule:?} SNR {snr}: λ {l:.3e} error {e:.4}, grid best λ {lb:.3e} error {eb:.4} (ratio {:.3}), {trials} trials",
                e / eb
            );
            assert!(e <= bound * eb, "SNR {snr}: {e} vs {eb} at λ = {lb:e}");
        }
    }
}

mod more_cases {
    use super::*;

    /// Separation: within 1.3 times the best error of the grid (measured 1.16 at SNR 30, 1.08
    /// at SNR 10, 9 trials each).
    pub fn separation_vs_grid<B: Backend>(be: &B) {
        others::separation_vs_grid(be, 1.3);
    }

    pub fn separation_pure_noise<B: Backend>(be: &B) {
        others::separation_pure_noise(be);
    }

    /// Spectral-spatial (discrepancy rule): within 1.3 times the best error of the grid.
    pub fn spectral_vs_grid<B: Backend>(be: &B) {
        others::spectral_vs_grid(be, 1.3);
    }
}

macro_rules! lambda_suite {
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

lambda_suite!(cpu, backend_cpu::CpuBackend::new, {
    noise_estimate, noise_estimate_coloured, discrepancy_vs_grid, sure_vs_grid,
    sure_vs_grid_coloured, pure_noise, all_zero,
    separation_vs_grid, separation_pure_noise, spectral_vs_grid,
});

#[cfg(feature = "opencl")]
lambda_suite!(opencl, || backend_opencl::OpenClBackend::new(None), {
    noise_estimate, noise_estimate_coloured, pure_noise, same_as_cpu,
});

#[cfg(feature = "cuda")]
lambda_suite!(cuda, || backend_cuda::CudaBackend::new(0), {
    noise_estimate, pure_noise, same_as_cpu, discrepancy_vs_grid,
});
