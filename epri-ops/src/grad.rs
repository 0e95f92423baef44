//! Discrete gradient and divergence of images, with optional support masks (PyEPRI's
//! `utils.grad{2,3}d`, `div{2,3}d`, `compute_{2,3}d_gradient_masks`).
//!
//! Images have shape (Y, X[, Z]); gradient fields have shape `(d, Y, X[, Z])`, component `a`
//! the forward difference along image axis `a` (zero on the last slice of that axis).

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
    if !(2..=3).contains(&d) || mask.shape().iter().any(|&n| n < 2) {
        return Err(Error::Shape(format!(
            "support mask of shape {:?}: 2 or 3 axes, each of length at least 2",
            mask.shape()
        )));
    }
    if !mask.iter().all(|v| v.is_finite()) {
        return Err(Error::NonFinite("the support mask".into()));
    }
    let mut shape = vec![d];
    shape.extend_from_slice(mask.shape());
    let mut out = ArrayD::<T>::zeros(IxDyn(&shape));
    for a in 0..d {
        let n = mask.shape()[a];
        let mut m = out.index_axis_mut(Axis(0), a);
        let mut head = m.slice_axis_mut(Axis(a), Slice::from(0..n - 1));
        let lo = mask.slice_axis(Axis(a), Slice::from(0..n - 1));
        let hi = mask.slice_axis(Axis(a), Slice::from(1..n));
        ndarray::Zip::from(&mut head)
            .and(&lo)
            .and(&hi)
            .for_each(|o, &l, &h| *o = l * h);
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
