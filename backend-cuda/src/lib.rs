//! # backend-cuda
//!
//! epri's CUDA backend: [`CudaBackend`] implements [`backend_core::Backend`] with cudarc
//! (driver API, NVRTC, cuFFT), running the kernel sources of `gpu-kernels` (the same files the
//! OpenCL backend runs, compiled by NVRTC once per context and precision).
//!
//! The CUDA libraries are loaded at run time: a machine without the NVIDIA driver, NVRTC or
//! cuFFT gets [`backend_core::Error::DeviceUnavailable`] from [`CudaBackend::new`], never a
//! panic. The build selects CUDA 13 bindings (`libnvrtc.so.13`, `libcufft.so.12`).

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
