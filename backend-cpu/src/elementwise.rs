//! Elementwise maps on slices, in parallel above [`crate::par::PAR_MIN`] elements.

use crate::par::{for_each, zip_each, PAR_CHUNK, PAR_MIN};
use backend_core::{Binary, Field, Part, Real, Unary, C};
use rayon::prelude::*;

/// `x[i] <- op(x[i])`.
pub fn map<T: Real>(op: Unary, x: &mut [T]) {
    match op {
        Unary::Abs => for_each(x, |v| *v = v.abs()),
        Unary::Sqrt => for_each(x, |v| *v = v.sqrt()),
        Unary::Exp => for_each(x, |v| *v = v.exp()),
        Unary::Sin => for_each(x, |v| *v = v.sin()),
        Unary::Cos => for_each(x, |v| *v = v.cos()),
        Unary::Neg => for_each(x, |v| *v = -*v),
        Unary::Square => for_each(x, |v| *v = *v * *v),
    }
}

/// `$body` with `$f` bound to the scalar function of the binary operation `$op` on `$t`: one
/// copy of `$body` per operation, so that its loops inline the operation and vectorise (a
/// function pointer would be called once per element).
macro_rules! with_binary {
    ($op:expr, $t:ty, |$f:ident| $body:expr) => {
        match $op {
            Binary::Add => {
                let $f = |a: $t, b: $t| a + b;
                $body
            }
            Binary::Sub => {
                let $f = |a: $t, b: $t| a - b;
                $body
            }
            Binary::Mul => {
                let $f = |a: $t, b: $t| a * b;
                $body
            }
            Binary::Div => {
                let $f = |a: $t, b: $t| a / b;
                $body
            }
            Binary::Max => {
                let $f = |a: $t, b: $t| a.max(b);
                $body
            }
            Binary::Min => {
                let $f = |a: $t, b: $t| a.min(b);
                $body
            }
        }
    };
}

/// `a[i] <- f(a[i], b[i % b.len()])`; `b.len()` divides `a.len()` (checked by the caller).
pub fn broadcast<E: Send + Sync + Copy, F: Sync>(
    a: &mut [E],
    b: &[F],
    f: impl Fn(&mut E, &F) + Sync,
) {
    if a.len() == b.len() {
        zip_each(a, b, f);
    } else if a.len() < PAR_MIN {
        a.chunks_mut(b.len())
            .for_each(|row| row.iter_mut().zip(b).for_each(|(x, y)| f(x, y)));
    } else {
        let rows_per_task = PAR_CHUNK.div_ceil(b.len());
        a.par_chunks_mut(rows_per_task * b.len()).for_each(|rows| {
            rows.chunks_mut(b.len())
                .for_each(|row| row.iter_mut().zip(b).for_each(|(x, y)| f(x, y)))
        });
    }
}

/// `a[i] <- a[i] op b[i % b.len()]`.
pub fn zip<T: Real>(op: Binary, a: &mut [T], b: &[T]) {
    with_binary!(op, T, |f| broadcast(a, b, |x, y| *x = f(*x, *y)))
}

/// `a[i] <- a[i] op s`.
pub fn zip_scalar<T: Real>(op: Binary, a: &mut [T], s: T) {
    with_binary!(op, T, |f| for_each(a, |x| *x = f(*x, s)))
}

/// `y <- alpha x + beta y`.
pub fn axpby<E: Field>(alpha: E, x: &[E], beta: E, y: &mut [E]) {
    zip_each(y, x, |y, x| *y = alpha * *x + beta * *y);
}

/// `x <- alpha x`.
pub fn scale<E: Field>(x: &mut [E], alpha: E) {
    for_each(x, |v| *v *= alpha);
}

/// `a[i] <- a[i] · b[i % b.len()]` or `a[i] · conj(b[..])`.
pub fn cmul<T: Real>(a: &mut [C<T>], b: &[C<T>], conj_b: bool) {
    if conj_b {
        broadcast(a, b, |x, y| *x *= y.conj());
    } else {
        broadcast(a, b, |x, y| *x *= *y);
    }
}

/// `z <- conj(z)`.
pub fn conj<T: Real>(z: &mut [C<T>]) {
    for_each(z, |v| v.im = -v.im);
}

/// `out[i] <- x[i] + 0i`.
pub fn to_complex<T: Real>(x: &[T], out: &mut [C<T>]) {
    zip_each(out, x, |o, v| *o = C::new(*v, T::zero()));
}

/// `out[i] <- Re, Im or |z[i]|`.
pub fn complex_part<T: Real>(z: &[C<T>], part: Part, out: &mut [T]) {
    match part {
        Part::Re => zip_each(out, z, |o, v| *o = v.re),
        Part::Im => zip_each(out, z, |o, v| *o = v.im),
        Part::Abs => zip_each(out, z, |o, v| *o = v.norm()),
    }
}
