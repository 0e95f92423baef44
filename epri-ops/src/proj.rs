//! The mono-source EPR projection operator `A` and its adjoint `A*` (backprojection): 2D and 3D
//! images with a reference lineshape (PyEPRI's `proj{2,3}d*`, `backproj{2,3}d*`), and
//! spectral-spatial 4D images (PyEPRI's `proj4d*`, `backproj4d*`, see [`crate::spectral`]).

use crate::error::{Error, Result};
use crate::geometry::Geometry;
use crate::nodes::{coord_views, FrequencyNodes};
use crate::spectral::{self, SpectralAxisFft};
use crate::spectrum::{lineshape_spectrum, node_weights};
use backend_core::nufft::{NufftPlan, NufftType};
use backend_core::{Backend, DeviceBuffer, Direction, FftKind, FftSpec, Part, Real, C};
use ndarray::{Array1, ArrayView1};

/// Options of a [`Projector`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProjectorOptions {
    /// Work on the half spectrum (`rfft` along B, PyEPRI's default `rfft_mode=True`) rather
    /// than the full spectrum. Both give the same operator up to rounding.
    pub rfft_mode: bool,
    /// Relative accuracy of the NUFFTs (FINUFFT's `eps`; PyEPRI's default 1e-6). At least 1e-7
    /// in `f32`, 1e-15 in `f64`.
    pub eps: f64,
}

impl Default for ProjectorOptions {
    fn default() -> Self {
        ProjectorOptions {
            rfft_mode: true,
            eps: 1e-6,
        }
    }
}

/// The projection operator `A` of one experiment (geometry, lineshape `h` or spectral axis, image
/// shape), planned once and applied many times.
///
/// * Images: real buffers of shape `image_shape` = (Ny, Nx) or (Ny, Nx, Nz), axes **(Y, X[, Z])**,
///   pixel `i` along an axis of length `N` at position `(i - N/2)·δ` cm; or, for
///   [`Projector::new_spectral`], `(Nb, Ny, Nx, Nz)` with the spectral axis first, sampled on `B`.
/// * Sinograms: real buffers of shape `(P, Nb)`, row `k` the projection for gradient
///   `fgrad[:, k]`, sampled on the field grid `B`.
/// * Fourier sinograms: complex buffers of shape `(P, ncols)`, `ncols = Nb/2+1` (rfft mode) or
///   `Nb` (full mode), the DFT of each projection along B.
///
/// `A u = DFT⁻¹( δ^d · Ĥ(α) · NUFFT₂(u)(ω_{k,α}) )` over the retained frequencies (see
/// [`FrequencyNodes`]), zero elsewhere; `A*` is its exact adjoint, computed with
/// a type-1 NUFFT. Units: `u` in concentration units `[c]`, projections in `[c]·[h]·cm^d`.
/// Spectral-spatial images replace `Ĥ(α) NUFFT₂(u)` by `NUFFT₂(DFT_l(u)(α))`: the DFT along the
/// spectral axis, then per retained column `α` one type-2 NUFFT of that spectral slice at the nodes of
/// that column (see [`crate::spectral`]).
///
/// Construction builds the nodes, the NUFFT plans (points set once, upsampling factor from
/// [`backend_core::nufft::choose_upsampfac`]), the FFT plan along B, the per-node spectrum weights and every scratch
/// buffer: `apply` and `adjoint` allocate nothing (4D on the GPU backends: the temporary of
/// [`Backend::fft_r2c_leading`]'s provided body), except that a 2D/3D operator plans its
/// type-1 NUFFT (fine grid, FFT plan, sorted points) on its first backprojection: a projection
/// alone (`epri project`) never pays for it.
pub struct Projector<B: Backend, T: Real> {
    backend: B,
    /// `(P, ncols)`, see [`FrequencyNodes::fourier_shape`].
    fourier_shape: [usize; 2],
    rfft_mode: bool,
    image_shape: Vec<usize>,
    sino_shape: [usize; 2],
    spectrum: Array1<C<T>>,
    core: FourierCore<B, T>,
    fft_b: B::FftPlan<T>,
    four: B::Buffer<C<T>>,
}

/// The Fourier-domain half of the operator: NUFFTs and the spectrum weights at the nodes.
struct FourierCore<B: Backend, T: Real> {
    indexes: B::Buffer<u32>,
    /// `δ^d Ĥ(α_m)` per node (`Ĥ` the column factor of a spectral-spatial image).
    fwd: B::Buffer<C<T>>,
    /// The adjoint's weight per node (see `adj_columns`), made on the first backprojection
    /// (a projection alone never needs it).
    adj: Option<B::Buffer<C<T>>>,
    /// The adjoint's weight per column of the Fourier sinogram: `conj(Ĥ(α)) δ^d / Nb`, doubled
    /// off the DC column in rfft mode (the `2·Re` completion); for a spectral-spatial image
    /// times `Nb` (undoing the `1/Nb` of the irfft along B) and halved off the DC column (the
    /// irfft doubles the bins `0 < α < Nb/2`).
    adj_columns: Vec<C<T>>,
    /// The NUFFTs of the image (none for a spectral-spatial image: see [`Column`]).
    plans: Option<ImagePlans<B, T>>,
    values: B::Buffer<C<T>>,
    spectral: Option<SpectralStage<B, T>>,
}

/// The NUFFTs of a 2D/3D image at the nodes.
struct ImagePlans<B: Backend, T: Real> {
    /// Type 2 of the real image ([`NufftPlan::new_real`]).
    type2: NufftPlan<B, T>,
    /// Planned by [`ImagePlans::type1`] on the first backprojection.
    type1: Option<NufftPlan<B, T>>,
    /// The node coordinates (see [`FrequencyNodes::coords`]), for the type-1 plan.
    coords: Vec<Array1<T>>,
    /// Image shape (Y, X[, Z]) and NUFFT accuracy, for the type-1 plan.
    shape: Vec<usize>,
    eps: f64,
}

impl<B: Backend, T: Real> ImagePlans<B, T> {
    /// The type-1 NUFFT at the nodes, planned on the first call.
    fn type1(&mut self, b: &B) -> Result<&mut NufftPlan<B, T>> {
        if self.type1.is_none() {
            let mut plan =
                NufftPlan::new_real(b, NufftType::Type1, &self.shape, 1, self.eps, None)?;
            plan.set_points(&coord_views(&self.coords))?;
            self.type1 = Some(plan);
        }
        Ok(self.type1.as_mut().expect("planned above"))
    }
}

/// The spectral axis of a spectral-spatial projector.
struct SpectralStage<B: Backend, T: Real> {
    axis: SpectralAxisFft<B, T>,
    /// The rfft of the image along B, `(Nb/2 + 1, Ny, Nx, Nz)` (`α = −s`: conj of slice `s`).
    half: B::Buffer<C<T>>,
    /// One spectral slice `(1, Ny, Nx, Nz)` of `half`.
    slice_c: B::Buffer<C<T>>,
    /// Full mode: a slice `(1, Ny, Nx, Nz)` of `half`, summed with the `α < 0` columns.
    acc: Option<B::Buffer<C<T>>>,
    /// Per slice `s` that columns sample, its flat positions in `half`, shape `(Ny·Nx·Nz,)`.
    slots: Vec<Option<B::Buffer<u32>>>,
    /// The NUFFTs of the spatial slices, one point set per entry of `columns` (the nodes of
    /// that column): one fine grid for all the columns.
    type2: NufftPlan<B, T>,
    type1: NufftPlan<B, T>,
    /// The retained columns that have nodes.
    columns: Vec<Column<B, T>>,
}

/// One spectral column `α`: its nodes only (point set of the spectral stage's NUFFTs), so that
/// each node is interpolated from (spread onto) the one spatial spectrum it samples.
struct Column<B: Backend, T: Real> {
    /// `|α|`, its slice of `half`, conjugated when `negative` (`α < 0`, full mode).
    slice: usize,
    negative: bool,
    /// Positions `m` of the column's nodes in the node list, shape `(M_c,)`.
    pos: B::Buffer<u32>,
    values: B::Buffer<C<T>>,
}

impl<B: Backend, T: Real> FourierCore<B, T> {
    /// Makes `adj`, the adjoint's weight per node, on the first call: `adj_columns` repeated
    /// along every row of a Fourier sinogram of shape `four_shape` `(P, ncols)`, gathered at
    /// the nodes' positions on the device (the node indexes stay there).
    fn make_adj_weights(&mut self, b: &B, four_shape: &[usize]) -> Result<()> {
        if self.adj.is_none() {
            let rows = four_shape[0];
            let table = b.upload_flat(four_shape, self.adj_columns.repeat(rows))?;
            let mut w = b.zeros(self.indexes.shape())?;
            b.gather(&table, &self.indexes, &mut w)?;
            self.adj = Some(w);
        }
        Ok(())
    }

    fn forward(&mut self, b: &B, u: &B::Buffer<T>, four: &mut B::Buffer<C<T>>) -> Result<()> {
        match &mut self.spectral {
            None => {
                let plans = self.plans.as_mut().expect("2D/3D plans");
                plans.type2.execute_real(u, &mut self.values)?;
            }
            Some(s) => {
                s.axis.forward(b, u, &mut s.half)?;
                for (k, col) in s.columns.iter_mut().enumerate() {
                    b.extract(&s.half, &[col.slice, 0, 0, 0], &mut s.slice_c)?;
                    if col.negative {
                        b.conj(&mut s.slice_c)?;
                    }
                    s.type2.execute_set(k, &s.slice_c, &mut col.values)?;
                    b.scatter(&col.values, &col.pos, &mut self.values)?;
                }
            }
        }
        b.cmul(&mut self.values, &self.fwd, false)?;
        b.fill(four, C::new(T::zero(), T::zero()))?;
        b.scatter(&self.values, &self.indexes, four)?;
        Ok(())
    }

    fn adjoint(&mut self, b: &B, four: &B::Buffer<C<T>>, out: &mut B::Buffer<T>) -> Result<()> {
        self.make_adj_weights(b, four.shape())?;
        let adj = self.adj.as_ref().expect("made above");
        b.gather(four, &self.indexes, &mut self.values)?;
        b.cmul(&mut self.values, adj, false)?;
        match &mut self.spectral {
            None => {
                let plans = self.plans.as_mut().expect("2D/3D plans");
                plans.type1(b)?.execute_to_real(&self.values, out)?;
            }
            Some(s) => {
                let one = C::new(T::one(), T::zero());
                b.fill(&mut s.half, C::new(T::zero(), T::zero()))?;
                // By increasing column: `α < 0` after `−α`, added to its slice as conj.
                for (k, col) in s.columns.iter_mut().enumerate() {
                    b.gather(&self.values, &col.pos, &mut col.values)?;
                    s.type1.execute_set(k, &col.values, &mut s.slice_c)?;
                    if col.negative {
                        let acc = s.acc.as_mut().expect("full mode has the accumulator");
                        b.conj(&mut s.slice_c)?;
                        b.extract(&s.half, &[col.slice, 0, 0, 0], acc)?;
                        b.axpby(one, acc, one, &mut s.slice_c)?;
                    }
                    let slots = s.slots[col.slice]
                        .as_ref()
                        .expect("slots of a sampled slice");
                    b.scatter(&s.slice_c, slots, &mut s.half)?;
                }
                s.axis.inverse(b, &mut s.half, out)?;
            }
        }
        Ok(())
    }
}

impl<B: Backend, T: Real> Projector<B, T> {
    /// Plans the operator for `geometry`, the lineshape `h` (shape `(Nb,)`, sampled on `B`) and
    /// images of shape `image_shape` ((Y, X) or (Y, X, Z), each axis at least 2).
    ///
    /// Errors: [`Error::Shape`] when `h` does not have `Nb` samples or `image_shape` does not
    /// have `d` axes of length ≥ 2; [`Error::NonFinite`] for a NaN in `h`; backend errors (eps
    /// out of range, `f64` on a device without it, out of memory).
    pub fn new(
        backend: &B,
        geometry: &Geometry<T>,
        h: ArrayView1<'_, T>,
        image_shape: &[usize],
        opts: ProjectorOptions,
    ) -> Result<Self> {
        geometry.check_spectrum("h", h)?;
        geometry.check_image_shape(image_shape)?;
        let spectrum = lineshape_spectrum(backend, h, opts.rfft_mode)?;
        Self::build(backend, geometry, spectrum, image_shape, opts)
    }

    /// Plans the spectral-spatial operator (PyEPRI's `proj4d` / `backproj4d`) for a 3D
    /// `geometry` and images of shape `(Nb, Ny, Nx, Nz)` (spectral axis first, sampled on `B`;
    /// spatial axes at least 2). With `absorption` the voxels hold absorption profiles,
    /// projected as their derivative along B (PyEPRI's `absorption_mode`).
    ///
    /// Errors: [`Error::Shape`] when the geometry is not 3D or the image shape is not
    /// `(Nb, Ny, Nx, Nz)`; backend errors as [`Projector::new`].
    pub fn new_spectral(
        backend: &B,
        geometry: &Geometry<T>,
        image_shape: &[usize],
        absorption: bool,
        opts: ProjectorOptions,
    ) -> Result<Self> {
        spectral::check_image_shape(geometry, image_shape)?;
        let ncols = if opts.rfft_mode {
            geometry.nb() / 2 + 1
        } else {
            geometry.nb()
        };
        let factors = (0..ncols)
            .map(|c| {
                let alpha = crate::nodes::column_frequency(c, geometry.nb(), opts.rfft_mode);
                spectral::column_factor(geometry, alpha, absorption)
            })
            .collect();
        Self::build(backend, geometry, factors, image_shape, opts)
    }

    /// The operator with column factors `spectrum` (the lineshape's DFT, or the spectral-spatial
    /// factors when `image_shape` has one axis more than the geometry).
    fn build(
        backend: &B,
        geometry: &Geometry<T>,
        spectrum: Array1<C<T>>,
        image_shape: &[usize],
        opts: ProjectorOptions,
    ) -> Result<Self> {
        let nodes = FrequencyNodes::new(geometry, opts.rfft_mode)?;
        let is_spectral = image_shape.len() > geometry.dim();
        let spatial = &image_shape[image_shape.len() - geometry.dim()..];
        let d = geometry.dim() as i32;
        let nb = geometry.nb();
        let delta_d = geometry.delta().f64().powi(d);
        let fwd_scale = T::of(delta_d);
        let adj_scale = T::of(if is_spectral {
            delta_d
        } else {
            delta_d / nb as f64
        });
        // Factor of the adjoint's weights off the DC column (see `FourierCore::adj`).
        let off_dc = T::of(match (opts.rfft_mode, is_spectral) {
            (true, false) => 2.0,
            (false, true) => 0.5,
            _ => 1.0,
        });
        let fwd = node_weights(backend, &nodes, |c| spectrum[c] * fwd_scale)?;
        let adj_columns = (0..nodes.ncols())
            .map(|c| {
                let adj = spectrum[c].conj() * adj_scale;
                if c != 0 {
                    adj * off_dc
                } else {
                    adj
                }
            })
            .collect();
        let sino_shape = geometry.sino_shape();
        let fourier_shape = nodes.fourier_shape();
        let num_nodes = nodes.len();
        // A spectral-spatial image: the positions of each column's nodes, before the indexes
        // move to the backend.
        let by_column = is_spectral.then(|| {
            let mut by_column = vec![Vec::new(); nodes.ncols()];
            for (m, c) in nodes.columns().enumerate() {
                by_column[c].push(m);
            }
            by_column
        });
        let (coords, idx) = nodes.into_parts();
        let indexes = backend.upload_flat(&[num_nodes], idx)?;
        let fft_b = if opts.rfft_mode {
            backend.fft_plan::<T>(&FftSpec::new(&sino_shape, 1, FftKind::R2C)?)?
        } else {
            backend.fft_plan::<T>(&FftSpec::new(&sino_shape, 1, FftKind::C2C)?)?
        };
        let (plans, spectral) = if let Some(by_column) = by_column {
            let voxels: usize = spatial.iter().product();
            let mut columns = Vec::new();
            let mut column_coords: Vec<Vec<Array1<T>>> = Vec::new();
            let mut slots: Vec<Option<B::Buffer<u32>>> = (0..nb / 2 + 1).map(|_| None).collect();
            for (c, pos) in by_column.into_iter().enumerate() {
                if pos.is_empty() {
                    continue;
                }
                let alpha = crate::nodes::column_frequency(c, nb, opts.rfft_mode);
                let slice = alpha.unsigned_abs() as usize;
                if slots[slice].is_none() {
                    let range = u32_range(slice * voxels, voxels)?;
                    slots[slice] = Some(backend.upload_flat(&[voxels], range)?);
                }
                column_coords.push(
                    coords
                        .iter()
                        .map(|x| pos.iter().map(|&m| x[m]).collect())
                        .collect(),
                );
                columns.push(Column {
                    slice,
                    negative: alpha < 0,
                    values: backend.zeros(&[pos.len()])?,
                    pos: backend
                        .upload_flat(&[pos.len()], pos.iter().map(|&m| m as u32).collect())?,
                });
            }
            let views: Vec<Vec<_>> = column_coords
                .iter()
                .map(|x| x.iter().map(|a| a.view()).collect())
                .collect();
            let sets: Vec<&[_]> = views.iter().map(|v| v.as_slice()).collect();
            // The spatial slices are complex: NUFFTs of complex modes.
            let plan = |ty| NufftPlan::new(backend, ty, spatial, 1, opts.eps);
            let (mut type2, mut type1) = (plan(NufftType::Type2)?, plan(NufftType::Type1)?);
            if !sets.is_empty() {
                type2.set_point_sets(&sets)?;
                type1.set_point_sets(&sets)?;
            }
            let mut slice = spatial.to_vec();
            slice.insert(0, 1);
            let axis = SpectralAxisFft::new(backend, image_shape)?;
            let stage = SpectralStage {
                half: backend.zeros(axis.half_shape())?,
                slice_c: backend.zeros(&slice)?,
                acc: if opts.rfft_mode {
                    None
                } else {
                    Some(backend.zeros(&slice)?)
                },
                slots,
                axis,
                type2,
                type1,
                columns,
            };
            (None, Some(stage))
        } else {
            // The image is real: its spectrum is Hermitian (half-spectrum fine grid).
            let mut type2 =
                NufftPlan::new_real(backend, NufftType::Type2, spatial, 1, opts.eps, None)?;
            type2.set_points(&coord_views(&coords))?;
            let plans = ImagePlans {
                type2,
                type1: None,
                coords,
                shape: image_shape.to_vec(),
                eps: opts.eps,
            };
            (Some(plans), None)
        };
        let core = FourierCore {
            indexes,
            fwd,
            adj: None,
            adj_columns,
            plans,
            values: backend.zeros(&[num_nodes])?,
            spectral,
        };
        Ok(Projector {
            backend: backend.clone(),
            four: backend.zeros(&fourier_shape)?,
            fourier_shape,
            rfft_mode: opts.rfft_mode,
            image_shape: image_shape.to_vec(),
            sino_shape,
            spectrum,
            core,
            fft_b,
        })
    }

    /// Projection `out <- A u`: `u` of shape `image_shape` (Y, X[, Z]), `out` of shape `(P, Nb)`.
    pub fn apply(&mut self, u: &B::Buffer<T>, out: &mut B::Buffer<T>) -> Result<()> {
        self.check("image u", u.shape(), &self.image_shape)?;
        self.check("sinogram out", out.shape(), &self.sino_shape)?;
        let b = &self.backend;
        self.core.forward(b, u, &mut self.four)?;
        if self.rfft_mode {
            b.fft_c2r(&self.fft_b, &mut self.four, out)?;
        } else {
            b.fft_c2c(&self.fft_b, &mut self.four, Direction::Inverse)?;
            b.complex_part(&self.four, Part::Re, out)?;
        }
        Ok(())
    }

    /// Backprojection `out <- A* p`: `p` of shape `(P, Nb)`, `out` of shape `image_shape`.
    pub fn adjoint(&mut self, p: &B::Buffer<T>, out: &mut B::Buffer<T>) -> Result<()> {
        self.check("sinogram p", p.shape(), &self.sino_shape)?;
        self.check("image out", out.shape(), &self.image_shape)?;
        let b = &self.backend;
        if self.rfft_mode {
            b.fft_r2c(&self.fft_b, p, &mut self.four)?;
        } else {
            b.to_complex(p, &mut self.four)?;
            b.fft_c2c(&self.fft_b, &mut self.four, Direction::Forward)?;
        }
        self.core.adjoint(b, &self.four, out)
    }

    /// Projection in the Fourier domain (PyEPRI's `proj2d_rfft` / `proj2d_fft` and 3D twins):
    /// `out[k, c] = δ^d Ĥ(α_c) NUFFT₂(u)(ω_{k,c})` on the retained entries, 0 elsewhere; `out`
    /// of shape `(P, ncols)` (see [`Projector::fourier_shape`]).
    pub fn apply_fourier(&mut self, u: &B::Buffer<T>, out: &mut B::Buffer<C<T>>) -> Result<()> {
        self.check("image u", u.shape(), &self.image_shape)?;
        self.check("Fourier sinogram out", out.shape(), &self.fourier_shape)?;
        self.core.forward(&self.backend, u, out)
    }

    /// Backprojection from the Fourier domain (PyEPRI's `backproj2d_rfft` / `backproj2d_fft`
    /// and 3D twins, real part kept): `fp` is the DFT along B of a sinogram (`rfft` in rfft mode,
    /// shape `(P, ncols)`); `out` (shape `image_shape`) gets
    /// `δ^d/Nb Σ conj(Ĥ(α)) fp(k, α) e^{+i<k, ω>}` over the retained entries, the negative
    /// frequencies of rfft mode included through `2·Re` with the DC column counted once.
    pub fn adjoint_fourier(&mut self, fp: &B::Buffer<C<T>>, out: &mut B::Buffer<T>) -> Result<()> {
        self.check("Fourier sinogram fp", fp.shape(), &self.fourier_shape)?;
        self.check("image out", out.shape(), &self.image_shape)?;
        self.core.adjoint(&self.backend, fp, out)
    }

    fn check(&self, what: &str, got: &[usize], expected: &[usize]) -> Result<()> {
        if got == expected {
            Ok(())
        } else {
            Err(Error::Shape(format!(
                "{what} has shape {got:?}, the projector expects {expected:?}"
            )))
        }
    }

    /// Image shape (Y, X[, Z]).
    pub fn image_shape(&self) -> &[usize] {
        &self.image_shape
    }

    /// Sinogram shape `(P, Nb)`.
    pub fn sino_shape(&self) -> [usize; 2] {
        self.sino_shape
    }

    /// Fourier sinogram shape `(P, ncols)`.
    pub fn fourier_shape(&self) -> [usize; 2] {
        self.fourier_shape
    }

    /// The lineshape spectrum `rfft(h)` (rfft mode, shape `(Nb/2+1,)`) or `fft(h)` (shape
    /// `(Nb,)`), unscaled; for a spectral-spatial operator the column factors (1, or
    /// `i 2π α / (Nb dB)` in absorption mode).
    pub fn spectrum(&self) -> ArrayView1<'_, C<T>> {
        self.spectrum.view()
    }

    /// Whether the operator works on the half spectrum.
    pub fn rfft_mode(&self) -> bool {
        self.rfft_mode
    }

    /// The backend the operator runs on.
    pub fn backend(&self) -> &B {
        &self.backend
    }
}

/// `start, start + 1, …, start + len - 1` as `u32` indices.
///
/// Errors: [`Error::Shape`] past the `u32` range.
pub(crate) fn u32_range(start: usize, len: usize) -> Result<Vec<u32>> {
    (start..start + len)
        .map(u32::try_from)
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| {
            Error::Shape(format!(
                "{} entries exceed the u32 index range",
                start + len
            ))
        })
}
