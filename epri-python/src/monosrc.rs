//! Mono-source operators (PyEPRI's `monosrc` module): frequency nodes, projection,
//! backprojection, Toeplitz kernel and its application, in 2D and 3D. The Python layer
//! (`epri/monosrc.py`) gives them PyEPRI's signatures and passes the dimension `dim`.

use crate::convert::{
    complex_array, complex_to_numpy, precision_of, real_array, shape, to_numpy, HostComplex,
};
use crate::device::Backend;
use crate::plan::{vector, Acquisition, ApplyOnce, MakePlan, Model, Op};
use backend_core::{DeviceBuffer as _, Precision, Real};
use epri_demos::dispatch::Job;
use epri_demos::io::HostArray;
use epri_ops::{FrequencyNodes, ProjectorOptions, ToeplitzKernel};
use numpy::IntoPyArray;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The names of the gradient rows of a `dim`-dimensional experiment.
fn rows(dim: usize) -> &'static str {
    if dim == 3 {
        "X, Y, Z"
    } else {
        "X, Y"
    }
}

/// `B` `(Nb,)`, `delta` and `fgrad` `(dim, P)` in precision `p`.
pub fn acquisition(
    b: &Bound<'_, PyAny>,
    delta: f64,
    fgrad: &Bound<'_, PyAny>,
    dim: usize,
    p: Precision,
) -> PyResult<Acquisition> {
    let b = real_array(b, "B", &[1], Some(p))?;
    let fgrad = real_array(fgrad, "fgrad", &[2], Some(p))?;
    if fgrad.shape()[0] != dim {
        return Err(PyValueError::new_err(format!(
            "fgrad has shape {:?}: a {dim}D operator needs {dim} rows ({}), one gradient per column",
            fgrad.shape(),
            rows(dim)
        )));
    }
    Ok(Acquisition { b, delta, fgrad })
}

/// The frequency nodes as PyEPRI's dict: `x`, `y` (and `z` in 3D) the node coordinates
/// `(M,)` in radians per pixel, `indexes` `(M,)` (int64) their flat positions in the
/// `(P, ncols)` Fourier sinogram, `rfft_mode`.
#[pyfunction]
pub fn frequency_nodes<'py>(
    py: Python<'py>,
    b: &Bound<'py, PyAny>,
    delta: f64,
    fgrad: &Bound<'py, PyAny>,
    dim: usize,
    rfft_mode: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let p = precision_of(b, "B")?;
    let acq = acquisition(b, delta, fgrad, dim, p)?;
    let out = PyDict::new(py);
    match p {
        Precision::F32 => {
            fill_nodes::<f32>(py, &out, &acq, rfft_mode)?;
        }
        Precision::F64 => {
            fill_nodes::<f64>(py, &out, &acq, rfft_mode)?;
        }
    }
    out.set_item("rfft_mode", rfft_mode)?;
    Ok(out)
}

/// Computes the nodes of `acq` and stores them in `out` under PyEPRI's keys `y`, `x`[, `z`]
/// (node coordinates `(M,)` in radians per pixel) and `indexes` (`(M,)`, int64); returns them.
pub fn fill_nodes<T: Real + numpy::Element>(
    py: Python<'_>,
    out: &Bound<'_, PyDict>,
    acq: &Acquisition,
    rfft_mode: bool,
) -> PyResult<FrequencyNodes<T>> {
    let g = acq.geometry::<T>().map_err(crate::errors::ops_error)?;
    let nodes = FrequencyNodes::new(&g, rfft_mode).map_err(crate::errors::ops_error)?;
    for (name, c) in ["y", "x", "z"].iter().zip(nodes.coords()) {
        out.set_item(*name, c.clone().into_pyarray(py))?;
    }
    let idx = nodes.indexes().mapv(i64::from);
    out.set_item("indexes", idx.into_pyarray(py))?;
    Ok(nodes)
}

/// Plans the operator and applies `op` to `input` once on `backend`, in precision `p`: the
/// functional API of the mono-source and spectral-spatial operators.
pub fn apply_once<'py>(
    py: Python<'py>,
    backend: &Bound<'py, Backend>,
    p: Precision,
    plan: MakePlan,
    op: Op,
    input: HostArray,
) -> PyResult<Bound<'py, PyAny>> {
    let job = ApplyOnce { plan, op, input };
    Ok(to_numpy(py, backend.get().run(py, p, job)?))
}

/// Projection `A u`: image `u` `(Y, X[, Z])` to the sinogram `(P, Nb)`, in `u`'s precision.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn project<'py>(
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
) -> PyResult<Bound<'py, PyAny>> {
    let p = precision_of(u, "u")?;
    let input = real_array(u, "u", &[dim], None)?;
    let plan = MakePlan {
        acq: acquisition(b, delta, fgrad, dim, p)?,
        model: Model::Lineshape(real_array(h, "h", &[1], Some(p))?),
        shape: input.shape().to_vec(),
        opts: ProjectorOptions { rfft_mode, eps },
    };
    apply_once(py, backend, p, plan, Op::Proj, input)
}

/// Backprojection `A* proj`: sinogram `(P, Nb)` to an image of shape `out_shape`, in `proj`'s
/// precision.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn backproject<'py>(
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
) -> PyResult<Bound<'py, PyAny>> {
    let p = precision_of(proj, "proj")?;
    let input = real_array(proj, "proj", &[2], None)?;
    let plan = MakePlan {
        acq: acquisition(b, delta, fgrad, dim, p)?,
        model: Model::Lineshape(real_array(h, "h", &[1], Some(p))?),
        shape: shape(out_shape, "out_shape", dim)?,
        opts: ProjectorOptions { rfft_mode, eps },
    };
    apply_once(py, backend, p, plan, Op::Backproj, input)
}

/// The Toeplitz kernel `φ` (or its rfft) of `A*_{h2} A_{h1}`.
struct ComputeKernel {
    acq: Acquisition,
    h1: HostArray,
    h2: HostArray,
    shape: Vec<usize>,
    eps: f64,
    return_rfft: bool,
}

/// The kernel on the doubled grid, or its real FFT.
pub enum Kernel {
    /// The kernel `φ`.
    Real(HostArray),
    /// `rfftn(φ)`.
    Spectrum(HostComplex),
}

impl Kernel {
    /// The kernel as a new numpy array (real, or complex for the spectrum).
    pub fn into_py(self, py: Python<'_>) -> Bound<'_, PyAny> {
        match self {
            Kernel::Real(a) => to_numpy(py, a),
            Kernel::Spectrum(z) => complex_to_numpy(py, z),
        }
    }
}

impl Job for ComputeKernel {
    type Output = Kernel;

    fn run<B: backend_core::Backend, T: Real>(self, backend: &B) -> epri_demos::Result<Kernel> {
        let g = self.acq.geometry::<T>()?;
        let (h1, h2) = (vector::<T>(&self.h1)?, vector::<T>(&self.h2)?);
        let mut k = ToeplitzKernel::new(backend, &g, h1.view(), h2.view(), &self.shape, self.eps)?;
        Ok(if self.return_rfft {
            Kernel::Spectrum(HostComplex::from_complex(k.rfft_host()?))
        } else {
            Kernel::Real(HostArray::from_real(k.kernel_host()?))
        })
    }
}

/// The image shape `(N1, ..., N_dim)` of a Toeplitz kernel of shape `out_shape` =
/// `(2N1, ..., 2N_dim)` (PyEPRI gives the kernel's shape, twice the image's).
pub fn kernel_image_shape(out_shape: &Bound<'_, PyAny>, dim: usize) -> PyResult<Vec<usize>> {
    let grid = shape(out_shape, "out_shape", dim)?;
    if grid.iter().any(|&n| n % 2 != 0 || n < 4) {
        return Err(PyValueError::new_err(format!(
            "out_shape = {grid:?} is the kernel's shape, twice the image's: even lengths of at least 4 expected"
        )));
    }
    Ok(grid.iter().map(|n| n / 2).collect())
}

/// The Toeplitz kernel `φ` of `A*_{h2} A_{h1}` of shape `out_shape` = `(2N1, 2N2[, 2N3])` for
/// images `(N1, N2[, N3])`: real, centred offset `k` at index `k + N`; or its `rfftn` (shape
/// `(2N1, [2N2,] N_last + 1)`, complex) when `return_rfft`. Precision of `h1`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn toeplitz_kernel<'py>(
    py: Python<'py>,
    b: &Bound<'py, PyAny>,
    h1: &Bound<'py, PyAny>,
    h2: &Bound<'py, PyAny>,
    delta: f64,
    fgrad: &Bound<'py, PyAny>,
    out_shape: &Bound<'py, PyAny>,
    dim: usize,
    backend: &Bound<'py, Backend>,
    eps: f64,
    return_rfft: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let p = precision_of(h1, "h1")?;
    let job = ComputeKernel {
        acq: acquisition(b, delta, fgrad, dim, p)?,
        h1: real_array(h1, "h1", &[1], None)?,
        h2: real_array(h2, "h2", &[1], Some(p))?,
        shape: kernel_image_shape(out_shape, dim)?,
        eps,
        return_rfft,
    };
    Ok(backend.get().run(py, p, job)?.into_py(py))
}

/// `A*A u` from a kernel spectrum given by the caller.
struct ApplyKernel {
    u: HostArray,
    rfft_phi: HostComplex,
}

impl Job for ApplyKernel {
    type Output = HostArray;

    fn run<B: backend_core::Backend, T: Real>(self, backend: &B) -> epri_demos::Result<HostArray> {
        let u = self.u.to_real::<T>();
        let phi = self.rfft_phi.to_complex::<T>();
        let mut k = ToeplitzKernel::from_rfft(backend, phi.view(), u.shape())?;
        let ub = backend.upload(u.view())?;
        let mut out = backend.zeros::<T>(ub.shape())?;
        k.apply(&ub, &mut out)?;
        Ok(HostArray::from_real(backend.download(&out)?))
    }
}

/// `A*A u` as the convolution of `u` (`(Y, X[, Z])`, or `(Nb, Ny, Nx, Nz)` for `dim` 4) with
/// the kernel whose `rfftn` is `rfft_phi` (as returned by [`toeplitz_kernel`] or
/// [`crate::spectral::spectral_toeplitz_kernel`] with `return_rfft`), in `u`'s precision
/// (`rfft_phi` of the matching complex dtype).
#[pyfunction]
pub fn apply_toeplitz<'py>(
    py: Python<'py>,
    u: &Bound<'py, PyAny>,
    rfft_phi: &Bound<'py, PyAny>,
    dim: usize,
    backend: &Bound<'py, Backend>,
) -> PyResult<Bound<'py, PyAny>> {
    let p = precision_of(u, "u")?;
    let job = ApplyKernel {
        u: real_array(u, "u", &[dim], None)?,
        rfft_phi: complex_array(rfft_phi, &format!("rfft{dim}_phi"), dim, p)?,
    };
    Ok(to_numpy(py, backend.get().run(py, p, job)?))
}
