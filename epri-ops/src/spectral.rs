//! What spectral-spatial (4D) imaging adds to the operators: image shapes with a spectral axis,
//! the DFT along that axis, and the per-column factors of the model.
//!
//! A spectral-spatial image `u[l, i, j, k]` has shape `(Nb, Ny, Nx, Nz)`: axis 0 is the field
//! axis, sampled on the projections' grid `B` (sample `l` at `B[l]`, periodic of period `Nb`),
//! axes 1–3 are the spatial axes (Y, X, Z) of a 3D geometry. Its projection for the gradient
//! `γ` is `p_γ(B) = δ³ Σ_r u(B + <γ, r>, r)` (the spectrum of the voxel at `r` shifted by
//! `−<γ, r>` G, band-limited and circular along B), or in Fourier along B
//! `DFT(p_γ)(α) = δ³ Σ_{l, r} u[l, r] e^{−2iπ α l / Nb} e^{−i<r, ω_{γ, α}>}` on the retained
//! frequencies of [`crate::FrequencyNodes`], 0 elsewhere. In absorption mode the voxels hold
//! absorption profiles and the projection is that of their derivative along B: each coefficient
//! is multiplied by `i 2π α / (Nb dB)`.

use crate::error::{Error, Result};
use crate::geometry::Geometry;
use backend_core::{Backend, FftKind, FftSpec, Real, C};

/// Checks a spectral-spatial image shape against a 3D geometry: `(Nb, Ny, Nx, Nz)` with `Nb`
/// the length of `B` and every spatial axis at least 2.
pub fn check_image_shape<T: Real>(geometry: &Geometry<T>, shape: &[usize]) -> Result<()> {
    if shape.len() != 4 || geometry.dim() != 3 {
        return Err(Error::Shape(format!(
            "a spectral-spatial image has 4 axes (Nb, Ny, Nx, Nz) and a 3D geometry (fgrad with 3 rows); got the shape {shape:?} and {} rows of fgrad",
            geometry.dim()
        )));
    }
    if shape[0] != geometry.nb() {
        return Err(Error::Shape(format!(
            "spectral-spatial image of shape {shape:?}: its spectral axis has {} samples but B has {}",
            shape[0],
            geometry.nb()
        )));
    }
    geometry.check_image_shape(&shape[1..])
}

/// The factor of column `c` (integer frequency `alpha`) of the spectral-spatial model: 1, or
/// `i 2π α / (Nb dB)` (in G⁻¹) in absorption mode (derivative along B).
pub fn column_factor<T: Real>(geometry: &Geometry<T>, alpha: i64, absorption: bool) -> C<T> {
    if absorption {
        let nbdb = T::of(geometry.nb() as f64) * geometry.db();
        C::new(
            T::zero(),
            T::of(2.0 * std::f64::consts::PI) * T::of(alpha as f64) / nbdb,
        )
    } else {
        C::new(T::one(), T::zero())
    }
}

/// numpy's `rfft` / `irfft` along axis 0 of real arrays `(Nb, rest...)` (1 to 3 trailing axes),
/// half spectrum `(Nb/2 + 1, rest...)` (`α = 0 … Nb/2`), planned once:
/// [`Backend::fft_r2c_leading`] and [`Backend::fft_c2r_leading`].
pub struct SpectralAxisFft<B: Backend, T: Real> {
    all: B::FftPlan<T>,
    trailing: B::FftPlan<T>,
    half_shape: Vec<usize>,
}

impl<B: Backend, T: Real> SpectralAxisFft<B, T> {
    /// Plans the transforms of real arrays of shape `shape` (rank 2 to 4).
    pub fn new(backend: &B, shape: &[usize]) -> Result<Self> {
        Ok(SpectralAxisFft {
            all: backend.fft_plan(&FftSpec::new(shape, shape.len(), FftKind::C2C)?)?,
            trailing: backend.fft_plan(&FftSpec::new(shape, shape.len() - 1, FftKind::C2C)?)?,
            half_shape: backend_core::fft::leading_half_shape(shape),
        })
    }

    /// `(Nb/2 + 1, rest...)`.
    pub fn half_shape(&self) -> &[usize] {
        &self.half_shape
    }

    /// `half <- rfft(u)` along axis 0, unscaled.
    pub fn forward(&self, backend: &B, u: &B::Buffer<T>, half: &mut B::Buffer<C<T>>) -> Result<()> {
        Ok(backend.fft_r2c_leading(&self.all, &self.trailing, u, half)?)
    }

    /// `out <- irfft(half)` along axis 0 (scaled by `1/Nb`); `half` is overwritten.
    pub fn inverse(
        &self,
        backend: &B,
        half: &mut B::Buffer<C<T>>,
        out: &mut B::Buffer<T>,
    ) -> Result<()> {
        Ok(backend.fft_c2r_leading(&self.all, &self.trailing, half, out)?)
    }
}
