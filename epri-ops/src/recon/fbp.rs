//! Filtered backprojection (PyEPRI's `eprfbp2d` / `eprfbp3d`).
//!
//! The projections are filtered in the Fourier domain with the backend's FFT plans (one batched
//! real FFT over all projections), then backprojected by linear interpolation with
//! [`Backend::interp_backproject`]. Everything after the upload of the sinogram runs on the
//! device; the host only builds the small filter table.

use crate::error::{Error, Result};
use crate::geometry::Geometry;
use backend_core::{Backend, FftKind, FftSpec, Real, C};
use ndarray::{Array1, Array2, ArrayD, ArrayView1, ArrayView2, Axis, IxDyn};
use std::f64::consts::PI;

/// PyEPRI's image grids: `(-(n/2) + arange(n)) · delta`, the centred sample positions of an axis
/// of `n` pixels of size `delta` (same unit as `delta`, cm in the examples).
pub fn grid<T: Real>(n: usize, delta: T) -> Array1<T> {
    let half = (n / 2) as f64;
    Array1::from_iter((0..n).map(|i| T::of(i as f64 - half) * delta))
}

/// Python's `round()` on a non-negative float: ties go to the even integer.
fn round_half_even(x: f64) -> f64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r - x.signum()
    } else {
        r
    }
}

/// Filtered backprojection of a sinogram on a rectangular grid.
///
/// * `proj`: sinogram, shape `(P, Nb)`, one projection per row, sampled on the geometry's B grid;
/// * `geometry`: B grid (only `dB` and `Nb` are used) and field gradients `fgrad` `(d, P)` in
///   `[B]/[L]`, rows `(X, Y[, Z])`; projections with a zero gradient are skipped;
/// * `h`: reference spectrum `(Nb,)` (first-derivative line) sampled on the same B grid;
/// * `grids`: one 1D array of positions per image axis, in image axis order `(Y, X[, Z])`, unit
///   `[L]` (see [`grid`]);
/// * `cutoff`: fraction of the lowest Fourier coefficients kept (PyEPRI's `frequency_cutoff`,
///   `0 < cutoff <= 1`).
///
/// Returns the image of shape `(Ny, Nx[, Nz])`, in the unit of `proj / h` per `[L]^d`.
pub fn fbp<B: Backend, T: Real>(
    backend: &B,
    proj: ArrayView2<'_, T>,
    geometry: &Geometry<T>,
    h: ArrayView1<'_, T>,
    grids: &[ArrayView1<'_, T>],
    cutoff: f64,
) -> Result<ArrayD<T>> {
    let fgrad = geometry.fgrad();
    let d = fgrad.nrows();
    let nb = proj.ncols();
    if d != 2 && d != 3 {
        return Err(Error::Geometry(format!(
            "FBP needs 2 or 3 gradient components, got {d}"
        )));
    }
    if grids.len() != d {
        return Err(Error::Shape(format!(
            "{} grids given for a {d}D reconstruction",
            grids.len()
        )));
    }
    geometry.check_sinogram_shape(proj.shape())?;
    geometry.check_spectrum("h", h)?;
    if !(cutoff > 0.0 && cutoff <= 1.0) {
        return Err(Error::Parameter(format!(
            "frequency cutoff {cutoff} outside (0, 1]"
        )));
    }
    if grids.iter().any(|g| g.is_empty()) {
        return Err(Error::Shape("empty image grid".into()));
    }
    if proj.iter().any(|x| !x.is_finite()) {
        return Err(Error::NonFinite("the projections".into()));
    }
    let db = geometry.db().f64();

    // Projections with a non-zero gradient, and their gradients in f64.
    let used: Vec<usize> = (0..fgrad.ncols())
        .filter(|&n| fgrad.column(n).iter().any(|g| *g != T::zero()))
        .collect();
    if used.is_empty() {
        return Err(Error::Geometry(
            "every field gradient is zero: nothing to backproject".into(),
        ));
    }
    let nused = used.len();
    let g = |a: usize, n: usize| fgrad[[a, n]].f64();
    let mu: Vec<f64> = used
        .iter()
        .map(|&n| (0..d).map(|a| g(a, n).powi(2)).sum::<f64>().sqrt())
        .collect();

    // Per-projection weights (step 4).
    let weights: Vec<f64> = if d == 2 {
        mu.iter()
            .map(|m| m * m / (2.0 * db * nused as f64))
            .collect()
    } else {
        let theta1: Vec<f64> = used
            .iter()
            .zip(&mu)
            .map(|(&n, m)| {
                let s = if g(1, n) > 0.0 {
                    1.0
                } else if g(1, n) < 0.0 {
                    -1.0
                } else {
                    0.0
                };
                s * (g(0, n) / m).clamp(-1.0, 1.0).acos()
            })
            .collect();
        let theta2: Vec<f64> = used
            .iter()
            .zip(&mu)
            .map(|(&n, m)| (g(2, n) / m).clamp(-1.0, 1.0).acos())
            .collect();
        let span = |v: &[f64]| {
            v.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
                - v.iter().cloned().fold(f64::INFINITY, f64::min)
        };
        let cof = span(&theta1) * span(&theta2) / (4.0 * PI * PI * db * nused as f64);
        mu.iter()
            .zip(&theta2)
            .map(|(m, t2)| cof * m.powi(3) * t2.sin())
            .collect()
    };

    // Spectrum of the absorption profile g = cumsum(h)·dB, window centre moved to index 0.
    let nf = nb / 2 + 1;
    let mut cum = 0.0;
    let absorption: Vec<T> = h
        .iter()
        .map(|x| {
            cum += x.f64();
            T::of(cum * db)
        })
        .collect();
    let mut shifted = vec![T::zero(); nb];
    for (i, v) in absorption.iter().enumerate() {
        shifted[(i + nb - nb / 2) % nb] = *v;
    }
    let plan1 = backend.fft_plan::<T>(&FftSpec::new(&[nb], 1, FftKind::R2C)?)?;
    let gbuf = backend.upload_flat(&[nb], shifted)?;
    let mut gspec = backend.zeros::<C<T>>(&[nf])?;
    backend.fft_r2c(&plan1, &gbuf, &mut gspec)?;
    let gspec = backend.download(&gspec)?;

    // Ramp-type filter on the bins 0..=M/2, zero above (step 3).
    let m = round_half_even(cutoff * nb as f64).max(1.0) as usize;
    let kmax = (m / 2).min(nf - 1);
    let mut filter = vec![C::new(0.0f64, 0.0); nf];
    for (alpha, f) in filter.iter_mut().enumerate().take(kmax + 1) {
        let gh = gspec[alpha];
        let gh = C::new(gh.re.f64(), gh.im.f64());
        if gh.norm_sqr() == 0.0 || !gh.norm_sqr().is_finite() {
            return Err(Error::Parameter(format!(
                "the absorption spectrum vanishes at frequency bin {alpha}: lower the cutoff"
            )));
        }
        let num = if d == 2 {
            C::new(0.0, -1.0)
        } else {
            C::new(0.0, -2.0 * PI * alpha as f64 / (nb as f64 * db))
        };
        *f = num / gh;
    }
    let table = Array2::from_shape_fn((nused, nf), |(n, alpha)| {
        let v = filter[alpha] * weights[n];
        C::new(T::of(v.re), T::of(v.im))
    });

    // Filtered sinogram f_n = fftshift(irfft(rfft(ifftshift(p_n)) · w_n ŵ)) (step 5).
    let sino = proj.select(Axis(0), &used);
    let sino = backend.upload(sino.view().into_dyn())?;
    let half = (nb / 2) as isize;
    let mut work = backend.zeros::<T>(&[nused, nb])?;
    backend.roll(&sino, &[0, -half], &mut work)?;
    drop(sino);
    let plan = backend.fft_plan::<T>(&FftSpec::new(&[nused, nb], 1, FftKind::R2C)?)?;
    let mut spec = backend.zeros::<C<T>>(&[nused, nf])?;
    backend.fft_r2c(&plan, &work, &mut spec)?;
    let table = backend.upload(table.view().into_dyn())?;
    backend.cmul(&mut spec, &table, false)?;
    drop(table);
    let mut filtered = backend.zeros::<T>(&[nused, nb])?;
    backend.fft_c2r(&plan, &mut spec, &mut filtered)?;
    drop(spec);
    backend.roll(&filtered, &[0, half], &mut work)?;
    drop(filtered);

    // Backprojection (step 7). The backend runs its inner loop along the last axis it is given:
    // the longest image axis is moved last (gradients and grids permuted alike), and the result
    // permuted back.
    let mut perm: Vec<usize> = (0..d).collect();
    if let Some(longest) = (0..d).rev().max_by_key(|&a| grids[a].len()) {
        perm.retain(|&a| a != longest);
        perm.push(longest);
    }
    // fgrad rows are (X, Y[, Z]): image axis 0 (Y) is row 1, axis 1 (X) row 0.
    let fgrad_row = |axis: usize| [1, 0, 2][axis];
    let gperm = Array2::from_shape_fn((nused, d), |(n, k)| fgrad[[fgrad_row(perm[k]), used[n]]]);
    let gperm = backend.upload(gperm.view().into_dyn())?;
    let gridbufs = perm
        .iter()
        .map(|&a| backend.upload(grids[a].view().into_dyn()))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let gridrefs: Vec<&B::Buffer<T>> = gridbufs.iter().collect();
    let shape: Vec<usize> = perm.iter().map(|&a| grids[a].len()).collect();
    let mut out = backend.zeros::<T>(&shape)?;
    let r0 = T::of(-((nb / 2) as f64) * db);
    backend.interp_backproject(&work, &gperm, &gridrefs, r0, T::of(db), &mut out)?;
    let out = backend.download(&out)?;
    let back: Vec<usize> = (0..d)
        .map(|a| perm.iter().position(|&p| p == a).unwrap_or(a))
        .collect();
    Ok(out
        .permuted_axes(IxDyn(&back))
        .as_standard_layout()
        .into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banker_rounding_matches_python() {
        assert_eq!(round_half_even(0.5), 0.0);
        assert_eq!(round_half_even(1.5), 2.0);
        assert_eq!(round_half_even(2.5), 2.0);
        assert_eq!(round_half_even(50.0), 50.0);
        assert_eq!(round_half_even(2.4999), 2.0);
        assert_eq!(round_half_even(3.5), 4.0);
    }

    #[test]
    fn grid_is_centred() {
        let g = grid::<f64>(5, 0.5);
        assert_eq!(g.to_vec(), vec![-1.0, -0.5, 0.0, 0.5, 1.0]);
        let g = grid::<f32>(4, 1.0);
        assert_eq!(g.to_vec(), vec![-2.0, -1.0, 0.0, 1.0]);
    }
}
