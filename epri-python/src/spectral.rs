//! Spectral-spatial operators (PyEPRI's `spectralspatial` module) on 4D images
//! `(Nb, Ny, Nx, Nz)`, spectral axis first (sampled on `B`), then the spatial axes (Y, X, Z):
//! frequency nodes, projection, backprojection and Toeplitz kernel. The kernel is applied by
//! [`crate::monosrc::apply_toeplitz`] with `dim` 4; the Python layer
//! (`epri/spectralspatial.py`) gives them PyEPRI's signatures.

use crate::convert::{precision_of, real_array, shape, HostComplex};
use crate::device::Backend;
use crate::monosrc::{acquisition, apply_once, fill_nodes, kernel_image_shape, Kernel};
use crate::plan::{Acquisition, MakePlan, Model, Op};
use backend_core::{FftKind, FftSpec, Precision, Real, C};
use epri_demos::dispatch::Job;
use epri_demos::io::HostArray;
use epri_ops::{ProjectorOptions, ToeplitzKernel};
use ndarray::{Array1, Array2, Axis};
use numpy::IntoPyArray;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::cmp::Reverse;

/// The frequency nodes as PyEPRI's `compute_4d_frequency_nodes` dict: the 3D nodes (`x`, `y`,
/// `z` `(M,)` in radians per pixel, `indexes` `(M,)` int64 in the `(P, ncols)` Fourier
/// sinogram, `rfft_mode`) and along the spectral axis: `xi` `(ncols,)` = `2π α_c / Nb` per
/// column `c` (integer frequency `α_c`), `t` the distinct values of `−xi` over the nodes,
/// increasing, `idt` `(M,)` int64 with `t[idt[m]]` the value of node `m`, `idt0` `(1, 1)` int64
/// the position of `t = 0`, `lt` `(Nb, len(t))` = `l · t[k]`. Floats in `B`'s precision.
#[pyfunction]
pub fn spectral_nodes<'py>(
    py: Python<'py>,
    b: &Bound<'py, PyAny>,
    delta: f64,
    fgrad: &Bound<'py, PyAny>,
    rfft_mode: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let p = precision_of(b, "B")?;
    let acq = acquisition(b, delta, fgrad, 3, p)?;
    let out = PyDict::new(py);
    fn fill<T: Real + numpy::Element>(
        py: Python<'_>,
        out: &Bound<'_, PyDict>,
        acq: &Acquisition,
        rfft_mode: bool,
    ) -> PyResult<()> {
        let nodes = fill_nodes::<T>(py, out, acq, rfft_mode)?;
        let nb = acq.b.shape()[0];
        let step = T::of(2.0 * std::f64::consts::PI / nb as f64);
        let alpha = |c: usize| nodes.column_frequency(c);
        let xi: Array1<T> = (0..nodes.ncols())
            .map(|c| step * T::of(alpha(c) as f64))
            .collect();
        // The retained columns by increasing t = −ξ (decreasing α), each once.
        let mut cols: Vec<usize> = nodes.columns().collect();
        cols.sort_unstable_by_key(|&c| Reverse(alpha(c)));
        cols.dedup();
        let mut rank = vec![0i64; nodes.ncols()];
        for (i, &c) in cols.iter().enumerate() {
            rank[c] = i as i64;
        }
        let t: Array1<T> = cols.iter().map(|&c| -xi[c]).collect();
        let idt: Array1<i64> = nodes.columns().map(|c| rank[c]).collect();
        let idt0 = Array2::from_elem((1, 1), rank[0]);
        let lt = Array2::from_shape_fn((nb, t.len()), |(l, k)| T::of(l as f64) * t[k]);
        out.set_item("xi", xi.into_pyarray(py))?;
        out.set_item("t", t.into_pyarray(py))?;
        out.set_item("idt", idt.into_pyarray(py))?;
        out.set_item("idt0", idt0.into_pyarray(py))?;
        out.set_item("lt", lt.into_pyarray(py))?;
        Ok(())
    }
    match p {
        Precision::F32 => fill::<f32>(py, &out, &acq, rfft_mode)?,
        Precision::F64 => fill::<f64>(py, &out, &acq, rfft_mode)?,
    }
    out.set_item("rfft_mode", rfft_mode)?;
    Ok(out)
}

/// The options of a spectral-spatial projector.
fn options(eps: f64, rfft_mode: bool) -> ProjectorOptions {
    ProjectorOptions { rfft_mode, eps }
}

/// Projection `A u` of the 4D image `u` `(Nb, Ny, Nx, Nz)` to the sinogram `(P, Nb)`, in `u`'s
/// precision; voxels holding absorption profiles with `absorption_mode`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn spectral_project<'py>(
    py: Python<'py>,
    u: &Bound<'py, PyAny>,
    delta: f64,
    b: &Bound<'py, PyAny>,
    fgrad: &Bound<'py, PyAny>,
    backend: &Bound<'py, Backend>,
    eps: f64,
    rfft_mode: bool,
    absorption_mode: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let p = precision_of(u, "u")?;
    let input = real_array(u, "u", &[4], None)?;
    let plan = MakePlan {
        acq: acquisition(b, delta, fgrad, 3, p)?,
        model: Model::Spectral {
            absorption: absorption_mode,
        },
        shape: input.shape().to_vec(),
        opts: options(eps, rfft_mode),
    };
    apply_once(py, backend, p, plan, Op::Proj, input)
}

/// Backprojection `A* proj`: sinogram `(P, Nb)` to a 4D image of shape `out_shape`
/// `(Nb, Ny, Nx, Nz)`, in `proj`'s precision.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn spectral_backproject<'py>(
    py: Python<'py>,
    proj: &Bound<'py, PyAny>,
    delta: f64,
    b: &Bound<'py, PyAny>,
    fgrad: &Bound<'py, PyAny>,
    out_shape: &Bound<'py, PyAny>,
    backend: &Bound<'py, Backend>,
    eps: f64,
    rfft_mode: bool,
    absorption_mode: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let p = precision_of(proj, "proj")?;
    let input = real_array(proj, "proj", &[2], None)?;
    let plan = MakePlan {
        acq: acquisition(b, delta, fgrad, 3, p)?,
        model: Model::Spectral {
            absorption: absorption_mode,
        },
        shape: shape(out_shape, "out_shape", 4)?,
        opts: options(eps, rfft_mode),
    };
    apply_once(py, backend, p, plan, Op::Backproj, input)
}

/// The Toeplitz kernel of the spectral-spatial `A*A` in PyEPRI's layout, or its `rfftn`.
struct ComputeKernel {
    acq: Acquisition,
    shape: Vec<usize>,
    absorption: bool,
    eps: f64,
    return_rfft: bool,
}

impl Job for ComputeKernel {
    type Output = Kernel;

    fn run<B: backend_core::Backend, T: Real>(self, backend: &B) -> epri_demos::Result<Kernel> {
        let g = self.acq.geometry::<T>()?;
        let mut k =
            ToeplitzKernel::new_spectral(backend, &g, &self.shape, self.absorption, self.eps)?;
        // epri keeps one period along B, PyEPRI two: (2Nb, 2Ny, 2Nx, 2Nz).
        let period = k.kernel_host()?;
        drop(k);
        let phi = ndarray::concatenate(Axis(0), &[period.view(), period.view()])
            .map_err(|e| epri_ops::Error::Shape(format!("4D Toeplitz kernel: {e}")))?;
        drop(period);
        if !self.return_rfft {
            return Ok(Kernel::Real(HostArray::from_real(phi)));
        }
        let spec = FftSpec::new(phi.shape(), phi.ndim(), FftKind::R2C)?;
        let plan = backend.fft_plan::<T>(&spec)?;
        let phi_d = backend.upload(phi.view())?;
        drop(phi);
        let mut out = backend.zeros::<C<T>>(&spec.spectrum_shape())?;
        backend.fft_r2c(&plan, &phi_d, &mut out)?;
        Ok(Kernel::Spectrum(HostComplex::from_complex(
            backend.download(&out)?,
        )))
    }
}

/// The Toeplitz kernel `φ` of the spectral-spatial `A*A` of shape `out_shape` =
/// `(2Nb, 2Ny, 2Nx, 2Nz)` for images `(Nb, Ny, Nx, Nz)`: real, two identical periods along B
/// (index `l` the spectral offset `l mod Nb`), the centred spatial offset `k` at index `k + N`;
/// or its `rfftn` (shape `(2Nb, 2Ny, 2Nx, Nz + 1)`, complex) when `return_rfft`. Precision of
/// `B`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn spectral_toeplitz_kernel<'py>(
    py: Python<'py>,
    b: &Bound<'py, PyAny>,
    delta: f64,
    fgrad: &Bound<'py, PyAny>,
    out_shape: &Bound<'py, PyAny>,
    backend: &Bound<'py, Backend>,
    absorption_mode: bool,
    eps: f64,
    return_rfft: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let p = precision_of(b, "B")?;
    let acq = acquisition(b, delta, fgrad, 3, p)?;
    let shape = kernel_image_shape(out_shape, 4)?;
    let nb = acq.b.shape()[0];
    if shape[0] != nb {
        return Err(PyValueError::new_err(format!(
            "out_shape = {:?}: its first length must be 2 len(B) = {} (the kernel is twice the image (Nb, Ny, Nx, Nz) along every axis)",
            shape.iter().map(|n| 2 * n).collect::<Vec<_>>(),
            2 * nb
        )));
    }
    let job = ComputeKernel {
        acq,
        shape,
        absorption: absorption_mode,
        eps,
        return_rfft,
    };
    Ok(backend.get().run(py, p, job)?.into_py(py))
}
