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
            HostArray::F32(a) => max_abs(a),
            HostArray::F64(a) => max_abs(a),
        }
    }

    /// Whether every value is finite.
    pub fn all_finite(&self) -> bool {
        match self {
            HostArray::F32(a) => all_finite(a),
            HostArray::F64(a) => all_finite(a),
        }
    }
}

/// Values per lane group of [`max_abs`] and [`all_finite`]: independent accumulators, so that
/// the loops vectorise.
const LANES: usize = 16;

/// The largest `|x|` of `a` in its own precision (exact: the conversion to `f64` is monotone),
/// NaN ignored; over the memory in any order when it is contiguous.
fn max_abs<T: Real>(a: &ArrayD<T>) -> f64 {
    let Some(s) = a.as_slice_memory_order() else {
        return a.iter().fold(T::zero(), |m, &x| m.max(x.abs())).f64();
    };
    let mut acc = [T::zero(); LANES];
    let lanes = s.chunks_exact(LANES);
    let rest = lanes.remainder();
    for c in lanes {
        for (m, &x) in acc.iter_mut().zip(c) {
            // `>` is false for NaN: ignored.
            if x.abs() > *m {
                *m = x.abs();
            }
        }
    }
    acc.iter()
        .chain(rest)
        .fold(T::zero(), |m, &x| m.max(x.abs()))
        .f64()
}

/// Whether every value of `a` is finite: blocks of values tested without an early exit inside
/// a block.
fn all_finite<T: Real>(a: &ArrayD<T>) -> bool {
    match a.as_slice_memory_order() {
        Some(s) => s
            .chunks(64 * LANES)
            .all(|c| c.iter().fold(true, |ok, x| ok & x.is_finite())),
        None => a.iter().all(|x| x.is_finite()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::ShapeBuilder;

    #[test]
    fn max_abs_and_all_finite_over_lanes_and_layouts() {
        // 16 lanes, then a remainder: the largest |x| in either, NaN ignored.
        for n in [0usize, 5, 16, 37, 1000] {
            for at in [0, n / 2, n.saturating_sub(1)] {
                let mut v: Vec<f64> = (0..n).map(|i| (i % 7) as f64 - 3.0).collect();
                if n > 0 {
                    v[at] = -1e30;
                }
                let expect = if n > 0 { 1e30 } else { 0.0 };
                let a = ArrayD::from_shape_vec(IxDyn(&[n]), v.clone()).unwrap();
                assert_eq!(HostArray::F64(a.clone()).max_abs(), expect, "n {n} at {at}");
                let a32 = a.mapv(|x| x as f32);
                assert_eq!(HostArray::F32(a32).max_abs(), expect as f32 as f64, "f32");
                assert!(HostArray::F64(a.clone()).all_finite());
                if n > 0 {
                    let mut b = a.clone();
                    b[[at]] = f64::NAN;
                    let h = HostArray::F64(b);
                    assert!(!h.all_finite(), "n {n} at {at}");
                    let rest = v.iter().enumerate().filter(|&(i, _)| i != at);
                    let expect = rest.fold(0.0f64, |m, (_, x)| m.max(x.abs()));
                    assert_eq!(h.max_abs(), expect, "NaN ignored, n {n} at {at}");
                }
            }
        }
        // Fortran order (contiguous, not row-major) and a non-contiguous array.
        let a = ArrayD::from_shape_fn(IxDyn(&[3, 40]).f(), |i| i[0] as f64 - 10.0 * i[1] as f64);
        assert_eq!(HostArray::F64(a.clone()).max_abs(), 390.0);
        let mut s = a.clone();
        s.slice_collapse(ndarray::s![.., ..;3]);
        assert!(s.as_slice_memory_order().is_none());
        assert_eq!(HostArray::F64(s.clone()).max_abs(), 390.0);
        s[[2, 5]] = f64::INFINITY;
        assert!(!HostArray::F64(s).all_finite());
    }
}
