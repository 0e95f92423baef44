//! # epri-python
//!
//! The extension module `epri._epri` of the Python package `epri`: epri's operators and
//! reconstructions on numpy arrays, on the CPU, OpenCL or CUDA backend chosen at run time. The
//! pure-Python modules of `python/epri/` give them PyEPRI's module names, signatures and
//! docstrings; this crate holds the conversions and checks, and runs every call through
//! [`epri_demos::dispatch::Device::run`] (one generic function per operation, monomorphised per
//! backend and precision) on a rayon worker with the GIL released.
//!
//! * [`convert`]: numpy ↔ host arrays (float32/float64, C or Fortran order, checked);
//! * [`errors`]: epri's errors as `ValueError` / `RuntimeError` / `OSError`;
//! * [`device`]: the `Backend` object;
//! * [`plan`], [`projector`]: the mono-source or spectral-spatial operator planned once;
//! * [`monosrc`], [`multisrc`], [`spectral`], [`processing`], [`io`]: the functions;
//! * [`pool`]: the rayon worker the jobs run on, Ctrl-C while a solver runs;
//! * [`progress`]: verbose output of the solvers.

mod convert;
mod device;
mod errors;
mod io;
mod monosrc;
mod multisrc;
mod plan;
mod pool;
mod processing;
mod progress;
mod projector;
mod spectral;

use pyo3::prelude::*;

#[pymodule]
fn _epri(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<device::Backend>()?;
    m.add_class::<projector::PlannedOperator>()?;
    m.add_function(wrap_pyfunction!(monosrc::frequency_nodes, m)?)?;
    m.add_function(wrap_pyfunction!(monosrc::project, m)?)?;
    m.add_function(wrap_pyfunction!(monosrc::backproject, m)?)?;
    m.add_function(wrap_pyfunction!(monosrc::toeplitz_kernel, m)?)?;
    m.add_function(wrap_pyfunction!(monosrc::apply_toeplitz, m)?)?;
    m.add_function(wrap_pyfunction!(multisrc::multi_project, m)?)?;
    m.add_function(wrap_pyfunction!(multisrc::multi_backproject, m)?)?;
    m.add_function(wrap_pyfunction!(multisrc::multi_toeplitz_kernels, m)?)?;
    m.add_function(wrap_pyfunction!(multisrc::multi_apply_toeplitz, m)?)?;
    m.add_function(wrap_pyfunction!(spectral::spectral_nodes, m)?)?;
    m.add_function(wrap_pyfunction!(spectral::spectral_project, m)?)?;
    m.add_function(wrap_pyfunction!(spectral::spectral_backproject, m)?)?;
    m.add_function(wrap_pyfunction!(spectral::spectral_toeplitz_kernel, m)?)?;
    m.add_function(wrap_pyfunction!(processing::tv_mono, m)?)?;
    m.add_function(wrap_pyfunction!(processing::tv_multi, m)?)?;
    m.add_function(wrap_pyfunction!(processing::tv_spec, m)?)?;
    m.add_function(wrap_pyfunction!(processing::eprfbp, m)?)?;
    m.add_function(wrap_pyfunction!(io::load_bes3t, m)?)?;
    Ok(())
}
