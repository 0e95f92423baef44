//! Element types: the real scalars `f32` / `f64`, their complex companions, and `u32` indices.

use num_complex::Complex;
use num_traits::{Float, FloatConst, NumAssign};
use std::fmt::{Debug, Display};

/// The floating-point precision of a computation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Precision {
    /// IEEE binary32 (`f32`, complex64).
    F32,
    /// IEEE binary64 (`f64`, complex128).
    F64,
}

impl Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        })
    }
}

/// What an element is made of, so that device code can pick the right kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ElemKind {
    /// A real number of the given precision.
    Real(Precision),
    /// A complex number (interleaved re, im pair) of the given precision.
    Complex(Precision),
    /// An unsigned 32-bit index.
    U32,
}

impl ElemKind {
    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            ElemKind::Real(Precision::F32) | ElemKind::U32 => 4,
            ElemKind::Real(Precision::F64) | ElemKind::Complex(Precision::F32) => 8,
            ElemKind::Complex(Precision::F64) => 16,
        }
    }

    /// The precision of a floating element, `None` for indices.
    pub fn precision(self) -> Option<Precision> {
        match self {
            ElemKind::Real(p) | ElemKind::Complex(p) => Some(p),
            ElemKind::U32 => None,
        }
    }
}

/// Anything a device buffer can hold: `f32`, `f64`, `Complex<f32>`, `Complex<f64>`, `u32`.
///
/// All of them are plain-old-data with the C layout used on devices (complex numbers are
/// interleaved `(re, im)` pairs, as `float2` / `double2`).
pub trait Element: Copy + Send + Sync + Default + Debug + PartialEq + 'static {
    /// The element's kind.
    const KIND: ElemKind;
}

/// An element with field arithmetic: a real or complex floating number.
pub trait Field: Element + NumAssign {}

/// A real floating scalar, `f32` or `f64`: the precision parameter of every generic routine.
pub trait Real:
    Element + Field + Float + FloatConst + NumAssign + Display + std::iter::Sum + rustfft::FftNum
{
    /// Which precision this is.
    const PRECISION: Precision;
    /// Unit roundoff of the type (machine epsilon / 2 is not used: this is `EPSILON`).
    const EPS: Self;
    /// Lossy conversion from `f64`.
    fn of(x: f64) -> Self;
    /// Conversion to `f64`.
    fn f64(self) -> f64;
}

impl Element for f32 {
    const KIND: ElemKind = ElemKind::Real(Precision::F32);
}
impl Element for f64 {
    const KIND: ElemKind = ElemKind::Real(Precision::F64);
}
impl<T: Real> Element for Complex<T> {
    const KIND: ElemKind = ElemKind::Complex(T::PRECISION);
}
impl Element for u32 {
    const KIND: ElemKind = ElemKind::U32;
}
impl Field for f32 {}
impl Field for f64 {}
impl<T: Real> Field for Complex<T> {}

impl Real for f32 {
    const PRECISION: Precision = Precision::F32;
    const EPS: Self = f32::EPSILON;
    fn of(x: f64) -> Self {
        x as f32
    }
    fn f64(self) -> f64 {
        self as f64
    }
}

impl Real for f64 {
    const PRECISION: Precision = Precision::F64;
    const EPS: Self = f64::EPSILON;
    fn of(x: f64) -> Self {
        x
    }
    fn f64(self) -> f64 {
        self
    }
}

/// Shorthand for the complex companion of a real scalar.
pub type C<T> = Complex<T>;
