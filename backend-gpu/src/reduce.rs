//! Reductions (`reduce.cl`): per-group partial results on the device, finished on the host.

use crate::backend::GpuBackend;
use crate::buffer::GpuBuffer;
use crate::driver::{Arg, Driver, Range};
use crate::kernels;
use backend_core::{check, DeviceBuffer, Error, Real, Reduce, Result};

type Buf<D, E> = GpuBuffer<D, E>;

/// Most work groups of a reduction (the partial results read back).
const MAX_GROUPS: usize = 64;

/// The kernel's operation codes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Sum = 0,
    SumSq = 1,
    Max = 2,
    Min = 3,
    Dot = 4,
    SqDist = 5,
}

fn run<D: Driver, T: Real>(b: &GpuBackend<D>, op: Op, x: &Buf<D, T>, y: &Buf<D, T>) -> Result<T> {
    let n = x.len();
    let extreme = op == Op::Max || op == Op::Min;
    if n == 0 {
        return Ok(if extreme { T::nan() } else { T::zero() });
    }
    let wg = gpu_kernels::REDUCE_GROUP_SIZE;
    let groups = n.div_ceil(wg).min(MAX_GROUPS);
    let mut slot = b
        .device
        .partials
        .lock()
        .map_err(|_| Error::Device("reduction buffer poisoned".into()))?;
    if slot.is_none() {
        // Words of 8 bytes whatever T (u32 pairs: no fp64 needed to allocate them).
        *slot = Some(b.alloc::<u32>(&[2 * MAX_GROUPS])?);
    }
    let partial = slot
        .as_ref()
        .ok_or_else(|| Error::Device("reduction buffer missing".into()))?;
    b.launch(
        T::PRECISION,
        &kernels::REDUCE_PARTIAL,
        Range::groups(groups, wg),
        &[
            Arg::Mem(&x.mem),
            Arg::Mem(&y.mem),
            Arg::size(n)?,
            Arg::I32(op as i32),
            Arg::Mem(&partial.mem),
        ],
    )?;
    let mut host = vec![T::zero(); groups];
    b.device
        .counters
        .download(groups * std::mem::size_of::<T>());
    b.driver()
        .read(&partial.mem, crate::buffer::bytes_mut(&mut host))?;
    drop(slot);
    let vals = host.iter().map(|v| v.f64());
    let r = match op {
        Op::Max => fold_nan(vals, f64::max),
        Op::Min => fold_nan(vals, f64::min),
        _ => vals.sum(),
    };
    Ok(T::of(r))
}

/// Folds with `f`, NaN as soon as one value is NaN (numpy's max / min).
fn fold_nan(vals: impl Iterator<Item = f64>, f: fn(f64, f64) -> f64) -> f64 {
    let mut acc: Option<f64> = None;
    for v in vals {
        if v.is_nan() {
            return f64::NAN;
        }
        acc = Some(acc.map_or(v, |a| f(a, v)));
    }
    acc.unwrap_or(f64::NAN)
}

pub(crate) fn reduce<D: Driver, T: Real>(
    b: &GpuBackend<D>,
    op: Reduce,
    x: &Buf<D, T>,
) -> Result<T> {
    let op = match op {
        Reduce::Sum => Op::Sum,
        Reduce::SumSq => Op::SumSq,
        Reduce::Max => Op::Max,
        Reduce::Min => Op::Min,
    };
    run(b, op, x, x)
}

pub(crate) fn dot<D: Driver, T: Real>(
    b: &GpuBackend<D>,
    x: &Buf<D, T>,
    y: &Buf<D, T>,
) -> Result<T> {
    check::same_len("dot", x.shape(), y.shape())?;
    run(b, Op::Dot, x, y)
}

pub(crate) fn sq_dist<D: Driver, T: Real>(
    b: &GpuBackend<D>,
    x: &Buf<D, T>,
    y: &Buf<D, T>,
) -> Result<T> {
    check::same_len("sq_dist", x.shape(), y.shape())?;
    run(b, Op::SqDist, x, y)
}
