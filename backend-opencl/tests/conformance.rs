//! The generic conformance suite on the OpenCL backend (PoCL in CI).
backend_core::conformance_suite!(opencl, || backend_opencl::OpenClBackend::new(None));
