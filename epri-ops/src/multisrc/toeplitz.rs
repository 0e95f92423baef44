//! The block-Toeplitz `A*A` of the multi-source operator (PyEPRI's
//! `multisrc.compute_{2,3}d_toeplitz_kernels`, `apply_{2,3}d_toeplitz_kernels`).
//!
//! The mono-source [`crate::toeplitz::ToeplitzKernel`] only knows the square doubled grid of one
//! image and one setting; the cross kernels here live on the grid `shape_k + shape_j` of two
//! sources and sum the settings.

use super::settings::Settings;
use crate::error::{Error, Result};
use crate::geometry::Geometry;
use crate::nodes::FrequencyNodes;
use crate::spectrum::{lineshape_spectrum, node_weights};
use backend_core::nufft::{NufftPlan, NufftType};
use backend_core::{Backend, Binary, DeviceBuffer, FftKind, FftSpec, Part, Real, Reduce, C};
use ndarray::{ArrayD, ArrayView1, ArrayViewD};

/// One convolution grid `s = shape_k + shape_j` shared by the pairs `(k, j)` of that size: its
/// real FFT plan and scratch.
struct Grid<B: Backend, T: Real> {
    shape: Vec<usize>,
    fft: B::FftPlan<T>,
    pad: B::Buffer<T>,
    acc: B::Buffer<C<T>>,
    term: B::Buffer<C<T>>,
}

/// Per source, per grid: `rfftn` of the zero-padded image, where that grid is used.
type PaddedSpectra<B, T> = Vec<Vec<Option<<B as Backend>::Buffer<C<T>>>>>;

/// The pair `(k, j)`: its grid and `max |Φ̂_{k,j}|` (the kernel itself is in
/// [`MultiToeplitz::kernels`]).
struct Pair<T> {
    grid: usize,
    max_abs: T,
}

/// All sources of one shape `n`: every pair shares the grid `2n`, and the kernels are stored in
/// the circulant layout (centred offset `m` at index `m mod 2n`, a shift of `n` per axis) and
/// prepared for [`Backend::fft_convolve_matrix`], which keeps the leading block: each source is
/// transformed once per product and the first-axis passes are fused and pruned.
struct Common<B: Backend, T: Real> {
    /// `K + 2` spectrum-shaped scratch buffers.
    spec: Vec<B::Buffer<C<T>>>,
    /// The shift from the kernel's layout (centred offset `m` at `m + n`) to the circulant one.
    shifts: Vec<isize>,
}

/// `A*A` of a [`super::MultiProjector`] as `K²` convolutions:
/// `(A*A u)_k = Σ_j u_j ⊛ ψ_{k,j}` with
/// `ψ_{k,j}(m) = δ^{2d}/Nb Σ_i Σ_n Σ_{α ∈ C(γ_{i,n})} conj(Ĥ_{i,k}(α)) Ĥ_{i,j}(α) e^{+i<m, ω_{i,n,α}>}`
/// (forward spectrum `h[i][j]`, backward `h[i][k]`), `m` the centred index on the grid
/// `s = shape_k + shape_j` (array index `m + s/2`).
///
/// Applying pair `(k, j)`: zero-pad `u_j` to `s`, multiply its real FFT by `Φ̂_{k,j}`, transform
/// back and crop `shape_k` samples from `r0 = s/2 + shape_j/2 − shape_k/2` per axis. The FFT of
/// each `u_j` is computed once per grid, and the products of the pairs `(k, ·)` sharing a grid
/// are summed before one inverse FFT. When all sources have one shape (the usual case) the
/// whole product is one [`Backend::fft_convolve_matrix`] (`2K` pruned FFTs per evaluation).
pub struct MultiToeplitz<B: Backend, T: Real> {
    backend: B,
    shapes: Vec<Vec<usize>>,
    grids: Vec<Grid<B, T>>,
    /// `pairs[k][j]`.
    pairs: Vec<Vec<Pair<T>>>,
    /// `Φ̂_{k,j} = rfftn(ψ_{k,j})` on the pair's grid at `k·K + j` (circulant layout and
    /// prepared when [`Self::common`] is set).
    kernels: Vec<B::Buffer<C<T>>>,
    /// Set when all sources have one shape.
    common: Option<Common<B, T>>,
    /// `u_hat[j][g]`: `rfftn` of `u_j` zero-padded to grid `g`, where some pair `(·, j)` uses `g`.
    u_hat: PaddedSpectra<B, T>,
    /// One image per source: the contribution of a second grid to `(A*A u)_k`.
    term_images: Vec<B::Buffer<T>>,
}

impl<B: Backend, T: Real> MultiToeplitz<B, T> {
    /// Computes the `K²` kernels for the settings `geometries` and spectra `h` (as in
    /// [`Settings::new`], broadcast) and source shapes `shapes`, with type-1 NUFFTs of accuracy
    /// `eps` (rfft-mode nodes, one NUFFT per pair and setting), then their real FFTs.
    ///
    /// Errors: those of [`Settings::new`]; backend errors (eps out of range, memory).
    pub fn new(
        backend: &B,
        geometries: &[Geometry<T>],
        h: &[Vec<ArrayView1<'_, T>>],
        shapes: &[Vec<usize>],
        eps: f64,
    ) -> Result<Self> {
        let set = Settings::new(geometries, h, shapes)?;
        let k_src = set.num_sources();
        let d = set.dim() as i32;
        let g0 = set.geometry(0);
        let scale = T::of(g0.delta().f64().powi(2 * d) / g0.nb() as f64);
        let nodes = (0..set.num_settings())
            .map(|i| FrequencyNodes::new(set.geometry(i), true))
            .collect::<Result<Vec<_>>>()?;
        // spectra[i][j] = rfft(h[i][j]).
        let spectra = (0..set.num_settings())
            .map(|i| {
                (0..k_src)
                    .map(|j| lineshape_spectrum(backend, set.h(i, j), true))
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;

        let (mut grids, pair_grids, u_hat) = plan_grids(backend, shapes)?;
        let mut pairs = Vec::with_capacity(k_src);
        let mut kernels = Vec::with_capacity(k_src * k_src);
        for (k, row_grids) in pair_grids.iter().enumerate() {
            let mut row = Vec::with_capacity(k_src);
            for (j, &g) in row_grids.iter().enumerate() {
                let (kernel_hat, max_abs) = cross_kernel(
                    backend,
                    &nodes,
                    |i, c| spectra[i][j][c] * spectra[i][k][c].conj() * scale,
                    &mut grids[g],
                    eps,
                )?;
                row.push(Pair { grid: g, max_abs });
                kernels.push(kernel_hat);
            }
            pairs.push(row);
        }
        Self::assemble(backend, shapes, grids, pairs, kernels, u_hat)
    }

    /// The kernels given by PyEPRI's `rfft2_phi` / `rfft3_phi`: `rfft_phi[k][j] = rfftn(ψ_{k,j})`
    /// on the grid `shapes[k] + shapes[j]` (spectrum shape: the last axis `s_last/2 + 1`), as
    /// `apply_{2,3}d_toeplitz_kernels` takes them, for sources of shapes `shapes` (Y, X[, Z]).
    ///
    /// Errors: [`Error::Shape`] for a list that is not `K × K` or a spectrum of another shape,
    /// [`Error::NonFinite`] for NaN or infinite values; backend errors.
    pub fn from_rfft(
        backend: &B,
        rfft_phi: &[Vec<ArrayViewD<'_, C<T>>>],
        shapes: &[Vec<usize>],
    ) -> Result<Self> {
        let k_src = shapes.len();
        if k_src == 0 || rfft_phi.len() != k_src || rfft_phi.iter().any(|r| r.len() != k_src) {
            return Err(Error::Shape(format!(
                "Toeplitz kernels for {k_src} sources: expected {k_src} rows of {k_src} kernel spectra, got rows of lengths {:?}",
                rfft_phi.iter().map(|r| r.len()).collect::<Vec<_>>()
            )));
        }
        let d = shapes[0].len();
        if !(2..=3).contains(&d)
            || shapes
                .iter()
                .any(|s| s.len() != d || s.iter().any(|&n| n < 2))
        {
            return Err(Error::Shape(format!(
                "source shapes {shapes:?}: all 2D or all 3D, every axis at least 2"
            )));
        }
        let (grids, pair_grids, u_hat) = plan_grids(backend, shapes)?;
        let mut pairs = Vec::with_capacity(k_src);
        let mut kernels = Vec::with_capacity(k_src * k_src);
        for (k, row_grids) in pair_grids.iter().enumerate() {
            let mut row = Vec::with_capacity(k_src);
            for (j, &g) in row_grids.iter().enumerate() {
                let spec = &rfft_phi[k][j];
                let want = grids[g].acc.shape();
                if spec.shape() != want {
                    return Err(Error::Shape(format!(
                        "kernel spectrum [{k}][{j}] has shape {:?}, sources of shapes {:?} and {:?} need {want:?}",
                        spec.shape(),
                        shapes[k],
                        shapes[j]
                    )));
                }
                if spec.iter().any(|z| !(z.re.is_finite() && z.im.is_finite())) {
                    return Err(Error::NonFinite(format!("the kernel spectrum [{k}][{j}]")));
                }
                let kernel_hat = backend.upload(spec.view())?;
                let max_abs = max_modulus(backend, &kernel_hat)?;
                row.push(Pair { grid: g, max_abs });
                kernels.push(kernel_hat);
            }
            pairs.push(row);
        }
        Self::assemble(backend, shapes, grids, pairs, kernels, u_hat)
    }

    /// The operator from its grids and kernels (`rfftn(ψ_{k,j})` in the kernel's layout); with
    /// sources of one shape, the kernels move to the circulant layout for
    /// [`Backend::fft_convolve_matrix`] and the per-grid scratch is released.
    fn assemble(
        backend: &B,
        shapes: &[Vec<usize>],
        mut grids: Vec<Grid<B, T>>,
        pairs: Vec<Vec<Pair<T>>>,
        mut kernels: Vec<B::Buffer<C<T>>>,
        mut u_hat: PaddedSpectra<B, T>,
    ) -> Result<Self> {
        let mut term_images = Vec::new();
        let common = if shapes.iter().all(|s| s == &shapes[0]) {
            let gr = &mut grids[0];
            let shifts: Vec<isize> = shapes[0].iter().map(|&n| n as isize).collect();
            let mut rolled = backend.zeros::<T>(&gr.shape)?;
            for kernel_hat in &mut kernels {
                // ψ back from its spectrum, moved to the circulant layout, transformed again.
                backend.copy(kernel_hat, &mut gr.acc)?;
                backend.fft_c2r(&gr.fft, &mut gr.acc, &mut gr.pad)?;
                backend.roll(&gr.pad, &shifts, &mut rolled)?;
                backend.fft_r2c(&gr.fft, &rolled, kernel_hat)?;
                backend.fft_convolve_prepare(&gr.fft, kernel_hat)?;
            }
            u_hat.clear();
            let spec = (0..shapes.len() + 2)
                .map(|_| backend.zeros::<C<T>>(gr.acc.shape()))
                .collect::<backend_core::Result<Vec<_>>>()?;
            Some(Common { spec, shifts })
        } else {
            term_images = shapes
                .iter()
                .map(|s| backend.zeros::<T>(s))
                .collect::<backend_core::Result<Vec<_>>>()?;
            None
        };
        Ok(MultiToeplitz {
            backend: backend.clone(),
            shapes: shapes.to_vec(),
            grids,
            pairs,
            kernels,
            common,
            u_hat,
            term_images,
        })
    }

    /// `out <- A*(A u)` (to NUFFT accuracy): `u` and `out` hold `K` images, source `j` of shape
    /// `image_shapes()[j]`.
    pub fn apply(&mut self, u: &[B::Buffer<T>], out: &mut [B::Buffer<T>]) -> Result<()> {
        let k_src = self.shapes.len();
        if u.len() != k_src || out.len() != k_src {
            return Err(Error::Shape(format!(
                "{} input and {} output images for {k_src} sources",
                u.len(),
                out.len()
            )));
        }
        for (j, (a, o)) in u.iter().zip(out.iter()).enumerate() {
            for (what, s) in [("input", a.shape()), ("output", o.shape())] {
                if s != self.shapes[j].as_slice() {
                    return Err(Error::Shape(format!(
                        "Toeplitz {what} image {j} has shape {s:?}, expected {:?}",
                        self.shapes[j]
                    )));
                }
            }
        }
        let b = &self.backend;
        if let Some(common) = &mut self.common {
            let gr = &mut self.grids[0];
            b.fft_convolve_matrix(
                &gr.fft,
                &self.kernels,
                u,
                out,
                &mut gr.pad,
                &mut common.spec,
            )?;
            return Ok(());
        }
        let one = C::new(T::one(), T::zero());
        for (j, slots) in self.u_hat.iter_mut().enumerate() {
            for (g, slot) in slots.iter_mut().enumerate() {
                if let Some(spec) = slot {
                    let gr = &mut self.grids[g];
                    b.embed(&u[j], &mut gr.pad, &vec![0; gr.shape.len()])?;
                    b.fft_r2c(&gr.fft, &gr.pad, spec)?;
                }
            }
        }
        for (k, (row, out_k)) in self.pairs.iter().zip(out.iter_mut()).enumerate() {
            let mut first_grid = true;
            for g in 0..self.grids.len() {
                let gr = &mut self.grids[g];
                let mut members = row
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.grid == g)
                    .peekable();
                let Some(&(j0, _)) = members.peek() else {
                    continue;
                };
                for (n, (j, _)) in members.enumerate() {
                    let spec = self.u_hat[j][g]
                        .as_ref()
                        .ok_or_else(|| Error::Shape(format!("missing spectrum of source {j}")))?;
                    let dst = if n == 0 { &mut gr.acc } else { &mut gr.term };
                    b.copy(spec, dst)?;
                    b.cmul(dst, &self.kernels[k * row.len() + j], false)?;
                    if n > 0 {
                        b.axpby(one, &gr.term, one, &mut gr.acc)?;
                    }
                }
                b.fft_c2r(&gr.fft, &mut gr.acc, &mut gr.pad)?;
                // Every pair of this grid has shape_j = s − shape_k: one crop offset.
                let shape_k = &self.shapes[k];
                let r0: Vec<usize> = gr
                    .shape
                    .iter()
                    .zip(&self.shapes[j0])
                    .zip(shape_k)
                    .map(|((&s, &nj), &nk)| s / 2 + nj / 2 - nk / 2)
                    .collect();
                if first_grid {
                    b.extract(&gr.pad, &r0, out_k)?;
                    first_grid = false;
                } else {
                    let term = &mut self.term_images[k];
                    b.extract(&gr.pad, &r0, term)?;
                    b.zip(Binary::Add, out_k, term)?;
                }
            }
        }
        Ok(())
    }

    /// `max |Φ̂_{k,j}|` of every pair, `[k][j]`.
    pub fn max_abs_fourier(&self) -> Vec<Vec<T>> {
        self.pairs
            .iter()
            .map(|row| row.iter().map(|p| p.max_abs).collect())
            .collect()
    }

    /// PyEPRI's `lipschitz_const='upper-bound'` for several sources:
    /// `sqrt(max_k Σ_j max|Φ̂_{k,j}|²)`, an upper bound of `‖A*A‖`.
    pub fn upper_bound(&self) -> f64 {
        self.pairs
            .iter()
            .map(|row| row.iter().map(|p| p.max_abs.f64().powi(2)).sum::<f64>())
            .fold(0.0, f64::max)
            .sqrt()
    }

    /// The kernel `ψ_{k,j}` itself (real, shape `shape_k + shape_j`, array index `m + s/2` for
    /// the centred offset `m`), from `Φ̂_{k,j}`: PyEPRI's `compute_{2,3}d_toeplitz_kernels`
    /// entry `phi[k][j]`. For tests and inspection. `None` out of range.
    pub fn kernel_host(&mut self, k: usize, j: usize) -> Result<Option<ArrayD<T>>> {
        let Some(pair) = self.pairs.get(k).and_then(|r| r.get(j)) else {
            return Ok(None);
        };
        let b = &self.backend;
        let kernel_hat = &self.kernels[k * self.shapes.len() + j];
        let gr = &mut self.grids[pair.grid];
        if let Some(common) = &mut self.common {
            // The convolution of a unit impulse gives ψ in the circulant layout.
            let dirac = b.ones::<T>(&vec![1; gr.shape.len()])?;
            let mut circulant = b.zeros::<T>(&gr.shape)?;
            b.fft_convolve(
                &gr.fft,
                kernel_hat,
                &dirac,
                &mut circulant,
                &mut gr.pad,
                &mut common.spec[0],
            )?;
            b.roll(&circulant, &common.shifts, &mut gr.pad)?;
        } else {
            b.copy(kernel_hat, &mut gr.acc)?;
            b.fft_c2r(&gr.fft, &mut gr.acc, &mut gr.pad)?;
        }
        Ok(Some(b.download(&gr.pad)?))
    }

    /// Number of sources `K`.
    pub fn num_sources(&self) -> usize {
        self.shapes.len()
    }

    /// Image shapes of the sources, (Y, X[, Z]) each.
    pub fn image_shapes(&self) -> &[Vec<usize>] {
        &self.shapes
    }

    /// The backend the kernels live on.
    pub fn backend(&self) -> &B {
        &self.backend
    }
}

/// `(rfftn(ψ), max |rfftn(ψ)|)` for `ψ(m) = Σ_i Re Σ_{n,α} w_i(α) e^{+i<m, ω>}` on `grid`, the
/// weights `w_i(c) = weight(i, c)` doubled off the DC column (the `2·Re` completion of the rfft
/// nodes): one type-1 NUFFT per setting.
fn cross_kernel<B: Backend, T: Real>(
    backend: &B,
    nodes: &[FrequencyNodes<T>],
    weight: impl Fn(usize, usize) -> C<T>,
    grid: &mut Grid<B, T>,
    eps: f64,
) -> Result<(B::Buffer<C<T>>, T)> {
    let two = T::of(2.0);
    let one = C::new(T::one(), T::zero());
    let mut phi = backend.zeros::<C<T>>(&grid.shape)?;
    let mut term = backend.zeros::<C<T>>(&grid.shape)?;
    for (i, ni) in nodes.iter().enumerate() {
        let w = node_weights(backend, ni, |c| {
            let g = weight(i, c);
            if c == 0 {
                g
            } else {
                g * two
            }
        })?;
        let mut plan = NufftPlan::new(backend, NufftType::Type1, &grid.shape, 1, eps)?;
        plan.set_points(&ni.coord_views())?;
        if i == 0 {
            plan.execute(&w, &mut phi)?;
        } else {
            plan.execute(&w, &mut term)?;
            backend.axpby(one, &term, one, &mut phi)?;
        }
    }
    backend.complex_part(&phi, Part::Re, &mut grid.pad)?;
    let mut kernel_hat = backend.zeros::<C<T>>(grid.acc.shape())?;
    backend.fft_r2c(&grid.fft, &grid.pad, &mut kernel_hat)?;
    let max_abs = max_modulus(backend, &kernel_hat)?;
    if !max_abs.is_finite() {
        return Err(Error::NonFinite("a multi-source Toeplitz kernel".into()));
    }
    Ok((kernel_hat, max_abs))
}

/// The grids of the pairs `(k, j)`, one per distinct shape `shapes[k] + shapes[j]` (with its
/// real FFT plan and scratch), the grid of every pair `[k][j]`, and the slots of the padded
/// spectra `u_hat[j][g]` of each source on the grids its pairs use.
#[allow(clippy::type_complexity)]
fn plan_grids<B: Backend, T: Real>(
    backend: &B,
    shapes: &[Vec<usize>],
) -> Result<(Vec<Grid<B, T>>, Vec<Vec<usize>>, PaddedSpectra<B, T>)> {
    let k_src = shapes.len();
    let mut grids: Vec<Grid<B, T>> = Vec::new();
    let mut pair_grids = Vec::with_capacity(k_src);
    let mut u_hat: PaddedSpectra<B, T> = (0..k_src).map(|_| Vec::new()).collect();
    for shape_k in shapes {
        let mut row = Vec::with_capacity(k_src);
        for (j, shape_j) in shapes.iter().enumerate() {
            let s: Vec<usize> = shape_k.iter().zip(shape_j).map(|(a, b)| a + b).collect();
            let g = match grids.iter().position(|gr| gr.shape == s) {
                Some(g) => g,
                None => {
                    let spec = FftSpec::new(&s, s.len(), FftKind::R2C)?;
                    let sshape = spec.spectrum_shape();
                    grids.push(Grid {
                        fft: backend.fft_plan::<T>(&spec)?,
                        pad: backend.zeros(&s)?,
                        acc: backend.zeros(&sshape)?,
                        term: backend.zeros(&sshape)?,
                        shape: s,
                    });
                    grids.len() - 1
                }
            };
            let slot = &mut u_hat[j];
            if slot.len() <= g {
                slot.resize_with(g + 1, || None);
            }
            if slot[g].is_none() {
                slot[g] = Some(backend.zeros(grids[g].acc.shape())?);
            }
            row.push(g);
        }
        pair_grids.push(row);
    }
    Ok((grids, pair_grids, u_hat))
}

/// `max |z|` over a complex buffer.
fn max_modulus<B: Backend, T: Real>(backend: &B, z: &B::Buffer<C<T>>) -> Result<T> {
    let mut modulus = backend.zeros::<T>(z.shape())?;
    backend.complex_part(z, Part::Abs, &mut modulus)?;
    Ok(backend.reduce(Reduce::Max, &modulus)?)
}
