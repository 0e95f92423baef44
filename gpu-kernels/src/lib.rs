//! gpu-kernels
