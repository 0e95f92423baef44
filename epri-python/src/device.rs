//! The `Backend` object: a device opened once by name (`cpu`, `opencl`, `opencl:P:D`, `cuda`,
//! `cuda:I`) and passed to every function as `backend=`.

use crate::errors::{backend_error, to_pyerr};
use crate::pool;
use backend_core::{DeviceSpec, Precision};
use epri_demos::dispatch::{Device, Job};
use pyo3::prelude::*;
use std::sync::atomic::AtomicBool;

/// A compute device of this build: the CPU always, OpenCL and CUDA devices when the extension
/// was built with the `opencl` / `cuda` features. Create it with
/// `epri.backends.create_backend(name)`.
#[pyclass(module = "epri._epri", name = "Backend", frozen)]
pub struct Backend {
    device: Device,
    spec: String,
}

#[pymethods]
impl Backend {
    /// Opens the backend `name`: `"cpu"`, `"opencl"` (first device), `"opencl:P:D"` (platform
    /// P, device D), `"cuda"` (device 0) or `"cuda:I"`. `ValueError` for an unknown name,
    /// `RuntimeError` for a device that is missing or a backend this build lacks.
    #[new]
    #[pyo3(signature = (name="cpu"))]
    fn new(py: Python<'_>, name: &str) -> PyResult<Self> {
        let spec: DeviceSpec = name.parse().map_err(backend_error)?;
        let device = py.detach(|| Device::open(spec)).map_err(to_pyerr)?;
        Ok(Backend {
            device,
            spec: name.trim().to_ascii_lowercase(),
        })
    }

    /// The device's name, e.g. `cpu (2 threads)`.
    #[getter]
    fn device_name(&self) -> String {
        self.device.name()
    }

    /// The name the backend was opened with (`cpu`, `opencl:0:0`, `cuda`...).
    #[getter]
    fn name(&self) -> &str {
        &self.spec
    }

    fn __repr__(&self) -> String {
        format!("epri.Backend('{}': {})", self.spec, self.device.name())
    }
}

impl Backend {
    /// Runs `job` on this device in `precision`, on a worker of the pool with the GIL
    /// released.
    pub fn run<J: Job + Send>(
        &self,
        py: Python<'_>,
        precision: Precision,
        job: J,
    ) -> PyResult<J::Output>
    where
        J::Output: Send,
    {
        pool::run(py, || self.device.run(precision, job)).map_err(to_pyerr)
    }

    /// Runs a solver `job` as [`Backend::run`], stopping it through `cancel` on Ctrl-C: the
    /// exception of the signal is raised in place of the solver's result.
    pub fn run_cancellable<J: Job + Send>(
        &self,
        py: Python<'_>,
        precision: Precision,
        cancel: &AtomicBool,
        job: J,
    ) -> PyResult<J::Output>
    where
        J::Output: Send,
    {
        let (result, raised) =
            pool::run_cancellable(py, cancel, || self.device.run(precision, job));
        match raised {
            Some(e) => Err(e),
            None => result.map_err(to_pyerr),
        }
    }
}
