//! [`OpenClDriver`]: the [`Driver`] of one OpenCL device — its context, one in-order queue,
//! buffers of bytes, programs built from `gpu_kernels::source`, and 1D NDRange launches.

use backend_core::{Error, Precision, Result};
use backend_gpu::kernels::Kernel;
use backend_gpu::{Arg, Caps, Driver, Range};
use opencl3::command_queue::CommandQueue;
use opencl3::context::Context;
use opencl3::device::Device;
use opencl3::error_codes::ClError;
use opencl3::kernel;
use opencl3::memory::{Buffer, ClMem, CL_MEM_READ_WRITE};
use opencl3::program::Program;
use opencl3::types::CL_BLOCKING;
use std::collections::HashMap;
use std::sync::Mutex;

/// One OpenCL device opened for epri.
pub struct OpenClDriver {
    caps: Caps,
    device: Device,
    context: Context,
    queue: CommandQueue,
}

/// A built program and its kernels, created on first use with their largest work-group size
/// on the device. `Kernel` is not `Sync`: the map is behind a mutex, held from the first
/// argument to the enqueue.
pub struct ClProgram {
    program: Program,
    kernels: Mutex<HashMap<&'static str, (kernel::Kernel, usize)>>,
}

/// [`Caps::fft_lanes`] on a CPU device: lines per work group of the local-memory FFT kernels,
/// each butterfly on `float8` / `double8` vectors of that many lines (PoCL vectorises neither
/// across work items nor the `float2` arithmetic of one line).
const CPU_FFT_LANES: usize = 8;

impl OpenClDriver {
    /// Opens `device`, labelled `label` (`opencl:P:D (name)`), with `fft_lanes` in place of the
    /// device's [`Caps::fft_lanes`] if given.
    pub(crate) fn new(device: Device, label: String, fft_lanes: Option<usize>) -> Result<Self> {
        let context = Context::from_device(&device).map_err(|e| cl_error(&label, e))?;
        #[allow(deprecated)]
        let queue = CommandQueue::create_default(&context, 0).map_err(|e| cl_error(&label, e))?;
        let fp64 = device
            .extensions()
            .map(|x| x.split_whitespace().any(|e| e == "cl_khr_fp64"))
            .unwrap_or(false);
        let cpu = device
            .dev_type()
            .is_ok_and(|t| t & opencl3::device::CL_DEVICE_TYPE_CPU != 0);
        let caps = Caps {
            label,
            fp64,
            // The kernels' OpenCL spelling adds floats by compare-and-swap loops.
            float_atomics: false,
            local_mem_bytes: device.local_mem_size().unwrap_or(0),
            global_mem_bytes: device.global_mem_size().unwrap_or(0),
            group_size: device.max_work_group_size().unwrap_or(64).clamp(1, 128),
            cpu,
            fft_lanes: fft_lanes.unwrap_or(if cpu { CPU_FFT_LANES } else { 1 }),
        };
        Ok(OpenClDriver {
            caps,
            device,
            context,
            queue,
        })
    }
}

impl Driver for OpenClDriver {
    type Mem = Buffer<u8>;
    type Program = ClProgram;

    fn caps(&self) -> &Caps {
        &self.caps
    }

    fn alloc(&self, bytes: usize) -> Result<Buffer<u8>> {
        // SAFETY: no host pointer; the size is checked by OpenCL.
        unsafe {
            Buffer::<u8>::create(
                &self.context,
                CL_MEM_READ_WRITE,
                bytes.max(1),
                std::ptr::null_mut(),
            )
        }
        .map_err(|e| cl_error(&format!("allocating {bytes} bytes"), e))
    }

    fn write(&self, dst: &mut Buffer<u8>, src: &[u8]) -> Result<()> {
        // SAFETY: the buffer holds at least src.len() bytes; the write is blocking.
        unsafe {
            self.queue
                .enqueue_write_buffer(dst, CL_BLOCKING, 0, src, &[])
        }
        .map_err(|e| cl_error("upload", e))?;
        Ok(())
    }

    fn read(&self, src: &Buffer<u8>, dst: &mut [u8]) -> Result<()> {
        // SAFETY: the buffer holds at least dst.len() bytes; the read is blocking and, on the
        // in-order queue, follows every queued kernel.
        unsafe {
            self.queue
                .enqueue_read_buffer(src, CL_BLOCKING, 0, dst, &[])
        }
        .map_err(|e| cl_error("download", e))?;
        Ok(())
    }

    fn copy(&self, src: &Buffer<u8>, dst: &mut Buffer<u8>, bytes: usize) -> Result<()> {
        // SAFETY: both buffers hold at least `bytes` bytes (checked by the callers).
        unsafe { self.queue.enqueue_copy_buffer(src, dst, 0, 0, bytes, &[]) }
            .map_err(|e| cl_error("buffer copy", e))?;
        Ok(())
    }

    fn build(&self, prec: Precision) -> Result<ClProgram> {
        let double = prec == Precision::F64;
        let src = gpu_kernels::source(gpu_kernels::Dialect::OpenCl, double, self.caps.fft_lanes);
        let program = Program::create_and_build_from_source(&self.context, &src, "")
            .map_err(|log| Error::KernelBuild { log })?;
        Ok(ClProgram {
            program,
            kernels: Mutex::new(HashMap::new()),
        })
    }

    fn launch(
        &self,
        program: &ClProgram,
        kernel: &Kernel,
        range: Range,
        args: &[Arg<'_, Buffer<u8>>],
    ) -> Result<()> {
        let name = kernel.name;
        let mut kernels = program
            .kernels
            .lock()
            .map_err(|_| Error::Device("OpenCL kernel cache poisoned".into()))?;
        if !kernels.contains_key(name) {
            let k =
                kernel::Kernel::create(&program.program, name).map_err(|e| cl_error(name, e))?;
            let max = k
                .get_work_group_size(self.device.id())
                .map_err(|e| cl_error(name, e))?;
            kernels.insert(name, (k, max.max(1)));
        }
        let (k, max) = &kernels[name];
        let local = match range.local {
            Some(l) if l > *max => {
                return Err(Error::Device(format!(
                    "kernel {name} needs work groups of {l} items, the device allows {max}"
                )))
            }
            Some(l) => l,
            None => self.caps.group_size.min(*max),
        };
        for (i, a) in args.iter().enumerate() {
            let i = i as u32;
            // SAFETY: each value has the size and layout of the kernel parameter (checked
            // against the kernel table): cl_mem handles of live buffers, 4/8-byte scalars,
            // DIMS (8 ints), uint2 / uint4.
            let r = unsafe {
                match a {
                    Arg::Mem(m) => k.set_arg(i, &m.get()),
                    Arg::U32(v) => k.set_arg(i, v),
                    Arg::I32(v) => k.set_arg(i, v),
                    Arg::F32(v) => k.set_arg(i, v),
                    Arg::F64(v) => k.set_arg(i, v),
                    Arg::Dims(v) => k.set_arg(i, v),
                    Arg::W8(v) => k.set_arg(i, v),
                    Arg::W16(v) => k.set_arg(i, v),
                }
            };
            r.map_err(|e| cl_error(&format!("{name} argument {i}"), e))?;
        }
        let global = range.global.div_ceil(local) * local;
        // SAFETY: all arguments are set; the sizes are valid pointers for a 1D launch.
        unsafe {
            self.queue
                .enqueue_nd_range_kernel(k.get(), 1, std::ptr::null(), &global, &local, &[])
        }
        .map_err(|e| cl_error(name, e))?;
        Ok(())
    }

    fn synchronize(&self) -> Result<()> {
        self.queue.finish().map_err(|e| cl_error("synchronize", e))
    }
}

/// Maps an OpenCL error code: allocation failures to [`Error::OutOfMemory`], a missing
/// loader / platform to [`Error::DeviceUnavailable`], the rest to [`Error::Device`].
pub(crate) fn cl_error(what: &str, e: ClError) -> Error {
    match e.0 {
        // MEM_OBJECT_ALLOCATION_FAILURE, OUT_OF_RESOURCES, OUT_OF_HOST_MEMORY, INVALID_BUFFER_SIZE
        -4 | -5 | -6 | -61 => Error::OutOfMemory(format!("{what}: {e}")),
        -2000 | -1001 => Error::DeviceUnavailable(format!("{what}: {e}")),
        _ => Error::Device(format!("{what}: {e}")),
    }
}
