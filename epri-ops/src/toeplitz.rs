//! `A*A` as a convolution: the Toeplitz kernel on the doubled grid (PyEPRI's
//! `compute_{2,3,4}d_toeplitz_kernel`, `apply_{2,3,4}d_toeplitz_kernel`).

use crate::error::{Error, Result};
use crate::geometry::Geometry;
use crate::nodes::FrequencyNodes;
use crate::spectral;
use crate::spectrum::{lineshape_spectrum, node_weights};
use backend_core::nufft::{NufftPlan, NufftType};
use backend_core::{Backend, DeviceBuffer, Direction, FftKind, FftSpec, Part, Real, Reduce, C};
use ndarray::{ArrayD, ArrayView1, ArrayViewD, Dimension};

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
        Self::from_kernel(backend, phi_c, image_shape, half_shifts(image_shape))
    }

    /// The kernel of `A*A` for the spectral-spatial operator ([`crate::Projector::new_spectral`])
    /// of `geometry` (3D), images of shape `(Nb, Ny, Nx, Nz)`, in absorption mode if
    /// `absorption`: per retained column `c`, one type-1 NUFFT of its nodes (accuracy `eps`,
    /// one fine grid for all the columns) on the doubled spatial grid and the 3D FFT of that
    /// slice, written straight into the two slices `c` and `-c` of the kernel's real 4D FFT.
    ///
    /// Why two slices: `φ(l, k) = Re((1/Nb) Σ_c S_c(k) e^{+2iπ c l / Nb})` with `S_c` the
    /// column's NUFFT output (columns `0 … Nb/2`), so the DFT of `φ` along the spectral axis
    /// is `(S_{c'}(k) + conj(S_{−c'}(k))) / 2` and its spatial FFT, with `F_c = FFT3(S_c)` in the
    /// circulant layout, `(F_{c'}[m] + conj(F_{−c'}[−m])) / 2`: the half of the last spatial
    /// axis that the real FFT keeps is gathered from `F_c` (slice `c`) and from its mirror image
    /// (slice `Nb − c`). Neither the complex 4D kernel nor a transform along the spectral axis
    /// is ever made.
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
        // δ⁶/Nb · Nb/2: the 1/Nb of φ cancels in its DFT along B, whose two halves take 1/2
        // each (the 2·Re completion of the columns c ≠ 0 is the mirror slice).
        let scale = T::of(geometry.delta().f64().powi(6) / 2.0);
        let two = T::of(2.0);
        let spatial: Vec<usize> = image_shape[1..].iter().map(|&n| 2 * n).collect();
        let mut grid_shape = spatial.clone();
        grid_shape.insert(0, nb);
        let spec_fft = FftSpec::new(&grid_shape, grid_shape.len(), FftKind::R2C)?;
        let spec_shape = spec_fft.spectrum_shape();
        let half = &spec_shape[1..];
        let cells: usize = half.iter().product();
        let (keep, mirror) = half_spectrum_maps(&spatial)?;
        let keep = backend.upload_flat(&[cells], keep)?;
        let mirror = backend.upload_flat(&[cells], mirror)?;
        let mut kernel_hat = backend.zeros::<C<T>>(&spec_shape)?;
        let mut by_column = vec![Vec::new(); nodes.ncols()];
        for (m, c) in nodes.columns().enumerate() {
            by_column[c].push(m);
        }
        let columns: Vec<(usize, Vec<usize>)> = by_column
            .into_iter()
            .enumerate()
            .filter(|(_, p)| !p.is_empty())
            .collect();
        if !columns.is_empty() {
            let coords: Vec<Vec<ndarray::Array1<T>>> = columns
                .iter()
                .map(|(_, pos)| {
                    nodes
                        .coords()
                        .iter()
                        .map(|x| pos.iter().map(|&m| x[m]).collect())
                        .collect()
                })
                .collect();
            let views: Vec<Vec<_>> = coords
                .iter()
                .map(|x| x.iter().map(|a| a.view()).collect())
                .collect();
            let sets: Vec<&[_]> = views.iter().map(|v| v.as_slice()).collect();
            let mut plan = NufftPlan::new(backend, NufftType::Type1, &spatial, 1, eps)?;
            plan.set_point_sets(&sets)?;
            let fft3 = backend.fft_plan::<T>(&FftSpec::new(&spatial, 3, FftKind::C2C)?)?;
            let shifts: Vec<isize> = image_shape[1..].iter().map(|&n| n as isize).collect();
            let (mut slice, mut circ) = (
                backend.zeros::<C<T>>(&spatial)?,
                backend.zeros::<C<T>>(&spatial)?,
            );
            let (mut direct, mut mirrored) =
                (backend.zeros::<C<T>>(half)?, backend.zeros::<C<T>>(half)?);
            let one = C::new(T::one(), T::zero());
            for (k, (c, pos)) in columns.iter().enumerate() {
                let c = *c;
                let f = spectral::column_factor(geometry, c as i64, absorption);
                let g = f * f.conj() * scale;
                let g = if c == 0 { g } else { g * two };
                let strengths = backend.upload_flat(&[pos.len()], vec![g; pos.len()])?;
                plan.execute_set(k, &strengths, &mut slice)?;
                backend.roll(&slice, &shifts, &mut circ)?;
                backend.fft_c2c(&fft3, &mut circ, Direction::Forward)?;
                backend.gather(&circ, &keep, &mut direct)?;
                backend.gather(&circ, &mirror, &mut mirrored)?;
                backend.conj(&mut mirrored)?;
                let c_mirror = (nb - c) % nb;
                if c_mirror == c {
                    backend.axpby(one, &mirrored, one, &mut direct)?;
                } else {
                    let slots = crate::proj::u32_range(c_mirror * cells, cells)?;
                    let slots = backend.upload_flat(&[cells], slots)?;
                    backend.scatter(&mirrored, &slots, &mut kernel_hat)?;
                }
                let slots =
                    backend.upload_flat(&[cells], crate::proj::u32_range(c * cells, cells)?)?;
                backend.scatter(&direct, &slots, &mut kernel_hat)?;
            }
        }
        let fft = backend.fft_plan::<T>(&spec_fft)?;
        let pad = backend.zeros::<T>(&grid_shape)?;
        let mut shifts: Vec<isize> = image_shape.iter().map(|&n| n as isize).collect();
        shifts[0] = 0;
        Self::from_circulant_spectrum(backend, image_shape, shifts, fft, kernel_hat, pad)
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
        let mut kernel_hat = backend.zeros::<C<T>>(&spec_fft.spectrum_shape())?;
        backend.fft_r2c(&fft, &pad, &mut kernel_hat)?;
        Self::from_circulant_spectrum(backend, image_shape, shifts, fft, kernel_hat, pad)
    }

    /// The kernel given by PyEPRI's `rfft2_phi` / `rfft3_phi`: `rfftn(φ)` of the kernel in
    /// PyEPRI's layout (centred offset `k` at index `k + N`), shape
    /// `(2N1, [2N2,] N_last + 1)` for images of shape `image_shape` (Y, X[, Z]), as returned by
    /// `compute_{2,3}d_toeplitz_kernel(..., return_rfft=True)` and [`ToeplitzKernel::rfft_host`].
    /// The shift to the circulant layout multiplies frequency `m` by `(-1)^(Σ m_a)`.
    ///
    /// Errors: [`Error::Shape`] for a spectrum of another shape or an image axis shorter than 2,
    /// [`Error::NonFinite`] for NaN or infinite values; backend errors.
    pub fn from_rfft(
        backend: &B,
        rfft_phi: ArrayViewD<'_, C<T>>,
        image_shape: &[usize],
    ) -> Result<Self> {
        let grid_shape: Vec<usize> = image_shape.iter().map(|&n| 2 * n).collect();
        let spec_fft = FftSpec::new(&grid_shape, grid_shape.len(), FftKind::R2C)?;
        let spec_shape = spec_fft.spectrum_shape();
        if image_shape.iter().any(|&n| n < 2) || rfft_phi.shape() != spec_shape.as_slice() {
            return Err(Error::Shape(format!(
                "Toeplitz kernel spectrum of shape {:?}: images of shape {image_shape:?} (each axis at least 2) need the rfft of a kernel on the doubled grid, of shape {spec_shape:?}",
                rfft_phi.shape()
            )));
        }
        if rfft_phi
            .iter()
            .any(|z| !(z.re.is_finite() && z.im.is_finite()))
        {
            return Err(Error::NonFinite("the Toeplitz kernel spectrum".into()));
        }
        let circulant: Vec<C<T>> = rfft_phi
            .indexed_iter()
            .map(|(m, &z)| {
                if m.as_array_view().sum() % 2 == 1usize {
                    -z
                } else {
                    z
                }
            })
            .collect();
        let kernel_hat = backend.upload_flat(&spec_shape, circulant)?;
        let fft = backend.fft_plan::<T>(&spec_fft)?;
        let pad = backend.zeros::<T>(&grid_shape)?;
        let shifts = half_shifts(image_shape);
        Self::from_circulant_spectrum(backend, image_shape, shifts, fft, kernel_hat, pad)
    }

    /// The kernel from `Φ̂ = rfftn(φ_c)` (circulant layout) on the device, the shifts between
    /// the kernel's layout and the circulant one, its FFT plan and a real scratch of the grid:
    /// `max |Φ̂|`, then [`Backend::fft_convolve_prepare`].
    fn from_circulant_spectrum(
        backend: &B,
        image_shape: &[usize],
        shifts: Vec<isize>,
        fft: B::FftPlan<T>,
        mut kernel_hat: B::Buffer<C<T>>,
        pad: B::Buffer<T>,
    ) -> Result<Self> {
        let grid_shape = pad.shape().to_vec();
        let spec_shape = kernel_hat.shape().to_vec();
        let mut modulus = backend.zeros::<T>(&spec_shape)?;
        backend.complex_part(&kernel_hat, Part::Abs, &mut modulus)?;
        let max_abs = backend.reduce(Reduce::Max, &modulus)?;
        drop(modulus);
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

    /// `rfftn(φ)` of the kernel in PyEPRI's layout (see [`ToeplitzKernel::kernel_host`]), shape
    /// `(2N1, [2N2,] N_last + 1)`: PyEPRI's `compute_{2,3}d_toeplitz_kernel(...,
    /// return_rfft=True)`, the input of [`ToeplitzKernel::from_rfft`].
    pub fn rfft_host(&mut self) -> Result<ArrayD<C<T>>> {
        let phi = self.kernel_host()?;
        let b = &self.backend;
        let phi_d = b.upload(phi.view())?;
        let spec_shape =
            FftSpec::new(&self.grid_shape, self.grid_shape.len(), FftKind::R2C)?.spectrum_shape();
        let mut spec = b.zeros::<C<T>>(&spec_shape)?;
        b.fft_r2c(&self.fft, &phi_d, &mut spec)?;
        Ok(b.download(&spec)?)
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

/// Shifts of half the doubled grid, `N` per axis: between PyEPRI's layout of `φ` (offset `k` at
/// index `k + N`) and the circulant one (at `k mod 2N`); the shift is its own inverse.
fn half_shifts(image_shape: &[usize]) -> Vec<isize> {
    image_shape.iter().map(|&n| n as isize).collect()
}

/// The index maps from a complex 3D spectrum of shape `grid` (FFT order) to the half of it that
/// a real FFT keeps (the last axis cut to `n/2 + 1`), row-major over that half: `keep` holds
/// the flat position of frequency `m`, `mirror` that of `−m` (modulo the grid, every axis).
///
/// Errors: [`Error::Shape`] past the `u32` index range.
fn half_spectrum_maps(grid: &[usize]) -> Result<(Vec<u32>, Vec<u32>)> {
    let total: usize = grid.iter().product();
    u32::try_from(total).map_err(|_| {
        Error::Shape(format!(
            "a grid of shape {grid:?} exceeds the u32 index range"
        ))
    })?;
    let half_shape: Vec<usize> = grid
        .iter()
        .enumerate()
        .map(|(a, &n)| if a + 1 == grid.len() { n / 2 + 1 } else { n })
        .collect();
    let (mut keep, mut mirror) = (Vec::new(), Vec::new());
    for idx in ndarray::indices(half_shape.as_slice()) {
        let (mut at, mut neg) = (0usize, 0usize);
        for (a, &n) in grid.iter().enumerate() {
            let i = idx[a];
            at = at * n + i;
            neg = neg * n + (n - i) % n;
        }
        keep.push(at as u32);
        mirror.push(neg as u32);
    }
    Ok((keep, mirror))
}

#[cfg(test)]
mod tests {
    use super::*;
    use backend_cpu::CpuBackend;
    use ndarray::{Array1, Array2, IxDyn};

    /// `from_rfft(rfft_host())` is the same operator (same `A*A u`, same `max |Φ̂|`); a spectrum
    /// of another shape is refused.
    #[test]
    fn from_rfft_of_rfft_host_is_the_same_kernel() {
        let b = CpuBackend::new().unwrap();
        let nb = 32;
        let grid = Array1::from_iter((0..nb).map(|i| 3400.0 + 0.5 * i as f64));
        let fgrad = Array2::from_shape_fn((2, 7), |(a, k)| {
            let t = k as f64 * 0.45;
            8.0 * if a == 0 { t.cos() } else { t.sin() }
        });
        let h = Array1::from_iter((0..nb).map(|i| {
            let x = (i as f64 - 16.0) / 3.0;
            -x * (-x * x).exp()
        }));
        let g = Geometry::new(grid.view(), 0.05, fgrad.view()).unwrap();
        let shape = [6, 5];
        let mut k = ToeplitzKernel::new(&b, &g, h.view(), h.view(), &shape, 1e-12).unwrap();
        let spec = k.rfft_host().unwrap();
        assert_eq!(spec.shape(), &[12, 6]);
        let mut k2 = ToeplitzKernel::from_rfft(&b, spec.view(), &shape).unwrap();
        let u = ArrayD::from_shape_fn(IxDyn(&shape), |ix| ((ix[0] * 5 + ix[1]) % 3) as f64 - 1.0);
        let u = b.upload(u.view()).unwrap();
        let mut out = [
            b.zeros::<f64>(&shape).unwrap(),
            b.zeros::<f64>(&shape).unwrap(),
        ];
        k.apply(&u, &mut out[0]).unwrap();
        k2.apply(&u, &mut out[1]).unwrap();
        let [a1, a2] = out.map(|o| b.download(&o).unwrap());
        let norm = |a: &ArrayD<f64>| a.iter().map(|x| x * x).sum::<f64>().sqrt();
        let err = norm(&(&a1 - &a2)) / norm(&a1);
        assert!(err < 1e-12, "relative error {err:e}");
        let (m1, m2) = (k.max_abs_fourier(), k2.max_abs_fourier());
        assert!((m1 - m2).abs() <= 1e-12 * m1, "{m1} vs {m2}");
        assert!(matches!(
            ToeplitzKernel::from_rfft(&b, spec.view(), &[6, 6]),
            Err(Error::Shape(_))
        ));
    }
}
