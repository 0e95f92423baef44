//! The [`Driver`] trait: what a GPU API (OpenCL, CUDA) must provide under [`crate::GpuBackend`]
//! — memory, host/device copies, a program built from the shared kernel sources, 1D kernel
//! launches with typed arguments, synchronisation and the device's capabilities.

use crate::kernels::Kernel;
use backend_core::{Precision, Result};

/// Largest rank of a `DIMS` kernel argument (the prelude's `EPRI_MAX_RANK`).
pub const MAX_RANK: usize = gpu_kernels::MAX_RANK;
const _: () = assert!(MAX_RANK == backend_core::check::MAX_RANK);

/// What the device can do, read once when it is opened.
#[derive(Clone, Debug)]
pub struct Caps {
    /// `opencl:P:D (name)`, `cuda:N (name)`.
    pub label: String,
    /// The device computes in `f64`.
    pub fp64: bool,
    /// Native atomic add on `float`/`double` in global memory (CUDA); without it the kernels
    /// emulate it by compare-and-swap loops, and the NUFFT spreads by tiles instead.
    pub float_atomics: bool,
    /// Local (shared) memory per work group, bytes.
    pub local_mem_bytes: u64,
    /// Global memory, bytes.
    pub global_mem_bytes: u64,
    /// Work-group (block) size of launches that do not fix theirs.
    pub group_size: usize,
    /// The device is a CPU (an OpenCL CPU driver such as PoCL, which runs the items of a work
    /// group as a loop on one thread): some kernels take other work-group sizes there.
    pub cpu: bool,
    /// Lines per work group of the local-memory FFT kernels (`EPRI_FFT_LANES` in the programs
    /// this device builds): 1, or on an OpenCL CPU device a vector width (8), so that each
    /// butterfly runs on that many lines in vector registers.
    pub fft_lanes: usize,
}

/// One kernel argument, in the order the kernel file documents; `M` is the driver's memory.
pub enum Arg<'a, M> {
    /// A buffer (read or written by the kernel).
    Mem(&'a M),
    /// `uint`.
    U32(u32),
    /// `int`.
    I32(i32),
    /// `REAL` of the f32 program.
    F32(f32),
    /// `REAL` of the f64 program.
    F64(f64),
    /// A `DIMS` struct (`int d[MAX_RANK]`).
    Dims([i32; MAX_RANK]),
    /// A `uint2` word.
    W8([u32; 2]),
    /// A `uint4` word.
    W16([u32; 4]),
}

/// Launch geometry (the kernels are 1D): `global` work items, in groups of exactly `local`
/// items when the kernel requires it (local memory, reductions), else of the driver's choice.
/// Drivers round `global` up to a whole number of groups; kernels skip the items past their
/// element count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    /// Work items (0: nothing is launched).
    pub global: usize,
    /// Work-group size the kernel requires, if any.
    pub local: Option<usize>,
}

impl Range {
    /// `n` work items, group size chosen by the driver.
    pub fn items(n: usize) -> Self {
        Range {
            global: n,
            local: None,
        }
    }

    /// `groups` groups of exactly `local` items.
    pub fn groups(groups: usize, local: usize) -> Self {
        Range {
            global: groups * local,
            local: Some(local),
        }
    }
}

/// A GPU API under [`crate::GpuBackend`]. Every call is enqueued on one in-order queue
/// (stream); only [`Driver::read`] and [`Driver::synchronize`] wait for it.
pub trait Driver: Send + Sync + 'static {
    /// Device memory of at least one byte.
    type Mem: Send + Sync;
    /// The kernel sources of one precision, built for the device.
    type Program: Send + Sync;

    /// The device's capabilities.
    fn caps(&self) -> &Caps;
    /// Uninitialised device memory of `bytes.max(1)` bytes; allocation failures are
    /// [`backend_core::Error::OutOfMemory`].
    fn alloc(&self, bytes: usize) -> Result<Self::Mem>;
    /// Copies `src` to the first `src.len()` bytes of `dst`; returns once `src` may be reused.
    fn write(&self, dst: &mut Self::Mem, src: &[u8]) -> Result<()>;
    /// Waits for the queued work, then copies the first `dst.len()` bytes of `src` to `dst`.
    fn read(&self, src: &Self::Mem, dst: &mut [u8]) -> Result<()>;
    /// Enqueues `dst[..bytes] <- src[..bytes]` (`bytes > 0`, distinct allocations).
    fn copy(&self, src: &Self::Mem, dst: &mut Self::Mem, bytes: usize) -> Result<()>;
    /// Builds `gpu_kernels::source` for precision `prec` and [`Caps::fft_lanes`]; a compiler
    /// failure is [`backend_core::Error::KernelBuild`] with the log.
    fn build(&self, prec: Precision) -> Result<Self::Program>;
    /// Enqueues `kernel` of `program` over `range` (`range.global > 0`) with `args`, which the
    /// caller has checked against the kernel's parameter list.
    fn launch(
        &self,
        program: &Self::Program,
        kernel: &Kernel,
        range: Range,
        args: &[Arg<'_, Self::Mem>],
    ) -> Result<()>;
    /// Waits until every queued operation has finished.
    fn synchronize(&self) -> Result<()>;
}

impl<M> Arg<'_, M> {
    /// A `uint` size or count, or an error past 2^32 − 1 (the kernels index with 32 bits).
    pub fn size(n: usize) -> Result<Self> {
        u32::try_from(n).map(Arg::U32).map_err(|_| {
            backend_core::Error::InvalidArgument(format!(
                "{n} elements: the GPU kernels index with 32-bit integers"
            ))
        })
    }

    /// A `REAL` scalar of the program of precision `p`.
    pub fn real_in(p: Precision, v: f64) -> Self {
        match p {
            Precision::F32 => Arg::F32(v as f32),
            Precision::F64 => Arg::F64(v),
        }
    }

    /// A `REAL` scalar of the program of `T`.
    pub fn real<T: backend_core::Real>(v: T) -> Self {
        Self::real_in(T::PRECISION, v.f64())
    }

    /// A `DIMS` of `values` (at most [`MAX_RANK`], each fitting an `int`), unused entries
    /// `fill`.
    pub fn dims(op: &str, values: &[usize], fill: i32) -> Result<Self> {
        Ok(Arg::Dims(dims(op, values, fill)?))
    }
}

/// `values` as the entries of a `DIMS`, unused entries `fill`.
pub(crate) fn dims(op: &str, values: &[usize], fill: i32) -> Result<[i32; MAX_RANK]> {
    if values.len() > MAX_RANK {
        return Err(backend_core::Error::InvalidArgument(format!(
            "{op}: {} axes, above the kernels' limit {MAX_RANK}",
            values.len()
        )));
    }
    let mut d = [fill; MAX_RANK];
    for (o, &v) in d.iter_mut().zip(values) {
        *o = i32::try_from(v).map_err(|_| {
            backend_core::Error::InvalidArgument(format!(
                "{op}: {v} exceeds the kernels' int range"
            ))
        })?;
    }
    Ok(d)
}

/// A driver that finds its own devices, so that `GpuBackend::<D>::new(spec)` opens one.
pub trait Discover: Driver + Sized {
    /// How a device is named: `Option<(platform, device)>` for OpenCL, an ordinal for CUDA.
    type Spec;
    /// Opens device `spec`, or shares the handle of the process that opened it already. No
    /// library, driver or device is [`backend_core::Error::DeviceUnavailable`].
    fn open(spec: Self::Spec) -> Result<crate::GpuBackend<Self>>;
    /// One line per device of this API.
    fn list_devices() -> Result<Vec<String>>;
}
