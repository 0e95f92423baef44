//! The shared kernel sources compiled by NVRTC, once per context and precision, with their
//! functions cached by name; and the launch helper that maps OpenCL's NDRange onto a CUDA grid.

use crate::device::driver;
use crate::kernels::{ptx_signatures, Kernel, Param};
use backend_core::{Error, Precision, Real, Result};
use cudarc::driver::{
    CudaContext, CudaFunction, CudaModule, CudaSlice, CudaStream, DeviceRepr, LaunchConfig,
    PushKernelArg,
};
use cudarc::nvrtc::{compile_ptx_with_opts, CompileError, CompileOptions, Ptx};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The oldest virtual architecture CUDA 13's NVRTC accepts (Turing).
const FALLBACK_ARCH: &str = "compute_75";

/// One compiled module (one precision) and the functions loaded from it so far.
struct Program {
    module: Arc<CudaModule>,
    /// The parameter kinds of every entry point, read from the PTX.
    signatures: HashMap<String, Vec<Option<Param>>>,
    functions: Mutex<HashMap<&'static str, CudaFunction>>,
}

/// The programs of one context, built on first use.
pub(crate) struct Programs {
    ctx: Arc<CudaContext>,
    arch: String,
    built: Mutex<HashMap<Precision, Arc<Program>>>,
}

impl Programs {
    pub(crate) fn new(ctx: Arc<CudaContext>) -> Result<Self> {
        let (major, minor) = ctx.compute_capability().map_err(driver)?;
        Ok(Programs {
            ctx,
            arch: format!("compute_{major}{minor}"),
            built: Mutex::new(HashMap::new()),
        })
    }

    /// The entry point of `kernel` in the `prec` program (compiled and loaded on first use);
    /// fails if the compiled kernel's parameters differ from the backend's table.
    pub(crate) fn function(&self, prec: Precision, kernel: &Kernel) -> Result<CudaFunction> {
        let name = kernel.name;
        let program = self.program(prec)?;
        let mut functions = program.functions.lock().map_err(poisoned)?;
        if let Some(f) = functions.get(name) {
            return Ok(f.clone());
        }
        let want: Vec<Option<Param>> = kernel.params.iter().map(|&p| Some(p)).collect();
        if program.signatures.get(name) != Some(&want) {
            return Err(Error::Device(format!(
                "kernel {name} ({prec}) takes {:?} in the compiled sources, the CUDA backend \
                 passes {:?}",
                program.signatures.get(name),
                kernel.params
            )));
        }
        let f = program.module.load_function(name).map_err(|e| {
            Error::Device(format!(
                "kernel {name} ({prec}) not found in the CUDA module: {e}"
            ))
        })?;
        functions.insert(name, f.clone());
        Ok(f)
    }

    fn program(&self, prec: Precision) -> Result<Arc<Program>> {
        let mut built = self.built.lock().map_err(poisoned)?;
        if let Some(p) = built.get(&prec) {
            return Ok(p.clone());
        }
        // A device newer than this NVRTC knows runs the PTX of the oldest architecture CUDA 13
        // supports, JIT-compiled by the driver.
        let ptx = match compile_cached(prec, &self.arch) {
            Err(Error::KernelBuild { log }) if log.contains("gpu-architecture") => {
                compile_cached(prec, FALLBACK_ARCH)?
            }
            r => r?,
        };
        let signatures = ptx_signatures(&ptx.to_src(), prec);
        let module = self.ctx.load_module(ptx).map_err(|e| Error::KernelBuild {
            log: format!("loading the {prec} PTX module: {e}"),
        })?;
        let p = Arc::new(Program {
            module,
            signatures,
            functions: Mutex::new(HashMap::new()),
        });
        built.insert(prec, p.clone());
        Ok(p)
    }
}

/// The CUDA source of the kernels for one precision.
pub fn source(prec: Precision) -> String {
    gpu_kernels::source(gpu_kernels::Dialect::Cuda, prec == Precision::F64)
}

/// Compiles the kernels of one precision to PTX for a virtual architecture such as
/// `compute_90` (NVRTC's `--gpu-architecture`); needs only `libnvrtc`, no GPU. A failure carries
/// NVRTC's log.
pub fn compile(prec: Precision, arch: &str) -> Result<Ptx> {
    crate::device::nvrtc_present()?;
    let opts = CompileOptions {
        options: vec![format!("--gpu-architecture={arch}")],
        ..Default::default()
    };
    compile_ptx_with_opts(source(prec), opts).map_err(|e| Error::KernelBuild {
        log: match e {
            CompileError::CompileError { log, .. } => {
                format!("NVRTC ({prec}):\n{}", log.to_string_lossy())
            }
            other => format!("NVRTC ({prec}): {other:?}"),
        },
    })
}

/// [`compile`], once per process for each precision and architecture (every backend handle of
/// a process, the parallel tests' say, shares the PTX; the driver caches its own JIT output).
fn compile_cached(prec: Precision, arch: &str) -> Result<Ptx> {
    static CACHE: OnceLock<Mutex<HashMap<(Precision, String), Ptx>>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .map_err(poisoned)?;
    let key = (prec, arch.to_string());
    if let Some(p) = cache.get(&key) {
        return Ok(p.clone());
    }
    let p = compile(prec, arch)?;
    cache.insert(key, p.clone());
    Ok(p)
}

fn poisoned<G>(_: std::sync::PoisonError<G>) -> Error {
    Error::Device("a CUDA kernel cache lock was poisoned by a panic in another thread".into())
}

/// A kernel argument: a device pointer or a scalar, passed by value.
pub(crate) enum Arg<'a> {
    /// Device memory (read or written by the kernel).
    Mem(&'a CudaSlice<u8>),
    I32(i32),
    U32(u32),
    F32(f32),
    F64(f64),
    /// An 8- or 16-byte word (the `uint2`, `uint4` of the index kernels).
    W8(Words<2>),
    W16(Words<4>),
    /// A shape, offsets or axis list (the prelude's `DIMS`), unused entries as given.
    Dims(Dims),
}

/// The prelude's `DIMS` struct: `int d[EPRI_MAX_RANK]`, passed by value.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Dims(pub(crate) [i32; MAX_RANK]);

/// `uint2` / `uint4`: an element's bytes as 32-bit words.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct Words<const K: usize>(pub(crate) [u32; K]);

// SAFETY: plain arrays of u32, the layout of CUDA's uint2 / uint4.
unsafe impl<const K: usize> DeviceRepr for Words<K> {}

/// `EPRI_MAX_RANK` of the prelude.
pub(crate) const MAX_RANK: usize = gpu_kernels::MAX_RANK;

// SAFETY: a plain C struct of 8 ints, the layout of the prelude's DIMS.
unsafe impl DeviceRepr for Dims {}

impl Dims {
    /// `values` followed by `fill` up to the maximal rank; values must fit an `int`.
    pub(crate) fn new(values: &[usize], fill: i32) -> Result<Self> {
        if values.len() > MAX_RANK {
            return Err(Error::InvalidArgument(format!(
                "arrays of rank {} (the device kernels handle up to {MAX_RANK} axes)",
                values.len()
            )));
        }
        let mut d = [fill; MAX_RANK];
        for (o, &v) in d.iter_mut().zip(values) {
            *o = i32::try_from(v).map_err(|_| {
                Error::InvalidArgument(format!("size {v} exceeds the kernels' int range"))
            })?;
        }
        Ok(Dims(d))
    }

    /// Signed values (shifts) followed by zeros.
    pub(crate) fn signed(values: &[isize]) -> Result<Self> {
        if values.len() > MAX_RANK {
            return Err(Error::InvalidArgument(format!(
                "arrays of rank {} (the device kernels handle up to {MAX_RANK} axes)",
                values.len()
            )));
        }
        let mut d = [0; MAX_RANK];
        for (o, &v) in d.iter_mut().zip(values) {
            *o = i32::try_from(v).map_err(|_| {
                Error::InvalidArgument(format!("value {v} exceeds the kernels' int range"))
            })?;
        }
        Ok(Dims(d))
    }
}

impl Arg<'_> {
    /// A real scalar in the kernel's precision.
    pub(crate) fn real<T: Real>(x: T) -> Self {
        Self::real_in(T::PRECISION, x.f64())
    }

    /// A real scalar `REAL` of the program of precision `p`.
    pub(crate) fn real_in(p: Precision, x: f64) -> Self {
        match p {
            Precision::F32 => Arg::F32(x as f32),
            Precision::F64 => Arg::F64(x),
        }
    }

    /// A `uint` size or count, checked.
    pub(crate) fn size(n: usize) -> Result<Self> {
        u32::try_from(n).map(Arg::U32).map_err(|_| {
            Error::InvalidArgument(format!("size {n} exceeds the kernels' uint range"))
        })
    }
}

/// Launch geometry, OpenCL style (the kernels are 1D): the number of work items and an
/// optional work-group size, which the kernels that use local memory require.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Range {
    pub(crate) global: usize,
    pub(crate) local: Option<usize>,
}

/// Threads per block when a kernel does not fix its work-group size.
const DEFAULT_BLOCK: usize = 256;

impl Range {
    /// `n` work items, work-group size chosen by the backend.
    pub(crate) fn items(n: usize) -> Self {
        Range {
            global: n,
            local: None,
        }
    }

    /// `groups` work groups of `local` items each.
    pub(crate) fn groups(groups: usize, local: usize) -> Self {
        Range {
            global: groups * local,
            local: Some(local),
        }
    }

    /// CUDA's grid of blocks covering the range (the global size rounded up to the block size:
    /// the kernels discard the items past their element count, as under OpenCL).
    fn config(&self) -> Result<LaunchConfig> {
        let block = self.local.unwrap_or(DEFAULT_BLOCK);
        let blocks = self.global.div_ceil(block);
        let grid = u32::try_from(blocks)
            .ok()
            .filter(|&g| g <= i32::MAX as u32)
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "a launch of {} work items exceeds CUDA's grid limits",
                    self.global
                ))
            })?;
        Ok(LaunchConfig {
            grid_dim: (grid, 1, 1),
            block_dim: (block as u32, 1, 1),
            shared_mem_bytes: 0,
        })
    }
}

impl Arg<'_> {
    /// The parameter kind this argument fills, and for a real scalar its precision.
    fn kind(&self) -> (Param, Option<Precision>) {
        match self {
            Arg::Mem(_) => (Param::Ptr, None),
            Arg::I32(_) | Arg::U32(_) => (Param::Int, None),
            Arg::F32(_) => (Param::Real, Some(Precision::F32)),
            Arg::F64(_) => (Param::Real, Some(Precision::F64)),
            Arg::W8(_) => (Param::Word8, None),
            Arg::W16(_) => (Param::Word16, None),
            Arg::Dims(_) => (Param::Dims, None),
        }
    }
}

/// Fails unless `args` fill `kernel`'s parameters (reals in the program's precision `prec`).
fn check_args(kernel: &Kernel, prec: Precision, args: &[Arg<'_>]) -> Result<()> {
    let fits = args.len() == kernel.params.len()
        && args.iter().zip(kernel.params).all(|(a, &p)| {
            let (kind, real) = a.kind();
            kind == p && real.is_none_or(|r| r == prec)
        });
    if fits {
        Ok(())
    } else {
        let got: Vec<_> = args.iter().map(|a| a.kind()).collect();
        Err(Error::Device(format!(
            "host arguments {got:?} do not fit kernel {} ({prec}) parameters {:?}",
            kernel.name, kernel.params
        )))
    }
}

/// Enqueues `func` (the entry point of `kernel` in the `prec` program) on `stream` with `args`
/// over `range`.
pub(crate) fn launch(
    stream: &CudaStream,
    func: &CudaFunction,
    kernel: &Kernel,
    prec: Precision,
    range: Range,
    args: &[Arg<'_>],
) -> Result<()> {
    check_args(kernel, prec, args)?;
    if range.global == 0 {
        return Ok(());
    }
    let cfg = range.config()?;
    let mut b = stream.launch_builder(func);
    for a in args {
        match a {
            Arg::Mem(m) => b.arg(*m),
            Arg::I32(v) => b.arg(v),
            Arg::U32(v) => b.arg(v),
            Arg::F32(v) => b.arg(v),
            Arg::F64(v) => b.arg(v),
            Arg::W8(v) => b.arg(v),
            Arg::W16(v) => b.arg(v),
            Arg::Dims(v) => b.arg(v),
        };
    }
    // SAFETY: the argument list matches the kernel's signature (checked above against the
    // table, which a test checks against NVRTC's PTX), every buffer is at least as long
    // as the index range the kernel touches (checked by the callers' shape tests), and the
    // kernels guard against the work items past the global size.
    unsafe { b.launch(cfg) }.map_err(driver)?;
    Ok(())
}
