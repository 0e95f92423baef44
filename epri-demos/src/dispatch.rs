//! Choosing the backend and the precision at run time, once per command.
//!
//! [`Device`] is an enum of the backends compiled into this build (the CPU always, OpenCL with
//! the `opencl` feature, CUDA with `cuda`). A command is a [`Job`]: one generic function over
//! the backend type and the real type, monomorphised for each pair and called through one
//! `match` in [`Device::run`], outside every loop (no `dyn` in the hot paths).

use crate::error::Result;
use backend_core::{Backend, DeviceSpec, Precision, Real};
use backend_cpu::CpuBackend;

/// A command body, generic over the backend `B` and the precision `T`.
pub trait Job {
    /// What the command produces.
    type Output;
    /// Runs the command on `backend` in precision `T`.
    fn run<B: Backend, T: Real>(self, backend: &B) -> Result<Self::Output>;
}

/// An opened backend of this build.
#[derive(Clone)]
pub enum Device {
    /// The CPU (ndarray + rayon + rustfft).
    Cpu(CpuBackend),
    /// An OpenCL device.
    #[cfg(feature = "opencl")]
    OpenCl(backend_opencl::OpenClBackend),
    /// A CUDA device.
    #[cfg(feature = "cuda")]
    Cuda(backend_cuda::CudaBackend),
}

impl Device {
    /// Opens the backend named by `spec`; a backend this build lacks is an error that names
    /// the Cargo feature to enable.
    pub fn open(spec: DeviceSpec) -> Result<Self> {
        match spec {
            DeviceSpec::Cpu => Ok(Device::Cpu(CpuBackend::new()?)),
            #[cfg(feature = "opencl")]
            DeviceSpec::OpenCl { index } => {
                Ok(Device::OpenCl(backend_opencl::OpenClBackend::new(index)?))
            }
            #[cfg(feature = "cuda")]
            DeviceSpec::Cuda { ordinal } => {
                Ok(Device::Cuda(backend_cuda::CudaBackend::new(ordinal)?))
            }
            #[allow(unreachable_patterns)]
            other => Err(other.not_compiled().into()),
        }
    }

    /// The device's name, e.g. `cpu (2 threads)`.
    pub fn name(&self) -> String {
        match self {
            Device::Cpu(b) => b.name(),
            #[cfg(feature = "opencl")]
            Device::OpenCl(b) => b.name(),
            #[cfg(feature = "cuda")]
            Device::Cuda(b) => b.name(),
        }
    }

    /// Bytes of device memory of a GPU; `None` for the CPU (its limit is the host's available
    /// memory).
    pub fn memory_capacity(&self) -> Option<u64> {
        match self {
            Device::Cpu(b) => b.memory_capacity(),
            #[cfg(feature = "opencl")]
            Device::OpenCl(b) => b.memory_capacity(),
            #[cfg(feature = "cuda")]
            Device::Cuda(b) => b.memory_capacity(),
        }
    }

    /// Runs `job` on this device in `precision` (`f64` only where the device supports it).
    pub fn run<J: Job>(&self, precision: Precision, job: J) -> Result<J::Output> {
        match self {
            Device::Cpu(b) => run_in(b, precision, job),
            #[cfg(feature = "opencl")]
            Device::OpenCl(b) => run_in(b, precision, job),
            #[cfg(feature = "cuda")]
            Device::Cuda(b) => run_in(b, precision, job),
        }
    }
}

fn run_in<B: Backend, J: Job>(backend: &B, precision: Precision, job: J) -> Result<J::Output> {
    match precision {
        Precision::F32 => job.run::<B, f32>(backend),
        Precision::F64 if !backend.supports_f64() => {
            Err(backend_core::Error::precision_unsupported(&backend.name(), precision).into())
        }
        Precision::F64 => job.run::<B, f64>(backend),
    }
}

/// One line per kind of backend for `epri devices`: what was found, or why nothing was.
pub fn describe_devices() -> Vec<(String, std::result::Result<Vec<String>, String>)> {
    let cpu = CpuBackend::new()
        .map(|b| vec![b.name()])
        .map_err(|e| e.to_string());
    #[cfg(feature = "opencl")]
    let opencl = backend_opencl::OpenClBackend::list_devices().map_err(|e| e.to_string());
    #[cfg(not(feature = "opencl"))]
    let opencl = Err(not_compiled("opencl"));
    #[cfg(feature = "cuda")]
    let cuda = backend_cuda::CudaBackend::list_devices().map_err(|e| e.to_string());
    #[cfg(not(feature = "cuda"))]
    let cuda = Err(not_compiled("cuda"));
    vec![
        ("CPU".to_string(), cpu),
        ("OpenCL".to_string(), opencl),
        ("CUDA".to_string(), cuda),
    ]
}

#[cfg(any(not(feature = "opencl"), not(feature = "cuda")))]
fn not_compiled(feature: &str) -> String {
    format!("not compiled into this build (rebuild with `--features {feature}`)")
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Sum(Vec<f64>);
    impl Job for Sum {
        type Output = (f64, Precision);
        fn run<B: Backend, T: Real>(self, backend: &B) -> Result<Self::Output> {
            let v: Vec<T> = self.0.iter().map(|&x| T::of(x)).collect();
            let buf = backend.upload_flat(&[v.len()], v)?;
            let s = backend.reduce(backend_core::Reduce::Sum, &buf)?;
            Ok((s.f64(), T::PRECISION))
        }
    }

    #[test]
    fn runs_a_job_in_the_requested_precision() {
        let dev = Device::open(DeviceSpec::Cpu).unwrap();
        for p in [Precision::F32, Precision::F64] {
            let (s, q) = dev.run(p, Sum(vec![1.0, 2.5, 3.0])).unwrap();
            assert_eq!((s, q), (6.5, p));
        }
    }

    #[test]
    fn backends_not_compiled_name_their_feature() {
        #[cfg(not(feature = "cuda"))]
        {
            let e = Device::open(DeviceSpec::Cuda { ordinal: 0 }).err().unwrap();
            assert!(e.to_string().contains("--features cuda"), "{e}");
        }
        #[cfg(not(feature = "opencl"))]
        {
            let e = Device::open(DeviceSpec::OpenCl { index: None })
                .err()
                .unwrap();
            assert!(e.to_string().contains("--features opencl"), "{e}");
        }
    }
}
