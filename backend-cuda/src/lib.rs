//! # backend-cuda
//!
//! epri's CUDA backend: [`CudaBackend`] implements [`backend_core::Backend`] with cudarc
//! (driver API, NVRTC, cuFFT), running the kernel sources of `gpu-kernels` (the same files the
//! OpenCL backend runs, compiled by NVRTC once per context and precision) and cuFFT for the FFT
//! plans.
//!
//! The CUDA libraries are loaded at run time: a machine without the NVIDIA driver, NVRTC or
//! cuFFT gets [`backend_core::Error::DeviceUnavailable`] from [`CudaBackend::new`], never a
//! panic. The build selects CUDA 13 bindings (`libnvrtc.so.13`, `libcufft.so.12`).
//!
//! Checked without a GPU: the cuFFT plan layouts and the NUFFT point preparation by host
//! emulation (unit tests), and, wherever `libnvrtc.so.13` loads (for instance from the
//! `nvidia-cuda-nvrtc` wheel's `lib` folder on `LD_LIBRARY_PATH`), the compilation of the
//! shared sources and the kernel signatures the backend passes.
//!
//! Modules: `backend` (the handle and the trait impl), one module per primitive family
//! (`memory`, `elementwise`, `index`, `reduce`, `stencil`, `fft`, `nufft`, `fbp`), `program`
//! (NVRTC, module cache, launches), `kernels` (kernel signatures), `device` (library checks,
//! errors), `buffer`.

mod backend;
mod buffer;
mod device;
mod elementwise;
mod fbp;
mod fft;
mod index;
mod kernels;
mod memory;
mod nufft;
mod program;
mod reduce;
mod stencil;

pub use backend::CudaBackend;
pub use buffer::CudaBuffer;
pub use fft::CudaFftPlan;
pub use nufft::CudaNufftPoints;
pub use program::{compile as compile_kernels, source as kernel_source};
