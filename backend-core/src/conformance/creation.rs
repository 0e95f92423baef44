//! Creation helpers: `arange`, `linspace`, `meshgrid`, `full`, `ones`, seeded `rand`/`randn`.

use super::as_f64;
use crate::{Backend, DeviceBuffer, Real};
use ndarray::{Array1, ArrayD, IxDyn};

fn arange_linspace_t<B: Backend, T: Real>(b: &B) {
    for (start, stop, step) in [
        (0.0, 10.0, 1.0),
        (-2.5, 3.0, 0.5),
        (5.0, -1.0, -0.75),
        (0.0, 1.0, 0.3),
    ] {
        let got = b
            .download(&b.arange(T::of(start), T::of(stop), T::of(step)).unwrap())
            .unwrap();
        let want = Array1::range(start, stop, step);
        assert_eq!(
            got.len(),
            want.len(),
            "arange({start}, {stop}, {step}) length"
        );
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (g.f64() - w).abs() <= 4.0 * T::EPS.f64() * w.abs().max(1.0),
                "arange {g} vs {w}"
            );
        }
    }
    for n in [0, 1, 2, 7, 100] {
        let got = b
            .download(&b.linspace(T::of(-1.5), T::of(2.0), n).unwrap())
            .unwrap();
        let want = Array1::linspace(-1.5, 2.0, n);
        assert_eq!(got.len(), n);
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (g.f64() - w).abs() <= 4.0 * T::EPS.f64() * 2.0,
                "linspace {g} vs {w}"
            );
        }
        if n > 1 {
            assert_eq!(got[n - 1], T::of(2.0), "linspace ends exactly at stop");
        }
    }
}

/// `arange` and `linspace` against ndarray's `range` and `linspace`.
pub fn arange_linspace<B: Backend>(b: &B) {
    per_precision!(arange_linspace_t, b);
}

fn meshgrid_xy_t<B: Backend, T: Real>(b: &B) {
    let axes: Vec<Array1<T>> = [3usize, 4, 5]
        .iter()
        .enumerate()
        .map(|(a, &n)| {
            Array1::from_iter((0..n).map(|i| T::of(10f64.powi(a as i32) * i as f64 - 1.0)))
        })
        .collect();
    for d in 1..=3 {
        let views: Vec<_> = axes[..d].iter().map(|a| a.view()).collect();
        let got = b.meshgrid(&views).unwrap();
        assert_eq!(got.len(), d);
        // numpy 'xy': output shape (len(x1), len(x0), len(x2)); output[i][j, k, l] = x_i[...].
        let mut shape: Vec<usize> = axes[..d].iter().map(|a| a.len()).collect();
        if d >= 2 {
            shape.swap(0, 1);
        }
        for (i, g) in got.iter().enumerate() {
            assert_eq!(g.shape(), shape.as_slice(), "meshgrid output {i} shape");
            let want = ArrayD::from_shape_fn(IxDyn(&shape), |ix| {
                let pos = match (d, i) {
                    (1, _) => ix[0],
                    (_, 0) => ix[1],
                    (_, 1) => ix[0],
                    _ => ix[i],
                };
                axes[i][pos]
            });
            assert_eq!(b.download(g).unwrap(), want, "meshgrid output {i} of {d}");
        }
    }
}

/// `meshgrid` against numpy's `indexing='xy'` definition, 1 to 3 inputs.
pub fn meshgrid_xy<B: Backend>(b: &B) {
    per_precision!(meshgrid_xy_t, b);
}

fn full_ones_t<B: Backend, T: Real>(b: &B) {
    let x = b.full(&[4, 5, 6], T::of(-3.25)).unwrap();
    assert!(b.download(&x).unwrap().iter().all(|v| *v == T::of(-3.25)));
    let o = b.ones::<T>(&[70_001]).unwrap();
    assert_eq!(o.len(), 70_001);
    assert!(b.download(&o).unwrap().iter().all(|v| *v == T::one()));
}

/// `full` and `ones`, small and large (parallel path).
pub fn full_ones<B: Backend>(b: &B) {
    per_precision!(full_ones_t, b);
}

fn rand_randn_seeded_t<B: Backend, T: Real>(b: &B) {
    let n = 20_000;
    let u1 = as_f64(&b.download(&b.rand::<T>(&[n], 3).unwrap()).unwrap());
    let u2 = as_f64(&b.download(&b.rand::<T>(&[n], 3).unwrap()).unwrap());
    let u3 = as_f64(&b.download(&b.rand::<T>(&[n], 4).unwrap()).unwrap());
    assert_eq!(u1, u2, "same seed, same samples");
    assert_ne!(u1, u3, "different seeds, different samples");
    assert!(u1.iter().all(|v| (0.0..1.0).contains(v)));
    let mean = u1.iter().sum::<f64>() / n as f64;
    assert!((mean - 0.5).abs() < 0.02, "uniform mean {mean}");
    let g = as_f64(
        &b.download(&b.randn::<T>(&[n], T::of(2.0), T::of(3.0), 9).unwrap())
            .unwrap(),
    );
    let mean = g.iter().sum::<f64>() / n as f64;
    let var = g.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64;
    assert!(
        (mean - 2.0).abs() < 0.1 && (var.sqrt() - 3.0).abs() < 0.1,
        "normal {mean} {var}"
    );
}

/// `rand`/`randn`: reproducible from the seed, with the right law.
pub fn rand_randn_seeded<B: Backend>(b: &B) {
    per_precision!(rand_randn_seeded_t, b);
}
