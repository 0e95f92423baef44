//! Automatic choice of the TV weight `λ` of a reconstruction from the noise level `σ` of the
//! projections (see [`crate::noise`]): of [`super::tv_monosrc`] ([`TvProblem`]), of the source
//! separation ([`super::tv_multisrc::MultiTvProblem`]) and of the spectral-spatial
//! reconstruction ([`super::tv_spectral::SpectralTvProblem`], spatial weight), through the
//! small interface [`LambdaProblem`] (solve for a `λ` from a start, project, swap the
//! measured projections).
//!
//! Two rules:
//!
//! * [`LambdaRule::Sure`] (the default): minimise Stein's unbiased estimate of the prediction
//!   risk `E‖A u_λ − A u_true‖²`, `SURE(λ) = ‖A u_λ − s‖² − m σ² + 2 σ² div` (`m = P · Nb`
//!   measurements), where the divergence of `s ↦ A u_λ(s)` is estimated by Monte-Carlo (Ramani,
//!   Blu, Unser, IEEE Trans. Image Process. 17 (2008) 1540): `div ≈ bᵀ(A u_λ(s + ε b) −
//!   A u_λ(s)) / ε` for one Gaussian probe `b` and `ε = σ / 5`. Each trial costs two solves.
//!   `σ` only weighs the divergence term, so an error of a few percent on `σ` barely moves the
//!   minimiser. For noise correlated along B (autocorrelation `ρ_j` at lag `j`,
//!   [`LambdaSearchOptions::correlation`]), the term is `2 tr(Σ J)` with `Σ` the noise
//!   covariance and `J` the Jacobian of `s ↦ A u_λ(s)`, estimated by `(Σ b)ᵀ(A u_λ(s + ε b) −
//!   A u_λ(s)) / ε` (`Σ b`: the probe filtered along B by `σ² (1, ρ_1, ρ_2, ...)`): such noise
//!   has more power at the low frequencies the reconstruction keeps, and the white-noise term
//!   would under-weigh the fit to it.
//! * [`LambdaRule::Discrepancy`]: find `λ_DP` where the squared residual reaches the noise,
//!   `‖A u_λ − s‖² = τ m σ²` (`τ = 1`), then take `λ = λ_DP / 2`. The residual grows with `λ`,
//!   so `λ_DP` is found by bracketing (factors of 10 from `λ = 1`) and bisection in `log λ`.
//!   The residual is flat near the optimum, so the rule is sensitive to `σ`; and the plain
//!   principle over-regularises (image error 1.13–1.9 times the best of a `λ` grid in a
//!   prototype), hence the factor 1/2.
//!
//! Measured on simulated acquisitions (the test `epri-ops/tests/lambda.rs`: a
//! piecewise-constant and a smooth 64 × 64 phantom, 60 projections of a real spectrum, peak
//! SNR 100, 30 and 10, three noise draws each): the image error at the chosen `λ` divided by the
//! best error over 12 values of `λ` from 0.1 to 316 was 0.98–1.03 for SURE and 0.97–1.22 for
//! the discrepancy rule.
//!
//! Each trial runs at most [`LambdaSearchOptions::trial_iters`] iterations, warm-started from the
//! nearest `λ` already solved; the projector, Toeplitz kernel and Lipschitz constant are built
//! once ([`TvProblem`]).

use super::stop::StopRule;
use super::tv::{TvProblem, TvProgress};
use crate::error::{Error, Result};
use crate::noise::CORRELATION_LAGS;
use backend_core::{Backend, Binary, DeviceBuffer, Real, Reduce};
use ndarray::{ArrayD, Axis};

/// A reconstruction set up once whose weight `λ` [`choose_lambda`] can choose: the data term
/// `½ Σ_i ‖(A u)_i − s_i‖²` over one or several measured sinograms `s_i` (on the device), and a
/// solver for any `λ` from any start.
pub trait LambdaProblem<B: Backend, T: Real> {
    /// The unknown on the device: one image, or one per source.
    type Image;
    /// The backend the problem lives on.
    fn backend(&self) -> &B;
    /// Fails when the normalised weight `lambda` gives step sizes the working precision cannot
    /// hold.
    fn check_lambda(&self, lambda: f64) -> Result<()>;
    /// The measured sinograms `s_i`, one per experimental setting.
    fn sinograms(&self) -> &[B::Buffer<T>];
    /// Replaces the measured sinograms (same shapes) and what depends on them (`A* s`).
    fn set_sinograms(&mut self, s: &[B::Buffer<T>]) -> Result<()>;
    /// `out_i <- (A u)_i`.
    fn forward(&mut self, u: &Self::Image, out: &mut [B::Buffer<T>]) -> Result<()>;
    /// Solves for the normalised weight `lambda` from `start` (default: the problem's initial
    /// image) until the relative change falls below `tol` or `max_iter` iterations.
    fn solve_for(
        &mut self,
        lambda: f64,
        start: Option<&Self::Image>,
        tol: f64,
        max_iter: usize,
    ) -> Result<Self::Image>;
    /// A copy of `u` on the device.
    fn clone_image(&self, u: &Self::Image) -> Result<Self::Image>;
}

impl<B: Backend, T: Real> LambdaProblem<B, T> for TvProblem<B, T> {
    type Image = B::Buffer<T>;
    fn backend(&self) -> &B {
        TvProblem::backend(self)
    }
    fn check_lambda(&self, lambda: f64) -> Result<()> {
        TvProblem::check_lambda(self, lambda)
    }
    fn sinograms(&self) -> &[B::Buffer<T>] {
        std::slice::from_ref(self.projections())
    }
    fn set_sinograms(&mut self, s: &[B::Buffer<T>]) -> Result<()> {
        self.set_projections(&s[0])
    }
    fn forward(&mut self, u: &Self::Image, out: &mut [B::Buffer<T>]) -> Result<()> {
        self.project(u, &mut out[0])
    }
    fn solve_for(
        &mut self,
        lambda: f64,
        start: Option<&Self::Image>,
        tol: f64,
        max_iter: usize,
    ) -> Result<Self::Image> {
        let mut quiet = |_: &TvProgress| {};
        Ok(self
            .solve_with(lambda, start, tol, max_iter, StopRule::Change, &mut quiet)?
            .image)
    }
    fn clone_image(&self, u: &Self::Image) -> Result<Self::Image> {
        Ok(TvProblem::backend(self).duplicate(u)?)
    }
}

/// How `λ` is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LambdaRule {
    /// The minimiser of the Monte-Carlo SURE estimate of the prediction risk (the default).
    Sure,
    /// Half the weight at which the residual reaches the noise (discrepancy principle).
    Discrepancy,
}

/// Options of [`choose_lambda`].
#[derive(Clone, Debug)]
pub struct LambdaSearchOptions {
    /// The rule.
    pub rule: LambdaRule,
    /// Noise standard deviation `σ` of one measurement, in the unit of the projections.
    pub sigma: f64,
    /// Autocorrelation of the noise along B (the last axis of the sinograms) at lags 1, 2, ...
    /// (zeros: white noise), e.g. [`crate::noise::NoiseEstimate::correlation`]; used by
    /// [`LambdaRule::Sure`].
    pub correlation: [f64; CORRELATION_LAGS],
    /// `τ` of the discrepancy principle (target residual `τ m σ²`).
    pub tau: f64,
    /// Iteration cap of each trial.
    pub trial_iters: usize,
    /// Stopping tolerance (relative change) of each trial.
    pub trial_tol: f64,
    /// Smallest and largest `λ` tried.
    pub range: (f64, f64),
    /// Seed of the SURE probe.
    pub seed: u64,
}

impl Default for LambdaSearchOptions {
    fn default() -> Self {
        LambdaSearchOptions {
            rule: LambdaRule::Sure,
            sigma: 0.0,
            correlation: [0.0; CORRELATION_LAGS],
            tau: 1.0,
            trial_iters: 200,
            trial_tol: 1e-5,
            range: (1e-6, 1e6),
            seed: 0x5eed,
        }
    }
}

/// One solved trial.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LambdaTrial {
    /// The normalised weight tried.
    pub lambda: f64,
    /// `‖A u_λ − s‖² / (m σ²)`.
    pub residual: f64,
    /// `SURE(λ) / (m σ²)` (rule [`LambdaRule::Sure`] only).
    pub sure: Option<f64>,
}

/// The outcome of [`choose_lambda`] (`I`: the problem's image type).
pub struct LambdaChoice<I> {
    /// The chosen normalised weight.
    pub lambda: f64,
    /// For the discrepancy rule, `λ_DP` (the chosen `λ` is half of it).
    pub lambda_discrepancy: Option<f64>,
    /// Every trial, in the order solved.
    pub trials: Vec<LambdaTrial>,
    /// The trial image nearest to the chosen `λ` (a warm start for the final solve).
    pub start: I,
    /// Set for noise-only data (no signal above the noise, or the rule hit the largest `λ`):
    /// what happened, for the user.
    pub warning: Option<String>,
}

/// `‖s‖² / (m σ²)` below which the projections are reported as holding no signal above the
/// noise.
pub const NO_SIGNAL_ENERGY: f64 = 1.1;

/// `‖A u_λ − s‖² / (m σ²)` above which a λ is taken as far over-regularised by the SURE search,
/// which then starts lower: SURE `= residual − m σ² + 2σ² div` is minimal where the residual is
/// near or below `m σ²`, and far above it the image barely changes with `λ` (a plateau of SURE,
/// on which the walk would stop at random). Measured on the separation and spectral-spatial
/// tests, whose best λ are 1e-4 and 1e-5 (the normalisations of PyEPRI put the mono-source
/// optimum near 1, not theirs).
pub const UNDERFIT_RESIDUAL: f64 = 1.5;

/// Factor between `λ_DP` and the chosen `λ` for [`LambdaRule::Discrepancy`].
pub const DISCREPANCY_FACTOR: f64 = 0.5;

/// How many trial images [`Search`] keeps on the device for warm starts.
const KEPT_IMAGES: usize = 4;

/// Index of the kept image whose `λ` is nearest to `lambda` (in `log λ`).
fn nearest<U>(trials: &[LambdaTrial], images: &[Option<U>], lambda: f64) -> Option<usize> {
    (0..trials.len())
        .filter(|&k| images[k].is_some())
        .min_by(|&a, &b| {
            let da = (trials[a].lambda / lambda).ln().abs();
            let db = (trials[b].lambda / lambda).ln().abs();
            da.total_cmp(&db)
        })
}

/// The trials run so far, with the image of each kept for warm starts.
struct Search<'p, B: Backend, T: Real, P: LambdaProblem<B, T>> {
    problem: &'p mut P,
    opts: &'p LambdaSearchOptions,
    trials: Vec<LambdaTrial>,
    /// The images of the trials, parallel to `trials`; only the [`KEPT_IMAGES`] nearest to the
    /// latest trial are kept (the others are `None`), which bounds the device memory.
    images: Vec<Option<P::Image>>,
    /// `m σ²`.
    noise: f64,
    /// The projections hold no signal above the noise (no decade steps down in SURE's search).
    no_signal: bool,
    /// Sinogram scratch `A u`, one per setting.
    sino: Vec<B::Buffer<T>>,
    /// For SURE: the probe `b`, `s + ε b`, the measured `s`, and a sinogram scratch.
    probe: Option<Probe<B, T>>,
}

/// The Monte-Carlo divergence probe of SURE, one sinogram per setting each.
struct Probe<B: Backend, T: Real> {
    /// The probe `b` filtered by the noise correlation along B (`b` itself for white noise).
    b: Vec<B::Buffer<T>>,
    perturbed: Vec<B::Buffer<T>>,
    measured: Vec<B::Buffer<T>>,
    sino_b: Vec<B::Buffer<T>>,
    eps: f64,
}

/// `Σ_i ‖a_i − b_i‖²`.
fn sq_dist<B: Backend, T: Real>(be: &B, a: &[B::Buffer<T>], b: &[B::Buffer<T>]) -> Result<f64> {
    let mut s = 0.0;
    for (x, y) in a.iter().zip(b) {
        s += be.sq_dist(x, y)?.f64();
    }
    Ok(s)
}

impl<B: Backend, T: Real, P: LambdaProblem<B, T>> Search<'_, B, T, P> {
    /// Solves for `lambda` warm-started from the trial with the nearest `log λ`.
    fn trial(&mut self, lambda: f64, report: &mut dyn FnMut(&LambdaTrial)) -> Result<LambdaTrial> {
        let (tol, iters) = (self.opts.trial_tol, self.opts.trial_iters);
        let start = match nearest(&self.trials, &self.images, lambda) {
            Some(k) => self.images[k].as_ref(),
            None => None,
        };
        let start = match start {
            Some(u) => Some(self.problem.clone_image(u)?),
            None => None,
        };
        let image = self.problem.solve_for(lambda, start.as_ref(), tol, iters)?;
        let be = self.problem.backend().clone();
        self.problem.forward(&image, &mut self.sino)?;
        let residual = sq_dist(&be, &self.sino, self.problem.sinograms())? / self.noise;
        let sure = match &mut self.probe {
            None => None,
            Some(p) => {
                self.problem.set_sinograms(&p.perturbed)?;
                let image_b = self.problem.solve_for(lambda, Some(&image), tol, iters);
                self.problem.set_sinograms(&p.measured)?;
                self.problem.forward(&image_b?, &mut p.sino_b)?;
                let mut div = 0.0;
                for ((sb, s), b) in p.sino_b.iter_mut().zip(&self.sino).zip(&p.b) {
                    be.zip(Binary::Sub, sb, s)?;
                    div += be.dot(b, sb)?.f64();
                }
                let div = div / p.eps;
                let sigma2 = self.opts.sigma * self.opts.sigma;
                Some(residual - 1.0 + 2.0 * sigma2 * div / self.noise)
            }
        };
        let t = LambdaTrial {
            lambda,
            residual,
            sure,
        };
        if !(residual.is_finite() && sure.is_none_or(f64::is_finite)) {
            return Err(Error::NonFinite(format!(
                "the residual of the trial reconstruction at λ = {lambda:e}"
            )));
        }
        report(&t);
        self.trials.push(t);
        self.images.push(Some(image));
        // Keep the KEPT_IMAGES images nearest to this λ.
        let mut kept: Vec<usize> = (0..self.trials.len())
            .filter(|&k| self.images[k].is_some())
            .collect();
        kept.sort_by(|&a, &b| {
            let da = (self.trials[a].lambda / lambda).ln().abs();
            let db = (self.trials[b].lambda / lambda).ln().abs();
            da.total_cmp(&db)
        });
        for &k in kept.iter().skip(KEPT_IMAGES) {
            self.images[k] = None;
        }
        Ok(t)
    }

    /// The trials in the order solved, and the kept image nearest to `lambda`.
    fn finish(mut self, lambda: f64) -> Result<(Vec<LambdaTrial>, P::Image)> {
        let k = nearest(&self.trials, &self.images, lambda)
            .ok_or_else(|| Error::Parameter("no λ trial was solved".into()))?;
        let image = self.images.swap_remove(k).expect("a kept image");
        Ok((self.trials, image))
    }
}

/// Chooses `λ` for `problem` by `opts.rule`, calling `report` after each trial. The problem's
/// projections are the measured ones again when this returns.
///
/// Errors: `σ` not positive and finite, a range that is not `0 < lo < hi`, a trial that fails,
/// and a rule that keeps asking for a smaller `λ` down to the smallest one (the residual stays
/// above `τ m σ²`, or SURE keeps decreasing): the data do not fit the white-noise model at this
/// `σ` (correlated noise, model error), and the error says so rather than returning an
/// unregularised image. Noise-only data (the residual stays below the target, or SURE keeps
/// decreasing, up to the largest `λ`) are not an error: the largest `λ` is chosen and
/// [`LambdaChoice::warning`] says why.
pub fn choose_lambda<B: Backend, T: Real, P: LambdaProblem<B, T>>(
    problem: &mut P,
    opts: &LambdaSearchOptions,
    report: &mut dyn FnMut(&LambdaTrial),
) -> Result<LambdaChoice<P::Image>> {
    let (lo, hi) = opts.range;
    if !(opts.sigma > 0.0 && opts.sigma.is_finite()) {
        return Err(Error::Parameter(format!(
            "noise level σ = {:e} (must be positive and finite to choose λ)",
            opts.sigma
        )));
    }
    if !opts.correlation.iter().all(|c| c.abs() < 1.0) {
        return Err(Error::Parameter(format!(
            "noise autocorrelation {:?} along B (each must be in (−1, 1))",
            opts.correlation
        )));
    }
    if !(lo > 0.0 && lo < hi && hi.is_finite() && opts.tau > 0.0 && opts.tau.is_finite()) {
        return Err(Error::Parameter(format!(
            "λ range {lo:e}..{hi:e}, τ = {} (need 0 < lo < hi and τ > 0)",
            opts.tau
        )));
    }
    // The part of the range the working precision can hold.
    let (mut lo, mut hi) = (lo, hi);
    while hi > lo && problem.check_lambda(hi).is_err() {
        hi /= 10.0;
    }
    while lo < hi && problem.check_lambda(lo).is_err() {
        lo *= 10.0;
    }
    problem.check_lambda(lo)?;
    let opts = &LambdaSearchOptions {
        range: (lo, hi),
        ..opts.clone()
    };
    let be = problem.backend().clone();
    let m: usize = problem.sinograms().iter().map(|s| s.len()).sum();
    let m = m as f64;
    let noise = m * opts.sigma * opts.sigma;
    // ‖s‖² of pure noise is m σ² within a few (2/m)^½ (chi-square with m degrees of freedom)
    // and a few percent of error on an estimated σ: below NO_SIGNAL_ENERGY, the signal's
    // power is under a tenth of the noise's.
    let mut energy = 0.0;
    for s in problem.sinograms() {
        energy += be.reduce(Reduce::SumSq, s)?.f64();
    }
    let energy = energy / noise;
    let no_signal = (energy < NO_SIGNAL_ENERGY + 3.0 * (2.0 / m).sqrt()).then(|| {
        format!(
            "the projections hold no signal above the noise (‖s‖² = {energy:.4} m σ² at σ = {:.4e}): λ is chosen from noise alone",
            opts.sigma
        )
    });
    let dup = |v: &[B::Buffer<T>]| -> Result<Vec<B::Buffer<T>>> {
        Ok(v.iter()
            .map(|x| be.duplicate(x))
            .collect::<backend_core::Result<_>>()?)
    };
    let sino = dup(problem.sinograms())?;
    let probe = match opts.rule {
        LambdaRule::Discrepancy => None,
        LambdaRule::Sure => {
            let eps = opts.sigma / 5.0;
            let measured = dup(problem.sinograms())?;
            let mut b = Vec::with_capacity(measured.len());
            let mut perturbed = Vec::with_capacity(measured.len());
            for (i, s) in measured.iter().enumerate() {
                let bi = be.randn(
                    s.shape(),
                    T::zero(),
                    T::one(),
                    opts.seed.wrapping_add(i as u64),
                )?;
                let mut pi = be.duplicate(&bi)?;
                be.axpby(T::one(), s, T::of(eps), &mut pi)?;
                b.push(if opts.correlation.iter().all(|&c| c == 0.0) {
                    bi
                } else {
                    be.upload(
                        correlate_along_last_axis(&be.download(&bi)?, &opts.correlation).view(),
                    )?
                });
                perturbed.push(pi);
            }
            Some(Probe {
                sino_b: dup(&measured)?,
                b,
                perturbed,
                measured,
                eps,
            })
        }
    };
    let mut search = Search {
        problem,
        opts,
        trials: Vec::new(),
        images: Vec::new(),
        noise,
        no_signal: no_signal.is_some(),
        sino,
        probe,
    };
    let (lambda, lambda_dp, warning) = match opts.rule {
        LambdaRule::Discrepancy => {
            let (dp, warning) = discrepancy(&mut search, report)?;
            ((dp * DISCREPANCY_FACTOR).max(lo), Some(dp), warning)
        }
        LambdaRule::Sure => {
            let (l, warning) = sure_minimum(&mut search, report)?;
            (l, None, warning)
        }
    };
    let (trials, start) = search.finish(lambda)?;
    Ok(LambdaChoice {
        lambda,
        lambda_discrepancy: lambda_dp,
        trials,
        start,
        warning: match (no_signal, warning) {
            (Some(a), Some(b)) => Some(format!("{a}; {b}")),
            (a, b) => a.or(b),
        },
    })
}

/// `Σ b / σ²` for noise of autocorrelation `rho` (lags 1, 2, ...) along the last axis of `b`:
/// `b_i + Σ_j ρ_j (b_{i−j} + b_{i+j})` along each line (terms outside the line left out).
fn correlate_along_last_axis<T: Real>(b: &ArrayD<T>, rho: &[f64]) -> ArrayD<T> {
    let mut out = b.clone();
    let last = Axis(b.ndim() - 1);
    for (mut o, line) in out.lanes_mut(last).into_iter().zip(b.lanes(last)) {
        let n = line.len();
        for (i, oi) in o.iter_mut().enumerate() {
            let mut v = line[i].f64();
            for (j, &r) in rho.iter().enumerate().map(|(j, r)| (j + 1, r)) {
                if i >= j {
                    v += r * line[i - j].f64();
                }
                if i + j < n {
                    v += r * line[i + j].f64();
                }
            }
            *oi = T::of(v);
        }
    }
    out
}

/// `λ_DP`: bracket the crossing of the residual with `τ` by factors of 10 from `λ = 1` (clamped
/// to the range), then bisect in `log λ` (regula falsi on `log λ` against the residual) until
/// the bracket is narrower than a factor 1.15 or after 8 steps.
fn discrepancy<B: Backend, T: Real, P: LambdaProblem<B, T>>(
    s: &mut Search<'_, B, T, P>,
    report: &mut dyn FnMut(&LambdaTrial),
) -> Result<(f64, Option<String>)> {
    let (lo, hi) = s.opts.range;
    let tau = s.opts.tau;
    let mut lambda = 1f64.clamp(lo, hi);
    let mut r = s.trial(lambda, report)?.residual;
    // Bracket [a, b] with r(a) < τ <= r(b).
    let (mut a, mut ra, mut b, mut rb);
    if r < tau {
        loop {
            if lambda >= hi {
                return Ok((
                    hi,
                    Some(format!(
                        "the residual stays below the noise level up to λ = {hi:e} ({r:.3} m σ² there): the projections are indistinguishable from noise at σ = {:.4e}; λ = {hi:e} was used",
                        s.opts.sigma
                    )),
                ));
            }
            let next = (lambda * 10.0).min(hi);
            let rn = s.trial(next, report)?.residual;
            if rn >= tau {
                (a, ra, b, rb) = (lambda, r, next, rn);
                break;
            }
            (lambda, r) = (next, rn);
        }
    } else {
        loop {
            if lambda <= lo {
                return Err(Error::Parameter(format!(
                    "cannot choose λ: the residual stays above the noise level down to λ = {lo:e} ({r:.3} m σ² there at σ = {:.4e}): the model does not fit these data to the noise level (noise correlated along B, a reference spectrum unlike the sample's, or σ too low); give λ by hand (PyEPRI's examples use 2e-5 to 500)",
                    s.opts.sigma
                )));
            }
            let next = (lambda / 10.0).max(lo);
            let rn = s.trial(next, report)?.residual;
            if rn < tau {
                (a, ra, b, rb) = (next, rn, lambda, r);
                break;
            }
            (lambda, r) = (next, rn);
        }
    }
    for _ in 0..8 {
        if b / a < 1.15 {
            break;
        }
        // Interpolate log λ linearly in the residual, kept away from the ends.
        let (la, lb) = (a.ln(), b.ln());
        let w = ((tau - ra) / (rb - ra)).clamp(0.2, 0.8);
        let m = (la + w * (lb - la)).exp();
        let rm = s.trial(m, report)?.residual;
        if rm < tau {
            (a, ra) = (m, rm);
        } else {
            (b, rb) = (m, rm);
        }
    }
    let (la, lb) = (a.ln(), b.ln());
    let w = ((tau - ra) / (rb - ra)).clamp(0.0, 1.0);
    Ok(((la + w * (lb - la)).exp(), None))
}

/// The SURE minimiser: from `λ = 1`, decades down while the residual exceeds
/// [`UNDERFIT_RESIDUAL`], then steps of a factor 4 downhill until SURE rises, two golden-section
/// refinements, and a parabola through the three best points in `log λ`.
fn sure_minimum<B: Backend, T: Real, P: LambdaProblem<B, T>>(
    s: &mut Search<'_, B, T, P>,
    report: &mut dyn FnMut(&LambdaTrial),
) -> Result<(f64, Option<String>)> {
    let (lo, hi) = s.opts.range;
    let sure_at = |s: &mut Search<'_, B, T, P>, l: f64, report: &mut dyn FnMut(&LambdaTrial)| {
        s.trial(l, report).map(|t| t.sure.expect("SURE trial"))
    };
    let step = 4f64;
    // From λ = 1, decades down while the fit is far from the noise level: there SURE is a
    // plateau (the image barely changes with λ) on which a walk would stop at random. Not for
    // noise-only data, whose residual says nothing about the fit.
    let mut x1 = 1f64.clamp(lo, hi);
    let mut t = s.trial(x1, report)?;
    while t.residual > UNDERFIT_RESIDUAL && x1 > lo && !s.no_signal {
        x1 = (x1 / 10.0).max(lo);
        t = s.trial(x1, report)?;
    }
    let mut f1 = t.sure.expect("SURE trial");
    let mut x2 = (x1 * step).min(hi);
    let mut f2 = sure_at(s, x2, report)?;
    let dir = if f2 < f1 { step } else { 1.0 / step };
    if f2 >= f1 {
        (x1, f1, x2, f2) = (x2, f2, x1, f1);
    }
    // Now f2 < f1 (or equal) and x2 = x1 · dir: walk in direction dir.
    let mut warning = None;
    let x3 = loop {
        let next = (x2 * dir).clamp(lo, hi);
        if next == x2 && dir < 1.0 {
            return Err(Error::Parameter(format!(
                "cannot choose λ: the SURE estimate of the error still decreases at λ = {x2:e}, the smallest λ tried: the noise level σ = {:.4e} is too low for these data (noise correlated along B, or a model error such as a reference spectrum unlike the sample's); give λ by hand (PyEPRI's examples use 2e-5 to 500)",
                s.opts.sigma
            )));
        }
        if next == x2 {
            warning = Some(format!(
                "SURE still decreases at the largest λ tried (λ = {x2:e}); that λ was used"
            ));
            break None;
        }
        let fn_ = sure_at(s, next, report)?;
        if fn_ > f2 {
            break Some(next);
        }
        (x1, f1, x2, f2) = (x2, f2, next, fn_);
    };
    let Some(x3) = x3 else {
        return Ok((x2, warning));
    };
    let _ = f1;
    // Bracket (x1, x2, x3) in log λ with the minimum near x2; refine twice by golden section.
    let (mut a, mut c) = (x1.min(x3).ln(), x1.max(x3).ln());
    let (mut bx, mut fb) = (x2.ln(), f2);
    for _ in 0..2 {
        // Probe the larger side.
        let x = if c - bx > bx - a {
            bx + 0.382 * (c - bx)
        } else {
            bx - 0.382 * (bx - a)
        };
        let fx = sure_at(s, x.exp(), report)?;
        if fx < fb {
            if x > bx {
                a = bx;
            } else {
                c = bx;
            }
            (bx, fb) = (x, fx);
        } else if x > bx {
            c = x;
        } else {
            a = x;
        }
    }
    // Parabola through the three best trials (in log λ).
    let mut pts: Vec<(f64, f64)> = s
        .trials
        .iter()
        .filter_map(|t| t.sure.map(|v| (t.lambda.ln(), v)))
        .filter(|(x, _)| *x >= a - 1e-12 && *x <= c + 1e-12)
        .collect();
    pts.sort_by(|p, q| p.1.total_cmp(&q.1));
    pts.truncate(3);
    let best = bx;
    let vertex = if pts.len() == 3 {
        let [(x0, y0), (x1, y1), (x2, y2)] = [pts[0], pts[1], pts[2]];
        let den = (x0 - x1) * (x0 - x2) * (x1 - x2);
        let pa = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / den;
        let pb = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / den;
        if pa > 0.0 {
            (-pb / (2.0 * pa)).clamp(a, c)
        } else {
            best
        }
    } else {
        best
    };
    Ok((vertex.exp().clamp(lo, hi), None))
}
