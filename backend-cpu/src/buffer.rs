//! [`CpuBuffer`]: a shape plus a contiguous row-major `Vec`.

use backend_core::{DeviceBuffer, Element, Error, Result};

/// Host memory standing in for device memory: the logical shape (row-major, C order) and the
/// elements in that order.
#[derive(Clone, Debug, PartialEq)]
pub struct CpuBuffer<E> {
    shape: Vec<usize>,
    data: Vec<E>,
}

impl<E: Element> CpuBuffer<E> {
    /// A buffer from a shape and its row-major data; fails unless the lengths agree.
    pub fn from_vec(shape: &[usize], data: Vec<E>) -> Result<Self> {
        let n: usize = shape.iter().product();
        if n != data.len() {
            return Err(Error::shape("CpuBuffer::from_vec", &[n], &[data.len()]));
        }
        Ok(CpuBuffer {
            shape: shape.to_vec(),
            data,
        })
    }

    /// The elements, row-major.
    pub fn as_slice(&self) -> &[E] {
        &self.data
    }

    /// The elements, row-major, writable.
    pub fn as_mut_slice(&mut self) -> &mut [E] {
        &mut self.data
    }

    /// The row-major data, consuming the buffer.
    pub fn into_vec(self) -> Vec<E> {
        self.data
    }
}

impl<E: Element> DeviceBuffer for CpuBuffer<E> {
    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn len(&self) -> usize {
        self.data.len()
    }

    fn reshape(&mut self, shape: &[usize]) -> Result<()> {
        let n: usize = shape.iter().product();
        if n != self.data.len() {
            return Err(Error::shape("reshape", &self.shape, shape));
        }
        self.shape = shape.to_vec();
        Ok(())
    }
}
