//! [`GpuBuffer`]: device memory of one element type, with its logical shape.

use crate::driver::Driver;
use backend_core::{DeviceBuffer, Element, Error, Result};
use std::marker::PhantomData;

/// Device memory holding `shape.iter().product()` elements `E` (row-major). The driver's
/// memory is untyped: kernels see a typed pointer, the word kernels move any element.
pub struct GpuBuffer<D: Driver, E: Element> {
    /// At least one byte (no API allocates zero bytes).
    pub(crate) mem: D::Mem,
    shape: Vec<usize>,
    /// For index (`u32`) buffers: the largest value when known on the host, so that gather
    /// and scatter check their indices without reading the buffer back (`None`: unknown, read
    /// back when needed). Kept by every method that writes a buffer.
    pub(crate) max_index: Option<u32>,
    _elem: PhantomData<E>,
}

impl<D: Driver, E: Element> GpuBuffer<D, E> {
    pub(crate) fn new(mem: D::Mem, shape: &[usize]) -> Self {
        GpuBuffer {
            mem,
            shape: shape.to_vec(),
            max_index: None,
            _elem: PhantomData,
        }
    }

    /// Bytes in use.
    pub(crate) fn bytes(&self) -> usize {
        self.len() * std::mem::size_of::<E>()
    }
}

impl<D: Driver, E: Element> DeviceBuffer for GpuBuffer<D, E> {
    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn reshape(&mut self, shape: &[usize]) -> Result<()> {
        if shape.iter().product::<usize>() != self.len() {
            return Err(Error::shape("reshape", &self.shape, shape));
        }
        self.shape = shape.to_vec();
        Ok(())
    }
}

impl<D: Driver, E: Element> std::fmt::Debug for GpuBuffer<D, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GpuBuffer<{:?}>{:?}", E::KIND, self.shape)
    }
}

/// The bytes of a slice of elements.
pub(crate) fn bytes<E: Element>(s: &[E]) -> &[u8] {
    // SAFETY: every Element (f32, f64, their repr(C) complex pairs, u32) is plain old data
    // without padding; the length covers exactly the slice.
    unsafe { std::slice::from_raw_parts(s.as_ptr().cast::<u8>(), std::mem::size_of_val(s)) }
}

/// The bytes of a mutable slice of elements.
pub(crate) fn bytes_mut<E: Element>(s: &mut [E]) -> &mut [u8] {
    // SAFETY: as in `bytes`; every byte pattern is a valid element.
    unsafe { std::slice::from_raw_parts_mut(s.as_mut_ptr().cast::<u8>(), std::mem::size_of_val(s)) }
}

/// The 32-bit words of an element (1, 2 or 4 of them).
pub(crate) fn words<E: Element>(v: &E) -> Vec<u32> {
    bytes(std::slice::from_ref(v))
        .chunks_exact(4)
        .map(|w| u32::from_ne_bytes([w[0], w[1], w[2], w[3]]))
        .collect()
}
