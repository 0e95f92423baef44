//! The generic conformance suite: every primitive of a [`Backend`] checked against a plain
//! ndarray (or direct-sum) computation, written once and instantiated per backend with
//! [`conformance_suite!`](crate::conformance_suite), so test paths read `cpu::fft::...`,
//! `opencl::nufft::...`, `cuda::...`, and listed by [`checks`] for `epri selftest`: both come
//! from the one list of [`conformance_list!`](crate::conformance_list).
//!
//! A backend whose constructor fails (no device) is reported as `skipped: <why>` unless the
//! environment variable `EPRI_REQUIRE_<NAME>=1` is set (CI sets `EPRI_REQUIRE_OPENCL=1`), in
//! which case the test fails.
//!
//! Every test is a generic `fn(&B)`; tests with a precision run in `f32`, then in `f64` when
//! [`Backend::supports_f64`] says so.

use crate::{Backend, Real, Result};
use ndarray::{ArrayD, IxDyn};

/// Runs `$f::<B, f32>(b)`, then `$f::<B, f64>(b)` if the backend computes in `f64`.
macro_rules! per_precision {
    ($f:ident, $b:expr) => {{
        $f::<B, f32>($b);
        if $b.supports_f64() {
            $f::<B, f64>($b);
        }
    }};
}

pub mod creation;
pub mod elementwise;
pub mod errors;
pub mod fbp;
pub mod fft;
pub mod index;
pub mod memory;
pub mod nufft;
pub mod reduce;
pub mod stencil;

/// Runs `f` on the backend made by `make`, or reports why it is skipped.
pub fn with_backend<B: Backend>(name: &str, make: impl FnOnce() -> Result<B>, f: impl FnOnce(&B)) {
    match make() {
        Ok(b) => f(&b),
        Err(e) => {
            let var = format!("EPRI_REQUIRE_{}", name.to_ascii_uppercase());
            if std::env::var(&var).is_ok_and(|v| v == "1") {
                panic!("{name} backend required ({var}=1) but unavailable: {e}");
            }
            // Written to the process's stderr directly, not through `println!`, which the test
            // harness captures for passing tests: the reason must show in the test output.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr().lock(),
                "skipped: {name} backend unavailable: {e}"
            );
        }
    }
}

/// Relative l2 error `‖a − b‖ / ‖b‖` of two real sequences (0 when both are zero).
pub fn rel_err<'a>(
    a: impl IntoIterator<Item = &'a f64>,
    b: impl IntoIterator<Item = &'a f64>,
) -> f64 {
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

/// Standard normal samples of the given shape, reproducible from `seed`.
pub fn host_randn<T: Real>(shape: &[usize], seed: u64) -> ArrayD<T> {
    crate::host::randn(shape, T::zero(), T::one(), seed).expect("unit normal law")
}

/// The elements of a real array as `f64`, row-major.
pub fn as_f64<T: Real>(a: &ArrayD<T>) -> Vec<f64> {
    a.iter().map(|v| v.f64()).collect()
}

/// Asserts `rel_err(got, want) <= tol`, naming the check in the failure message.
pub fn assert_rel(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    let e = rel_err(got, want);
    assert!(e <= tol, "{what}: relative l2 error {e:.3e} > {tol:.3e}");
}

/// An array from a shape and a function of the flat (row-major) position.
pub fn from_flat<T: Clone>(shape: &[usize], f: impl FnMut(usize) -> T) -> ArrayD<T> {
    let n = shape.iter().product();
    ArrayD::from_shape_vec(IxDyn(shape), (0..n).map(f).collect()).expect("length matches shape")
}

/// One check of the suite: its group (the submodule holding it), its name, and the generic test
/// function instantiated for `B`, which panics (`assert!`) on failure.
pub struct Check<B> {
    /// The group, e.g. `fft`.
    pub group: &'static str,
    /// The check's name in its group, e.g. `c2c_direct`.
    pub name: &'static str,
    /// Runs the check on a backend; a panic is a failure, its message the reason.
    pub run: fn(&B),
}

/// Every check of the suite for backend `B`, in the order of [`conformance_list!`](crate::conformance_list): what
/// `epri selftest` runs, the same list the `#[test]`s of
/// [`conformance_suite!`](crate::conformance_suite) are made from.
pub fn checks<B: Backend>() -> Vec<Check<B>> {
    crate::conformance_list!(@checks B)
}

/// The list of checks, written once: `group { check, ... }`, each `check` a generic `fn(&B)` in
/// the submodule `group` of this module. It hands the list to
/// [`conformance_suite!`](crate::conformance_suite) after the tokens it is given: `@tests name,
/// make` (the `#[test]`s of one backend) or `@checks B` (the [`Check`]s of [`checks`]).
/// To add a check or a group, add it here.
#[doc(hidden)]
#[macro_export]
macro_rules! conformance_list {
    ($($mode:tt)*) => {
        $crate::conformance_suite! { @expand $($mode)* ;
            memory {
                upload_download_roundtrip,
                zeros_fill_copy,
                wrong_shape_is_an_error,
                impossible_allocation_is_an_error,
            }
            creation {
                arange_linspace,
                meshgrid_xy,
                full_ones,
                rand_randn_seeded,
            }
            elementwise {
                unary_maps,
                binary_maps,
                binary_broadcast,
                scalar_maps,
                axpby_scale,
                cmul_broadcast_conj,
                complex_parts,
            }
            reduce {
                reductions,
                dot_sq_dist,
                empty_extremes_are_nan,
            }
            index {
                gather_scatter,
                embed_extract,
                roll_any_rank,
            }
            stencil {
                grad_direct,
                div_direct,
                grad_div_adjoint,
                tv_dual_step_direct,
                tv_primal_step_direct,
            }
            fft {
                c2c_direct,
                r2c_c2r_direct,
                large_prime_lengths,
                column_lengths,
                c2r_ignores_dc_nyquist_imag,
                rfft_dataset_sizes,
                real_row_groups,
                round_trip_2d_3d,
                c2c_pruned_direct,
                leading_axis_direct,
                real_leading_axis_direct,
                convolve_direct,
                convolve_matches_composed,
                convolve_matrix,
            }
            fbp {
                backproject_direct,
            }
            nufft {
                matches_direct_1d,
                matches_direct_2d,
                matches_direct_3d,
                adjoint_types,
                many_vectors,
                point_sets,
                zero_points,
                points_at_pi,
                one_mode,
                odd_and_even_grids,
                bad_input,
                real_modes_direct,
                real_modes_adjoint,
                real_modes_bad_input,
            }
            errors {
                shape_mismatches,
                invalid_arguments,
                f64_without_device_support,
            }
        }
    };
}

/// Instantiates the conformance suite for one backend: `conformance_suite!(cpu, || CpuBackend::new())`
/// creates `mod cpu { mod memory { #[test] fn ... } ... }`, one test per check of
/// [`conformance_list!`](crate::conformance_list).
#[macro_export]
macro_rules! conformance_suite {
    ($name:ident, $make:expr) => {
        $crate::conformance_list!(@tests $name, $make);
    };
    (@expand @tests $name:ident, $make:expr ; $($group:ident { $($test:ident),* $(,)? })*) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $(
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
            )*
        }
    };
    (@expand @checks $b:ident ; $($group:ident { $($test:ident),* $(,)? })*) => {
        vec![$($(
            $crate::conformance::Check::<$b> {
                group: stringify!($group),
                name: stringify!($test),
                run: $crate::conformance::$group::$test::<$b>,
            },
        )*)*]
    };
}
