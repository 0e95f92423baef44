//! Discrete gradient and divergence of images, with optional support masks (PyEPRI's
//! `utils.grad{2,3,4}d`, `div{2,3,4}d`, `compute_{2,3}d_gradient_masks`).
//!
//! Images have shape (Y, X[, Z]) or, spectral-spatial, (B, Y, X, Z); gradient fields have shape
//! `(n, image...)`, component `a` the forward difference along the `a`-th axis of the chosen
//! list (every axis by default; the spectral, the spatial or all axes of a 4D image with
//! [`grad_along`]), zero on the last slice of that axis.

use crate::error::{Error, Result};
use backend_core::{Backend, DeviceBuffer, Real};
use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, Slice};

/// Upper bound of the operator norm of the gradient: `√(4d)` (√8 in 2D, √12 in 3D), PyEPRI's
/// `Lgrad`.
pub fn grad_norm_bound(dim: usize) -> f64 {
    (4.0 * dim as f64).sqrt()
}

/// Gradient masks of a support mask (shape (Y, X[, Z]), nonzero inside the support):
/// `M[a](k) = mask(k) · mask(k + e_a)`, zero on the last slice along axis `a`; shape
/// `(d, Y, X[, Z])`. Computed on the host.
///
/// Errors: [`Error::Shape`] for a mask of dimension other than 2 or 3 or with an axis shorter
/// than 2; [`Error::NonFinite`] for NaN or infinite mask values.
pub fn gradient_masks_host<T: Real>(mask: ArrayViewD<'_, T>) -> Result<ArrayD<T>> {
    let d = mask.ndim();
    if !(2..=3).contains(&d) {
        return Err(Error::Shape(format!(
            "support mask of shape {:?}: 2 or 3 axes, each of length at least 2",
            mask.shape()
        )));
    }
    let axes: Vec<usize> = (0..d).collect();
    let shape = mask.shape().to_vec();
    axis_masks_host(&shape, &axes, &vec![T::one(); d], Some(mask))
}

/// Weighted gradient masks along `axes` of images of shape `shape`:
/// `M[a](k) = w_a · mask(k) · mask(k + e_{axes[a]})` (`mask ≡ 1` without a support mask), zero on
/// the last slice along `axes[a]`; shape `(axes.len(), shape...)`. With [`grad_along`] and
/// [`div_along`] they give the weighted, masked gradient `M ⊙ ∇u` and its negative adjoint.
/// Computed on the host.
///
/// Errors: [`Error::Shape`] for an axis shorter than 2, an axis out of range or repeated, a
/// weight list or a mask of the wrong size; [`Error::NonFinite`] for NaN or infinite mask values
/// or weights.
pub fn axis_masks_host<T: Real>(
    shape: &[usize],
    axes: &[usize],
    weights: &[T],
    mask: Option<ArrayViewD<'_, T>>,
) -> Result<ArrayD<T>> {
    let valid_axes = !axes.is_empty()
        && axes.iter().all(|&a| a < shape.len())
        && (1..axes.len()).all(|i| !axes[..i].contains(&axes[i]));
    if !valid_axes || shape.iter().any(|&n| n < 2) || weights.len() != axes.len() {
        return Err(Error::Shape(format!(
            "gradient masks of images of shape {shape:?} (each axis of length at least 2) along the axes {axes:?} (distinct, in range) with {} weights (one per axis)",
            weights.len()
        )));
    }
    if let Some(m) = &mask {
        if m.shape() != shape {
            return Err(Error::Shape(format!(
                "support mask of shape {:?} for images of shape {shape:?}",
                m.shape()
            )));
        }
        if !m.iter().all(|v| v.is_finite()) {
            return Err(Error::NonFinite("the support mask".into()));
        }
    }
    if !weights.iter().all(|v| v.is_finite()) {
        return Err(Error::NonFinite("the gradient weights".into()));
    }
    let ones = ArrayD::<T>::ones(IxDyn(shape));
    let mask = mask.unwrap_or(ones.view());
    let mut full = vec![axes.len()];
    full.extend_from_slice(shape);
    let mut out = ArrayD::<T>::zeros(IxDyn(&full));
    for (i, (&a, &w)) in axes.iter().zip(weights).enumerate() {
        let n = shape[a];
        let mut m = out.index_axis_mut(Axis(0), i);
        let mut head = m.slice_axis_mut(Axis(a), Slice::from(0..n - 1));
        let lo = mask.slice_axis(Axis(a), Slice::from(0..n - 1));
        let hi = mask.slice_axis(Axis(a), Slice::from(1..n));
        ndarray::Zip::from(&mut head)
            .and(&lo)
            .and(&hi)
            .for_each(|o, &l, &h| *o = w * l * h);
    }
    Ok(out)
}

/// [`gradient_masks_host`] uploaded to `backend`.
pub fn gradient_masks<B: Backend, T: Real>(
    backend: &B,
    mask: ArrayViewD<'_, T>,
) -> Result<B::Buffer<T>> {
    let host = gradient_masks_host(mask)?;
    Ok(backend.upload(host.view())?)
}

fn check_field(op: &str, image: &[usize], field: &[usize]) -> Result<()> {
    let ok = field.len() == image.len() + 1 && field[0] == image.len() && &field[1..] == image;
    if ok && (2..=3).contains(&image.len()) {
        Ok(())
    } else {
        Err(Error::Shape(format!(
            "{op}: image of shape {image:?} (2 or 3 axes) needs a field of shape (d, image...), got {field:?}"
        )))
    }
}

/// `out <- ∇u` (masked by `masks` if given): `u` of shape (Y, X[, Z]), `out` and `masks` of shape
/// `(d, Y, X[, Z])`.
pub fn grad<B: Backend, T: Real>(
    backend: &B,
    u: &B::Buffer<T>,
    masks: Option<&B::Buffer<T>>,
    out: &mut B::Buffer<T>,
) -> Result<()> {
    check_field("gradient", u.shape(), out.shape())?;
    if let Some(m) = masks {
        check_field("gradient masks", u.shape(), m.shape())?;
    }
    let axes: Vec<usize> = (0..u.shape().len()).collect();
    Ok(backend.grad(u, &axes, masks, out)?)
}

/// `out <- ∇u` along `axes` (masked and weighted by `masks` if given, see
/// [`axis_masks_host`]): `u` of any shape with axes of length ≥ 2, `out` and `masks` of shape
/// `(axes.len(), u...)`. For a spectral-spatial image `(B, Y, X, Z)`: `[0]` differentiates along
/// B only, `[1, 2, 3]` in space only, `[0, 1, 2, 3]` along every axis.
pub fn grad_along<B: Backend, T: Real>(
    backend: &B,
    u: &B::Buffer<T>,
    axes: &[usize],
    masks: Option<&B::Buffer<T>>,
    out: &mut B::Buffer<T>,
) -> Result<()> {
    Ok(backend.grad(u, axes, masks, out)?)
}

/// `out <- div p` along `axes` (of `masks ⊙ p` if given), the negative adjoint of
/// [`grad_along`] with the same axes and masks: `p` and `masks` of shape `(axes.len(), out...)`.
pub fn div_along<B: Backend, T: Real>(
    backend: &B,
    p: &B::Buffer<T>,
    axes: &[usize],
    masks: Option<&B::Buffer<T>>,
    out: &mut B::Buffer<T>,
) -> Result<()> {
    Ok(backend.div(p, axes, masks, out)?)
}

/// `out <- div p` (of `masks ⊙ p` if given), the negative adjoint of [`grad`]: `p` and `masks`
/// of shape `(d, Y, X[, Z])`, `out` of shape (Y, X[, Z]).
pub fn div<B: Backend, T: Real>(
    backend: &B,
    p: &B::Buffer<T>,
    masks: Option<&B::Buffer<T>>,
    out: &mut B::Buffer<T>,
) -> Result<()> {
    check_field("divergence", out.shape(), p.shape())?;
    if let Some(m) = masks {
        check_field("divergence masks", out.shape(), m.shape())?;
    }
    let axes: Vec<usize> = (0..out.shape().len()).collect();
    Ok(backend.div(p, &axes, masks, out)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn masks_follow_the_definition() {
        let mask = array![[1.0f64, 1.0, 0.0], [1.0, 0.0, 1.0]].into_dyn();
        let m = gradient_masks_host(mask.view()).unwrap();
        assert_eq!(m.shape(), &[2, 2, 3]);
        for i in 0..2 {
            for j in 0..3 {
                let down = if i + 1 < 2 {
                    mask[[i, j]] * mask[[i + 1, j]]
                } else {
                    0.0
                };
                let right = if j + 1 < 3 {
                    mask[[i, j]] * mask[[i, j + 1]]
                } else {
                    0.0
                };
                assert_eq!(m[[0, i, j]], down);
                assert_eq!(m[[1, i, j]], right);
            }
        }
        assert!(gradient_masks_host(ndarray::ArrayD::<f64>::zeros(IxDyn(&[3, 1])).view()).is_err());
        assert_eq!(grad_norm_bound(2), 8f64.sqrt());
    }
}
