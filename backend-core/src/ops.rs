//! Small enums that name elementwise maps and reductions, so that one backend method (one kernel
//! family on a device) serves each of them, and the scalars in and out of the fused TV primal
//! step.

/// An elementwise map on a real buffer, applied in place: `x[i] <- f(x[i])`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unary {
    /// `|x|`
    Abs,
    /// `sqrt(x)`
    Sqrt,
    /// `exp(x)`
    Exp,
    /// `sin(x)` (radians)
    Sin,
    /// `cos(x)` (radians)
    Cos,
    /// `-x`
    Neg,
    /// `x * x`
    Square,
}

/// An elementwise binary operation `a[i] <- a[i] op b[i]` (or `a[i] op s` for a scalar).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Binary {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b`
    Div,
    /// `max(a, b)` (PyEPRI's `maximum`, used for positivity)
    Max,
    /// `min(a, b)`
    Min,
}

/// A reduction of a real buffer to one host scalar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reduce {
    /// `Σ x`
    Sum,
    /// `Σ x²`
    SumSq,
    /// `max x` (NaN if the buffer is empty)
    Max,
    /// `min x` (NaN if the buffer is empty)
    Min,
}

/// Which real quantity to take from a complex buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    /// Real part.
    Re,
    /// Imaginary part.
    Im,
    /// Modulus `|z|`.
    Abs,
}

/// Direction of a complex-to-complex FFT, numpy's "backward" normalisation: the forward
/// transform `X[k] = Σ x[n] e^{-2iπkn/N}` is unscaled, the inverse is scaled by `1/N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `e^{-2iπkn/N}`, unscaled.
    Forward,
    /// `e^{+2iπkn/N}`, scaled by `1/N` (product of the transformed sizes).
    Inverse,
}

/// The scalars of [`crate::Backend::tv_primal_step`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PrimalStep<T> {
    /// Primal step size `τ` (image units per unit of `∇f`).
    pub tau: T,
    /// TV weight `λ` multiplying the divergence of the dual field.
    pub lambda: T,
    /// Clip the new image at 0.
    pub positivity: bool,
    /// Also measure the stopping-rule sums [`StepSums`] in the same pass (on a device backend,
    /// one read-back of per-work-group partial sums); without it the step returns `None`.
    pub sums: bool,
}

/// What [`crate::Backend::tv_primal_step`] measures in its pass when asked (`PrimalStep::sums`),
/// accumulated in `f64` (per-block partial sums added in a fixed order on the CPU, per work group
/// in the working precision then added in `f64` on the host on a device): the two numbers of the
/// relative-change rule `‖u_new − u_old‖ < tol ‖u_new‖`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepSums {
    /// `Σ_k (u_new(k) − u_old(k))²`, in squared image units.
    pub change: f64,
    /// `Σ_k u_new(k)²`, in squared image units.
    pub norm: f64,
}
