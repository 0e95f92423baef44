//! The acquisition geometry of a mono-source EPR experiment: the homogeneous-field grid `B`, the
//! pixel size `delta` and the field gradients `fgrad`.

use crate::error::{Error, Result};
use backend_core::Real;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

/// Relative tolerance on the spacing of `B` (fraction of `dB`), on top of the rounding of the
/// stored values (a few units in the last place of `max |B|`: float32 grids of real datasets
/// near 3500 G are only regular to one ulp, i.e. up to 3e-3 of `dB`).
const SPACING_RTOL: f64 = 1e-3;

/// The geometry shared by every operator of one experiment.
///
/// * `B`, shape `(Nb,)`, in G (any field unit `[B]`): the homogeneous field grid, uniformly
///   spaced and increasing. Only `dB = B[1] - B[0]` and `Nb` enter the operators, as in PyEPRI.
/// * `delta`, in cm (any length unit): the pixel (voxel) size.
/// * `fgrad`, shape `(d, P)`, in G/cm (field unit per length unit): one field gradient per column, rows in the
///   order **(X, Y[, Z])** (PyEPRI's convention, while images are stored (Y, X[, Z])).
///
/// The sinogram of this geometry has shape `(P, Nb)` (one projection per row).
#[derive(Clone, Debug)]
pub struct Geometry<T> {
    b: Array1<T>,
    db: T,
    delta: T,
    fgrad: Array2<T>,
}

impl<T: Real> Geometry<T> {
    /// Checks and stores a geometry.
    ///
    /// Errors: [`Error::Geometry`] when `Nb < 2`, `B` is not increasing and uniformly spaced
    /// (relative tolerance 1e-3 of `dB` plus rounding), `delta` is not positive and finite,
    /// `fgrad` does not have 2 or 3 rows or has no column; [`Error::NonFinite`] when `B` or
    /// `fgrad` hold a NaN or an infinity.
    pub fn new(b: ArrayView1<'_, T>, delta: T, fgrad: ArrayView2<'_, T>) -> Result<Self> {
        let nb = b.len();
        if nb < 2 {
            return Err(Error::Geometry(format!(
                "the field grid B needs at least 2 samples (got {nb})"
            )));
        }
        if !b.iter().all(|v| v.is_finite()) {
            return Err(Error::NonFinite("the field grid B".into()));
        }
        if !fgrad.iter().all(|v| v.is_finite()) {
            return Err(Error::NonFinite("the field gradients fgrad".into()));
        }
        if !(delta.is_finite() && delta > T::zero()) {
            return Err(Error::Geometry(format!(
                "the pixel size delta must be positive and finite (got {delta})"
            )));
        }
        let d = fgrad.nrows();
        if d != 2 && d != 3 {
            return Err(Error::Geometry(format!(
                "fgrad must have 2 rows (X, Y) or 3 rows (X, Y, Z), one gradient per column (got shape {:?})",
                fgrad.shape()
            )));
        }
        if fgrad.ncols() == 0 {
            return Err(Error::Geometry(
                "fgrad holds no gradient (0 columns)".into(),
            ));
        }
        let db = b[1] - b[0];
        if db <= T::zero() {
            return Err(Error::Geometry(format!(
                "the field grid B must be increasing (B[1] - B[0] = {db})"
            )));
        }
        let bmax = b.iter().fold(0.0f64, |m, v| m.max(v.f64().abs()));
        let tol = SPACING_RTOL * db.f64() + 4.0 * T::EPS.f64() * bmax;
        if let Some(i) = (1..nb).find(|&i| ((b[i] - b[i - 1]).f64() - db.f64()).abs() > tol) {
            return Err(Error::Geometry(format!(
                "the field grid B must be uniformly spaced: B[{i}] - B[{}] = {} but B[1] - B[0] = {db}",
                i - 1,
                b[i] - b[i - 1]
            )));
        }
        Ok(Geometry {
            b: b.to_owned(),
            db,
            delta,
            fgrad: fgrad.to_owned(),
        })
    }

    /// Number of field samples `Nb` (length of `B`, of `h`, of each projection).
    pub fn nb(&self) -> usize {
        self.b.len()
    }

    /// Field step `dB = B[1] - B[0]`, in G.
    pub fn db(&self) -> T {
        self.db
    }

    /// Pixel size, in cm.
    pub fn delta(&self) -> T {
        self.delta
    }

    /// Spatial dimension `d` (2 or 3).
    pub fn dim(&self) -> usize {
        self.fgrad.nrows()
    }

    /// Number of projections `P` (columns of `fgrad`, rows of the sinogram).
    pub fn num_proj(&self) -> usize {
        self.fgrad.ncols()
    }

    /// The field grid `B`, shape `(Nb,)`, in G.
    pub fn b(&self) -> ArrayView1<'_, T> {
        self.b.view()
    }

    /// The field gradients, shape `(d, P)`, rows (X, Y[, Z]), in G/cm.
    pub fn fgrad(&self) -> ArrayView2<'_, T> {
        self.fgrad.view()
    }

    /// Sweep width `B[Nb-1] - B[0]`, in G (PyEPRI's `Bsw`, used by the TV weight normalisation).
    pub fn sweep_width(&self) -> T {
        self.b[self.nb() - 1] - self.b[0]
    }

    /// Gradient magnitudes `μ_k = ‖fgrad[:, k]‖₂`, shape `(P,)`, in G/cm (summed in the row
    /// order X, Y[, Z] and in precision `T`, as PyEPRI).
    pub fn gradient_norms(&self) -> Array1<T> {
        self.fgrad
            .columns()
            .into_iter()
            .map(|g| g.iter().fold(T::zero(), |s, &v| s + v * v).sqrt())
            .collect()
    }

    /// The sinogram shape `(P, Nb)`.
    pub fn sino_shape(&self) -> [usize; 2] {
        [self.num_proj(), self.nb()]
    }

    /// Checks that an image shape fits this geometry: `d` axes, each of length at least 2,
    /// in the order (Y, X[, Z]).
    pub fn check_image_shape(&self, shape: &[usize]) -> Result<()> {
        if shape.len() != self.dim() {
            return Err(Error::Shape(format!(
                "image shape {shape:?} has {} axes but fgrad has {} rows (a {}D geometry)",
                shape.len(),
                self.dim(),
                self.dim()
            )));
        }
        if let Some(a) = shape.iter().position(|&n| n < 2) {
            return Err(Error::Shape(format!(
                "image shape {shape:?}: axis {a} has length {} (every axis needs at least 2 pixels)",
                shape[a]
            )));
        }
        Ok(())
    }

    /// Checks that a sinogram shape is `(P, Nb)`: one row per column of `fgrad`, one column
    /// per sample of `B`.
    pub fn check_sinogram_shape(&self, shape: &[usize]) -> Result<()> {
        if shape != self.sino_shape() {
            return Err(Error::Shape(format!(
                "sinogram of shape {shape:?}, expected (P, Nb) = {:?}: {} projections (columns of fgrad) of {} field samples (length of B)",
                self.sino_shape(),
                self.num_proj(),
                self.nb()
            )));
        }
        Ok(())
    }

    /// Checks a reference spectrum `h` sampled on `B`: length `Nb`, finite values.
    pub fn check_spectrum(&self, name: &str, h: ArrayView1<'_, T>) -> Result<()> {
        if h.len() != self.nb() {
            return Err(Error::Shape(format!(
                "the spectrum {name} has {} samples but B has {}",
                h.len(),
                self.nb()
            )));
        }
        if !h.iter().all(|v| v.is_finite()) {
            return Err(Error::NonFinite(format!("the spectrum {name}")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array1};

    fn grid(nb: usize) -> Array1<f32> {
        Array1::from_iter((0..nb).map(|i| 3400.0 + 0.36 * i as f32))
    }

    #[test]
    fn accessors() {
        let b = grid(10);
        let g = Geometry::new(b.view(), 0.01, array![[1.0f32, 0.0], [0.0, 2.0]].view()).unwrap();
        assert_eq!((g.nb(), g.dim(), g.num_proj()), (10, 2, 2));
        assert_eq!(g.sino_shape(), [2, 10]);
        assert!((g.sweep_width() - 9.0 * 0.36).abs() < 1e-3);
        assert_eq!(g.gradient_norms(), array![1.0f32, 2.0]);
    }

    #[test]
    fn rejects_bad_inputs() {
        let fg = array![[1.0f32], [0.0]];
        let b = grid(10);
        assert!(matches!(
            Geometry::new(b.slice(ndarray::s![..1]), 0.01, fg.view()),
            Err(Error::Geometry(_))
        ));
        let mut bad = b.clone();
        bad[5] += 0.1;
        assert!(matches!(
            Geometry::new(bad.view(), 0.01, fg.view()),
            Err(Error::Geometry(_))
        ));
        bad[5] = f32::NAN;
        assert!(matches!(
            Geometry::new(bad.view(), 0.01, fg.view()),
            Err(Error::NonFinite(_))
        ));
        let rev: Array1<f32> = b.iter().rev().cloned().collect();
        assert!(matches!(
            Geometry::new(rev.view(), 0.01, fg.view()),
            Err(Error::Geometry(_))
        ));
        assert!(matches!(
            Geometry::new(b.view(), 0.0, fg.view()),
            Err(Error::Geometry(_))
        ));
        assert!(matches!(
            Geometry::new(b.view(), f32::INFINITY, fg.view()),
            Err(Error::Geometry(_))
        ));
        let fg4 = Array2::<f32>::zeros((4, 3));
        assert!(matches!(
            Geometry::new(b.view(), 0.01, fg4.view()),
            Err(Error::Geometry(_))
        ));
        let fgn = array![[1.0f32], [f32::NAN]];
        assert!(matches!(
            Geometry::new(b.view(), 0.01, fgn.view()),
            Err(Error::NonFinite(_))
        ));
        let g = Geometry::new(b.view(), 0.01, fg.view()).unwrap();
        assert!(matches!(
            g.check_image_shape(&[4, 4, 4]),
            Err(Error::Shape(_))
        ));
        assert!(matches!(g.check_image_shape(&[4, 1]), Err(Error::Shape(_))));
        assert!(matches!(
            g.check_sinogram_shape(&[2, 10]),
            Err(Error::Shape(_))
        ));
        assert!(g.check_sinogram_shape(&[1, 10]).is_ok());
        assert!(matches!(
            g.check_spectrum("h", b.slice(ndarray::s![..9])),
            Err(Error::Shape(_))
        ));
    }
}
