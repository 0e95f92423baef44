//! The generic conformance suite on CUDA device 0; every test prints
//! "skipped: cuda backend unavailable: <why>" on a machine without the CUDA libraries or a GPU.

backend_core::conformance_suite!(cuda, || backend_cuda::CudaBackend::new(0));
