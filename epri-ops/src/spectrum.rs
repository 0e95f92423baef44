//! Spectra of reference lineshapes along the field axis, and their sampling at the frequency
//! nodes.

use crate::error::Result;
use crate::nodes::FrequencyNodes;
use backend_core::{Backend, FftKind, FftSpec, Real, C};
use ndarray::{Array1, ArrayView1};
use rayon::prelude::*;

/// The DFT of a lineshape `h` (shape `(Nb,)`, sampled on `B`), computed by `backend` and
/// returned to the host: `rfft(h)` (shape `(Nb/2+1,)`) when `rfft_mode`, else `fft(h)`
/// (shape `(Nb,)`, FFT order). numpy's unscaled forward convention.
pub fn lineshape_spectrum<B: Backend, T: Real>(
    backend: &B,
    h: ArrayView1<'_, T>,
    rfft_mode: bool,
) -> Result<Array1<C<T>>> {
    let nb = h.len();
    let hd = backend.upload(h.into_dyn())?;
    let spec = if rfft_mode {
        let plan = backend.fft_plan::<T>(&FftSpec::new(&[nb], 1, FftKind::R2C)?)?;
        let mut out = backend.zeros::<C<T>>(&[nb / 2 + 1])?;
        backend.fft_r2c(&plan, &hd, &mut out)?;
        out
    } else {
        let plan = backend.fft_plan::<T>(&FftSpec::new(&[nb], 1, FftKind::C2C)?)?;
        let mut out = backend.zeros::<C<T>>(&[nb])?;
        backend.to_complex(&hd, &mut out)?;
        backend.fft_c2c(&plan, &mut out, backend_core::Direction::Forward)?;
        out
    };
    let host = backend.download(&spec)?;
    Ok(Array1::from_iter(host.iter().copied()))
}

/// A per-node weight `w_m = f(c_m)`, `c_m` the column of node `m` (`f` typically reads the
/// spectrum at `c_m`), computed in parallel and uploaded as a complex buffer of shape `(M,)`:
/// the spectrum multiplication of the operators, done on the `M` retained entries only.
pub fn node_weights<B: Backend, T: Real>(
    backend: &B,
    nodes: &FrequencyNodes<T>,
    f: impl Fn(usize) -> C<T> + Sync,
) -> Result<B::Buffer<C<T>>> {
    let w: Vec<C<T>> = nodes.par_columns().map(&f).collect();
    Ok(backend.upload_flat(&[w.len()], w)?)
}
