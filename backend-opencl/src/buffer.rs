//! [`ClBuffer`]: device memory of one element type, with its logical shape.

use backend_core::{DeviceBuffer, Element, Error, Result};
use opencl3::memory::{cl_mem, Buffer, ClMem};

/// An OpenCL buffer of `E` with a row-major shape. Empty buffers hold one unused element
/// (OpenCL has no zero-sized buffer).
pub struct ClBuffer<E: Element> {
    pub(crate) buf: Buffer<E>,
    shape: Vec<usize>,
    /// For index (`u32`) buffers: the largest value when known on the host, so that gather
    /// and scatter check their indices without reading the buffer back (`None`: unknown,
    /// read back when needed).
    pub(crate) max_index: Option<u32>,
}

impl<E: Element> ClBuffer<E> {
    pub(crate) fn new(buf: Buffer<E>, shape: &[usize]) -> Self {
        ClBuffer {
            buf,
            shape: shape.to_vec(),
            max_index: None,
        }
    }

    /// The raw handle, for kernel arguments.
    pub(crate) fn mem(&self) -> cl_mem {
        self.buf.get()
    }
}

impl<E: Element> DeviceBuffer for ClBuffer<E> {
    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn reshape(&mut self, shape: &[usize]) -> Result<()> {
        let n: usize = shape.iter().product();
        if n != self.len() {
            return Err(Error::shape("reshape", &self.shape, shape));
        }
        self.shape = shape.to_vec();
        Ok(())
    }
}

impl<E: Element> std::fmt::Debug for ClBuffer<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClBuffer<{:?}>{:?}", E::KIND, self.shape)
    }
}
