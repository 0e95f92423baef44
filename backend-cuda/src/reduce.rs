//! Reductions to one host number (reduce.cl): partial results per work group on the device,
//! combined on the host in `f64`.

use crate::backend::{check_len, CudaBackend};
use crate::buffer::{bytes_mut, CudaBuffer};
use crate::device::driver;
use crate::kernels;
use crate::program::{Arg, Range};
use backend_core::{Backend, DeviceBuffer, Real, Reduce, Result};

/// Work-group size of `reduce_partial` (`EPRI_REDUCE_WG` in reduce.cl).
const REDUCE_WG: usize = gpu_kernels::REDUCE_GROUP_SIZE;
/// At most this many partial results per reduction.
const REDUCE_MAX_GROUPS: usize = 1024;

/// Reduction `code` of reduce.cl: one partial result per work group on the device, the partial
/// results combined on the host in `f64`.
fn reduction<T: Real>(
    b: &CudaBackend,
    code: i32,
    x: &CudaBuffer<T>,
    y: &CudaBuffer<T>,
) -> Result<T> {
    let n = x.len();
    if n == 0 {
        return Ok(if code == 2 || code == 3 {
            T::nan()
        } else {
            T::zero()
        });
    }
    let groups = n.div_ceil(REDUCE_WG).min(REDUCE_MAX_GROUPS);
    let partial = b.alloc(groups * std::mem::size_of::<T>(), false)?;
    b.run(
        T::PRECISION,
        &kernels::REDUCE_PARTIAL,
        Range::groups(groups, REDUCE_WG),
        &[
            Arg::Mem(&x.mem),
            Arg::Mem(&y.mem),
            Arg::size(n)?,
            Arg::I32(code),
            Arg::Mem(&partial),
        ],
    )?;
    let mut host = vec![T::zero(); groups];
    b.stream()
        .memcpy_dtoh(
            &partial.slice(..groups * std::mem::size_of::<T>()),
            bytes_mut(&mut host),
        )
        .map_err(driver)?;
    b.synchronize()?;
    let vals = host.iter().map(|v| v.f64());
    let r = match code {
        // numpy's max / min: a NaN anywhere gives NaN.
        2 => vals.fold(f64::NEG_INFINITY, |m, v| {
            if m.is_nan() || v.is_nan() {
                f64::NAN
            } else {
                m.max(v)
            }
        }),
        3 => vals.fold(f64::INFINITY, |m, v| {
            if m.is_nan() || v.is_nan() {
                f64::NAN
            } else {
                m.min(v)
            }
        }),
        _ => vals.sum(),
    };
    Ok(T::of(r))
}

pub(crate) fn reduce<T: Real>(be: &CudaBackend, op: Reduce, x: &CudaBuffer<T>) -> Result<T> {
    let code = match op {
        Reduce::Sum => 0,
        Reduce::SumSq => 1,
        Reduce::Max => 2,
        Reduce::Min => 3,
    };
    reduction(be, code, x, x)
}

pub(crate) fn dot<T: Real>(be: &CudaBackend, a: &CudaBuffer<T>, b: &CudaBuffer<T>) -> Result<T> {
    check_len("dot", a.shape(), b.shape())?;
    reduction(be, 4, a, b)
}

pub(crate) fn sq_dist<T: Real>(
    be: &CudaBackend,
    a: &CudaBuffer<T>,
    b: &CudaBuffer<T>,
) -> Result<T> {
    check_len("sq_dist", a.shape(), b.shape())?;
    reduction(be, 5, a, b)
}
