//! FFT plan descriptions shared by every backend.

use crate::error::{Error, Result};

/// Complex-to-complex or real-to-complex (half spectrum) transform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FftKind {
    /// Complex input and output of the same shape.
    C2C,
    /// Real input of shape `(..., n)`, complex output `(..., n/2 + 1)` along the last axis (and
    /// the inverse, complex-to-real).
    R2C,
}

/// What an FFT plan transforms: an array of shape `shape` (for `R2C`, the shape of the *real*
/// array), over its last `axes` axes, batched over the leading ones.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FftSpec {
    /// Full array shape, row-major (C order). For `R2C` this is the real-space shape.
    pub shape: Vec<usize>,
    /// Number of trailing axes transformed (1 to 4); the leading axes are a batch.
    pub axes: usize,
    /// Transform kind.
    pub kind: FftKind,
}

impl FftSpec {
    /// A spec, checked: `1 <= axes <= min(4, shape.len())` and no zero-length axis.
    pub fn new(shape: &[usize], axes: usize, kind: FftKind) -> Result<Self> {
        if axes == 0 || axes > 4 || axes > shape.len() {
            return Err(Error::InvalidArgument(format!(
                "FFT over {axes} axes of an array of shape {shape:?} (1 to 4 axes, at most the array's rank)"
            )));
        }
        if shape.contains(&0) {
            return Err(Error::InvalidArgument(format!(
                "FFT of an empty array of shape {shape:?}"
            )));
        }
        Ok(FftSpec {
            shape: shape.to_vec(),
            axes,
            kind,
        })
    }

    /// The transformed sizes (last `axes` entries of the shape).
    pub fn dims(&self) -> &[usize] {
        &self.shape[self.shape.len() - self.axes..]
    }

    /// Number of independent transforms (product of the leading axes).
    pub fn batch(&self) -> usize {
        self.shape[..self.shape.len() - self.axes].iter().product()
    }

    /// Shape of the spectrum: equal to `shape` for C2C, last axis `n/2 + 1` for R2C.
    pub fn spectrum_shape(&self) -> Vec<usize> {
        let mut s = self.shape.clone();
        if self.kind == FftKind::R2C {
            let last = s.len() - 1;
            s[last] = s[last] / 2 + 1;
        }
        s
    }
}
