//! Host-side array constructors shared by the provided [`crate::Backend`] methods.

use crate::error::{Error, Result};
use crate::scalar::Real;
use ndarray::{Array1, ArrayD, ArrayView1, IxDyn};
use rand::{rngs::StdRng, Rng, SeedableRng};
use rand_distr::{Distribution, Normal};

/// numpy's `arange(start, stop, step)`.
pub fn arange<T: Real>(start: T, stop: T, step: T) -> Result<Array1<T>> {
    if step == T::zero() || !step.is_finite() || !start.is_finite() || !stop.is_finite() {
        return Err(Error::InvalidArgument(format!(
            "arange({start}, {stop}, {step}): step must be finite and non-zero"
        )));
    }
    let n = ((stop - start) / step)
        .ceil()
        .to_f64()
        .unwrap_or(0.0)
        .max(0.0) as usize;
    Ok(Array1::from_iter(
        (0..n).map(|i| start + T::of(i as f64) * step),
    ))
}

/// numpy's `linspace(start, stop, n)` (inclusive end).
pub fn linspace<T: Real>(start: T, stop: T, n: usize) -> Array1<T> {
    match n {
        0 => Array1::zeros(0),
        1 => Array1::from_elem(1, start),
        _ => {
            let step = (stop - start) / T::of((n - 1) as f64);
            Array1::from_iter((0..n).map(|i| {
                if i == n - 1 {
                    stop
                } else {
                    start + T::of(i as f64) * step
                }
            }))
        }
    }
}

/// numpy's `meshgrid(*axes, indexing='xy')`.
pub fn meshgrid_xy<T: Real>(axes: &[ArrayView1<'_, T>]) -> Result<Vec<ArrayD<T>>> {
    let d = axes.len();
    if d == 0 {
        return Err(Error::InvalidArgument("meshgrid of no axis".into()));
    }
    // 'xy' indexing: output shape swaps the first two axes.
    let mut shape: Vec<usize> = axes.iter().map(|a| a.len()).collect();
    if d >= 2 {
        shape.swap(0, 1);
    }
    let out = (0..d)
        .map(|i| {
            // output axis holding input axis i
            let oa = if d >= 2 && i < 2 { 1 - i } else { i };
            ArrayD::from_shape_fn(IxDyn(&shape), |ix| axes[i][ix[oa]])
        })
        .collect();
    Ok(out)
}

/// Uniform samples in `[0, 1)`.
pub fn rand<T: Real>(shape: &[usize], seed: u64) -> ArrayD<T> {
    let mut rng = StdRng::seed_from_u64(seed);
    ArrayD::from_shape_simple_fn(IxDyn(shape), || T::of(rng.random::<f64>()))
}

/// Normal samples `N(mean, std²)`.
pub fn randn<T: Real>(shape: &[usize], mean: T, std: T, seed: u64) -> Result<ArrayD<T>> {
    let normal = Normal::new(mean.f64(), std.f64())
        .map_err(|e| Error::InvalidArgument(format!("randn(mean {mean}, std {std}): {e}")))?;
    let mut rng = StdRng::seed_from_u64(seed);
    Ok(ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        T::of(normal.sample(&mut rng))
    }))
}
