//! The compiled kernel program of one precision and the launch helper.

use crate::device::cl_error;
use backend_core::{Error, Result};
use opencl3::command_queue::CommandQueue;
use opencl3::context::Context;
use opencl3::device::Device;
use opencl3::kernel::Kernel;
use opencl3::memory::cl_mem;
use opencl3::program::Program;
use std::collections::HashMap;
use std::sync::Mutex;

/// Largest rank of a `DIMS` kernel argument.
pub(crate) const MAX_RANK: usize = gpu_kernels::MAX_RANK;

/// One kernel argument, in the order the kernel file documents.
pub(crate) enum Arg {
    /// A buffer.
    Mem(cl_mem),
    U32(u32),
    I32(i32),
    F32(f32),
    F64(f64),
    /// A `DIMS` struct (`int d[MAX_RANK]`).
    Dims([i32; MAX_RANK]),
    /// A `uint2` word.
    W8([u32; 2]),
    /// A `uint4` word.
    W16([u32; 4]),
}

impl Arg {
    /// A `REAL` scalar of the program's precision.
    pub fn real(double: bool, v: f64) -> Arg {
        if double {
            Arg::F64(v)
        } else {
            Arg::F32(v as f32)
        }
    }
}

/// A built program and its kernels, created on first use with their largest work-group size on
/// the device. `Kernel` is not `Sync`: the map is behind a mutex, held from the first argument
/// to the enqueue.
pub(crate) struct Programs {
    program: Program,
    device: Device,
    kernels: Mutex<HashMap<&'static str, (Kernel, usize)>>,
}

impl Programs {
    /// Builds `gpu_kernels::source` for OpenCL; the error is the compiler log.
    pub fn build(
        context: &Context,
        device: Device,
        double: bool,
    ) -> std::result::Result<Self, String> {
        let src = gpu_kernels::source(gpu_kernels::Dialect::OpenCl, double);
        let program = Program::create_and_build_from_source(context, &src, "")?;
        Ok(Programs {
            program,
            device,
            kernels: Mutex::new(HashMap::new()),
        })
    }

    /// Enqueues kernel `name` on `global` work items (rounded up to a multiple of the
    /// work-group size). The work-group size is `local`, lowered to what the kernel allows on
    /// the device unless `exact` (then a kernel that cannot run `local` items is an error).
    pub fn launch(
        &self,
        queue: &CommandQueue,
        name: &'static str,
        global: usize,
        local: usize,
        exact: bool,
        args: &[Arg],
    ) -> Result<()> {
        if global == 0 {
            return Ok(());
        }
        let mut kernels = self
            .kernels
            .lock()
            .map_err(|_| Error::Device("OpenCL kernel cache poisoned".into()))?;
        if !kernels.contains_key(name) {
            let k = Kernel::create(&self.program, name).map_err(|e| cl_error(name, e))?;
            let max = k
                .get_work_group_size(self.device.id())
                .map_err(|e| cl_error(name, e))?;
            kernels.insert(name, (k, max.max(1)));
        }
        let (k, max) = &kernels[name];
        let local = if local <= *max {
            local
        } else if exact {
            return Err(Error::Device(format!(
                "kernel {name} needs work groups of {local} items, the device allows {max}"
            )));
        } else {
            *max
        };
        for (i, a) in args.iter().enumerate() {
            let i = i as u32;
            // SAFETY: each value has the size and layout of the kernel parameter documented
            // in the kernel file (cl_mem handles of live buffers, 4/8-byte scalars, DIMS).
            let r = unsafe {
                match a {
                    Arg::Mem(m) => k.set_arg(i, m),
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
        let g = global.div_ceil(local) * local;
        // SAFETY: all arguments are set; sizes are valid pointers for a 1D launch.
        unsafe { queue.enqueue_nd_range_kernel(k.get(), 1, std::ptr::null(), &g, &local, &[]) }
            .map_err(|e| cl_error(name, e))?;
        Ok(())
    }
}
