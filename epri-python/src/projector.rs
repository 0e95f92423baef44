//! The planned operator behind `epri.Projector` and `epri.SpectralProjector`: set up once
//! (nodes, NUFFT and FFT plans, device buffers), applied many times.

use crate::convert::{precision_of, real_array, shape, to_numpy};
use crate::device::Backend;
use crate::errors::to_pyerr;
use crate::monosrc::acquisition;
use crate::plan::{AnyPlan, MakePlan, Model, Op};
use crate::pool;
use backend_core::Precision;
use epri_ops::ProjectorOptions;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use std::sync::Mutex;

/// `A`, `A*` and `A*A` of one experiment on one backend: mono-source (in the precision of `h`)
/// or spectral-spatial (in the precision of `B`).
#[pyclass(module = "epri._epri", name = "PlannedOperator", frozen)]
pub struct PlannedOperator {
    plan: Mutex<Box<dyn AnyPlan>>,
    precision: Precision,
    image_shape: Vec<usize>,
    sino_shape: (usize, usize),
}

#[pymethods]
impl PlannedOperator {
    #[new]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        b: &Bound<'_, PyAny>,
        delta: f64,
        fgrad: &Bound<'_, PyAny>,
        h: &Bound<'_, PyAny>,
        image_shape: &Bound<'_, PyAny>,
        backend: &Bound<'_, Backend>,
        eps: f64,
        rfft_mode: bool,
    ) -> PyResult<Self> {
        let p = precision_of(h, "h")?;
        let dim = image_shape.len().unwrap_or(0).clamp(2, 3);
        let shape = shape(image_shape, "shape", dim)?;
        let model = Model::Lineshape(real_array(h, "h", &[1], Some(p))?);
        Self::plan(
            py,
            (b, delta, fgrad),
            model,
            shape,
            backend,
            p,
            eps,
            rfft_mode,
        )
    }

    /// The spectral-spatial operator of images `image_shape` = `(Nb, Ny, Nx, Nz)`, in the
    /// precision of `B`; absorption profiles in the voxels with `absorption_mode`.
    #[staticmethod]
    #[allow(clippy::too_many_arguments)]
    fn spectral(
        py: Python<'_>,
        b: &Bound<'_, PyAny>,
        delta: f64,
        fgrad: &Bound<'_, PyAny>,
        image_shape: &Bound<'_, PyAny>,
        backend: &Bound<'_, Backend>,
        eps: f64,
        rfft_mode: bool,
        absorption_mode: bool,
    ) -> PyResult<Self> {
        let p = precision_of(b, "B")?;
        let shape = shape(image_shape, "shape", 4)?;
        let model = Model::Spectral {
            absorption: absorption_mode,
        };
        Self::plan(
            py,
            (b, delta, fgrad),
            model,
            shape,
            backend,
            p,
            eps,
            rfft_mode,
        )
    }

    /// `A u`.
    fn proj<'py>(&self, py: Python<'py>, u: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.apply(py, Op::Proj, u, "u", self.image_shape.len())
    }

    /// `A* proj`.
    fn backproj<'py>(
        &self,
        py: Python<'py>,
        proj: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.apply(py, Op::Backproj, proj, "proj", 2)
    }

    /// `A*A u`.
    fn toeplitz<'py>(&self, py: Python<'py>, u: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.apply(py, Op::Toeplitz, u, "u", self.image_shape.len())
    }

    /// Image shape (Y, X[, Z]) or (Nb, Ny, Nx, Nz).
    #[getter]
    fn shape(&self) -> Vec<usize> {
        self.image_shape.clone()
    }

    /// Sinogram shape (P, Nb).
    #[getter]
    fn sino_shape(&self) -> (usize, usize) {
        self.sino_shape
    }

    /// `"float32"` or `"float64"`.
    #[getter]
    fn dtype(&self) -> &'static str {
        match self.precision {
            Precision::F32 => "float32",
            Precision::F64 => "float64",
        }
    }
}

impl PlannedOperator {
    /// Plans `model` for the acquisition `(B, delta, fgrad)` (3D for a spectral-spatial model)
    /// and images of shape `shape`, in precision `p`.
    #[allow(clippy::too_many_arguments)]
    fn plan(
        py: Python<'_>,
        (b, delta, fgrad): (&Bound<'_, PyAny>, f64, &Bound<'_, PyAny>),
        model: Model,
        shape: Vec<usize>,
        backend: &Bound<'_, Backend>,
        p: Precision,
        eps: f64,
        rfft_mode: bool,
    ) -> PyResult<Self> {
        let dim = match model {
            Model::Lineshape(_) => shape.len(),
            Model::Spectral { .. } => 3,
        };
        let acq = acquisition(b, delta, fgrad, dim, p)?;
        let sino_shape = (acq.fgrad.shape()[1], acq.b.shape()[0]);
        let job = MakePlan {
            acq,
            model,
            shape: shape.clone(),
            opts: ProjectorOptions { rfft_mode, eps },
        };
        let plan = backend.get().run(py, p, job)?;
        Ok(PlannedOperator {
            plan: Mutex::new(plan),
            precision: p,
            image_shape: shape,
            sino_shape,
        })
    }

    fn apply<'py>(
        &self,
        py: Python<'py>,
        op: Op,
        x: &Bound<'py, PyAny>,
        name: &str,
        ndim: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let given = precision_of(x, name)?;
        if given != self.precision {
            return Err(PyTypeError::new_err(format!(
                "{name} is {given}, the operator was planned in {} (the dtype of h, or of B for a spectral-spatial operator)",
                self.dtype()
            )));
        }
        let x = real_array(x, name, &[ndim], None)?;
        let out = pool::run(py, || {
            let mut plan = self
                .plan
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            plan.apply(op, &x)
        });
        Ok(to_numpy(py, out.map_err(to_pyerr)?))
    }
}
