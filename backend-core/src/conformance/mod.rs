//! The generic conformance suite: every primitive of a [`Backend`] checked against a plain
//! ndarray (or direct-sum) computation, written once and instantiated per backend with
//! [`conformance_suite!`](crate::conformance_suite), so test paths read `cpu::fft::...`,
//! `opencl::nufft::...`, `cuda::...`.
//!
//! A backend whose constructor fails (no device) is reported as `skipped: <why>` unless the
//! environment variable `EPRI_REQUIRE_<NAME>=1` is set (CI sets `EPRI_REQUIRE_OPENCL=1`), in
//! which case the test fails.

use crate::{Backend, Result};

pub mod memory;

/// Runs `f` on the backend made by `make`, or reports why it is skipped.
pub fn with_backend<B: Backend>(name: &str, make: impl FnOnce() -> Result<B>, f: impl FnOnce(&B)) {
    match make() {
        Ok(b) => f(&b),
        Err(e) => {
            let var = format!("EPRI_REQUIRE_{}", name.to_ascii_uppercase());
            if std::env::var(&var).is_ok_and(|v| v == "1") {
                panic!("{name} backend required ({var}=1) but unavailable: {e}");
            }
            println!("skipped: {name} backend unavailable: {e}");
        }
    }
}

/// Relative l2 error `‖a − b‖ / ‖b‖` of two real sequences (0 when both are zero).
pub fn rel_err<'a>(a: impl IntoIterator<Item = &'a f64>, b: impl IntoIterator<Item = &'a f64>) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for (x, y) in a.into_iter().zip(b) {
        num += (x - y) * (x - y);
        den += y * y;
    }
    if den == 0.0 {
        num.sqrt()
    } else {
        (num / den).sqrt()
    }
}

/// Instantiates the conformance suite for one backend: `conformance_suite!(cpu, || Ok(CpuBackend::new()))`
/// creates `mod cpu { mod memory { #[test] fn ... } ... }`.
///
/// Each listed test function is generic `fn(&B)` in a submodule of this module, run in `f32`
/// and `f64` where it takes a precision parameter.
#[macro_export]
macro_rules! conformance_suite {
    ($name:ident, $make:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $crate::conformance_suite!(@group $name, $make, memory {
                upload_download_roundtrip,
                zeros_fill_copy,
                wrong_shape_is_an_error,
            });
        }
    };
    (@group $name:ident, $make:expr, $group:ident { $($test:ident),* $(,)? }) => {
        mod $group {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $test() {
                    $crate::conformance::with_backend(stringify!($name), $make, |b| {
                        $crate::conformance::$group::$test(b)
                    });
                }
            )*
        }
    };
}
