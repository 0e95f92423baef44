//! # backend-gpu
//!
//! epri's GPU host layer, written once for OpenCL and CUDA: [`GpuBackend`] implements
//! [`backend_core::Backend`] over any [`Driver`] (allocation, host/device copies, a program
//! built from the shared kernel sources of `gpu-kernels`, 1D launches with typed arguments,
//! synchronisation, capabilities). `backend-opencl` and `backend-cuda` are a driver each plus a
//! type alias, so the host logic that CI runs on PoCL is the one that runs on an NVIDIA GPU.
//!
//! * Arguments are checked by `backend_core::check` (the validators every backend shares), and
//!   every launch against the kernel table ([`kernels`]) before it reaches the driver.
//! * FFT ([`fft`]): batched Stockham autosort, radices 2, 3, 4, 5, 7 and a generic odd radix
//!   (prime factors up to [`fft::MAX_PRIME_FACTOR`]), Bluestein's algorithm for lengths with a
//!   larger prime factor. The Toeplitz product (`fft_convolve`) runs fused and pruned, each
//!   line transformed in local memory in one launch per axis (`convolve`).
//! * NUFFT: points folded and sorted by tile on the host at `setpts`; spreading by atomic adds
//!   where the device has float atomics, by tiles elsewhere ([`Spreading`]).
//!
//! * Under `EPRI_PROFILE=1` every launch, allocation and host transfer is counted
//!   ([`backend_core::Backend::profile`]).
//!
//! Modules follow what they hold: `driver` (the trait, arguments, ranges), `kernels` (the
//! signature table), `profile` (the counters), `buffer`, `backend` (the handle, programs, launches, the trait impl),
//! then one module per primitive family: `memory`, `elementwise`, `index`, `reduce`,
//! `stencil`, `fft`, `convolve`, `nufft`, `fbp`.

mod backend;
mod buffer;
mod convolve;
pub mod driver;
mod elementwise;
mod fbp;
pub mod fft;
mod index;
pub mod kernels;
mod memory;
mod nufft;
mod profile;
mod reduce;
mod stencil;

pub use backend::{GpuBackend, Spreading};
pub use buffer::GpuBuffer;
pub use driver::{Arg, Caps, Discover, Driver, Range};
pub use fft::GpuFftPlan;
pub use nufft::GpuPoints;
