//! The Condat–Vũ / Chambolle–Pock 2016 primal–dual iterations for
//! `min f(u_1, …, u_K) + Σ_j Σ_t λ_{j,t} TV_t(u_j)` [+ positivity] [+ support], shared by the
//! mono-source (PyEPRI's `tvsolver_cp2016`, K = 1, support mask allowed), multi-source
//! (`tvsolver_cp2016_multisrc`) and spectral-spatial reconstructions. Each term `TV_t` is an
//! isotropic TV `Σ_k ‖(M_t ⊙ ∇u)(k)‖₂` whose masks `M_t` select and weight the axes of the
//! gradient (all axes for the 2D/3D images; the spatial axes, or the spectral axis alone, of a
//! 4D image). Everything stays on the device; the host receives two scalars per source for the
//! stopping test, measured by the primal step itself, on the iterations that evaluate the rule
//! (every one by default, every `check_every`-th otherwise).

use super::stop::{GapState, StopReason, StopRule, TermRef};
use super::tv::{TvOptions, TvProgress};
use crate::error::{Error, Result};
use crate::grad::{div_along, grad_along};
use backend_core::{Backend, Binary, DeviceBuffer, PrimalStep, Real, Reduce, Unary};
use std::sync::atomic::Ordering;

/// The smooth data term `f`, evaluated on the list of source images.
pub(crate) trait DataTerm<B: Backend, T: Real> {
    /// `out_j <- ∂f/∂u_j` (for least squares, `(A*A u − A* s)_j`).
    fn gradient(&mut self, u: &[B::Buffer<T>], out: &mut [B::Buffer<T>]) -> Result<()>;
    /// `f(u)`, e.g. `½ Σ_i ‖(A u)_i − s_i‖²`.
    fn fidelity(&mut self, u: &[B::Buffer<T>]) -> Result<f64>;
    /// The number of measurements `m` (for the discrepancy rule's target `τ m σ²`).
    fn measurements(&self) -> usize;
}

/// A support constraint on one image: the mask (`u <- u · [mask > 0]` after each primal step)
/// and its gradient masks, both on the device.
pub(crate) struct Support<B: Backend, T: Real> {
    /// The support mask, image shape.
    pub mask: B::Buffer<T>,
    /// The gradient masks, shape `(d, image...)`.
    pub masks: B::Buffer<T>,
}

/// One regularisation term `λ Σ_k ‖(M ⊙ ∇u)(k)‖₂` of an image, the gradient over every axis:
/// its weight `λ` and its masks `M` (shape `(ndim, image...)`; `None`: all ones).
pub(crate) struct TvTerm<B: Backend, T: Real> {
    pub weight: f64,
    pub masks: Option<B::Buffer<T>>,
}

/// The regularisation of one image: its terms (at least one) and the support mask applied
/// after each primal step.
pub(crate) struct Regulariser<B: Backend, T: Real> {
    pub mask: Option<B::Buffer<T>>,
    pub terms: Vec<TvTerm<B, T>>,
}

impl<B: Backend, T: Real> Regulariser<B, T> {
    /// The isotropic TV of weight `lambda` over every axis, under an optional support.
    fn tv(lambda: f64, support: Option<Support<B, T>>) -> Self {
        let (mask, masks) = match support {
            Some(s) => (Some(s.mask), Some(s.masks)),
            None => (None, None),
        };
        Regulariser {
            mask,
            terms: vec![TvTerm {
                weight: lambda,
                masks,
            }],
        }
    }
}

/// Step sizes of the scheme: `τ`, `σ`, and the TV weight `λ` (unnormalised) of the single-term
/// form ([`solve`]).
pub(crate) struct Steps {
    pub tau: f64,
    pub sigma: f64,
    pub lambda: f64,
}

impl Steps {
    /// `τ = 1 / (2L)`, `σ = L / (‖∇‖ λ)²` from the Lipschitz constant `L` of the data term's
    /// gradient, the bound `‖∇‖` of the gradient operator and the TV weight `λ` (unnormalised;
    /// `lambda` is the user's normalised value, for messages). Fails unless all three are
    /// positive normal numbers of the working precision `T`: a weight out of that range would
    /// turn the iterates into zeros or NaN.
    pub fn new<T: Real>(
        lipschitz: f64,
        grad_norm: f64,
        lambda_unrm: f64,
        lambda: f64,
    ) -> Result<Self> {
        Self::for_terms::<T>(lipschitz, &[(grad_norm, lambda_unrm, lambda)])
    }

    /// The steps for several terms `(‖∇_t‖ bound, λ_t unnormalised, λ_t as the user gave it)`:
    /// `τ = 1 / (2L)`, `σ = L / Σ_t (‖∇_t‖ λ_t)²` (the norm of the stacked operator
    /// `[λ_t ∇_t]_t` is at most the root of that sum); `lambda` is the first term's weight.
    pub fn for_terms<T: Real>(lipschitz: f64, terms: &[(f64, f64, f64)]) -> Result<Self> {
        if !(lipschitz > 0.0 && lipschitz.is_finite()) {
            return Err(Error::Parameter(format!(
                "Lipschitz constant {lipschitz:e} (must be positive and finite)"
            )));
        }
        let knorm2: f64 = terms.iter().map(|(g, l, _)| (g * l).powi(2)).sum();
        let steps = Steps {
            tau: 0.5 / lipschitz,
            sigma: lipschitz / knorm2,
            lambda: terms[0].1,
        };
        let normal = |x: f64| T::of(x).f64().is_normal() && x > 0.0;
        for &(_, lambda_unrm, lambda) in terms {
            if !(normal(lambda_unrm) && normal(steps.sigma) && normal(steps.tau)) {
                return Err(Error::Parameter(format!(
                    "λ = {lambda:e} gives the TV weight {lambda_unrm:.3e} and the dual step {:.3e}, outside the range of {}: choose λ closer to 1 (PyEPRI's examples use 2e-5 to 500)",
                    steps.sigma,
                    T::PRECISION
                )));
            }
        }
        Ok(steps)
    }
}

/// Isotropic TV `Σ_k ‖∇u(k)‖₂` of one image (masked gradient under a support), with
/// preallocated buffers.
struct TotalVariation<B: Backend, T: Real> {
    grad: B::Buffer<T>,
    slice: B::Buffer<T>,
    norm: B::Buffer<T>,
}

impl<B: Backend, T: Real> TotalVariation<B, T> {
    fn new(backend: &B, image_shape: &[usize]) -> Result<Self> {
        let mut gshape = vec![image_shape.len()];
        gshape.extend_from_slice(image_shape);
        let mut sshape = vec![1];
        sshape.extend_from_slice(image_shape);
        Ok(TotalVariation {
            grad: backend.zeros(&gshape)?,
            slice: backend.zeros(&sshape)?,
            norm: backend.zeros(&sshape)?,
        })
    }

    fn eval(&mut self, be: &B, u: &B::Buffer<T>, masks: Option<&B::Buffer<T>>) -> Result<f64> {
        let d = self.grad.shape()[0];
        let axes: Vec<usize> = (0..d).collect();
        grad_along(be, u, &axes, masks, &mut self.grad)?;
        be.map(Unary::Square, &mut self.grad)?;
        let mut offset = vec![0; d + 1];
        for a in 0..d {
            offset[0] = a;
            if a == 0 {
                be.extract(&self.grad, &offset, &mut self.norm)?;
            } else {
                be.extract(&self.grad, &offset, &mut self.slice)?;
                be.zip(Binary::Add, &mut self.norm, &self.slice)?;
            }
        }
        be.map(Unary::Sqrt, &mut self.norm)?;
        Ok(be.reduce(Reduce::Sum, &self.norm)?.f64())
    }
}

/// What a run returns: the images (on the device), the iteration count, the final energy and
/// what stopped it.
pub(crate) struct Solution<B: Backend, T: Real> {
    pub images: Vec<B::Buffer<T>>,
    pub iterations: usize,
    pub energy: f64,
    pub stop: StopReason,
}

/// Runs the scheme from the initial images `u` (one per source, with an optional support each;
/// `ū = u`, `p = 0`), TV over every axis of weight `steps.lambda`, until `opts.stop` fires
/// (see [`super::stop`]; the relative change sums over the images,
/// `Σ_j ‖u_j − u_j^old‖² < tol² Σ_j ‖u_j‖²`, both sums measured by the primal step's pass),
/// evaluated every `opts.check_every` iterations, or `opts.max_iter` iterations, calling
/// `progress` after each iteration (with the energy every `opts.energy_every` iterations) and
/// then reading `opts.cancel` ([`Error::Cancelled`] when set).
pub(crate) fn solve<B: Backend, T: Real>(
    backend: &B,
    u: Vec<B::Buffer<T>>,
    support: Vec<Option<Support<B, T>>>,
    steps: &Steps,
    opts: &TvOptions<T>,
    data: &mut impl DataTerm<B, T>,
    progress: &mut dyn FnMut(&TvProgress),
) -> Result<Solution<B, T>> {
    let regs = support
        .into_iter()
        .map(|s| Regulariser::tv(steps.lambda, s))
        .collect();
    solve_regularised(backend, u, regs, steps, opts, data, progress)
}

/// [`solve`] with any regularisation terms per image (`regs[j]` for image `j`): one dual field
/// per term, `p_t <- proj(p_t + σ λ_t M_t ⊙ ∇ū)`, and the primal step
/// `u <- u + τ (Σ_t λ_t div(M_t ⊙ p_t) − ∇f)` (the terms after the first folded into `∇f`).
pub(crate) fn solve_regularised<B: Backend, T: Real>(
    backend: &B,
    mut u: Vec<B::Buffer<T>>,
    regs: Vec<Regulariser<B, T>>,
    steps: &Steps,
    opts: &TvOptions<T>,
    data: &mut impl DataTerm<B, T>,
    progress: &mut dyn FnMut(&TvProgress),
) -> Result<Solution<B, T>> {
    let dup = |x: &B::Buffer<T>| backend.duplicate(x);
    let mut ubar = u
        .iter()
        .map(dup)
        .collect::<backend_core::Result<Vec<_>>>()?;
    let mut gradf = u
        .iter()
        .map(|x| backend.zeros::<T>(x.shape()))
        .collect::<backend_core::Result<Vec<_>>>()?;
    // One dual field per term of each image; one divergence scratch per image with more terms.
    let mut p: Vec<Vec<B::Buffer<T>>> = Vec::with_capacity(u.len());
    let mut scratch = Vec::with_capacity(u.len());
    let mut tv = Vec::with_capacity(u.len());
    for (x, r) in u.iter().zip(&regs) {
        let mut pshape = vec![x.shape().len()];
        pshape.extend_from_slice(x.shape());
        p.push(
            r.terms
                .iter()
                .map(|_| backend.zeros::<T>(&pshape))
                .collect::<backend_core::Result<_>>()?,
        );
        scratch.push(if r.terms.len() > 1 {
            Some(backend.zeros::<T>(x.shape())?)
        } else {
            None
        });
        tv.push(TotalVariation::new(backend, x.shape())?);
    }
    let all_axes: Vec<Vec<usize>> = u.iter().map(|x| (0..x.shape().len()).collect()).collect();
    let mut energy = |data: &mut _, u: &[B::Buffer<T>]| -> Result<f64> {
        let mut total = 0.0;
        for ((t, x), r) in tv.iter_mut().zip(u).zip(&regs) {
            for term in &r.terms {
                total += term.weight * t.eval(backend, x, term.masks.as_ref())?;
            }
        }
        Ok(DataTerm::fidelity(data, u)? + total)
    };

    opts.check_solver()?;
    let every = opts.check_every;
    let tol2 = opts.tol * opts.tol;
    let tau = T::of(steps.tau);
    // The discrepancy rule's target, ‖A u − s‖² <= τ_D m σ².
    let target = match opts.stop {
        StopRule::Discrepancy { sigma, tau } => {
            Some(tau * data.measurements() as f64 * sigma * sigma)
        }
        _ => None,
    };
    let mut gap = match opts.stop {
        StopRule::Gap => Some(
            u.iter()
                .zip(&p)
                .map(|(x, pj)| GapState::new(backend, x.shape(), pj[0].shape(), pj.len()))
                .collect::<Result<Vec<_>>>()?,
        ),
        _ => None,
    };
    // The gap rule's term descriptions, per image (made once).
    let term_refs: Vec<Vec<TermRef<'_, B, T>>> = regs
        .iter()
        .map(|r| {
            r.terms
                .iter()
                .map(|t| TermRef {
                    weight: t.weight,
                    masks: t.masks.as_ref(),
                })
                .collect()
        })
        .collect();
    let mut iterations = 0;
    let mut stop = StopReason::MaxIter;
    let mut counted = backend.profile();
    // (relative change, watched value) of the last iteration that evaluated the rule.
    let mut last = (f64::INFINITY, f64::INFINITY);
    while iterations < opts.max_iter {
        // Whether this iteration evaluates the stopping rule (and measures its norms).
        let check = (iterations + 1) % every == 0;
        data.gradient(&u, &mut gradf)?;
        let (mut dsq, mut usq, mut zsq) = (0.0, 0.0, 0.0);
        for j in 0..u.len() {
            let terms = &regs[j].terms;
            let mut gap_j = gap.as_mut().filter(|_| check).map(|g| &mut g[j]);
            if let Some(g) = gap_j.as_mut() {
                g.before_dual(&p[j])?;
            }
            for (pt, term) in p[j].iter_mut().zip(terms) {
                let step = T::of(steps.sigma * term.weight);
                backend.tv_dual_step(pt, &ubar[j], step, term.masks.as_ref())?;
            }
            if let Some(g) = gap_j {
                zsq += g.after_dual(&u[j], &ubar[j], &p[j], &term_refs[j], &all_axes[j], steps)?;
            }
            if let Some(div) = scratch[j].as_mut() {
                for (pt, term) in p[j].iter().zip(terms).skip(1) {
                    div_along(backend, pt, &all_axes[j], term.masks.as_ref(), div)?;
                    backend.axpby(T::of(-term.weight), div, T::one(), &mut gradf[j])?;
                }
            }
            let step = PrimalStep {
                tau,
                lambda: T::of(terms[0].weight),
                positivity: opts.positivity,
                sums: check,
            };
            // The sums `Σ (u_new − u_old)²` and `Σ u_new²` come from the same pass.
            if let Some(sums) = backend.tv_primal_step(
                &mut u[j],
                &mut ubar[j],
                &p[j][0],
                &gradf[j],
                &step,
                regs[j].mask.as_ref(),
                terms[0].masks.as_ref(),
            )? {
                dsq += sums.change;
                usq += sums.norm;
            }
        }
        iterations += 1;
        let mut fired = None;
        if check {
            if !(dsq.is_finite() && usq.is_finite() && zsq.is_finite()) {
                return Err(Error::NonFinite(format!(
                    "the TV iterate at iteration {iterations}: the projections, the spectrum or λ overflow the working precision (rescale the data, lower λ, or compute in f64)"
                )));
            }
            let relative_change = (dsq / usq).sqrt();
            // The quantity the rule watches, and whether it fires.
            let watched;
            (watched, fired) = match (opts.stop, target) {
                (StopRule::Gap, _) => {
                    // The first iteration has no previous step (ubar − u = 0, p_old = 0).
                    let r = if iterations == 1 {
                        f64::INFINITY
                    } else {
                        (zsq.max(0.0) / usq).sqrt()
                    };
                    (r, (r < opts.tol).then_some(StopReason::Gap))
                }
                (StopRule::Discrepancy { sigma, .. }, Some(target)) => {
                    let m = data.measurements() as f64;
                    let r = 2.0 * DataTerm::fidelity(data, &u)?;
                    if !r.is_finite() {
                        return Err(Error::NonFinite(format!(
                            "the residual at iteration {iterations}"
                        )));
                    }
                    let fired = if r <= target {
                        Some(StopReason::Discrepancy)
                    } else {
                        (dsq < tol2 * usq).then_some(StopReason::Change)
                    };
                    (r / (m * sigma * sigma), fired)
                }
                _ => (
                    relative_change,
                    (dsq < tol2 * usq).then_some(StopReason::Change),
                ),
            };
            last = (relative_change, watched);
        }
        let e = match opts.energy_every {
            Some(k) if iterations % k == 0 => Some(energy(data, &u)?),
            _ => None,
        };
        let now = backend.profile();
        let profile = now.zip(counted).map(|(now, before)| now - before);
        counted = now;
        progress(&TvProgress {
            iteration: iterations,
            checked: check,
            relative_change: last.0,
            watched: last.1,
            energy: e,
            profile,
        });
        if opts
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return Err(Error::Cancelled(iterations));
        }
        if let Some(reason) = fired {
            stop = reason;
            break;
        }
    }
    let energy = energy(data, &u)?;
    Ok(Solution {
        images: u,
        iterations,
        energy,
        stop,
    })
}
