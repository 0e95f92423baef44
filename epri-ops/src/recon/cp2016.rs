//! The Condat–Vũ / Chambolle–Pock 2016 primal–dual iterations for
//! `min f(u_1, …, u_K) + λ Σ_j TV(u_j)` [+ positivity] [+ support], shared by the mono-source
//! (PyEPRI's `tvsolver_cp2016`, K = 1, support mask allowed) and multi-source
//! (`tvsolver_cp2016_multisrc`) reconstructions. Everything stays on the device; the host
//! receives two scalars per source and iteration for the stopping test.

use super::tv::{TvOptions, TvProgress};
use crate::error::{Error, Result};
use crate::grad::grad;
use backend_core::{Backend, Binary, DeviceBuffer, Real, Reduce, Unary};
use std::sync::atomic::Ordering;

/// The smooth data term `f`, evaluated on the list of source images.
pub(crate) trait DataTerm<B: Backend, T: Real> {
    /// `out_j <- ∂f/∂u_j` (for least squares, `(A*A u − A* s)_j`).
    fn gradient(&mut self, u: &[B::Buffer<T>], out: &mut [B::Buffer<T>]) -> Result<()>;
    /// `f(u)`, e.g. `½ Σ_i ‖(A u)_i − s_i‖²`.
    fn fidelity(&mut self, u: &[B::Buffer<T>]) -> Result<f64>;
}

/// A support constraint on one image: the mask (`u <- u · [mask > 0]` after each primal step)
/// and its gradient masks, both on the device.
pub(crate) struct Support<B: Backend, T: Real> {
    /// The support mask, image shape.
    pub mask: B::Buffer<T>,
    /// The gradient masks, shape `(d, image...)`.
    pub masks: B::Buffer<T>,
}

/// Step sizes of the scheme: `τ`, `σ` and the TV weight `λ` (unnormalised).
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
        if !(lipschitz > 0.0 && lipschitz.is_finite()) {
            return Err(Error::Parameter(format!(
                "Lipschitz constant {lipschitz:e} (must be positive and finite)"
            )));
        }
        let steps = Steps {
            tau: 0.5 / lipschitz,
            sigma: lipschitz / (grad_norm * lambda_unrm).powi(2),
            lambda: lambda_unrm,
        };
        let normal = |x: f64| T::of(x).f64().is_normal() && x > 0.0;
        if !(normal(steps.lambda) && normal(steps.sigma) && normal(steps.tau)) {
            return Err(Error::Parameter(format!(
                "λ = {lambda:e} gives the TV weight {lambda_unrm:.3e} and the dual step {:.3e}, outside the range of {}: choose λ closer to 1 (PyEPRI's examples use 2e-5 to 500)",
                steps.sigma,
                T::PRECISION
            )));
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
        grad(be, u, masks, &mut self.grad)?;
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

/// What a run returns: the images (on the device), the iteration count and the final energy.
pub(crate) struct Solution<B: Backend, T: Real> {
    pub images: Vec<B::Buffer<T>>,
    pub iterations: usize,
    pub energy: f64,
}

/// Runs the scheme from the initial images `u` (one per source, with an optional support each;
/// `ū = u`, `p = 0`) until `Σ_j ‖u_j − u_j^old‖² < tol² Σ_j ‖u_j‖²` or `opts.max_iter`
/// iterations, calling `progress` after each iteration (with the energy every
/// `opts.energy_every` iterations) and then reading `opts.cancel` ([`Error::Cancelled`] when set).
pub(crate) fn solve<B: Backend, T: Real>(
    backend: &B,
    mut u: Vec<B::Buffer<T>>,
    support: &[Option<Support<B, T>>],
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
    let mut p = Vec::with_capacity(u.len());
    let mut tv = Vec::with_capacity(u.len());
    for x in &u {
        let mut pshape = vec![x.shape().len()];
        pshape.extend_from_slice(x.shape());
        p.push(backend.zeros::<T>(&pshape)?);
        tv.push(TotalVariation::new(backend, x.shape())?);
    }
    let masks = |j: usize| support[j].as_ref().map(|s| &s.masks);
    let mut energy = |data: &mut _, u: &[B::Buffer<T>]| -> Result<f64> {
        let mut total = 0.0;
        for (j, (t, x)) in tv.iter_mut().zip(u).enumerate() {
            total += t.eval(backend, x, masks(j))?;
        }
        Ok(DataTerm::fidelity(data, u)? + steps.lambda * total)
    };

    let tol2 = opts.tol * opts.tol;
    let step_dual = T::of(steps.sigma * steps.lambda);
    let (tau, lambda) = (T::of(steps.tau), T::of(steps.lambda));
    let mut iterations = 0;
    let mut counted = backend.profile();
    while iterations < opts.max_iter {
        data.gradient(&u, &mut gradf)?;
        let (mut dsq, mut usq) = (0.0, 0.0);
        for j in 0..u.len() {
            backend.tv_dual_step(&mut p[j], &ubar[j], step_dual, masks(j))?;
            backend.tv_primal_step(
                &mut u[j],
                &mut ubar[j],
                &p[j],
                &gradf[j],
                tau,
                lambda,
                opts.positivity,
                support[j].as_ref().map(|s| &s.mask),
                masks(j),
            )?;
            // ubar = 2 u_new − u_old, so ubar − u_new = u_new − u_old.
            dsq += backend.sq_dist(&ubar[j], &u[j])?.f64();
            usq += backend.reduce(Reduce::SumSq, &u[j])?.f64();
        }
        if !(dsq.is_finite() && usq.is_finite()) {
            return Err(Error::NonFinite(format!(
                "the TV iterate at iteration {}: the projections, the spectrum or λ overflow the working precision (rescale the data, lower λ, or compute in f64)",
                iterations + 1
            )));
        }
        iterations += 1;
        let e = match opts.energy_every {
            Some(k) if iterations % k == 0 => Some(energy(data, &u)?),
            _ => None,
        };
        let now = backend.profile();
        let profile = now.zip(counted).map(|(now, before)| now - before);
        counted = now;
        progress(&TvProgress {
            iteration: iterations,
            relative_change: (dsq / usq).sqrt(),
            energy: e,
            profile,
        });
        if opts.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(Error::Cancelled(iterations));
        }
        if dsq < tol2 * usq {
            break;
        }
    }
    let energy = energy(data, &u)?;
    Ok(Solution {
        images: u,
        iterations,
        energy,
    })
}
