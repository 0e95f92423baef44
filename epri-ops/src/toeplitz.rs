//! `A*A` as a convolution: the Toeplitz kernel on the doubled grid (PyEPRI's
//! `compute_{2,3,4}d_toeplitz_kernel`, `apply_{2,3,4}d_toeplitz_kernel`).

use crate::error::{Error, Result};
use crate::geometry::Geometry;
use crate::nodes::FrequencyNodes;
use crate::spectral::{self, SpectralAxisFft};
use crate::spectrum::{lineshape_spectrum, node_weights};
use backend_core::nufft::{NufftPlan, NufftType};
use backend_core::{Backend, DeviceBuffer, FftKind, FftSpec, Part, Real, Reduce, C};
use ndarray::{ArrayD, ArrayView1};

/// The kernel `φ` with `A*_{h2} A_{h1} u = u ⊛ φ` (linear convolution), kept as its real FFT
/// `Φ̂ = rfftn(φ_c)` on the doubled grid `(2N1, 2N2[, 2N3])` (`φ_c`: `φ` in circulant layout,
/// the centred offset `k` at index `k mod 2N`), prepared for the backend's
/// [`Backend::fft_convolve`], with the FFT plan and scratch needed to apply it many times.
///
/// `φ(k) = δ^{2d}/Nb Σ_n Σ_{α ∈ C(γ_n)} conj(Ĥ2(α)) Ĥ1(α) e^{+i<k, ω_{n,α}>}` for centred
/// indices `k` of the doubled grid (array index `k + N`): `h1` is the lineshape of the forward
/// operator, `h2` of the adjoint (both `h` for one source). Images have shape `image_shape`,
/// axes (Y, X[, Z]).
///
/// Spectral-spatial images `(Nb, Ny, Nx, Nz)` ([`ToeplitzKernel::new_spectral`]): `A*A` is a
/// circular convolution of period `Nb` along the spectral axis and a linear one along the
/// spatial axes, so the grid is `(Nb, 2Ny, 2Nx, 2Nz)` (PyEPRI doubles the spectral axis too, to
/// a kernel of two identical periods) and
/// `φ(l, k) = δ⁶/Nb Σ_n Σ_{α ∈ C(γ_n)} |F(α)|² e^{+2iπ α l / Nb} e^{+i<k, ω_{n,α}>}`, `F` the
/// column factor (1, or `i 2π α / (Nb dB)` in absorption mode).
pub struct ToeplitzKernel<B: Backend, T: Real> {
    backend: B,
    image_shape: Vec<usize>,
    grid_shape: Vec<usize>,
    /// Per axis, the shift between the kernel's layout (centred offset `k` at index `k + N`;
    /// 0 on the periodic spectral axis) and the circulant one.
    shifts: Vec<isize>,
    fft: B::FftPlan<T>,
    kernel_hat: B::Buffer<C<T>>,
    pad: B::Buffer<T>,
    spec: B::Buffer<C<T>>,
    max_abs: T,
}

impl<B: Backend, T: Real> ToeplitzKernel<B, T> {
    /// Computes the kernel for `geometry`, the forward lineshape `h1` and the backward lineshape
    /// `h2` (both of shape `(Nb,)`), images of shape `image_shape`, with a type-1 NUFFT of
    /// accuracy `eps` on the doubled grid (rfft-mode nodes), then its real FFT.
    ///
    /// Errors: as [`crate::proj::Projector::new`].
    pub fn new(
        backend: &B,
        geometry: &Geometry<T>,
        h1: ArrayView1<'_, T>,
        h2: ArrayView1<'_, T>,
        image_shape: &[usize],
        eps: f64,
    ) -> Result<Self> {
        geometry.check_spectrum("h1", h1)?;
        geometry.check_spectrum("h2", h2)?;
        geometry.check_image_shape(image_shape)?;
        let nodes = FrequencyNodes::new(geometry, true)?;
        let s1 = lineshape_spectrum(backend, h1, true)?;
        let s2 = lineshape_spectrum(backend, h2, true)?;
        let d = geometry.dim() as i32;
        let scale = T::of(geometry.delta().f64().powi(2 * d) / geometry.nb() as f64);
        let two = T::of(2.0);
        // The DC column counted once, the others twice: 2·Re completes the negative frequencies.
        let strengths = node_weights(backend, &nodes, |c| {
            let g = s1[c] * s2[c].conj() * scale;
            if c == 0 {
                g
            } else {
                g * two
            }
        })?;
        let grid_shape: Vec<usize> = image_shape.iter().map(|&n| 2 * n).collect();
        let mut phi_c = backend.zeros::<C<T>>(&grid_shape)?;
        {
            let mut plan = NufftPlan::new(backend, NufftType::Type1, &grid_shape, 1, eps)?;
            plan.set_points(&nodes.coord_views())?;
            plan.execute(&strengths, &mut phi_c)?;
        }
        let shifts = image_shape.iter().map(|&n| n as isize).collect();
        Self::from_kernel(backend, phi_c, image_shape, shifts)
    }

    /// The kernel of `A*A` for the spectral-spatial operator ([`crate::Projector::new_spectral`])
    /// of `geometry` (3D), images of shape `(Nb, Ny, Nx, Nz)`, in absorption mode if
    /// `absorption`: one batched type-1 NUFFT (one transform per retained column, accuracy `eps`)
    /// on the doubled spatial grid, then the inverse DFT along the spectral axis.
    ///
    /// Errors: as [`crate::Projector::new_spectral`].
    pub fn new_spectral(
        backend: &B,
        geometry: &Geometry<T>,
        image_shape: &[usize],
        absorption: bool,
        eps: f64,
    ) -> Result<Self> {
        spectral::check_image_shape(geometry, image_shape)?;
        let nodes = FrequencyNodes::new(geometry, true)?;
        let nb = geometry.nb();
        // Nb · δ⁶/Nb: the inverse spectral DFT below divides by Nb.
        let scale = T::of(geometry.delta().f64().powi(6));
        let two = T::of(2.0);
        let spatial: Vec<usize> = image_shape[1..].iter().map(|&n| 2 * n).collect();
        let cells: usize = spatial.iter().product();
        let mut grid_shape = spatial.clone();
        grid_shape.insert(0, nb);
        let mut phi_c = backend.zeros::<C<T>>(&grid_shape)?;
        let mut by_column = vec![Vec::new(); nodes.ncols()];
        for (m, c) in nodes.columns().enumerate() {
            by_column[c].push(m);
        }
        // Column by column (one fine grid alive at a time): slice c of the spectral DFT of φ.
        let mut plan = NufftPlan::new(backend, NufftType::Type1, &spatial, 1, eps)?;
        let mut slice = backend.zeros::<C<T>>(&spatial)?;
        for (c, pos) in by_column.iter().enumerate().filter(|(_, p)| !p.is_empty()) {
            let f = spectral::column_factor(geometry, c as i64, absorption);
            let g = f * f.conj() * scale;
            let g = if c == 0 { g } else { g * two };
            let coords: Vec<ndarray::Array1<T>> = nodes
                .coords()
                .iter()
                .map(|x| pos.iter().map(|&m| x[m]).collect())
                .collect();
            plan.set_points(&coords.iter().map(|x| x.view()).collect::<Vec<_>>())?;
            let strengths = backend.upload_flat(&[pos.len()], vec![g; pos.len()])?;
            plan.execute(&strengths, &mut slice)?;
            let slots = backend.upload_flat(&[cells], crate::proj::u32_range(c * cells, cells)?)?;
            backend.scatter(&slice, &slots, &mut phi_c)?;
        }
        drop((plan, slice));
        SpectralAxisFft::new(backend, &grid_shape)?.inverse(backend, &mut phi_c)?;
        let mut shifts: Vec<isize> = image_shape.iter().map(|&n| n as isize).collect();
        shifts[0] = 0;
        Self::from_kernel(backend, phi_c, image_shape, shifts)
    }

    /// Keeps the real part of the complex kernel `phi_c` (grid shape, kernel layout), moves it
    /// to the circulant layout (shift `shifts`), and prepares its real FFT for
    /// [`Backend::fft_convolve`].
    fn from_kernel(
        backend: &B,
        phi_c: B::Buffer<C<T>>,
        image_shape: &[usize],
        shifts: Vec<isize>,
    ) -> Result<Self> {
        let grid_shape = phi_c.shape().to_vec();
        let mut phi = backend.zeros::<T>(&grid_shape)?;
        backend.complex_part(&phi_c, Part::Re, &mut phi)?;
        drop(phi_c);
        // The circulant layout (offset k at index k mod 2N): the product then lands on the
        // leading block of the grid, where `fft_convolve` keeps it.
        let mut pad = backend.zeros::<T>(&grid_shape)?;
        backend.roll(&phi, &shifts, &mut pad)?;
        drop(phi);
        let spec_fft = FftSpec::new(&grid_shape, grid_shape.len(), FftKind::R2C)?;
        let fft = backend.fft_plan::<T>(&spec_fft)?;
        let spec_shape = spec_fft.spectrum_shape();
        let mut kernel_hat = backend.zeros::<C<T>>(&spec_shape)?;
        backend.fft_r2c(&fft, &pad, &mut kernel_hat)?;
        let mut modulus = backend.zeros::<T>(&spec_shape)?;
        backend.complex_part(&kernel_hat, Part::Abs, &mut modulus)?;
        let max_abs = backend.reduce(Reduce::Max, &modulus)?;
        if !max_abs.is_finite() {
            return Err(Error::NonFinite("the Toeplitz kernel".into()));
        }
        backend.fft_convolve_prepare(&fft, &mut kernel_hat)?;
        Ok(ToeplitzKernel {
            backend: backend.clone(),
            image_shape: image_shape.to_vec(),
            spec: backend.zeros(&spec_shape)?,
            grid_shape,
            shifts,
            fft,
            kernel_hat,
            pad,
            max_abs,
        })
    }

    /// `out <- A*(A u)` (to NUFFT accuracy): `u` and `out` of shape `image_shape` (Y, X[, Z]).
    /// Zero-pads `u` to the doubled grid, multiplies its real FFT by `Φ̂`, transforms back and
    /// keeps the leading block (the centred offsets `0 … N-1`): [`Backend::fft_convolve`].
    pub fn apply(&mut self, u: &B::Buffer<T>, out: &mut B::Buffer<T>) -> Result<()> {
        for (what, s) in [("input", u.shape()), ("output", out.shape())] {
            if s != self.image_shape.as_slice() {
                return Err(Error::Shape(format!(
                    "Toeplitz {what} has shape {s:?}, the kernel was made for images of shape {:?}",
                    self.image_shape
                )));
            }
        }
        self.backend.fft_convolve(
            &self.fft,
            &self.kernel_hat,
            u,
            out,
            &mut self.pad,
            &mut self.spec,
        )?;
        Ok(())
    }

    /// The kernel `φ` itself (real, shape `grid_shape`, array index `k + N` for the centred
    /// offset `k`; one period `0 … Nb-1` along a spectral axis), recomputed from `Φ̂` (as the
    /// convolution of a unit impulse) and downloaded: PyEPRI's
    /// `compute_{2,3}d_toeplitz_kernel(..., return_rfft=False)`. For tests and inspection.
    pub fn kernel_host(&mut self) -> Result<ArrayD<T>> {
        let b = &self.backend;
        let unit = vec![1; self.grid_shape.len()];
        let dirac = b.ones::<T>(&unit)?;
        let mut circulant = b.zeros::<T>(&self.grid_shape)?;
        b.fft_convolve(
            &self.fft,
            &self.kernel_hat,
            &dirac,
            &mut circulant,
            &mut self.pad,
            &mut self.spec,
        )?;
        let mut phi = b.zeros::<T>(&self.grid_shape)?;
        b.roll(&circulant, &self.shifts, &mut phi)?;
        Ok(b.download(&phi)?)
    }

    /// `max |Φ̂|`: an upper bound of `‖A*A‖` (the largest eigenvalue of the circulant
    /// extension), PyEPRI's `lipschitz_const='upper-bound'`.
    pub fn max_abs_fourier(&self) -> T {
        self.max_abs
    }

    /// Image shape (Y, X[, Z]).
    pub fn image_shape(&self) -> &[usize] {
        &self.image_shape
    }

    /// Grid shape: `(2N1, 2N2[, 2N3])`, or `(Nb, 2Ny, 2Nx, 2Nz)` for spectral-spatial images.
    pub fn grid_shape(&self) -> &[usize] {
        &self.grid_shape
    }

    /// The backend the kernel lives on.
    pub fn backend(&self) -> &B {
        &self.backend
    }
}
