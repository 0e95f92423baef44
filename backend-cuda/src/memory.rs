//! Buffers: allocation, host transfers, device copies and fills.

use crate::backend::{check_len, CudaBackend};
use crate::buffer::{bytes, bytes_mut, CudaBuffer};
use crate::device::driver;
use crate::index::word_kernel;
use crate::program::{Arg, Range, Words};
use backend_core::{Backend, DeviceBuffer, ElemKind, Element, Error, Precision, Result};
use ndarray::{ArrayD, ArrayViewD, IxDyn};

/// The largest value of an index (`u32`) slice (0 when empty); `None` for other elements.
fn index_max<E: Element>(data: &[E]) -> Option<u32> {
    (E::KIND == ElemKind::U32).then(|| {
        bytes(data)
            .chunks_exact(4)
            .map(|w| u32::from_ne_bytes([w[0], w[1], w[2], w[3]]))
            .max()
            .unwrap_or(0)
    })
}

pub(crate) fn zeros<E: Element>(be: &CudaBackend, shape: &[usize]) -> Result<CudaBuffer<E>> {
    let n: usize = shape.iter().product();
    let mem = be.alloc(n * std::mem::size_of::<E>(), true)?;
    Ok(CudaBuffer::new(mem, shape, Some(0)))
}

pub(crate) fn upload<E: Element>(
    be: &CudaBackend,
    host: ArrayViewD<'_, E>,
) -> Result<CudaBuffer<E>> {
    let std = host.as_standard_layout();
    let data = std
        .as_slice()
        .ok_or_else(|| Error::Device("standard-layout array without a slice".into()))?;
    let mut mem = be.alloc(std::mem::size_of_val(data), false)?;
    if !data.is_empty() {
        let nb = std::mem::size_of_val(data);
        be.stream()
            .memcpy_htod(bytes(data), &mut mem.slice_mut(..nb))
            .map_err(driver)?;
    }
    Ok(CudaBuffer::new(mem, host.shape(), index_max(data)))
}

pub(crate) fn download<E: Element>(be: &CudaBackend, buf: &CudaBuffer<E>) -> Result<ArrayD<E>> {
    let mut host = vec![E::default(); buf.len()];
    if !host.is_empty() {
        be.stream()
            .memcpy_dtoh(&buf.mem.slice(..buf.num_bytes()), bytes_mut(&mut host))
            .map_err(driver)?;
        be.synchronize()?;
    }
    ArrayD::from_shape_vec(IxDyn(buf.shape()), host)
        .map_err(|e| Error::Device(format!("download: {e}")))
}

pub(crate) fn copy<E: Element>(
    be: &CudaBackend,
    src: &CudaBuffer<E>,
    dst: &mut CudaBuffer<E>,
) -> Result<()> {
    check_len("copy", dst.shape(), src.shape())?;
    let nb = src.num_bytes();
    if nb > 0 {
        be.stream()
            .memcpy_dtod(&src.mem.slice(..nb), &mut dst.mem.slice_mut(..nb))
            .map_err(driver)?;
    }
    dst.bound = src.bound;
    Ok(())
}

pub(crate) fn fill<E: Element>(be: &CudaBackend, buf: &mut CudaBuffer<E>, value: E) -> Result<()> {
    let size = std::mem::size_of::<E>();
    let w = bytes(std::slice::from_ref(&value));
    let word = |i: usize| u32::from_ne_bytes([w[4 * i], w[4 * i + 1], w[4 * i + 2], w[4 * i + 3]]);
    let v = match size {
        4 => Arg::U32(word(0)),
        8 => Arg::W8(Words([word(0), word(1)])),
        _ => Arg::W16(Words([word(0), word(1), word(2), word(3)])),
    };
    let n = buf.len();
    buf.bound = index_max(std::slice::from_ref(&value));
    be.run(
        Precision::F32,
        word_kernel("fill", size)?,
        Range::items(n),
        &[Arg::Mem(&buf.mem), Arg::size(n)?, v],
    )
}
