//! [`CudaBuffer`]: device memory of one element type, with its shape.

use backend_core::{DeviceBuffer, Element, Error, Result};
use cudarc::driver::CudaSlice;
use std::marker::PhantomData;

/// Device memory holding `shape.iter().product()` elements `E` (row-major), stored as raw bytes
/// so that one allocation path serves every [`Element`]; kernels see a typed pointer.
pub struct CudaBuffer<E: Element> {
    /// At least one byte (CUDA has no empty allocation), `len * size_of::<E>()` used.
    pub(crate) mem: CudaSlice<u8>,
    shape: Vec<usize>,
    /// For index (`u32`) buffers: an upper bound of the values when known, so that gather and
    /// scatter can check their indices without reading the buffer back. Maintained by every
    /// backend method that writes a buffer of any element type.
    pub(crate) bound: Option<u32>,
    _elem: PhantomData<E>,
}

impl<E: Element> CudaBuffer<E> {
    pub(crate) fn new(mem: CudaSlice<u8>, shape: &[usize], bound: Option<u32>) -> Self {
        CudaBuffer {
            mem,
            shape: shape.to_vec(),
            bound,
            _elem: PhantomData,
        }
    }

    /// Bytes in use.
    pub(crate) fn num_bytes(&self) -> usize {
        self.len() * std::mem::size_of::<E>()
    }
}

impl<E: Element> DeviceBuffer for CudaBuffer<E> {
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

/// The bytes of a slice of elements (all [`Element`]s are plain old data without padding).
pub(crate) fn bytes<E: Element>(s: &[E]) -> &[u8] {
    debug_assert_eq!(E::KIND.size(), std::mem::size_of::<E>());
    // SAFETY: f32, f64, Complex<f32|f64> (repr(C) pairs) and u32 have no padding and no invalid
    // bit patterns; the length covers exactly the slice.
    unsafe { std::slice::from_raw_parts(s.as_ptr().cast::<u8>(), std::mem::size_of_val(s)) }
}

/// The bytes of a mutable slice of elements.
pub(crate) fn bytes_mut<E: Element>(s: &mut [E]) -> &mut [u8] {
    debug_assert_eq!(E::KIND.size(), std::mem::size_of::<E>());
    // SAFETY: as in `bytes`; every byte pattern is a valid element.
    unsafe { std::slice::from_raw_parts_mut(s.as_mut_ptr().cast::<u8>(), std::mem::size_of_val(s)) }
}
