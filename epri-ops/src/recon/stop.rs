//! Stopping rules of the TV solvers ([`StopRule`]) and what stopped a run ([`StopReason`]).
//!
//! The solvers run the Condat–Vũ iteration on the state `z = (u, p)`: image `u` and one dual
//! field `p_t` per TV term, the term being `λ_t Σ_k ‖(M_t ⊙ ∇u)(k)‖₂` (so `K_t = λ_t M_t ⊙ ∇`,
//! `K_t* = −λ_t div(M_t ⊙ ·)`), steps `τ` (primal) and `σ` (dual). Three rules:
//!
//! * [`StopRule::Change`]: `‖u_k − u_{k−1}‖ < tol ‖u_k‖` (PyEPRI's rule, the default).
//! * [`StopRule::Gap`]: the exact duality gap of TV with positivity and a support has no
//!   closed form that is cheap to evaluate, so the rule watches a computable surrogate, the
//!   *primal–dual residual* of the iteration: the step `Δz = z_k − z_{k−1}` of the fixed-point
//!   map measured in the solver's metric
//!   `‖Δz‖²_M = ‖Δu‖²/τ + Σ_t ‖Δp_t‖²/σ − 2 Σ_t ⟨K_t Δu, Δp_t⟩`. The Condat–Vũ map is averaged
//!   in that metric (here `1/τ − σ‖K‖² ≥ L > L/2`), so `‖Δz‖_M` never increases, and it
//!   vanishes exactly at a saddle point: `M Δz` plus a Lipschitz term of size `L ‖Δu‖` is an
//!   element of the optimality inclusion, i.e. it bounds the violation of both the primal and
//!   the dual optimality conditions (unlike the relative change, which only sees `u`). `M` is
//!   positive definite (`τσ‖K‖² ≤ ½`), so `‖Δz‖²_M ≥ (1 − 1/√2)(‖Δu‖²/τ + ‖Δp‖²/σ)`. The value
//!   watched is made relative like the change: `r_k = √τ ‖Δz‖_M / ‖u_k‖`, and the rule stops
//!   when `r_k < tol`. The state paired by the iteration is `(u_{k−1}, p_k)`, so the step is
//!   known one iteration late: `r` of iteration `k` measures the step from `(u_{k−2}, p_{k−1})`
//!   to `(u_{k−1}, p_k)` (`r_1 = ∞`). Cost per iteration: a divergence and a few reductions of
//!   the dual fields, and one more copy of them in memory.
//! * [`StopRule::Discrepancy`]: stop at the first iterate whose squared residual reaches the
//!   noise, `‖A u_k − s‖² ≤ τ_D m σ²` (`m` measurements, `σ` the noise level of one); a run whose
//!   iterates converge above that level (relative change below `tol`) stops there with
//!   [`StopReason::Change`]. Cost: one projection per iteration.

use super::cp2016::Steps;
use crate::error::{Error, Result};
use crate::grad::div_along;
use backend_core::{Backend, Binary, Real, Reduce};

/// When a TV solver stops (besides its iteration cap).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum StopRule {
    /// Relative change `‖u_k − u_{k−1}‖ / ‖u_k‖ < tol` (the default; PyEPRI's rule).
    #[default]
    Change,
    /// Relative primal–dual residual `√τ ‖z_k − z_{k−1}‖_M / ‖u_k‖ < tol` (see the module doc).
    Gap,
    /// Squared residual `‖A u_k − s‖² ≤ tau · m · sigma²`, `m` the number of measurements;
    /// `sigma` in the unit of the projections.
    Discrepancy {
        /// Noise standard deviation of one measurement (> 0).
        sigma: f64,
        /// Factor of the target (> 0; 1 is the plain discrepancy principle).
        tau: f64,
    },
}

impl StopRule {
    /// Checks the rule's parameters.
    pub fn check(&self) -> Result<()> {
        match *self {
            StopRule::Discrepancy { sigma, tau }
                if !(sigma > 0.0 && sigma.is_finite() && tau > 0.0 && tau.is_finite()) =>
            {
                Err(Error::Parameter(format!(
                    "the discrepancy stopping rule needs σ > 0 and τ > 0, got σ = {sigma:e}, τ = {tau:e}"
                )))
            }
            _ => Ok(()),
        }
    }

    /// What the rule watches, for messages (`"relative change"`, ...).
    pub fn watched(&self) -> &'static str {
        match self {
            StopRule::Change => "relative change",
            StopRule::Gap => "primal-dual residual",
            StopRule::Discrepancy { .. } => "residual / (m σ²)",
        }
    }
}

/// What ended a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StopReason {
    /// The relative change fell below `tol`.
    #[default]
    Change,
    /// The relative primal–dual residual fell below `tol`.
    Gap,
    /// The squared residual reached `τ m σ²`.
    Discrepancy,
    /// The iteration cap was reached first.
    MaxIter,
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StopReason::Change => "relative change below tol",
            StopReason::Gap => "primal-dual residual below tol",
            StopReason::Discrepancy => "residual reached the noise level",
            StopReason::MaxIter => "iteration cap reached",
        })
    }
}

/// The buffers of [`StopRule::Gap`] for one image: the previous dual fields (one per term),
/// `Δu` and a divergence scratch.
pub(crate) struct GapState<B: Backend, T: Real> {
    backend: B,
    p_old: Vec<B::Buffer<T>>,
    du: B::Buffer<T>,
    div: B::Buffer<T>,
}

/// One TV term as [`GapState`] sees it: weight `λ_t` and masks `M_t`.
pub(crate) struct TermRef<'a, B: Backend, T: Real> {
    pub weight: f64,
    pub masks: Option<&'a B::Buffer<T>>,
}

impl<B: Backend, T: Real> GapState<B, T> {
    /// Buffers for an image of `shape` with `terms` dual fields of `dual_shape`.
    pub fn new(be: &B, shape: &[usize], dual_shape: &[usize], terms: usize) -> Result<Self> {
        Ok(GapState {
            backend: be.clone(),
            p_old: (0..terms)
                .map(|_| be.zeros::<T>(dual_shape))
                .collect::<backend_core::Result<_>>()?,
            du: be.zeros(shape)?,
            div: be.zeros(shape)?,
        })
    }

    /// Before the dual step: remembers `p_t`.
    pub fn before_dual(&mut self, p: &[B::Buffer<T>]) -> Result<()> {
        let be = &self.backend;
        for (old, pt) in self.p_old.iter_mut().zip(p) {
            be.copy(pt, old)?;
        }
        Ok(())
    }

    /// After the dual step and before the primal one (`ubar − u = u_{k−1} − u_{k−2}`): this
    /// image's part of `τ ‖Δz‖²_M`, i.e. `‖Δu‖² + (τ/σ) Σ_t ‖Δp_t‖² − 2τ Σ_t ⟨K_t Δu, Δp_t⟩`.
    pub fn after_dual(
        &mut self,
        u: &B::Buffer<T>,
        ubar: &B::Buffer<T>,
        p: &[B::Buffer<T>],
        terms: &[TermRef<'_, B, T>],
        axes: &[usize],
        steps: &Steps,
    ) -> Result<f64> {
        let (tau, sigma) = (steps.tau, steps.sigma);
        let be = &self.backend;
        be.copy(ubar, &mut self.du)?;
        be.zip(Binary::Sub, &mut self.du, u)?;
        let mut total = be.reduce(Reduce::SumSq, &self.du)?.f64();
        for ((old, pt), term) in self.p_old.iter_mut().zip(p).zip(terms) {
            // old <- p_t − p_t,old = Δp_t.
            be.axpby(T::one(), pt, -T::one(), old)?;
            total += tau / sigma * be.reduce(Reduce::SumSq, old)?.f64();
            // ⟨K_t Δu, Δp_t⟩ = λ_t ⟨M_t ∇Δu, Δp_t⟩ = −λ_t ⟨Δu, div(M_t Δp_t)⟩.
            div_along(be, old, axes, term.masks, &mut self.div)?;
            let cross = -term.weight * be.dot(&self.du, &self.div)?.f64();
            total -= 2.0 * tau * cross;
        }
        Ok(total)
    }
}
