//! Index maps (`index.cl`): gather, scatter, and the block copies embed / extract / roll, all
//! by word kernels (4, 8 or 16 bytes per element) of the f32 program.

use crate::backend::GpuBackend;
use crate::buffer::GpuBuffer;
use crate::driver::{Arg, Driver};
use crate::kernels::{self, Kernel};
use backend_core::{check, DeviceBuffer, Element, Precision, Result};

type Buf<D, E> = GpuBuffer<D, E>;

/// The word kernel among `[w4, w8, w16]` for elements of `E`.
fn by_word<E: Element>(family: [&'static Kernel; 3]) -> &'static Kernel {
    match std::mem::size_of::<E>() {
        4 => family[0],
        8 => family[1],
        _ => family[2],
    }
}

/// Fails unless every index of `idx` is below `n` (from the recorded maximum, or by reading
/// the indices back when it is unknown).
fn check_indices<D: Driver>(
    b: &GpuBackend<D>,
    op: &str,
    idx: &Buf<D, u32>,
    n: usize,
) -> Result<()> {
    let max = match idx.max_index {
        Some(m) => Some(m),
        None => crate::memory::download(b, idx)?.iter().copied().max(),
    };
    check::indices(op, max, n)
}

pub(crate) fn gather<D: Driver, E: Element>(
    b: &GpuBackend<D>,
    src: &Buf<D, E>,
    idx: &Buf<D, u32>,
    out: &mut Buf<D, E>,
) -> Result<()> {
    check::gather(out.shape(), idx.shape())?;
    check_indices(b, "gather", idx, src.len())?;
    out.max_index = src.max_index;
    let m = idx.len();
    b.items(
        Precision::F32,
        by_word::<E>([
            &kernels::GATHER_W4,
            &kernels::GATHER_W8,
            &kernels::GATHER_W16,
        ]),
        m,
        &[
            Arg::Mem(&src.mem),
            Arg::Mem(&idx.mem),
            Arg::Mem(&out.mem),
            Arg::size(m)?,
            Arg::size(src.len())?,
        ],
    )
}

pub(crate) fn scatter<D: Driver, E: Element>(
    b: &GpuBackend<D>,
    src: &Buf<D, E>,
    idx: &Buf<D, u32>,
    out: &mut Buf<D, E>,
) -> Result<()> {
    check::scatter(src.shape(), idx.shape())?;
    check_indices(b, "scatter", idx, out.len())?;
    out.max_index = out.max_index.zip(src.max_index).map(|(a, c)| a.max(c));
    let m = idx.len();
    b.items(
        Precision::F32,
        by_word::<E>([
            &kernels::SCATTER_W4,
            &kernels::SCATTER_W8,
            &kernels::SCATTER_W16,
        ]),
        m,
        &[
            Arg::Mem(&src.mem),
            Arg::Mem(&idx.mem),
            Arg::Mem(&out.mem),
            Arg::size(m)?,
            Arg::size(out.len())?,
        ],
    )
}

/// `dst[i] <- src[i + delta]` over every index `i` of `dst` (per axis; `wrap`: modulo the
/// source shape, else zero outside the source), shapes of one rank, checked by the caller.
pub(crate) fn remap<D: Driver, E: Element>(
    b: &GpuBackend<D>,
    op: &str,
    src: &Buf<D, E>,
    dst: &mut Buf<D, E>,
    delta: &[i64],
    wrap: bool,
) -> Result<()> {
    let mut d = [0i32; crate::driver::MAX_RANK];
    for (o, &v) in d.iter_mut().zip(delta) {
        *o = i32::try_from(v).map_err(|_| {
            backend_core::Error::InvalidArgument(format!("{op}: offset {v} too large"))
        })?;
    }
    let n = dst.len();
    dst.max_index = src.max_index;
    b.items(
        Precision::F32,
        by_word::<E>([&kernels::REMAP_W4, &kernels::REMAP_W8, &kernels::REMAP_W16]),
        n,
        &[
            Arg::Mem(&src.mem),
            Arg::Mem(&dst.mem),
            Arg::size(n)?,
            Arg::I32(dst.shape().len() as i32),
            Arg::dims(op, dst.shape(), 1)?,
            Arg::dims(op, src.shape(), 1)?,
            Arg::Dims(d),
            Arg::I32(wrap as i32),
        ],
    )
}

pub(crate) fn embed<D: Driver, E: Element>(
    b: &GpuBackend<D>,
    src: &Buf<D, E>,
    dst: &mut Buf<D, E>,
    offset: &[usize],
) -> Result<()> {
    check::embed(src.shape(), dst.shape(), offset)?;
    let delta: Vec<i64> = offset.iter().map(|&o| -(o as i64)).collect();
    remap(b, "embed", src, dst, &delta, false)
}

pub(crate) fn extract<D: Driver, E: Element>(
    b: &GpuBackend<D>,
    src: &Buf<D, E>,
    offset: &[usize],
    dst: &mut Buf<D, E>,
) -> Result<()> {
    check::extract(src.shape(), offset, dst.shape())?;
    let delta: Vec<i64> = offset.iter().map(|&o| o as i64).collect();
    remap(b, "extract", src, dst, &delta, false)
}

pub(crate) fn roll<D: Driver, E: Element>(
    b: &GpuBackend<D>,
    src: &Buf<D, E>,
    shifts: &[isize],
    dst: &mut Buf<D, E>,
) -> Result<()> {
    check::roll(src.shape(), shifts, dst.shape())?;
    let delta: Vec<i64> = shifts
        .iter()
        .zip(src.shape())
        .map(|(&s, &n)| (-(s as i64)).rem_euclid(n.max(1) as i64))
        .collect();
    remap(b, "roll", src, dst, &delta, true)
}
