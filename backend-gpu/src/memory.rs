//! Buffers: zeros, host transfers, device copies and fills (word kernels of the f32 program,
//! whatever the element).

use crate::backend::GpuBackend;
use crate::buffer::{bytes, bytes_mut, words, GpuBuffer};
use crate::driver::{Arg, Driver};
use crate::kernels;
use backend_core::{check, DeviceBuffer, ElemKind, Element, Error, Precision, Result};
use ndarray::{ArrayD, ArrayViewD, IxDyn};

pub(crate) fn zeros<D: Driver, E: Element>(
    b: &GpuBackend<D>,
    shape: &[usize],
) -> Result<GpuBuffer<D, E>> {
    let mut buf = b.alloc::<E>(shape)?;
    fill(b, &mut buf, E::default())?;
    Ok(buf)
}

pub(crate) fn upload<D: Driver, E: Element>(
    b: &GpuBackend<D>,
    host: ArrayViewD<'_, E>,
) -> Result<GpuBuffer<D, E>> {
    let mut buf = b.alloc::<E>(host.shape())?;
    let std = host.as_standard_layout();
    let data = std
        .as_slice()
        .ok_or_else(|| Error::Device("standard-layout array without a slice".into()))?;
    if E::KIND == ElemKind::U32 {
        buf.max_index = data.iter().map(|v| words(v)[0]).max();
    }
    if !data.is_empty() {
        b.device.counters.upload(std::mem::size_of_val(data));
        b.driver().write(&mut buf.mem, bytes(data))?;
    }
    Ok(buf)
}

pub(crate) fn download<D: Driver, E: Element>(
    b: &GpuBackend<D>,
    buf: &GpuBuffer<D, E>,
) -> Result<ArrayD<E>> {
    let mut host = vec![E::default(); buf.len()];
    if !host.is_empty() {
        b.device.counters.download(buf.bytes());
        b.driver().read(&buf.mem, bytes_mut(&mut host))?;
    }
    ArrayD::from_shape_vec(IxDyn(buf.shape()), host)
        .map_err(|e| Error::Device(format!("download: {e}")))
}

pub(crate) fn copy<D: Driver, E: Element>(
    b: &GpuBackend<D>,
    src: &GpuBuffer<D, E>,
    dst: &mut GpuBuffer<D, E>,
) -> Result<()> {
    check::same_len("copy", dst.shape(), src.shape())?;
    copy_bytes(b, &src.mem, &mut dst.mem, src.bytes())?;
    dst.max_index = src.max_index;
    Ok(())
}

/// `dst[..bytes] <- src[..bytes]` (nothing for 0 bytes).
pub(crate) fn copy_bytes<D: Driver>(
    b: &GpuBackend<D>,
    src: &D::Mem,
    dst: &mut D::Mem,
    bytes: usize,
) -> Result<()> {
    if bytes == 0 {
        return Ok(());
    }
    b.driver().copy(src, dst, bytes)
}

pub(crate) fn fill<D: Driver, E: Element>(
    b: &GpuBackend<D>,
    buf: &mut GpuBuffer<D, E>,
    value: E,
) -> Result<()> {
    let w = words(&value);
    let (kernel, word) = match w.len() {
        1 => (&kernels::FILL_W4, Arg::U32(w[0])),
        2 => (&kernels::FILL_W8, Arg::W8([w[0], w[1]])),
        _ => (&kernels::FILL_W16, Arg::W16([w[0], w[1], w[2], w[3]])),
    };
    let n = buf.len();
    if E::KIND == ElemKind::U32 {
        buf.max_index = (n > 0).then(|| w[0]);
    }
    b.items(
        Precision::F32,
        kernel,
        n,
        &[Arg::Mem(&buf.mem), Arg::size(n)?, word],
    )
}
