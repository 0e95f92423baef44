//! Helpers shared by the operator tests: test-data loading, error measures, small geometries,
//! and the macro that instantiates the generic tests once per backend.
#![allow(dead_code)]

use backend_core::{Backend, Real};
use epri_ops::Geometry;
use ndarray::{Array1, Array2, ArrayD};
use ndarray_npy::{ReadNpyExt, ReadableElement};
use std::path::PathBuf;

/// `epri-ops/tests/data/<case>/<name>.npy`.
pub fn load<A: ReadNpyExt>(case: &str, name: &str) -> A {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "data", case, name]
        .iter()
        .collect();
    let f = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    A::read_npy(f).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `datasets/<dataset>/<name>.npy` of the repository (a float32 array, as the datasets store
/// them), converted to `T`. Several reference cases take their geometry and measured sinogram
/// from the dataset instead of a copy of their own.
pub fn load_dataset<T: Real>(dataset: &str, name: &str) -> ArrayD<T> {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "datasets",
        dataset,
        &format!("{name}.npy"),
    ]
    .iter()
    .collect();
    let f = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let a = ArrayD::<f32>::read_npy(f).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    a.mapv(|v| T::of(v as f64))
}

/// A reference array stored in float64, converted to `T` (the float32 cases share the float64
/// inputs of their float64 twin).
pub fn loadd_as<T: Real>(case: &str, name: &str) -> ArrayD<T> {
    loadd::<f64>(case, name).mapv(T::of)
}

/// A 1D array of the reference data.
pub fn load1<T: ReadableElement>(case: &str, name: &str) -> Array1<T> {
    load(case, &format!("{name}.npy"))
}

/// A 2D array of the reference data.
pub fn load2<T: ReadableElement>(case: &str, name: &str) -> Array2<T> {
    load(case, &format!("{name}.npy"))
}

/// An array of any dimension of the reference data.
pub fn loadd<T: ReadableElement>(case: &str, name: &str) -> ArrayD<T> {
    load(case, &format!("{name}.npy"))
}

/// Relative l2 error `‖a − b‖ / ‖b‖`, accumulated in f64.
pub fn rel_err<T: Real>(a: &ArrayD<T>, b: &ArrayD<T>) -> f64 {
    assert_eq!(a.shape(), b.shape(), "shapes differ");
    let (mut num, mut den) = (0.0, 0.0);
    for (x, y) in a.iter().zip(b.iter()) {
        let (x, y) = (x.f64(), y.f64());
        num += (x - y) * (x - y);
        den += y * y;
    }
    (num / den).sqrt()
}

/// `Σ a b` in f64.
pub fn dot<T: Real>(a: &ArrayD<T>, b: &ArrayD<T>) -> f64 {
    a.iter().zip(b.iter()).map(|(x, y)| x.f64() * y.f64()).sum()
}

/// A derivative-of-Gaussian lineshape on `b` centred at `b0`, width `sig` (G).
pub fn dgauss<T: Real>(b: &Array1<f64>, b0: f64, sig: f64) -> Array1<T> {
    b.mapv(|x| T::of(-(x - b0) / sig.powi(3) * (-(x - b0).powi(2) / (2.0 * sig * sig)).exp()))
}

/// A small random-direction geometry: `Nb` samples of step `db` from 350 G, `p` gradients of
/// magnitude up to `mu` G/cm in `dim` dimensions (deterministic), pixel size `delta`.
pub fn small_geometry<T: Real>(
    dim: usize,
    nb: usize,
    p: usize,
    mu: f64,
    delta: f64,
) -> (Geometry<T>, Array1<T>) {
    let db = 0.1;
    let b64 = Array1::from_iter((0..nb).map(|i| 350.0 + db * i as f64));
    let golden = std::f64::consts::PI * (3.0 - 5f64.sqrt());
    let fgrad = Array2::from_shape_fn((dim, p), |(a, k)| {
        let t = k as f64 + 0.5;
        let m = mu * (0.6 + 0.4 * ((k * 7) % 5) as f64 / 4.0);
        if dim == 2 {
            let th = golden * t;
            m * if a == 0 { th.cos() } else { th.sin() }
        } else {
            let z = 1.0 - 2.0 * t / p as f64;
            let r = (1.0 - z * z).sqrt();
            let ph = golden * t;
            m * [r * ph.cos(), r * ph.sin(), z][a]
        }
    });
    let b = b64.mapv(T::of);
    let g = Geometry::new(b.view(), T::of(delta), fgrad.mapv(T::of).view()).unwrap();
    let h = dgauss::<T>(&b64, 350.0 + db * nb as f64 / 2.0, 0.4);
    (g, h)
}

/// Random image (uniform in [0, 1)) on the host, seeded.
pub fn random<B: Backend, T: Real>(b: &B, shape: &[usize], seed: u64) -> ArrayD<T> {
    b.download(&b.rand::<T>(shape, seed).unwrap()).unwrap()
}

/// Instantiates the generic operator tests for one backend, so that test paths read
/// `cpu::proj2d::adjointness`: `backend_tests!(cpu, || CpuBackend::new(), { proj2d { a, b }, ... })`
/// calls `generic::proj2d::a(&backend)` inside `backend_core::conformance::with_backend` (a
/// backend that cannot start is reported as skipped unless `EPRI_REQUIRE_<NAME>=1`).
#[macro_export]
macro_rules! backend_tests {
    ($name:ident, $make:expr, { $($group:ident { $($test:ident),* $(,)? }),* $(,)? }) => {
        mod $name {
            $(
                mod $group {
                    $(
                        #[test]
                        fn $test() {
                            backend_core::conformance::with_backend(stringify!($name), $make, |b| {
                                $crate::generic::$group::$test(b)
                            });
                        }
                    )*
                }
            )*
        }
    };
}
