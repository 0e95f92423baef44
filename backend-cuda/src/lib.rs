//! # backend-cuda
//!
//! epri's CUDA backend: [`CudaBackend`] is the shared GPU host layer (`backend-gpu`) over
//! [`CudaDriver`] (cudarc: driver API and NVRTC), running the kernel sources of `gpu-kernels`
//! (the same files the OpenCL backend runs), compiled by NVRTC once per context and precision
//! to a cubin for the device's own architecture (PTX for the oldest supported one as the
//! fallback). FFTs are the GPU layer's Stockham FFT; the NUFFT spreads by atomic adds.
//!
//! The CUDA libraries are loaded at run time: a machine without the NVIDIA driver or NVRTC
//! gets [`backend_core::Error::DeviceUnavailable`] from `CudaBackend::new`, never a panic.
//! The build selects CUDA 13 bindings (`libnvrtc.so.13`).
//!
//! Checked without a GPU, wherever `libnvrtc.so.13` loads (the `nvidia-cuda-nvrtc` wheel's
//! `lib` folder on `LD_LIBRARY_PATH`, as in CI): the compilation of the shared sources through
//! [`nvrtc::compile`], the path the driver builds its programs with, and the kernel signatures
//! against the host's kernel table.

mod device;
mod driver;
pub mod nvrtc;

pub use driver::{CudaDriver, CudaProgram};

/// The CUDA backend: `CudaBackend::new(ordinal)`, `CudaBackend::list_devices()`.
pub type CudaBackend = backend_gpu::GpuBackend<CudaDriver>;
