//! Host arrays as they come out of files: `f32` or `f64`, any dimension.

use backend_core::{Precision, Real};
use ndarray::{ArrayD, IxDyn};
use std::any::Any;

/// An array read from a file, in the precision it was stored in.
#[derive(Clone, Debug)]
pub enum HostArray {
    /// Stored as `float32`.
    F32(ArrayD<f32>),
    /// Stored as `float64` (or converted from an integer BES3T format).
    F64(ArrayD<f64>),
}

impl HostArray {
    /// Wraps an array of `T` (`f32` or `f64`), moved, not copied.
    pub fn from_real<T: Real>(a: ArrayD<T>) -> Self {
        match same_type::<T, f32>(a) {
            Ok(a) => HostArray::F32(a),
            Err(a) => HostArray::F64(same_type::<T, f64>(a).unwrap_or_else(|a| a.mapv(T::f64))),
        }
    }

    /// The values as `T` in standard (C, row-major) layout, like [`HostArray::to_real`], but
    /// consuming the array: moved without a copy when it already is `T` in that layout.
    pub fn into_real<T: Real>(self) -> ArrayD<T> {
        match self {
            HostArray::F32(a) if a.is_standard_layout() => {
                same_type(a).unwrap_or_else(|a| HostArray::F32(a).to_real())
            }
            HostArray::F64(a) if a.is_standard_layout() => {
                same_type(a).unwrap_or_else(|a| HostArray::F64(a).to_real())
            }
            other => other.to_real(),
        }
    }

    /// The stored precision.
    pub fn precision(&self) -> Precision {
        match self {
            HostArray::F32(_) => Precision::F32,
            HostArray::F64(_) => Precision::F64,
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            HostArray::F32(a) => a.shape(),
            HostArray::F64(a) => a.shape(),
        }
    }

    /// The values converted to `T`, in standard (C, row-major) layout whatever the file's order.
    pub fn to_real<T: Real>(&self) -> ArrayD<T> {
        let conv = |shape: &[usize], it: &mut dyn Iterator<Item = f64>| {
            ArrayD::from_shape_vec(IxDyn(shape), it.map(T::of).collect())
                .expect("element count equals the shape's product")
        };
        // `iter()` walks in logical row-major order, whatever the memory layout.
        match self {
            HostArray::F32(a) => conv(a.shape(), &mut a.iter().map(|&x| x as f64)),
            HostArray::F64(a) => conv(a.shape(), &mut a.iter().copied()),
        }
    }

    /// The values as `f64` (for summaries and checks).
    pub fn to_f64(&self) -> ArrayD<f64> {
        self.to_real::<f64>()
    }

    /// The largest absolute value (0 for an empty array; NaN is ignored).
    pub fn max_abs(&self) -> f64 {
        match self {
            HostArray::F32(a) => a.iter().fold(0.0, |m: f64, &x| m.max((x as f64).abs())),
            HostArray::F64(a) => a.iter().fold(0.0, |m: f64, &x| m.max(x.abs())),
        }
    }

    /// Whether every value is finite.
    pub fn all_finite(&self) -> bool {
        match self {
            HostArray::F32(a) => a.iter().all(|x| x.is_finite()),
            HostArray::F64(a) => a.iter().all(|x| x.is_finite()),
        }
    }
}

/// numpy's name of a precision: `float32` or `float64`.
pub fn dtype_name(p: Precision) -> &'static str {
    match p {
        Precision::F32 => "float32",
        Precision::F64 => "float64",
    }
}

/// A shape as numpy prints it: `(113, 2000)`, `(2000,)`.
pub fn fmt_shape(shape: &[usize]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => {
            let v: Vec<String> = shape.iter().map(|n| n.to_string()).collect();
            format!("({})", v.join(", "))
        }
    }
}

/// `a` as an array of `B` when `A` is `B` (a move), else `a` back.
fn same_type<A: 'static, B: 'static>(a: ArrayD<A>) -> Result<ArrayD<B>, ArrayD<A>> {
    let mut slot = Some(a);
    match (&mut slot as &mut dyn Any).downcast_mut::<Option<ArrayD<B>>>() {
        Some(b) => Ok(b.take().expect("the slot was just filled")),
        None => Err(slot.take().expect("the slot was not taken")),
    }
}
