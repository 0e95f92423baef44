//! Power iteration for the largest eigenvalue of a symmetric positive operator
//! (PyEPRI's `utils.powerit`), used for the Lipschitz constant `‖A*A‖` of the TV solvers, on one
//! image or on a list of images (multi-source block operators).

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
    power_iteration_multi(backend, std::slice::from_ref(x0), tol, max_iter, |x, y| {
        op(&x[0], &mut y[0])
    })
}

/// Estimates the largest eigenvalue of the symmetric positive semi-definite block operator `op`
/// (`op(x, y)` writes `y <- op x`; `x`, `y` lists of images with the shapes of `x0`), the norm
/// being the l2 norm of the concatenation of the list.
///
/// PyEPRI's `powerit` scheme: `x <- x0`, `l = ‖x‖`;
/// while `|l − l_prev| > tol·|l|` and the counter (from 1) is below `max_iter`: `x <- op x`,
/// `l = ‖x‖`, `x <- x / l`. Returns `‖op x‖ / ‖x‖` for the final `x`.
///
/// Errors: [`Error::Parameter`] for a zero iterate, a negative or NaN `tol` or an empty `x0`;
/// [`Error::NonFinite`] for a non-finite norm; any error of `op`.
pub fn power_iteration_multi<B: Backend, T: Real>(
    backend: &B,
    x0: &[B::Buffer<T>],
    tol: T,
    max_iter: usize,
    mut op: impl FnMut(&[B::Buffer<T>], &mut [B::Buffer<T>]) -> Result<()>,
) -> Result<T> {
    if tol.is_nan() || tol < T::zero() || x0.is_empty() {
        return Err(Error::Parameter(format!(
            "power iteration: tolerance {tol} (must be >= 0) on {} images (at least 1)",
            x0.len()
        )));
    }
    let sumsq = |x: &[B::Buffer<T>]| -> Result<T> {
        let mut s = T::zero();
        for xj in x {
            s += backend.reduce(Reduce::SumSq, xj)?;
        }
        Ok(s)
    };
    let norm = |x: &[B::Buffer<T>]| -> Result<T> {
        let n = sumsq(x)?.sqrt();
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
    let mut x = x0
        .iter()
        .map(|b| backend.duplicate(b))
        .collect::<backend_core::Result<Vec<_>>>()?;
    let mut y = x0
        .iter()
        .map(|b| backend.zeros::<T>(b.shape()))
        .collect::<backend_core::Result<Vec<_>>>()?;
    let mut l = norm(&x)?;
    let two = T::one() + T::one();
    let mut lprev = l * (two + two * tol);
    let mut iter = 1usize;
    while (l - lprev).abs() > l.abs() * tol && iter < max_iter {
        op(&x, &mut y)?;
        lprev = l;
        l = norm(&y)?;
        for yj in y.iter_mut() {
            backend.scale(yj, T::one() / l)?;
        }
        std::mem::swap(&mut x, &mut y);
        iter += 1;
    }
    op(&x, &mut y)?;
    let value = (sumsq(&y)? / sumsq(&x)?).sqrt();
    if !value.is_finite() {
        return Err(Error::NonFinite("the power iteration estimate".into()));
    }
    Ok(value)
}
