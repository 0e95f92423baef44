//! [`CudaDriver`]: the [`Driver`] of one CUDA device — its primary context, one stream (all
//! work in order on it), byte buffers, the kernels compiled by NVRTC to a cubin for the
//! device's architecture (PTX as the fallback), and launches on grids of blocks.

use crate::device::driver;
use crate::nvrtc::{compile, Target};
use backend_core::{Error, Precision, Result};
use backend_gpu::kernels::Kernel;
use backend_gpu::{Arg, Caps, Driver, Range};
use cudarc::driver::sys::CUdevice_attribute;
use cudarc::driver::{
    CudaContext, CudaFunction, CudaModule, CudaSlice, CudaStream, LaunchConfig, PushKernelArg,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The oldest architecture CUDA 13's NVRTC targets (Turing): the PTX fallback, JIT-compiled
/// by the driver, for a device newer than this NVRTC.
const FALLBACK: Target = Target::Ptx(7, 5);

/// Threads per block when a kernel does not fix its work-group size.
const BLOCK: usize = 256;

/// One CUDA device opened for epri.
pub struct CudaDriver {
    caps: Caps,
    /// Compute capability `(major, minor)`.
    capability: (i32, i32),
    stream: Arc<CudaStream>,
    // Dropped last: every buffer and module belongs to it.
    ctx: Arc<CudaContext>,
}

/// One compiled module (one precision) and the functions loaded from it so far.
pub struct CudaProgram {
    module: Arc<CudaModule>,
    functions: Mutex<HashMap<&'static str, CudaFunction>>,
}

impl CudaDriver {
    pub(crate) fn new(ctx: Arc<CudaContext>) -> Result<Self> {
        // One stream and in-order semantics: cudarc's per-buffer event tracking is not needed.
        // SAFETY: no buffer exists yet on this context handle; all work goes to the one stream
        // below.
        unsafe { ctx.disable_event_tracking() };
        let stream = ctx.new_stream().map_err(driver)?;
        let capability = ctx.compute_capability().map_err(driver)?;
        let local = ctx
            .attribute(CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK)
            .map_err(driver)?;
        let caps = Caps {
            label: format!("cuda:{} ({})", ctx.ordinal(), ctx.name().map_err(driver)?),
            fp64: true,
            float_atomics: true,
            local_mem_bytes: local.max(0) as u64,
            global_mem_bytes: ctx.total_mem().map_err(driver)? as u64,
            group_size: BLOCK,
            cpu: false,
            // The kernels' LANE type is a vector only in OpenCL C.
            fft_lanes: 1,
        };
        Ok(CudaDriver {
            caps,
            capability,
            stream,
            ctx,
        })
    }
}

impl Driver for CudaDriver {
    type Mem = CudaSlice<u8>;
    type Program = CudaProgram;

    fn caps(&self) -> &Caps {
        &self.caps
    }

    fn alloc(&self, bytes: usize) -> Result<CudaSlice<u8>> {
        // SAFETY: the GPU layer writes every byte it later reads.
        unsafe { self.stream.alloc::<u8>(bytes.max(1)) }.map_err(driver)
    }

    fn write(&self, dst: &mut CudaSlice<u8>, src: &[u8]) -> Result<()> {
        // From pageable memory: returns once `src` has been staged.
        self.stream
            .memcpy_htod(src, &mut dst.slice_mut(..src.len()))
            .map_err(driver)
    }

    fn read(&self, src: &CudaSlice<u8>, dst: &mut [u8]) -> Result<()> {
        self.stream
            .memcpy_dtoh(&src.slice(..dst.len()), dst)
            .map_err(driver)?;
        self.synchronize()
    }

    fn copy(&self, src: &CudaSlice<u8>, dst: &mut CudaSlice<u8>, bytes: usize) -> Result<()> {
        self.stream
            .memcpy_dtod(&src.slice(..bytes), &mut dst.slice_mut(..bytes))
            .map_err(driver)
    }

    fn build(&self, prec: Precision) -> Result<CudaProgram> {
        let (major, minor) = self.capability;
        let image = match compile(prec, Target::Cubin(major, minor)) {
            // An architecture this NVRTC does not know: PTX, compiled by the driver.
            Err(Error::KernelBuild { log }) if log.contains("gpu-architecture") => {
                compile(prec, FALLBACK)?
            }
            r => r?,
        };
        let module = self
            .ctx
            .load_module(image.into_module())
            .map_err(|e| Error::KernelBuild {
                log: format!("loading the {prec} module: {e}"),
            })?;
        Ok(CudaProgram {
            module,
            functions: Mutex::new(HashMap::new()),
        })
    }

    fn launch(
        &self,
        program: &CudaProgram,
        kernel: &Kernel,
        range: Range,
        args: &[Arg<'_, CudaSlice<u8>>],
    ) -> Result<()> {
        let name = kernel.name;
        let f = {
            let mut functions = program
                .functions
                .lock()
                .map_err(|_| Error::Device("CUDA function cache poisoned".into()))?;
            match functions.get(name) {
                Some(f) => f.clone(),
                None => {
                    let f = program.module.load_function(name).map_err(|e| {
                        Error::Device(format!("kernel {name} not found in the CUDA module: {e}"))
                    })?;
                    functions.insert(name, f.clone());
                    f
                }
            }
        };
        let block = range.local.unwrap_or(self.caps.group_size);
        let grid = u32::try_from(range.global.div_ceil(block))
            .ok()
            .filter(|&g| g <= i32::MAX as u32)
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "a launch of {} work items exceeds CUDA's grid limits",
                    range.global
                ))
            })?;
        let cfg = LaunchConfig {
            grid_dim: (grid, 1, 1),
            block_dim: (block as u32, 1, 1),
            shared_mem_bytes: 0,
        };
        let mut b = self.stream.launch_builder(&f);
        for a in args {
            match a {
                Arg::Mem(m) => b.arg(*m),
                Arg::U32(v) => b.arg(v),
                Arg::I32(v) => b.arg(v),
                Arg::F32(v) => b.arg(v),
                Arg::F64(v) => b.arg(v),
                Arg::Dims(v) => b.arg(v),
                Arg::W8(v) => b.arg(v),
                Arg::W16(v) => b.arg(v),
            };
        }
        // SAFETY: the argument list matches the kernel's signature (checked against the
        // kernel table, which the tests check against NVRTC's PTX), every buffer is at least
        // as long as the index range the kernel touches (the GPU layer's shape checks), and
        // the kernels skip the work items past the global size.
        unsafe { b.launch(cfg) }.map_err(driver)?;
        Ok(())
    }

    fn synchronize(&self) -> Result<()> {
        self.stream.synchronize().map_err(driver)
    }
}
