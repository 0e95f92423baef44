//! Reductions to one host scalar: blocked sums accumulated in `f64` (each block summed
//! sequentially, in parallel; the block sums then added in block order, so that a sum does not
//! depend on how rayon split the work: the same input gives the same bits on every run), max
//! and min.

use crate::par::{PAR_CHUNK, PAR_MIN};
use backend_core::{Real, Reduce};
use rayon::prelude::*;

/// `Σ_i term(i)` accumulated in `f64`, over `0..n`, in parallel above [`PAR_MIN`].
fn sum_f64(n: usize, term: impl Fn(usize) -> f64 + Sync) -> f64 {
    let block = |lo: usize, hi: usize| (lo..hi).map(&term).sum::<f64>();
    if n < PAR_MIN {
        block(0, n)
    } else {
        let blocks: Vec<f64> = (0..n.div_ceil(PAR_CHUNK))
            .into_par_iter()
            .map(|c| block(c * PAR_CHUNK, ((c + 1) * PAR_CHUNK).min(n)))
            .collect();
        blocks.iter().sum()
    }
}

/// The extreme value under `pick` (NaN for an empty slice; NaN entries are skipped).
fn extreme<T: Real>(x: &[T], pick: fn(T, T) -> T) -> T {
    let fold = |c: &[T]| c.iter().copied().fold(T::nan(), pick);
    if x.len() < PAR_MIN {
        fold(x)
    } else {
        x.par_chunks(PAR_CHUNK).map(fold).reduce(T::nan, pick)
    }
}

/// Sum, sum of squares, max or min.
pub fn reduce<T: Real>(op: Reduce, x: &[T]) -> T {
    match op {
        Reduce::Sum => T::of(sum_f64(x.len(), |i| x[i].f64())),
        Reduce::SumSq => T::of(sum_f64(x.len(), |i| x[i].f64() * x[i].f64())),
        Reduce::Max => extreme(x, T::max),
        Reduce::Min => extreme(x, T::min),
    }
}

/// `Σ a[i] b[i]` (same lengths, checked by the caller).
pub fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    T::of(sum_f64(a.len(), |i| a[i].f64() * b[i].f64()))
}

/// `Σ (a[i] - b[i])²`.
pub fn sq_dist<T: Real>(a: &[T], b: &[T]) -> T {
    T::of(sum_f64(a.len(), |i| {
        let d = a[i].f64() - b[i].f64();
        d * d
    }))
}
