//! Index maps: gather, scatter, and the block copies (embed, extract, roll) of index.cl, which
//! move 4-, 8- or 16-byte words whatever the element type.

use crate::backend::{check_len, CudaBackend};
use crate::buffer::CudaBuffer;
use crate::kernels::{self, Kernel};
use crate::program::{Arg, Dims, Range};
use crate::stencil::rank_of;
use backend_core::error::check_shape;
use backend_core::{Backend, DeviceBuffer, Element, Error, Precision, Result};

/// The index kernel `base` (fill, gather, scatter, remap) for elements of `size` bytes.
pub(crate) fn word_kernel(base: &str, size: usize) -> Result<&'static Kernel> {
    Ok(match (base, size) {
        ("fill", 4) => &kernels::FILL_W4,
        ("fill", 8) => &kernels::FILL_W8,
        ("fill", 16) => &kernels::FILL_W16,
        ("gather", 4) => &kernels::GATHER_W4,
        ("gather", 8) => &kernels::GATHER_W8,
        ("gather", 16) => &kernels::GATHER_W16,
        ("scatter", 4) => &kernels::SCATTER_W4,
        ("scatter", 8) => &kernels::SCATTER_W8,
        ("scatter", 16) => &kernels::SCATTER_W16,
        ("remap", 4) => &kernels::REMAP_W4,
        ("remap", 8) => &kernels::REMAP_W8,
        ("remap", 16) => &kernels::REMAP_W16,
        _ => {
            return Err(Error::InvalidArgument(format!(
                "no {base} kernel for {size}-byte elements"
            )))
        }
    })
}

/// Fails unless every index of `idx` is below `n`: from the buffer's known bound, or else by
/// reading the indices back.
fn check_indices(be: &CudaBackend, op: &str, idx: &CudaBuffer<u32>, n: usize) -> Result<()> {
    if idx.is_empty() || idx.bound.is_some_and(|b| (b as usize) < n) {
        return Ok(());
    }
    let max = be.download(idx)?.iter().copied().max().unwrap_or(0);
    if (max as usize) < n {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{op}: index {max} out of range for {n} elements"
        )))
    }
}

/// `offset + inner <= outer` per axis, same rank.
fn check_block(op: &str, inner: &[usize], offset: &[usize], outer: &[usize]) -> Result<()> {
    let fits = inner.len() == outer.len()
        && offset.len() == outer.len()
        && inner
            .iter()
            .zip(offset)
            .zip(outer)
            .all(|((&i, &o), &n)| o + i <= n);
    if fits {
        Ok(())
    } else {
        Err(Error::shape(
            format!("{op} (a block of shape {inner:?} at offset {offset:?})"),
            outer,
            inner,
        ))
    }
}

/// `dst[d] <- src[d + delta]` (modulo the source shape with `wrap`, zero outside otherwise).
fn remap<E: Element>(
    b: &CudaBackend,
    src: &CudaBuffer<E>,
    dst: &mut CudaBuffer<E>,
    delta: &[isize],
    wrap: bool,
) -> Result<()> {
    let n = dst.len();
    dst.bound = src.bound;
    b.run(
        Precision::F32,
        word_kernel("remap", std::mem::size_of::<E>())?,
        Range::items(n),
        &[
            Arg::Mem(&src.mem),
            Arg::Mem(&dst.mem),
            Arg::size(n)?,
            rank_of("remap", dst.shape())?,
            Arg::Dims(Dims::new(dst.shape(), 1)?),
            Arg::Dims(Dims::new(src.shape(), 1)?),
            Arg::Dims(Dims::signed(delta)?),
            Arg::I32(wrap as i32),
        ],
    )
}

pub(crate) fn gather<E: Element>(
    be: &CudaBackend,
    src: &CudaBuffer<E>,
    idx: &CudaBuffer<u32>,
    out: &mut CudaBuffer<E>,
) -> Result<()> {
    check_len("gather", out.shape(), idx.shape())?;
    check_indices(be, "gather", idx, src.len())?;
    let m = out.len();
    out.bound = src.bound;
    be.run(
        Precision::F32,
        word_kernel("gather", std::mem::size_of::<E>())?,
        Range::items(m),
        &[
            Arg::Mem(&src.mem),
            Arg::Mem(&idx.mem),
            Arg::Mem(&out.mem),
            Arg::size(m)?,
            Arg::size(src.len())?,
        ],
    )
}

pub(crate) fn scatter<E: Element>(
    be: &CudaBackend,
    src: &CudaBuffer<E>,
    idx: &CudaBuffer<u32>,
    out: &mut CudaBuffer<E>,
) -> Result<()> {
    check_len("scatter", src.shape(), idx.shape())?;
    check_indices(be, "scatter", idx, out.len())?;
    let m = src.len();
    out.bound = out.bound.zip(src.bound).map(|(a, b)| a.max(b));
    be.run(
        Precision::F32,
        word_kernel("scatter", std::mem::size_of::<E>())?,
        Range::items(m),
        &[
            Arg::Mem(&src.mem),
            Arg::Mem(&idx.mem),
            Arg::Mem(&out.mem),
            Arg::size(m)?,
            Arg::size(out.len())?,
        ],
    )
}

pub(crate) fn embed<E: Element>(
    be: &CudaBackend,
    src: &CudaBuffer<E>,
    dst: &mut CudaBuffer<E>,
    offset: &[usize],
) -> Result<()> {
    check_block("embed", src.shape(), offset, dst.shape())?;
    let delta: Vec<isize> = offset.iter().map(|&o| -(o as isize)).collect();
    remap(be, src, dst, &delta, false)
}

pub(crate) fn extract<E: Element>(
    be: &CudaBackend,
    src: &CudaBuffer<E>,
    offset: &[usize],
    dst: &mut CudaBuffer<E>,
) -> Result<()> {
    check_block("extract", dst.shape(), offset, src.shape())?;
    let delta: Vec<isize> = offset.iter().map(|&o| o as isize).collect();
    remap(be, src, dst, &delta, false)
}

pub(crate) fn roll<E: Element>(
    be: &CudaBackend,
    src: &CudaBuffer<E>,
    shifts: &[isize],
    dst: &mut CudaBuffer<E>,
) -> Result<()> {
    check_shape("roll", src.shape(), dst.shape())?;
    if shifts.len() != src.shape().len() {
        return Err(Error::InvalidArgument(format!(
            "roll: {} shifts for an array of rank {}",
            shifts.len(),
            src.shape().len()
        )));
    }
    // dst[(i + s) mod n] = src[i]  <=>  dst[d] = src[(d - s) mod n].
    let delta: Vec<isize> = shifts
        .iter()
        .zip(src.shape())
        .map(|(&s, &n)| (-s).rem_euclid(n.max(1) as isize))
        .collect();
    remap(be, src, dst, &delta, true)
}
