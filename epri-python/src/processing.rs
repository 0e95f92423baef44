//! Reconstructions (PyEPRI's `processing` module): TV-regularised least squares for one source
//! (`tv_monosrc`), several (`tv_multisrc`) and spectral-spatial images (`tv_spectral`, epri
//! only), filtered backprojection (`eprfbp2d`/`eprfbp3d`).

use crate::convert::{
    first_precision, precision_of, real_array, real_arrays, sequence, shape, to_numpy,
};
use crate::device::Backend;
use crate::monosrc::acquisition;
use crate::multisrc::{shapes, views, Settings};
use crate::plan::{vector, Acquisition};
use crate::progress::Reporter;
use backend_core::Real;
use epri_demos::dispatch::Job;
use epri_demos::io::HostArray;
use epri_ops::recon::tv_multisrc::tv_multisrc;
use epri_ops::recon::{fbp, tv_monosrc, tv_spectral, Lipschitz, SpectralTvOptions, TvOptions};
use ndarray::{ArrayView1, Ix2};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyList;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// PyEPRI's `lipschitz_const`: `'auto'` (power iteration), `'upper-bound'` (max of the
/// Toeplitz kernel's spectrum) or a positive number.
fn lipschitz(obj: &Bound<'_, PyAny>) -> PyResult<Lipschitz> {
    if let Ok(s) = obj.extract::<String>() {
        return match s.as_str() {
            "auto" => Ok(Lipschitz::Auto),
            "upper-bound" => Ok(Lipschitz::UpperBound),
            _ => Err(PyValueError::new_err(format!(
                "lipschitz_const = '{s}': expected 'auto', 'upper-bound' or a positive number"
            ))),
        };
    }
    let v: f64 = obj.extract().map_err(|_| {
        PyTypeError::new_err("lipschitz_const must be 'auto', 'upper-bound' or a positive number")
    })?;
    Ok(Lipschitz::Value(v))
}

/// The solver arguments shared by the TV reconstructions, without the arrays, and the flag
/// that stops the solver on Ctrl-C.
#[derive(Clone)]
struct Solver {
    lambda: f64,
    tol: f64,
    max_iter: usize,
    positivity: bool,
    eval_energy: bool,
    ndisplay: usize,
    use_toeplitz: bool,
    eps: f64,
    lipschitz: Lipschitz,
    /// Evaluate the stopping rule every that many iterations (epri only; ≥ 1).
    check_every: usize,
    cancel: Arc<AtomicBool>,
}

impl Solver {
    /// PyEPRI's solver arguments (`ndisplay` its `Ndisplay`) and epri's `check_every`.
    #[allow(clippy::too_many_arguments)]
    fn new(
        lbda: f64,
        tol: f64,
        nitermax: usize,
        positivity: bool,
        eval_energy: bool,
        ndisplay: usize,
        disable_toeplitz_kernel: bool,
        eps: f64,
        lipschitz_const: &Bound<'_, PyAny>,
        check_every: usize,
    ) -> PyResult<Self> {
        Ok(Solver {
            lambda: lbda,
            tol,
            max_iter: nitermax,
            positivity,
            eval_energy,
            ndisplay,
            use_toeplitz: !disable_toeplitz_kernel,
            eps,
            lipschitz: lipschitz(lipschitz_const)?,
            check_every,
            cancel: Arc::new(AtomicBool::new(false)),
        })
    }

    fn options<T>(&self) -> TvOptions<T> {
        TvOptions {
            lambda: self.lambda,
            tol: self.tol,
            max_iter: self.max_iter,
            positivity: self.positivity,
            lipschitz: self.lipschitz,
            use_toeplitz: self.use_toeplitz,
            eps: self.eps,
            energy_every: self.eval_energy.then_some(self.ndisplay.max(1)),
            check_every: self.check_every,
            cancel: Some(self.cancel.clone()),
            ..TvOptions::default()
        }
    }

    /// The verbose output of the solver `name`.
    fn reporter(&self, name: &'static str, verbose: bool) -> Reporter {
        Reporter::new(name, verbose, self.ndisplay, self.max_iter)
    }
}

struct TvMono<'a> {
    proj: HostArray,
    acq: Acquisition,
    h: HostArray,
    shape: Vec<usize>,
    init: Option<HostArray>,
    mask: Option<HostArray>,
    solver: Solver,
    reporter: &'a mut Reporter,
}

impl Job for TvMono<'_> {
    type Output = HostArray;

    fn run<B: backend_core::Backend, T: Real>(self, backend: &B) -> epri_demos::Result<HostArray> {
        let g = self.acq.geometry::<T>()?;
        let h = vector::<T>(&self.h)?;
        let proj = sinogram::<T>(&self.proj)?;
        let opts = TvOptions {
            init: self.init.as_ref().map(|a| a.to_real::<T>()),
            mask: self.mask.as_ref().map(|a| a.to_real::<T>()),
            ..self.solver.options()
        };
        let reporter = self.reporter;
        let r = tv_monosrc(
            backend,
            proj.view(),
            &g,
            h.view(),
            &self.shape,
            &opts,
            &mut |p| reporter.report(p),
        )?;
        Ok(HostArray::from_real(r.image))
    }
}

fn sinogram<T: Real>(a: &HostArray) -> epri_ops::Result<ndarray::Array2<T>> {
    a.to_real::<T>()
        .into_dimensionality::<Ix2>()
        .map_err(|e| epri_ops::Error::Shape(format!("sinogram: {e}")))
}

/// TV-regularised least squares of one source; returns the image of shape `out_shape`
/// (Y, X[, Z]) in `proj`'s precision. Arguments as PyEPRI's `tv_monosrc` (the Python layer
/// passes them all, `ndisplay` the verbose period).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn tv_mono<'py>(
    py: Python<'py>,
    proj: &Bound<'py, PyAny>,
    b: &Bound<'py, PyAny>,
    fgrad: &Bound<'py, PyAny>,
    delta: f64,
    h: &Bound<'py, PyAny>,
    lbda: f64,
    out_shape: &Bound<'py, PyAny>,
    backend: &Bound<'py, Backend>,
    init: Option<&Bound<'py, PyAny>>,
    positivity: bool,
    mask: Option<&Bound<'py, PyAny>>,
    tol: f64,
    nitermax: usize,
    eval_energy: bool,
    verbose: bool,
    ndisplay: usize,
    eps: f64,
    disable_toeplitz_kernel: bool,
    lipschitz_const: &Bound<'py, PyAny>,
    check_every: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let p = precision_of(proj, "proj")?;
    let dim = out_shape.len().unwrap_or(0);
    let shape = shape(out_shape, "out_shape", dim.clamp(2, 3))?;
    let image = |obj: Option<&Bound<'py, PyAny>>, name| {
        obj.map(|o| real_array(o, name, &[shape.len()], Some(p)))
            .transpose()
    };
    let solver = Solver::new(
        lbda,
        tol,
        nitermax,
        positivity,
        eval_energy,
        ndisplay,
        disable_toeplitz_kernel,
        eps,
        lipschitz_const,
        check_every,
    )?;
    let mut reporter = solver.reporter("tv_monosrc", verbose);
    let job = TvMono {
        proj: real_array(proj, "proj", &[2], None)?,
        acq: acquisition(b, delta, fgrad, shape.len(), p)?,
        h: real_array(h, "h", &[1], Some(p))?,
        init: image(init, "init")?,
        mask: image(mask, "mask")?,
        shape,
        solver: solver.clone(),
        reporter: &mut reporter,
    };
    let image = backend.get().run_cancellable(py, p, &solver.cancel, job)?;
    reporter.failed.map_or(Ok(()), Err)?;
    Ok(to_numpy(py, image))
}

struct TvSpectral<'a> {
    proj: HostArray,
    acq: Acquisition,
    shape: Vec<usize>,
    init: Option<HostArray>,
    mask: Option<HostArray>,
    lambda_spectral: f64,
    absorption: bool,
    solver: Solver,
    reporter: &'a mut Reporter,
}

impl Job for TvSpectral<'_> {
    type Output = HostArray;

    fn run<B: backend_core::Backend, T: Real>(self, backend: &B) -> epri_demos::Result<HostArray> {
        let g = self.acq.geometry::<T>()?;
        let proj = sinogram::<T>(&self.proj)?;
        let opts = SpectralTvOptions {
            tv: TvOptions {
                init: self.init.as_ref().map(|a| a.to_real::<T>()),
                mask: self.mask.as_ref().map(|a| a.to_real::<T>()),
                ..self.solver.options()
            },
            lambda_spectral: self.lambda_spectral,
            absorption: self.absorption,
        };
        let reporter = self.reporter;
        let r = tv_spectral(backend, proj.view(), &g, &self.shape, &opts, &mut |p| {
            reporter.report(p)
        })?;
        Ok(HostArray::from_real(r.image))
    }
}

/// Spectral-spatial TV reconstruction (epri only): the image `(Nb, Ny, Nx, Nz)` of shape
/// `out_shape` from the projections `proj` `(P, Nb)` of a 3D acquisition, in `proj`'s precision.
/// `lbda` weighs the spatial TV, `lbda_spectral` the TV along B; `mask` is spatial
/// `(Ny, Nx, Nz)` or of the image's shape; other arguments as [`tv_mono`].
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn tv_spec<'py>(
    py: Python<'py>,
    proj: &Bound<'py, PyAny>,
    b: &Bound<'py, PyAny>,
    fgrad: &Bound<'py, PyAny>,
    delta: f64,
    lbda: f64,
    lbda_spectral: f64,
    out_shape: &Bound<'py, PyAny>,
    backend: &Bound<'py, Backend>,
    init: Option<&Bound<'py, PyAny>>,
    positivity: bool,
    mask: Option<&Bound<'py, PyAny>>,
    absorption_mode: bool,
    tol: f64,
    nitermax: usize,
    eval_energy: bool,
    verbose: bool,
    ndisplay: usize,
    eps: f64,
    disable_toeplitz_kernel: bool,
    lipschitz_const: &Bound<'py, PyAny>,
    check_every: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let p = precision_of(proj, "proj")?;
    let shape = shape(out_shape, "out_shape", 4)?;
    let solver = Solver::new(
        lbda,
        tol,
        nitermax,
        positivity,
        eval_energy,
        ndisplay,
        disable_toeplitz_kernel,
        eps,
        lipschitz_const,
        check_every,
    )?;
    let mut reporter = solver.reporter("tv_spectral", verbose);
    let job = TvSpectral {
        proj: real_array(proj, "proj", &[2], None)?,
        acq: acquisition(b, delta, fgrad, 3, p)?,
        init: init
            .map(|o| real_array(o, "init", &[4], Some(p)))
            .transpose()?,
        mask: mask
            .map(|o| real_array(o, "mask", &[3, 4], Some(p)))
            .transpose()?,
        shape,
        lambda_spectral: lbda_spectral,
        absorption: absorption_mode,
        solver: solver.clone(),
        reporter: &mut reporter,
    };
    let image = backend.get().run_cancellable(py, p, &solver.cancel, job)?;
    reporter.failed.map_or(Ok(()), Err)?;
    Ok(to_numpy(py, image))
}

struct TvMulti<'a> {
    projs: Vec<HostArray>,
    settings: Settings,
    init: Option<Vec<HostArray>>,
    solver: Solver,
    reporter: &'a mut Reporter,
}

impl Job for TvMulti<'_> {
    type Output = Vec<HostArray>;

    fn run<B: backend_core::Backend, T: Real>(
        self,
        backend: &B,
    ) -> epri_demos::Result<Vec<HostArray>> {
        let (geometries, h) = self.settings.typed::<T>()?;
        let projs = self
            .projs
            .iter()
            .map(sinogram::<T>)
            .collect::<epri_ops::Result<Vec<_>>>()?;
        let projs: Vec<_> = projs.iter().map(|s| s.view()).collect();
        let init: Option<Vec<_>> = self
            .init
            .as_ref()
            .map(|v| v.iter().map(|a| a.to_real::<T>()).collect());
        let opts = self.solver.options();
        let reporter = self.reporter;
        let r = tv_multisrc(
            backend,
            &projs,
            &geometries,
            &views(&h),
            &self.settings.shapes,
            &opts,
            init.as_deref(),
            &mut |p| reporter.report(p),
        )?;
        Ok(r.images.into_iter().map(HostArray::from_real).collect())
    }
}

/// TV-regularised source separation; returns the list of the `K` source images (shapes
/// `out_shape[j]`) in `proj[0]`'s precision. Arguments as PyEPRI's `tv_multisrc`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn tv_multi<'py>(
    py: Python<'py>,
    proj: &Bound<'py, PyAny>,
    b: &Bound<'py, PyAny>,
    fgrad: &Bound<'py, PyAny>,
    delta: f64,
    h: &Bound<'py, PyAny>,
    lbda: f64,
    out_shape: &Bound<'py, PyAny>,
    backend: &Bound<'py, Backend>,
    init: Option<&Bound<'py, PyAny>>,
    tol: f64,
    nitermax: usize,
    eval_energy: bool,
    disable_toeplitz_kernel: bool,
    verbose: bool,
    ndisplay: usize,
    eps: f64,
    lipschitz_const: &Bound<'py, PyAny>,
    check_every: usize,
) -> PyResult<Bound<'py, PyList>> {
    let p = first_precision(proj, "proj")?;
    let first_shape = sequence(out_shape, "out_shape")?
        .first()
        .and_then(|s| s.len().ok())
        .unwrap_or(2);
    let dim = first_shape.clamp(2, 3);
    let mut settings = Settings::read(b, delta, fgrad, h, dim, p)?;
    settings.shapes = shapes(out_shape, "out_shape", dim)?;
    let solver = Solver::new(
        lbda,
        tol,
        nitermax,
        false,
        eval_energy,
        ndisplay,
        disable_toeplitz_kernel,
        eps,
        lipschitz_const,
        check_every,
    )?;
    let mut reporter = solver.reporter("tv_multisrc", verbose);
    let job = TvMulti {
        projs: real_arrays(proj, "proj", &[2], Some(p))?,
        init: init
            .map(|i| real_arrays(i, "init", &[dim], Some(p)))
            .transpose()?,
        settings,
        solver: solver.clone(),
        reporter: &mut reporter,
    };
    let images = backend.get().run_cancellable(py, p, &solver.cancel, job)?;
    reporter.failed.map_or(Ok(()), Err)?;
    PyList::new(py, images.into_iter().map(|a| to_numpy(py, a)))
}

struct Fbp {
    proj: HostArray,
    acq: Acquisition,
    h: HostArray,
    grids: Vec<HostArray>,
    cutoff: f64,
}

impl Job for Fbp {
    type Output = HostArray;

    fn run<B: backend_core::Backend, T: Real>(self, backend: &B) -> epri_demos::Result<HostArray> {
        let g = self.acq.geometry::<T>()?;
        let h = vector::<T>(&self.h)?;
        let proj = sinogram::<T>(&self.proj)?;
        let grids = self
            .grids
            .iter()
            .map(vector::<T>)
            .collect::<epri_ops::Result<Vec<_>>>()?;
        let grids: Vec<ArrayView1<'_, T>> = grids.iter().map(|a| a.view()).collect();
        Ok(HostArray::from_real(fbp(
            backend,
            proj.view(),
            &g,
            h.view(),
            &grids,
            self.cutoff,
        )?))
    }
}

/// Filtered backprojection with linear interpolation (zero outside the sampled range):
/// `proj` `(P, Nb)`, `fgrad` `(d, P)`, `h` `(Nb,)`, `B` `(Nb,)`, `grids` the sample positions
/// of the image axes in image order (Y, X[, Z]); returns the image `(len(Y), len(X)[, len(Z)])`
/// in `proj`'s precision.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn eprfbp<'py>(
    py: Python<'py>,
    proj: &Bound<'py, PyAny>,
    fgrad: &Bound<'py, PyAny>,
    h: &Bound<'py, PyAny>,
    b: &Bound<'py, PyAny>,
    grids: &Bound<'py, PyAny>,
    backend: &Bound<'py, Backend>,
    frequency_cutoff: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let p = precision_of(proj, "proj")?;
    let grids = sequence(grids, "grids")?
        .iter()
        .zip(["ygrid", "xgrid", "zgrid"])
        .map(|(g, name)| real_array(g, name, &[1], Some(p)))
        .collect::<PyResult<Vec<_>>>()?;
    let job = Fbp {
        proj: real_array(proj, "proj", &[2], None)?,
        // FBP reads B and fgrad from the geometry; the pixel size is given by the grids.
        acq: acquisition(b, 1.0, fgrad, grids.len(), p)?,
        h: real_array(h, "h", &[1], Some(p))?,
        grids,
        cutoff: frequency_cutoff,
    };
    Ok(to_numpy(py, backend.get().run(py, p, job)?))
}
