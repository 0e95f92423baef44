//! backend-opencl
