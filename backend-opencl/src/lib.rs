//! # backend-opencl
//!
//! epri's OpenCL backend: [`OpenClBackend`] is the shared GPU host layer (`backend-gpu`) over
//! [`OpenClDriver`], running the kernel sources of `gpu-kernels` (the same C that the CUDA
//! backend compiles with NVRTC) through `opencl3`, loaded at run time: a build needs no OpenCL
//! installation.
//!
//! * Devices are discovered once per process (PoCL misreports devices to threads that
//!   discover concurrently); every handle on a device shares its context, its in-order queue
//!   and its programs, built once per precision on first use.
//! * f64 needs `cl_khr_fp64` ([`backend_core::Error::PrecisionMismatch`] otherwise).
//! * No float atomics: the kernels add floats by compare-and-swap, and the NUFFT spreads by
//!   tiles unless asked otherwise ([`backend_gpu::Spreading`]).

mod device;
mod driver;

pub use device::open_with_fft_lanes;
pub use driver::{ClProgram, OpenClDriver};

/// The OpenCL backend: `OpenClBackend::new(Some((platform, device)))` or `new(None)` for the
/// first device, `OpenClBackend::list_devices()`.
pub type OpenClBackend = backend_gpu::GpuBackend<OpenClDriver>;
