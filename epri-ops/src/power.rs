//! Power iteration for the largest eigenvalue of a symmetric positive operator (SPEC §2.12;
//! PyEPRI's `utils.powerit`), used for the Lipschitz constant `‖A*A‖` of the TV solvers.

use crate::error::{Error, Result};
use backend_core::{Backend, DeviceBuffer, Real, Reduce};

/// Estimates the largest eigenvalue of the symmetric positive semi-definite operator `op`
/// (`op(x, y)` writes `y <- op x`, same shape as `x0`) by power iteration from `x0`.
///
/// PyEPRI's scheme exactly: `x <- x0`, `l = ‖x‖`; while `|l - l_prev| > tol·|l|` and the
/// iteration counter (starting at 1) is below `max_iter`: `x <- op x`, `l = ‖x‖`, `x <- x / l`.
/// Returns `sqrt(‖op x‖² / ‖x‖²) = ‖op x‖ / ‖x‖` for the final `x` (for `op = A*A`, the
/// estimate of `‖A‖²`, the Lipschitz constant of `∇ ½‖Au - p‖²`).
///
/// Errors: [`Error::Parameter`] when `x0` is zero or `op` maps the iterate to zero, or `tol` is
/// negative or NaN; [`Error::NonFinite`] when a norm is not finite; any error of `op`.
pub fn power_iteration<B: Backend, T: Real>(
    backend: &B,
    x0: &B::Buffer<T>,
    tol: T,
    max_iter: usize,
    mut op: impl FnMut(&B::Buffer<T>, &mut B::Buffer<T>) -> Result<()>,
) -> Result<T> {
    if tol.is_nan() || tol < T::zero() {
        return Err(Error::Parameter(format!(
            "power iteration tolerance {tol} must be non-negative"
        )));
    }
    let norm = |x: &B::Buffer<T>| -> Result<T> {
        let n = backend.reduce(Reduce::SumSq, x)?.sqrt();
        if !n.is_finite() {
            return Err(Error::NonFinite("the power iteration iterate".into()));
        }
        if n == T::zero() {
            return Err(Error::Parameter(
                "power iteration: the iterate is zero (zero start vector or a start vector in the operator's kernel)"
                    .into(),
            ));
        }
        Ok(n)
    };
    let mut x = backend.duplicate(x0)?;
    let mut y = backend.zeros::<T>(x0.shape())?;
    let mut l = norm(&x)?;
    let two = T::one() + T::one();
    let mut lprev = l * (two + two * tol);
    let mut iter = 1usize;
    while (l - lprev).abs() > l.abs() * tol && iter < max_iter {
        op(&x, &mut y)?;
        lprev = l;
        l = norm(&y)?;
        backend.scale(&mut y, T::one() / l)?;
        std::mem::swap(&mut x, &mut y);
        iter += 1;
    }
    op(&x, &mut y)?;
    let num = backend.reduce(Reduce::SumSq, &y)?;
    let den = backend.reduce(Reduce::SumSq, &x)?;
    let value = (num / den).sqrt();
    if !value.is_finite() {
        return Err(Error::NonFinite("the power iteration estimate".into()));
    }
    Ok(value)
}
