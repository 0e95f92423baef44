//! The block-Toeplitz `A*A` of the multi-source operator (PyEPRI's
//! `multisrc.compute_{2,3}d_toeplitz_kernels`, `apply_{2,3}d_toeplitz_kernels`).
//!
//! The mono-source [`crate::toeplitz::ToeplitzKernel`] only knows the square doubled grid of one
//! image and one setting; the cross kernels here are computed on the grid `shape_k + shape_j` of
//! two sources (PyEPRI's layout) and sum the settings, then moved to one grid shared by every
//! pair, where the whole product is one [`Backend::fft_convolve_matrix`].

use super::settings::Settings;
use crate::error::{Error, Result};
use crate::geometry::Geometry;
use crate::nodes::FrequencyNodes;
use crate::spectrum::{lineshape_spectrum, node_weights};
use backend_core::nufft::{NufftPlan, NufftType};
use backend_core::{Backend, DeviceBuffer, FftKind, FftSpec, Part, Real, Reduce, C};
use ndarray::{ArrayD, ArrayView1, ArrayViewD, Dimension, IxDyn};

/// `A*A` of a [`super::MultiProjector`] as `K²` convolutions:
/// `(A*A u)_k = Σ_j u_j ⊛ ψ_{k,j}` with
/// `ψ_{k,j}(m) = δ^{2d}/Nb Σ_i Σ_n Σ_{α ∈ C(γ_{i,n})} conj(Ĥ_{i,k}(α)) Ĥ_{i,j}(α) e^{+i<m, ω_{i,n,α}>}`
/// (forward spectrum `h[i][j]`, backward `h[i][k]`), `m` the centred index on the pair's grid
/// `s = shape_k + shape_j` (PyEPRI's layout: array index `a = m + s/2`); `(A*A u)_k(x)` is the
/// zero-padded convolution cropped at `r0 = s/2 + shape_j/2 − shape_k/2`:
/// `Σ_y u_j(y) ψ_{k,j}[x − y + r0]`.
///
/// Every kernel is moved to one common grid `G = 2·max_j shape_j` (per axis) in the circulant
/// layout: entry `a` of the pair's grid goes to index `(a − r0) mod G` (the `s ≤ G` entries do
/// not collide), so that the product lands on the leading block of `G`. One
/// [`Backend::fft_convolve_matrix`] then transforms each source once, sums the `K` products of
/// each output and transforms back (`2K` FFTs, pruned and fused on the CPU).
pub struct MultiToeplitz<B: Backend, T: Real> {
    backend: B,
    shapes: Vec<Vec<usize>>,
    /// The common grid `G`.
    grid: Vec<usize>,
    fft: B::FftPlan<T>,
    /// `ψ_{k,j}` on `G` (circulant layout): its real FFT at `k·K + j`, prepared by
    /// [`Backend::fft_convolve_prepare`].
    kernels: Vec<B::Buffer<C<T>>>,
    /// `max |Φ̂_{k,j}|`, `Φ̂_{k,j} = rfftn(ψ_{k,j})` on the pair's own grid, `[k][j]`.
    max_abs: Vec<Vec<T>>,
    pad: B::Buffer<T>,
    /// `K + 2` spectrum-shaped scratch buffers.
    spec: Vec<B::Buffer<C<T>>>,
}

/// The kernel of one pair on its own grid `shape_k + shape_j` (PyEPRI's layout) and
/// `max |rfftn(ψ)|` there.
struct PairKernel<T: Real> {
    psi: ArrayD<T>,
    max_abs: T,
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
        let mut plans = PairPlans::default();
        let mut pairs = Vec::with_capacity(k_src * k_src);
        for k in 0..k_src {
            for j in 0..k_src {
                let s = pair_grid(&shapes[k], &shapes[j]);
                let psi = cross_kernel(
                    backend,
                    &nodes,
                    |i, c| spectra[i][j][c] * spectra[i][k][c].conj() * scale,
                    &s,
                    eps,
                )?;
                let plan = plans.get(backend, &s)?;
                let mut spectrum = backend.zeros::<C<T>>(&fft_spec(&s)?.spectrum_shape())?;
                backend.fft_r2c(plan, &psi, &mut spectrum)?;
                let max_abs = max_modulus(backend, &spectrum)?;
                if !max_abs.is_finite() {
                    return Err(Error::NonFinite("a multi-source Toeplitz kernel".into()));
                }
                pairs.push(PairKernel {
                    psi: backend.download(&psi)?,
                    max_abs,
                });
            }
        }
        Self::assemble(backend, shapes, pairs)
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
        let mut plans = PairPlans::default();
        let mut pairs = Vec::with_capacity(k_src * k_src);
        for (k, row) in rfft_phi.iter().enumerate() {
            for (j, spec) in row.iter().enumerate() {
                let s = pair_grid(&shapes[k], &shapes[j]);
                let want = fft_spec(&s)?.spectrum_shape();
                if spec.shape() != want.as_slice() {
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
                let mut spectrum = backend.upload(spec.view())?;
                let max_abs = max_modulus(backend, &spectrum)?;
                let mut psi = backend.zeros::<T>(&s)?;
                backend.fft_c2r(plans.get(backend, &s)?, &mut spectrum, &mut psi)?;
                pairs.push(PairKernel {
                    psi: backend.download(&psi)?,
                    max_abs,
                });
            }
        }
        Self::assemble(backend, shapes, pairs)
    }

    /// The operator from the `K²` pair kernels (row by row): each moved to the common grid in
    /// the circulant layout, transformed and prepared.
    fn assemble(backend: &B, shapes: &[Vec<usize>], pairs: Vec<PairKernel<T>>) -> Result<Self> {
        let k_src = shapes.len();
        let grid: Vec<usize> = (0..shapes[0].len())
            .map(|a| 2 * shapes.iter().map(|s| s[a]).max().unwrap_or(1))
            .collect();
        let spec = fft_spec(&grid)?;
        let fft = backend.fft_plan::<T>(&spec)?;
        let sshape = spec.spectrum_shape();
        let mut pad = backend.zeros::<T>(&grid)?;
        let mut kernels = Vec::with_capacity(pairs.len());
        let mut max_abs = vec![Vec::with_capacity(k_src); k_src];
        for (p, pair) in pairs.into_iter().enumerate() {
            let (k, j) = (p / k_src, p % k_src);
            let map = CirculantMap::new(&shapes[k], &shapes[j], &grid);
            let mut circulant = vec![T::zero(); grid.iter().product()];
            for (a, &v) in pair.psi.indexed_iter() {
                circulant[map.index(a.slice())] = v;
            }
            let circulant = ArrayD::from_shape_vec(IxDyn(&grid), circulant)
                .map_err(|e| Error::Shape(format!("Toeplitz kernel grid: {e}")))?;
            backend.copy(&backend.upload(circulant.view())?, &mut pad)?;
            let mut kernel_hat = backend.zeros::<C<T>>(&sshape)?;
            backend.fft_r2c(&fft, &pad, &mut kernel_hat)?;
            backend.fft_convolve_prepare(&fft, &mut kernel_hat)?;
            kernels.push(kernel_hat);
            max_abs[k].push(pair.max_abs);
        }
        let spec = (0..k_src + 2)
            .map(|_| backend.zeros::<C<T>>(&sshape))
            .collect::<backend_core::Result<Vec<_>>>()?;
        Ok(MultiToeplitz {
            backend: backend.clone(),
            shapes: shapes.to_vec(),
            grid,
            fft,
            kernels,
            max_abs,
            pad,
            spec,
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
        self.backend.fft_convolve_matrix(
            &self.fft,
            &self.kernels,
            u,
            out,
            &mut self.pad,
            &mut self.spec,
        )?;
        Ok(())
    }

    /// `max |Φ̂_{k,j}|` of every pair, `[k][j]`.
    pub fn max_abs_fourier(&self) -> Vec<Vec<T>> {
        self.max_abs.clone()
    }

    /// PyEPRI's `lipschitz_const='upper-bound'` for several sources:
    /// `sqrt(max_k Σ_j max|Φ̂_{k,j}|²)`, an upper bound of `‖A*A‖`.
    pub fn upper_bound(&self) -> f64 {
        self.max_abs
            .iter()
            .map(|row| row.iter().map(|m| m.f64().powi(2)).sum::<f64>())
            .fold(0.0, f64::max)
            .sqrt()
    }

    /// The kernel `ψ_{k,j}` itself (real, shape `shape_k + shape_j`, array index `m + s/2` for
    /// the centred offset `m`), recovered from the common grid (the convolution of a unit
    /// impulse): PyEPRI's `compute_{2,3}d_toeplitz_kernels` entry `phi[k][j]`. For tests and
    /// inspection. `None` out of range.
    pub fn kernel_host(&mut self, k: usize, j: usize) -> Result<Option<ArrayD<T>>> {
        let k_src = self.shapes.len();
        if k >= k_src || j >= k_src {
            return Ok(None);
        }
        let b = &self.backend;
        let dirac = b.ones::<T>(&vec![1; self.grid.len()])?;
        let mut circulant = b.zeros::<T>(&self.grid)?;
        b.fft_convolve(
            &self.fft,
            &self.kernels[k * k_src + j],
            &dirac,
            &mut circulant,
            &mut self.pad,
            &mut self.spec[0],
        )?;
        let circulant = b.download(&circulant)?;
        let s = pair_grid(&self.shapes[k], &self.shapes[j]);
        let map = CirculantMap::new(&self.shapes[k], &self.shapes[j], &self.grid);
        let circulant = circulant
            .as_slice()
            .ok_or_else(|| Error::Shape("Toeplitz kernel download not contiguous".into()))?;
        Ok(Some(ArrayD::from_shape_fn(IxDyn(&s), |a| {
            circulant[map.index(a.slice())]
        })))
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

/// The grid of the pair `(k, j)`: `shape_k + shape_j`.
fn pair_grid(shape_k: &[usize], shape_j: &[usize]) -> Vec<usize> {
    shape_k.iter().zip(shape_j).map(|(a, b)| a + b).collect()
}

/// Where output `k` starts in the convolution of source `j` on the pair's grid `s`:
/// `r0 = s/2 + shape_j/2 − shape_k/2` per axis.
fn crop_offset(shape_k: &[usize], shape_j: &[usize]) -> Vec<usize> {
    shape_k
        .iter()
        .zip(shape_j)
        .map(|(&nk, &nj)| (nk + nj) / 2 + nj / 2 - nk / 2)
        .collect()
}

/// Where the entries of a pair's grid go on the common grid `G` (row-major): entry `a` to
/// `(a − r0) mod G` per axis, `r0` the pair's [`crop_offset`], as one flat index.
struct CirculantMap {
    /// Per axis, the flat offset (index times the grid's stride) of each index of the pair's
    /// grid.
    offsets: Vec<Vec<usize>>,
}

impl CirculantMap {
    /// The map of the pair `(k, j)` (sources of shapes `shape_k`, `shape_j`) onto `grid`.
    fn new(shape_k: &[usize], shape_j: &[usize], grid: &[usize]) -> Self {
        let r0 = crop_offset(shape_k, shape_j);
        let s = pair_grid(shape_k, shape_j);
        let mut stride = grid.iter().product::<usize>();
        let offsets = (0..grid.len())
            .map(|ax| {
                let g = grid[ax];
                stride /= g;
                (0..s[ax])
                    .map(|a| (a + g - r0[ax] % g) % g * stride)
                    .collect()
            })
            .collect();
        CirculantMap { offsets }
    }

    /// The flat index on the common grid of entry `a` of the pair's grid.
    fn index(&self, a: &[usize]) -> usize {
        a.iter().zip(&self.offsets).map(|(&i, o)| o[i]).sum()
    }
}

/// An R2C plan spec over every axis of `shape`.
fn fft_spec(shape: &[usize]) -> Result<FftSpec> {
    Ok(FftSpec::new(shape, shape.len(), FftKind::R2C)?)
}

/// The real FFT plans of the pairs' grids, one per distinct shape (construction only).
struct PairPlans<B: Backend, T: Real>(Vec<(Vec<usize>, B::FftPlan<T>)>);

impl<B: Backend, T: Real> Default for PairPlans<B, T> {
    fn default() -> Self {
        PairPlans(Vec::new())
    }
}

impl<B: Backend, T: Real> PairPlans<B, T> {
    /// The plan of grid `shape`, made on first use.
    fn get(&mut self, backend: &B, shape: &[usize]) -> Result<&B::FftPlan<T>> {
        let i = match self.0.iter().position(|(s, _)| s == shape) {
            Some(i) => i,
            None => {
                self.0
                    .push((shape.to_vec(), backend.fft_plan::<T>(&fft_spec(shape)?)?));
                self.0.len() - 1
            }
        };
        Ok(&self.0[i].1)
    }
}

/// `ψ(m) = Σ_i Re Σ_{n,α} w_i(α) e^{+i<m, ω>}` on the grid `shape` (real, PyEPRI's layout),
/// the weights `w_i(c) = weight(i, c)` doubled off the DC column (the `2·Re` completion of the
/// rfft nodes): one type-1 NUFFT per setting.
fn cross_kernel<B: Backend, T: Real>(
    backend: &B,
    nodes: &[FrequencyNodes<T>],
    weight: impl Fn(usize, usize) -> C<T> + Sync,
    shape: &[usize],
    eps: f64,
) -> Result<B::Buffer<T>> {
    let two = T::of(2.0);
    let one = C::new(T::one(), T::zero());
    let mut phi = backend.zeros::<C<T>>(shape)?;
    let mut term = backend.zeros::<C<T>>(shape)?;
    for (i, ni) in nodes.iter().enumerate() {
        let w = node_weights(backend, ni, |c| {
            let g = weight(i, c);
            if c == 0 {
                g
            } else {
                g * two
            }
        })?;
        let mut plan = NufftPlan::new(backend, NufftType::Type1, shape, 1, eps)?;
        plan.set_points(&ni.coord_views())?;
        if i == 0 {
            plan.execute(&w, &mut phi)?;
        } else {
            plan.execute(&w, &mut term)?;
            backend.axpby(one, &term, one, &mut phi)?;
        }
    }
    let mut psi = backend.zeros::<T>(shape)?;
    backend.complex_part(&phi, Part::Re, &mut psi)?;
    Ok(psi)
}

/// `max |z|` over a complex buffer.
fn max_modulus<B: Backend, T: Real>(backend: &B, z: &B::Buffer<C<T>>) -> Result<T> {
    let mut modulus = backend.zeros::<T>(z.shape())?;
    backend.complex_part(z, Part::Abs, &mut modulus)?;
    Ok(backend.reduce(Reduce::Max, &modulus)?)
}
