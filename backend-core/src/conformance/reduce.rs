//! Reductions against `f64` host sums, with the pairwise-summation error bound
//! `|s − ŝ| ≤ c·eps·log2(n)·Σ|terms|`.

use super::host_randn;
use crate::{Backend, Real, Reduce};

/// Bound on the error of a sum of `n` terms whose absolute values sum to `abs_sum`.
fn sum_tol<T: Real>(n: usize, abs_sum: f64) -> f64 {
    4.0 * T::EPS.f64() * ((n as f64).log2() + 2.0) * abs_sum
}

fn check_sum<T: Real>(what: &str, got: T, terms: impl Iterator<Item = f64>) {
    let (mut s, mut a, mut n) = (0.0, 0.0, 0);
    for t in terms {
        s += t;
        a += t.abs();
        n += 1;
    }
    let tol = sum_tol::<T>(n, a);
    assert!(
        (got.f64() - s).abs() <= tol,
        "{what}: {got} vs {s} (tolerance {tol:.3e})"
    );
}

fn reductions_t<B: Backend, T: Real>(b: &B) {
    for n in [1, 31, 1000, 300_007] {
        let x = host_randn::<T>(&[n], 20).mapv(|v| v + T::of(0.3));
        let d = b.upload(x.view()).unwrap();
        let v: Vec<f64> = x.iter().map(|v| v.f64()).collect();
        check_sum(
            &format!("sum n={n}"),
            b.reduce(Reduce::Sum, &d).unwrap(),
            v.iter().copied(),
        );
        check_sum(
            &format!("sumsq n={n}"),
            b.reduce(Reduce::SumSq, &d).unwrap(),
            v.iter().map(|v| v * v),
        );
        let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        assert_eq!(b.reduce(Reduce::Max, &d).unwrap().f64(), max, "max n={n}");
        assert_eq!(b.reduce(Reduce::Min, &d).unwrap().f64(), min, "min n={n}");
    }
}

/// Sum, sum of squares, max, min on lengths 1 to 300007.
pub fn reductions<B: Backend>(b: &B) {
    per_precision!(reductions_t, b);
}

fn dot_sq_dist_t<B: Backend, T: Real>(b: &B) {
    for n in [3, 4097, 200_001] {
        let x = host_randn::<T>(&[n], 21);
        let y = host_randn::<T>(&[n], 22);
        let (dx, dy) = (b.upload(x.view()).unwrap(), b.upload(y.view()).unwrap());
        check_sum(
            "dot",
            b.dot(&dx, &dy).unwrap(),
            x.iter().zip(&y).map(|(a, b)| a.f64() * b.f64()),
        );
        check_sum(
            "sq_dist",
            b.sq_dist(&dx, &dy).unwrap(),
            x.iter().zip(&y).map(|(a, b)| (a.f64() - b.f64()).powi(2)),
        );
    }
}

/// `dot` and `sq_dist`.
pub fn dot_sq_dist<B: Backend>(b: &B) {
    per_precision!(dot_sq_dist_t, b);
}

fn empty_extremes_are_nan_t<B: Backend, T: Real>(b: &B) {
    let e = b.zeros::<T>(&[0]).unwrap();
    assert!(b.reduce(Reduce::Max, &e).unwrap().is_nan());
    assert!(b.reduce(Reduce::Min, &e).unwrap().is_nan());
    assert_eq!(b.reduce(Reduce::Sum, &e).unwrap(), T::zero());
}

/// Max and min of an empty buffer are NaN, its sum is 0.
pub fn empty_extremes_are_nan<B: Backend>(b: &B) {
    per_precision!(empty_extremes_are_nan_t, b);
}
