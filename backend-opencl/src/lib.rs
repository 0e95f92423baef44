//! # backend-opencl
//!
//! epri's OpenCL backend: [`OpenClBackend`] implements [`backend_core::Backend`] with the
//! shared kernel sources of `gpu-kernels` (the same C that the CUDA backend compiles with
//! NVRTC), through `opencl3` (loaded at run time: a build needs no OpenCL installation).
//!
//! * Devices are discovered once per process (PoCL misreports devices to threads that
//!   discover concurrently); every handle on a device shares its context, its in-order queue
//!   and its programs, built once per precision on first use.
//! * f64 needs `cl_khr_fp64` ([`backend_core::Error::PrecisionMismatch`] otherwise).
//! * FFT: batched Stockham autosort, radices 2, 3, 4, 5, 7 and a generic odd radix (prime
//!   factors up to [`fft::MAX_PRIME_FACTOR`]).
//! * NUFFT: points folded and sorted by bin on the host at `setpts`; spreading with
//!   compare-and-swap atomic adds (no float atomics on PoCL).

mod backend;
mod buffer;
mod device;
pub mod fft;
mod launch;
mod nufft;

pub use backend::OpenClBackend;
pub use buffer::ClBuffer;
pub use fft::ClFftPlan;
pub use nufft::ClPoints;
