//! Small enums that name elementwise maps and reductions, so that one backend method (one kernel
//! family on a device) serves each of them.

/// An elementwise map on a real buffer, applied in place: `x[i] <- f(x[i])`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unary {
    /// `|x|`
    Abs,
    /// `sqrt(x)`
    Sqrt,
    /// `exp(x)`
    Exp,
    /// `sin(x)` (radians)
    Sin,
    /// `cos(x)` (radians)
    Cos,
    /// `-x`
    Neg,
    /// `x * x`
    Square,
}

/// An elementwise binary operation `a[i] <- a[i] op b[i]` (or `a[i] op s` for a scalar).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Binary {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b`
    Div,
    /// `max(a, b)` (PyEPRI's `maximum`, used for positivity)
    Max,
    /// `min(a, b)`
    Min,
}

/// A reduction of a real buffer to one host scalar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reduce {
    /// `Σ x`
    Sum,
    /// `Σ x²`
    SumSq,
    /// `max x` (NaN if the buffer is empty)
    Max,
    /// `min x` (NaN if the buffer is empty)
    Min,
}

/// Which real quantity to take from a complex buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    /// Real part.
    Re,
    /// Imaginary part.
    Im,
    /// Modulus `|z|`.
    Abs,
}

/// Direction of a complex-to-complex FFT, numpy's "backward" normalisation: the forward
/// transform `X[k] = Σ x[n] e^{-2iπkn/N}` is unscaled, the inverse is scaled by `1/N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `e^{-2iπkn/N}`, unscaled.
    Forward,
    /// `e^{+2iπkn/N}`, scaled by `1/N` (product of the transformed sizes).
    Inverse,
}
