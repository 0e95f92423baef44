//! Multi-source operators (PyEPRI's `multisrc` module): `K` source images seen in `L`
//! experimental settings, one geometry (field gradients) and one row of `K` spectra per
//! setting; a list of length 1 serves every setting.

use crate::convert::{complex_array, first_precision, list, nested, HostComplex};
use crate::convert::{precision_of, real_array, real_arrays, sequence, shape, to_numpy};
use crate::device::Backend;
use crate::monosrc::acquisition;
use crate::plan::{vector, Acquisition};
use backend_core::DeviceBuffer as _;
use backend_core::{Precision, Real};
use epri_demos::dispatch::Job;
use epri_demos::io::HostArray;
use epri_ops::multisrc::{MultiProjector, MultiToeplitz};
use epri_ops::{Geometry, ProjectorOptions};
use ndarray::{Array1, ArrayView1, Ix2};
use pyo3::prelude::*;
use pyo3::types::PyList;

/// The inputs shared by the multi-source operators and `tv_multisrc`, in one precision.
pub struct Settings {
    /// One acquisition per setting (or one for all): shared `B` and `delta`, `fgrad` `(d, P_i)`.
    pub acqs: Vec<Acquisition>,
    /// `h[i][j]` `(Nb,)`: spectrum of source `j` in setting `i` (`L` rows or one).
    pub h: Vec<Vec<HostArray>>,
    /// Image shapes of the `K` sources, (Y, X[, Z]).
    pub shapes: Vec<Vec<usize>>,
}

/// The geometries (one per setting) and spectra `h[i][j]` of [`Settings`] in precision `T`.
pub type Typed<T> = (Vec<Geometry<T>>, Vec<Vec<Array1<T>>>);

impl Settings {
    /// Reads `B`, `delta`, `fgrad` (a list of `(dim, P_i)` arrays), `h` (a list of lists of
    /// spectra) in precision `p`; the shapes are set by the caller.
    pub fn read(
        b: &Bound<'_, PyAny>,
        delta: f64,
        fgrad: &Bound<'_, PyAny>,
        h: &Bound<'_, PyAny>,
        dim: usize,
        p: Precision,
    ) -> PyResult<Self> {
        let acqs = sequence(fgrad, "fgrad")?
            .iter()
            .map(|f| acquisition(b, delta, f, dim, p))
            .collect::<PyResult<Vec<_>>>()?;
        let h = nested(h, "h", |a, name| real_array(a, name, &[1], Some(p)))?;
        Ok(Settings {
            acqs,
            h,
            shapes: Vec::new(),
        })
    }

    /// The geometries and spectra in precision `T` (checked together by epri-ops).
    pub fn typed<T: Real>(&self) -> epri_ops::Result<Typed<T>> {
        let geometries = self
            .acqs
            .iter()
            .map(|a| a.geometry::<T>())
            .collect::<epri_ops::Result<Vec<_>>>()?;
        let h = self
            .h
            .iter()
            .map(|row| row.iter().map(vector::<T>).collect())
            .collect::<epri_ops::Result<Vec<_>>>()?;
        Ok((geometries, h))
    }
}

/// Views of the spectra, the form epri-ops takes.
pub fn views<T>(h: &[Vec<Array1<T>>]) -> Vec<Vec<ArrayView1<'_, T>>> {
    h.iter()
        .map(|row| row.iter().map(|a| a.view()).collect())
        .collect()
}

/// Projection (`inputs` = `K` images, output `L` sinograms) or backprojection (`inputs` = `L`
/// sinograms, output `K` images).
struct MultiApply {
    settings: Settings,
    inputs: Vec<HostArray>,
    adjoint: bool,
    opts: ProjectorOptions,
}

impl Job for MultiApply {
    type Output = Vec<HostArray>;

    fn run<B: backend_core::Backend, T: Real>(
        self,
        backend: &B,
    ) -> epri_demos::Result<Vec<HostArray>> {
        let (geometries, h) = self.settings.typed::<T>()?;
        let h = views(&h);
        let mut a =
            MultiProjector::new(backend, &geometries, &h, &self.settings.shapes, self.opts)?;
        let inputs: Vec<_> = self.inputs.iter().map(|x| x.to_real::<T>()).collect();
        Ok(if self.adjoint {
            let sinos = inputs
                .into_iter()
                .map(|x| {
                    x.into_dimensionality::<Ix2>()
                        .map_err(|e| epri_ops::Error::Shape(format!("sinogram: {e}")))
                })
                .collect::<epri_ops::Result<Vec<_>>>()?;
            let views: Vec<_> = sinos.iter().map(|s| s.view()).collect();
            a.backproject_host(&views)?
                .into_iter()
                .map(HostArray::from_real)
                .collect()
        } else {
            let views: Vec<_> = inputs.iter().map(|u| u.view()).collect();
            a.project_host(&views)?
                .into_iter()
                .map(|s| HostArray::from_real(s.into_dyn()))
                .collect()
        })
    }
}

fn to_list<'py>(py: Python<'py>, arrays: Vec<HostArray>) -> PyResult<Bound<'py, PyList>> {
    PyList::new(py, arrays.into_iter().map(|a| to_numpy(py, a)))
}

/// Multi-source projection: `u` a list of `K` images (Y, X[, Z]); returns the list of `L`
/// sinograms `(P_i, Nb)`, `proj[i] = Σ_j A_{h[i][j], fgrad[i]} u[j]`, in `u[0]`'s precision.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn multi_project<'py>(
    py: Python<'py>,
    u: &Bound<'py, PyAny>,
    delta: f64,
    b: &Bound<'py, PyAny>,
    h: &Bound<'py, PyAny>,
    fgrad: &Bound<'py, PyAny>,
    dim: usize,
    backend: &Bound<'py, Backend>,
    eps: f64,
    rfft_mode: bool,
) -> PyResult<Bound<'py, PyList>> {
    let p = first_precision(u, "u")?;
    let inputs = real_arrays(u, "u", &[dim], Some(p))?;
    let mut settings = Settings::read(b, delta, fgrad, h, dim, p)?;
    settings.shapes = inputs.iter().map(|x| x.shape().to_vec()).collect();
    let job = MultiApply {
        settings,
        inputs,
        adjoint: false,
        opts: ProjectorOptions { rfft_mode, eps },
    };
    to_list(py, backend.get().run(py, p, job)?)
}

/// Multi-source backprojection: `proj` a list of `L` sinograms `(P_i, Nb)`, `out_shape` the
/// list of the `K` image shapes; returns the `K` images
/// `out[j] = Σ_i A*_{h[i][j], fgrad[i]} proj[i]`, in `proj[0]`'s precision.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn multi_backproject<'py>(
    py: Python<'py>,
    proj: &Bound<'py, PyAny>,
    delta: f64,
    b: &Bound<'py, PyAny>,
    h: &Bound<'py, PyAny>,
    fgrad: &Bound<'py, PyAny>,
    out_shape: &Bound<'py, PyAny>,
    dim: usize,
    backend: &Bound<'py, Backend>,
    eps: f64,
    rfft_mode: bool,
) -> PyResult<Bound<'py, PyList>> {
    let p = first_precision(proj, "proj")?;
    let inputs = real_arrays(proj, "proj", &[2], Some(p))?;
    let mut settings = Settings::read(b, delta, fgrad, h, dim, p)?;
    settings.shapes = shapes(out_shape, "out_shape", dim)?;
    let job = MultiApply {
        settings,
        inputs,
        adjoint: true,
        opts: ProjectorOptions { rfft_mode, eps },
    };
    to_list(py, backend.get().run(py, p, job)?)
}

/// A list `name` of `K` image shapes of `dim` axes each.
pub fn shapes(obj: &Bound<'_, PyAny>, name: &str, dim: usize) -> PyResult<Vec<Vec<usize>>> {
    list(obj, name, |s, item| shape(s, item, dim))
}

/// The `K × K` cross-source Toeplitz kernels `phi[k][j]` (real, shape
/// `shapes[k] + shapes[j]`).
struct MultiKernels {
    settings: Settings,
    eps: f64,
}

impl Job for MultiKernels {
    type Output = Vec<Vec<HostArray>>;

    fn run<B: backend_core::Backend, T: Real>(
        self,
        backend: &B,
    ) -> epri_demos::Result<Self::Output> {
        let (geometries, h) = self.settings.typed::<T>()?;
        let shapes = &self.settings.shapes;
        let mut k = MultiToeplitz::new(backend, &geometries, &views(&h), shapes, self.eps)?;
        let mut rows = Vec::with_capacity(shapes.len());
        for a in 0..shapes.len() {
            let mut row = Vec::with_capacity(shapes.len());
            for b in 0..shapes.len() {
                let phi = k.kernel_host(a, b)?.expect("pair indexes within K x K");
                row.push(HostArray::from_real(phi));
            }
            rows.push(row);
        }
        Ok(rows)
    }
}

/// PyEPRI's `compute_{2,3}d_toeplitz_kernels`: `phi[k][j]` (real, shape
/// `src_shape[k] + src_shape[j]`, centred offset `m` at index `m + s//2`) with
/// `(A*A u)_k = Σ_j u_j ⊛ phi[k][j]`, in the precision of `B`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn multi_toeplitz_kernels<'py>(
    py: Python<'py>,
    b: &Bound<'py, PyAny>,
    h: &Bound<'py, PyAny>,
    delta: f64,
    fgrad: &Bound<'py, PyAny>,
    src_shape: &Bound<'py, PyAny>,
    dim: usize,
    backend: &Bound<'py, Backend>,
    eps: f64,
) -> PyResult<Bound<'py, PyList>> {
    let p = precision_of(b, "B")?;
    let mut settings = Settings::read(b, delta, fgrad, h, dim, p)?;
    settings.shapes = shapes(src_shape, "src_shape", dim)?;
    let rows = backend.get().run(py, p, MultiKernels { settings, eps })?;
    PyList::new(
        py,
        rows.into_iter()
            .map(|row| to_list(py, row))
            .collect::<PyResult<Vec<_>>>()?,
    )
}

/// `A*A u` from kernel spectra given by the caller.
struct MultiApplyKernels {
    u: Vec<HostArray>,
    rfft_phi: Vec<Vec<HostComplex>>,
}

impl Job for MultiApplyKernels {
    type Output = Vec<HostArray>;

    fn run<B: backend_core::Backend, T: Real>(
        self,
        backend: &B,
    ) -> epri_demos::Result<Vec<HostArray>> {
        let u: Vec<_> = self.u.iter().map(|x| x.to_real::<T>()).collect();
        let phi: Vec<Vec<_>> = self
            .rfft_phi
            .iter()
            .map(|row| row.iter().map(|z| z.to_complex::<T>()).collect())
            .collect();
        let phi_views: Vec<Vec<_>> = phi
            .iter()
            .map(|row| row.iter().map(|z| z.view()).collect())
            .collect();
        let shapes: Vec<Vec<usize>> = u.iter().map(|x| x.shape().to_vec()).collect();
        let mut k = MultiToeplitz::from_rfft(backend, &phi_views, &shapes)?;
        let ub = u
            .iter()
            .map(|x| backend.upload(x.view()))
            .collect::<backend_core::Result<Vec<_>>>()?;
        let mut out = ub
            .iter()
            .map(|x| backend.zeros::<T>(x.shape()))
            .collect::<backend_core::Result<Vec<_>>>()?;
        k.apply(&ub, &mut out)?;
        out.iter()
            .map(|o| Ok(HostArray::from_real(backend.download(o)?)))
            .collect()
    }
}

/// PyEPRI's `apply_{2,3}d_toeplitz_kernels`: `(A*A u)_k = Σ_j u_j ⊛ phi[k][j]` from
/// `rfft_phi[k][j] = rfftn(phi[k][j])` (complex64 for float32 sources, complex128 for
/// float64), for the list `u` of `K` source images; returns `K` images in `u[0]`'s precision.
#[pyfunction]
pub fn multi_apply_toeplitz<'py>(
    py: Python<'py>,
    u: &Bound<'py, PyAny>,
    rfft_phi: &Bound<'py, PyAny>,
    dim: usize,
    backend: &Bound<'py, Backend>,
) -> PyResult<Bound<'py, PyList>> {
    let p = first_precision(u, "u")?;
    let rfft_phi = nested(rfft_phi, &format!("rfft{dim}_phi"), |z, name| {
        complex_array(z, name, dim, p)
    })?;
    let job = MultiApplyKernels {
        u: real_arrays(u, "u", &[dim], Some(p))?,
        rfft_phi,
    };
    to_list(py, backend.get().run(py, p, job)?)
}
