//! Elementwise maps against ndarray, on a small and a large (parallel-path) length.

use super::{as_f64, assert_rel, from_flat, host_randn};
use crate::{Backend, Binary, Part, Real, Unary, C};
use ndarray::ArrayD;

/// A real function of one real variable.
type F1 = fn(f64) -> f64;
/// A real function of two real variables.
type F2 = fn(f64, f64) -> f64;
/// A real part of a complex number.
type Fz<T> = fn(C<T>) -> T;

/// Lengths exercised: small (serial paths) and above typical parallel thresholds.
const LENS: [usize; 2] = [37, 70_001];

fn tol<T: Real>() -> f64 {
    4.0 * T::EPS.f64()
}

/// A positive array (for sqrt) of length `n`.
fn positive<T: Real>(n: usize, seed: u64) -> ArrayD<T> {
    host_randn::<T>(&[n], seed).mapv(|v| v.abs() + T::of(0.1))
}

fn unary_maps_t<B: Backend, T: Real>(b: &B) {
    let ops: [(Unary, F1); 7] = [
        (Unary::Abs, f64::abs),
        (Unary::Sqrt, f64::sqrt),
        (Unary::Exp, f64::exp),
        (Unary::Sin, f64::sin),
        (Unary::Cos, f64::cos),
        (Unary::Neg, |x| -x),
        (Unary::Square, |x| x * x),
    ];
    for n in LENS {
        for (op, f) in ops {
            let x = if op == Unary::Sqrt {
                positive::<T>(n, 1)
            } else {
                host_randn::<T>(&[n], 1)
            };
            let mut d = b.upload(x.view()).unwrap();
            b.map(op, &mut d).unwrap();
            let want: Vec<f64> = x.iter().map(|v| f(v.f64())).collect();
            assert_rel(
                &format!("{op:?} n={n}"),
                &as_f64(&b.download(&d).unwrap()),
                &want,
                tol::<T>(),
            );
        }
    }
}

/// Every `Unary` op against its `f64` value.
pub fn unary_maps<B: Backend>(b: &B) {
    per_precision!(unary_maps_t, b);
}

fn binary_fns() -> [(Binary, F2); 6] {
    [
        (Binary::Add, |a, b| a + b),
        (Binary::Sub, |a, b| a - b),
        (Binary::Mul, |a, b| a * b),
        (Binary::Div, |a, b| a / b),
        (Binary::Max, f64::max),
        (Binary::Min, f64::min),
    ]
}

fn binary_maps_t<B: Backend, T: Real>(b: &B) {
    for n in LENS {
        let x = host_randn::<T>(&[n], 2);
        let y = positive::<T>(n, 3);
        for (op, f) in binary_fns() {
            let mut a = b.upload(x.view()).unwrap();
            b.zip(op, &mut a, &b.upload(y.view()).unwrap()).unwrap();
            let want: Vec<f64> = x.iter().zip(&y).map(|(u, v)| f(u.f64(), v.f64())).collect();
            assert_rel(
                &format!("{op:?} n={n}"),
                &as_f64(&b.download(&a).unwrap()),
                &want,
                tol::<T>(),
            );
        }
    }
}

/// Every `Binary` op on two buffers of the same length.
pub fn binary_maps<B: Backend>(b: &B) {
    per_precision!(binary_maps_t, b);
}

fn binary_broadcast_t<B: Backend, T: Real>(b: &B) {
    // (rows, block): a of shape (rows, block), b of shape (block,) repeated on every row.
    for (rows, block) in [(5, 7), (300, 257), (70_000, 1)] {
        let x = host_randn::<T>(&[rows, block], 4);
        let y = positive::<T>(block, 5);
        for (op, f) in binary_fns() {
            let mut a = b.upload(x.view()).unwrap();
            b.zip(op, &mut a, &b.upload(y.view()).unwrap()).unwrap();
            let want: Vec<f64> = x
                .iter()
                .enumerate()
                .map(|(i, u)| f(u.f64(), y[i % block].f64()))
                .collect();
            assert_rel(
                &format!("{op:?} broadcast {rows}x{block}"),
                &as_f64(&b.download(&a).unwrap()),
                &want,
                tol::<T>(),
            );
        }
    }
}

/// `zip` with a `b` whose length divides `a`'s (repeated along the leading axes).
pub fn binary_broadcast<B: Backend>(b: &B) {
    per_precision!(binary_broadcast_t, b);
}

fn scalar_maps_t<B: Backend, T: Real>(b: &B) {
    for n in LENS {
        let x = host_randn::<T>(&[n], 6);
        let s = 0.375;
        for (op, f) in binary_fns() {
            let mut a = b.upload(x.view()).unwrap();
            b.zip_scalar(op, &mut a, T::of(s)).unwrap();
            let want: Vec<f64> = x.iter().map(|u| f(u.f64(), s)).collect();
            assert_rel(
                &format!("{op:?} scalar n={n}"),
                &as_f64(&b.download(&a).unwrap()),
                &want,
                tol::<T>(),
            );
        }
    }
}

/// `zip_scalar` for every `Binary` op.
pub fn scalar_maps<B: Backend>(b: &B) {
    per_precision!(scalar_maps_t, b);
}

/// Interleaved `(re, im)` of a complex array as `f64`.
fn c_f64<T: Real>(a: &ArrayD<C<T>>) -> Vec<f64> {
    a.iter().flat_map(|z| [z.re.f64(), z.im.f64()]).collect()
}

/// A random complex array.
fn crandn<T: Real>(shape: &[usize], seed: u64) -> ArrayD<C<T>> {
    let re = host_randn::<T>(shape, seed);
    let im = host_randn::<T>(shape, seed + 1000);
    let (re, im) = (re.as_slice().unwrap(), im.as_slice().unwrap());
    from_flat(shape, |i| C::new(re[i], im[i]))
}

fn axpby_scale_t<B: Backend, T: Real>(b: &B) {
    for n in LENS {
        let (alpha, beta) = (1.5, -0.25);
        let x = host_randn::<T>(&[n], 7);
        let y = host_randn::<T>(&[n], 8);
        let mut d = b.upload(y.view()).unwrap();
        b.axpby(
            T::of(alpha),
            &b.upload(x.view()).unwrap(),
            T::of(beta),
            &mut d,
        )
        .unwrap();
        let want: Vec<f64> = x
            .iter()
            .zip(&y)
            .map(|(x, y)| alpha * x.f64() + beta * y.f64())
            .collect();
        assert_rel(
            "real axpby",
            &as_f64(&b.download(&d).unwrap()),
            &want,
            tol::<T>(),
        );
        b.scale(&mut d, T::of(-2.0)).unwrap();
        let want: Vec<f64> = want.iter().map(|v| -2.0 * v).collect();
        assert_rel(
            "real scale",
            &as_f64(&b.download(&d).unwrap()),
            &want,
            tol::<T>(),
        );

        let (ca, cb) = (
            C::new(T::of(0.5), T::of(-1.0)),
            C::new(T::of(2.0), T::of(0.25)),
        );
        let zx = crandn::<T>(&[n], 9);
        let zy = crandn::<T>(&[n], 10);
        let mut d = b.upload(zy.view()).unwrap();
        b.axpby(ca, &b.upload(zx.view()).unwrap(), cb, &mut d)
            .unwrap();
        let want = ndarray::Zip::from(&zx)
            .and(&zy)
            .map_collect(|x, y| ca * x + cb * y);
        assert_rel(
            "complex axpby",
            &c_f64(&b.download(&d).unwrap()),
            &c_f64(&want),
            tol::<T>(),
        );
        b.scale(&mut d, ca).unwrap();
        let want = want.mapv(|v| v * ca);
        assert_rel(
            "complex scale",
            &c_f64(&b.download(&d).unwrap()),
            &c_f64(&want),
            tol::<T>(),
        );
    }
}

/// `axpby` and `scale`, real and complex.
pub fn axpby_scale<B: Backend>(b: &B) {
    per_precision!(axpby_scale_t, b);
}

fn cmul_broadcast_conj_t<B: Backend, T: Real>(b: &B) {
    for (rows, block) in [(1, 33), (9, 33), (100, 1001)] {
        let za = crandn::<T>(&[rows, block], 11);
        let zb = crandn::<T>(&[block], 12);
        for conj_b in [false, true] {
            let mut d = b.upload(za.view()).unwrap();
            b.cmul(&mut d, &b.upload(zb.view()).unwrap(), conj_b)
                .unwrap();
            let want = from_flat(&[rows, block], |i| {
                let y = zb[i % block];
                za.as_slice().unwrap()[i] * if conj_b { y.conj() } else { y }
            });
            assert_rel(
                &format!("cmul {rows}x{block} conj={conj_b}"),
                &c_f64(&b.download(&d).unwrap()),
                &c_f64(&want),
                tol::<T>(),
            );
        }
    }
}

/// `cmul` with `b` repeated on every row, with and without conjugation.
pub fn cmul_broadcast_conj<B: Backend>(b: &B) {
    per_precision!(cmul_broadcast_conj_t, b);
}

fn complex_parts_t<B: Backend, T: Real>(b: &B) {
    for n in LENS {
        let z = crandn::<T>(&[n], 13);
        let dz = b.upload(z.view()).unwrap();
        let mut out = b.zeros::<T>(&[n]).unwrap();
        let parts: [(Part, Fz<T>); 3] = [
            (Part::Re, |z| z.re),
            (Part::Im, |z| z.im),
            (Part::Abs, |z| z.norm()),
        ];
        for (part, f) in parts {
            b.complex_part(&dz, part, &mut out).unwrap();
            let want: Vec<f64> = z.iter().map(|v| f(*v).f64()).collect();
            assert_rel(
                &format!("{part:?}"),
                &as_f64(&b.download(&out).unwrap()),
                &want,
                tol::<T>(),
            );
        }
        let mut c = b.duplicate(&dz).unwrap();
        b.conj(&mut c).unwrap();
        assert_eq!(b.download(&c).unwrap(), z.mapv(|v| v.conj()), "conj");
        let x = host_randn::<T>(&[n], 14);
        b.to_complex(&b.upload(x.view()).unwrap(), &mut c).unwrap();
        assert_eq!(
            b.download(&c).unwrap(),
            x.mapv(|v| C::new(v, T::zero())),
            "to_complex"
        );
    }
}

/// `complex_part` (Re, Im, Abs), `conj`, `to_complex`.
pub fn complex_parts<B: Backend>(b: &B) {
    per_precision!(complex_parts_t, b);
}
