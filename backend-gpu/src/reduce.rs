//! Reductions (`reduce.cl`): per-group partial results on the device, finished on the host.

use crate::backend::GpuBackend;
use crate::buffer::GpuBuffer;
use crate::driver::{Arg, Driver, Range};
use crate::kernels;
use backend_core::{check, DeviceBuffer, Error, Real, Reduce, Result};

type Buf<D, E> = GpuBuffer<D, E>;

/// Most work groups of a reduction (the partial results read back).
const MAX_GROUPS: usize = 64;

/// Most work groups of the TV primal step with sums (two partial results each): enough work
/// items to fill a large GPU (512 x 256) while the read-back stays at a few KB.
pub(crate) const PRIMAL_MAX_GROUPS: usize = 512;

/// Values (of at most 8 bytes) the device's partial-result buffer holds.
const PARTIAL_VALUES: usize = 2 * PRIMAL_MAX_GROUPS;

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

/// Launches `launch(partial)`, a kernel that writes `count` (at most [`PARTIAL_VALUES`])
/// partial results of type `T` into the device's partial-result buffer `partial` (allocated
/// on first use, held from the launch to the read-back), reads them back and returns
/// `finish(values)`.
pub(crate) fn with_partials<D: Driver, T: Real, R>(
    b: &GpuBackend<D>,
    count: usize,
    launch: impl FnOnce(&D::Mem) -> Result<()>,
    finish: impl FnOnce(&[T]) -> R,
) -> Result<R> {
    if count > PARTIAL_VALUES {
        return Err(Error::Device(format!(
            "{count} partial results for a buffer of {PARTIAL_VALUES}"
        )));
    }
    let mut slot = b
        .device
        .partials
        .lock()
        .map_err(|_| Error::Device("reduction buffer poisoned".into()))?;
    if slot.is_none() {
        // Words of 8 bytes whatever T (u32 pairs: no fp64 needed to allocate them).
        *slot = Some(b.alloc::<u32>(&[2 * PARTIAL_VALUES])?);
    }
    let partial = slot
        .as_ref()
        .ok_or_else(|| Error::Device("reduction buffer missing".into()))?;
    launch(&partial.mem)?;
    let mut host = [T::zero(); PARTIAL_VALUES];
    let host = &mut host[..count];
    b.device.counters.download(std::mem::size_of_val(host));
    b.driver()
        .read(&partial.mem, crate::buffer::bytes_mut(host))?;
    drop(slot);
    Ok(finish(host))
}

fn run<D: Driver, T: Real>(b: &GpuBackend<D>, op: Op, x: &Buf<D, T>, y: &Buf<D, T>) -> Result<T> {
    let n = x.len();
    let extreme = op == Op::Max || op == Op::Min;
    if n == 0 {
        return Ok(if extreme { T::nan() } else { T::zero() });
    }
    let wg = gpu_kernels::REDUCE_GROUP_SIZE;
    let groups = n.div_ceil(wg).min(MAX_GROUPS);
    let launch = |partial: &D::Mem| {
        b.launch(
            T::PRECISION,
            &kernels::REDUCE_PARTIAL,
            Range::groups(groups, wg),
            &[
                Arg::Mem(&x.mem),
                Arg::Mem(&y.mem),
                Arg::size(n)?,
                Arg::I32(op as i32),
                Arg::Mem(partial),
            ],
        )
    };
    let r = with_partials(b, groups, launch, |host: &[T]| {
        let vals = host.iter().map(|v| v.f64());
        match op {
            Op::Max => fold_nan(vals, f64::max),
            Op::Min => fold_nan(vals, f64::min),
            _ => vals.sum(),
        }
    })?;
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
