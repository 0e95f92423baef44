//! Finding a CUDA device without panicking, and turning cudarc's errors into [`Error`].
//!
//! cudarc loads `libcuda`, `libnvrtc` and `libcufft` at run time and *panics* when a library is
//! missing, so every entry point first asks [`libraries_present`].

use backend_core::{Error, Result};
use cudarc::cufft::result::CufftError;
use cudarc::cufft::sys::cufftResult;
use cudarc::driver::sys::CUresult;
use cudarc::driver::{CudaContext, DriverError};
use std::sync::Arc;

/// `Ok` when the driver, NVRTC and cuFFT libraries can all be loaded; otherwise the reason.
pub(crate) fn libraries_present() -> Result<()> {
    // SAFETY: these functions only try `dlopen` on the candidate names; they never panic.
    let missing: Vec<&str> = unsafe {
        [
            (
                "libcuda (NVIDIA driver)",
                cudarc::driver::sys::is_culib_present(),
            ),
            (
                "libnvrtc (CUDA runtime compiler)",
                cudarc::nvrtc::sys::is_culib_present(),
            ),
            ("libcufft", cudarc::cufft::sys::is_culib_present()),
        ]
    }
    .into_iter()
    .filter(|(_, ok)| !ok)
    .map(|(name, _)| name)
    .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::DeviceUnavailable(format!(
            "cannot load {} (this build expects the CUDA 13 libraries on the loader path)",
            missing.join(", ")
        )))
    }
}

/// `Ok` when NVRTC alone can be loaded (compiling needs no GPU).
pub(crate) fn nvrtc_present() -> Result<()> {
    // SAFETY: only tries `dlopen`.
    if unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        Ok(())
    } else {
        Err(Error::DeviceUnavailable(
            "cannot load libnvrtc (this build expects CUDA 13's libnvrtc.so.13)".into(),
        ))
    }
}

/// Runs `f`, turning a panic inside cudarc (a symbol the installed driver lacks, say) into
/// [`Error::DeviceUnavailable`].
fn guarded<R>(what: &str, f: impl FnOnce() -> Result<R>) -> Result<R> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| p.downcast_ref::<&str>().copied())
            .unwrap_or("unknown panic");
        Err(Error::DeviceUnavailable(format!(
            "{what}: cudarc panicked: {msg}"
        )))
    })
}

/// Opens the primary context of device `ordinal`.
pub(crate) fn open(ordinal: usize) -> Result<Arc<CudaContext>> {
    libraries_present()?;
    guarded("opening the CUDA device", || open_present(ordinal))
}

fn open_present(ordinal: usize) -> Result<Arc<CudaContext>> {
    let count = CudaContext::device_count().map_err(|e| unavailable("cuInit / device count", e))?;
    if ordinal >= count.max(0) as usize {
        return Err(Error::DeviceUnavailable(format!(
            "no CUDA device {ordinal}: {count} device(s) found"
        )));
    }
    CudaContext::new(ordinal).map_err(|e| unavailable(&format!("context on device {ordinal}"), e))
}

/// The names of the CUDA devices, `cuda:<i> (<name>)`.
pub(crate) fn list() -> Result<Vec<String>> {
    libraries_present()?;
    guarded("listing the CUDA devices", list_present)
}

fn list_present() -> Result<Vec<String>> {
    let count = CudaContext::device_count().map_err(|e| unavailable("cuInit / device count", e))?;
    (0..count.max(0) as usize)
        .map(|i| {
            let ctx = CudaContext::new(i).map_err(|e| unavailable("context", e))?;
            Ok(format!("cuda:{i} ({})", ctx.name().map_err(driver)?))
        })
        .collect()
}

fn unavailable(what: &str, e: DriverError) -> Error {
    Error::DeviceUnavailable(format!("{what}: {e}"))
}

/// A driver error: out-of-memory is [`Error::OutOfMemory`], anything else [`Error::Device`].
pub(crate) fn driver(e: DriverError) -> Error {
    if e.0 == CUresult::CUDA_ERROR_OUT_OF_MEMORY {
        Error::OutOfMemory(e.to_string())
    } else {
        Error::Device(format!("CUDA driver: {e}"))
    }
}

/// A cuFFT error: allocation failures are [`Error::OutOfMemory`].
pub(crate) fn cufft(e: CufftError) -> Error {
    if e.0 == cufftResult::CUFFT_ALLOC_FAILED {
        Error::OutOfMemory(format!("cuFFT: {e:?}"))
    } else {
        Error::Device(format!("cuFFT: {e:?}"))
    }
}
