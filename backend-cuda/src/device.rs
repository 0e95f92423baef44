//! Finding CUDA devices without panicking, the handles of the devices opened so far, and
//! cudarc's driver errors as [`Error`]s.
//!
//! cudarc loads `libcuda` and `libnvrtc` at run time and *panics* when a library is missing,
//! so every entry point first asks [`libraries_present`].

use crate::driver::CudaDriver;
use backend_core::{Error, Result};
use backend_gpu::{Discover, GpuBackend};
use cudarc::driver::sys::CUresult;
use cudarc::driver::{CudaContext, DriverError};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// `Ok` when the driver and NVRTC libraries can both be loaded; otherwise the reason.
fn libraries_present() -> Result<()> {
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

fn device_count() -> Result<usize> {
    let n = CudaContext::device_count().map_err(|e| unavailable("cuInit / device count", e))?;
    Ok(n.max(0) as usize)
}

impl Discover for CudaDriver {
    /// The device ordinal, 0 for the first.
    type Spec = usize;

    /// Opens the primary context of device `ordinal` (see [`Discover::open`]); handles opened
    /// later share it, with its stream and programs.
    fn open(ordinal: usize) -> Result<GpuBackend<Self>> {
        static OPENED: OnceLock<Mutex<HashMap<usize, GpuBackend<CudaDriver>>>> = OnceLock::new();
        libraries_present()?;
        let mut opened = OPENED
            .get_or_init(|| Mutex::new(HashMap::new()))
            .lock()
            .map_err(|_| Error::Device("CUDA device table lock poisoned".into()))?;
        if let Some(b) = opened.get(&ordinal) {
            return Ok(b.clone());
        }
        let backend = guarded("opening the CUDA device", || {
            let count = device_count()?;
            if ordinal >= count {
                return Err(Error::DeviceUnavailable(format!(
                    "no CUDA device {ordinal}: {count} device(s) found"
                )));
            }
            let ctx = CudaContext::new(ordinal)
                .map_err(|e| unavailable(&format!("context on device {ordinal}"), e))?;
            Ok(GpuBackend::from_driver(CudaDriver::new(ctx)?))
        })?;
        opened.insert(ordinal, backend.clone());
        Ok(backend)
    }

    /// The CUDA devices of this machine, as `cuda:<i> (<name>)`; an error (not a panic) when
    /// the CUDA libraries are missing.
    fn list_devices() -> Result<Vec<String>> {
        libraries_present()?;
        guarded("listing the CUDA devices", || {
            (0..device_count()?)
                .map(|i| {
                    let ctx = CudaContext::new(i).map_err(|e| unavailable("context", e))?;
                    Ok(format!("cuda:{i} ({})", ctx.name().map_err(driver)?))
                })
                .collect()
        })
    }
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
