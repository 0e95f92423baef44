//! The CPU NUFFT stages (setpts, spread, interp, deconvolve, precompensate), called by the
//! `Backend` impl with plain slices; FINUFFT's method (Barnett, Magland & af Klinteberg 2019).
//!
//! * `points`: fold the points into the fine grid, sort them by bin, cut subproblems;
//! * `horner`: the ES kernel as per-cell polynomials, evaluated with SIMD-wide Horner;
//! * `spread` / `interp`: subproblem boxes, spread into or gathered from the periodic grid;
//! * `deconvolve`: mode grid <-> fine grid with the kernel's correction factors.
//!
//! The hot loops are compiled for AVX-512, AVX2+FMA and baseline x86-64, chosen at run time.

mod deconvolve;
mod horner;
mod interp;
mod points;
mod spread;
mod subgrid;

pub use points::CpuPoints;

use crate::fft::CpuFftPlan;
use backend_core::nufft::SpreadParams;
use backend_core::{check, Real, Result, C};
use ndarray::ArrayView1;

/// Folds the points into the fine grid, sorts them by bin and fits the kernel's Horner form.
/// `coords[a][m]` is the coordinate (radians) of point `m` along grid axis `a`.
pub(crate) fn setpts<T: Real>(
    coords: &[ArrayView1<'_, T>],
    params: &SpreadParams,
) -> Result<CpuPoints<T>> {
    points::prepare(coords, params)
}

/// Which fine grid a spreading or interpolation works on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Grid {
    /// The whole fine grid, shape `(n_trans, fine...)`.
    Full,
    /// The half spectrum of a Hermitian fine grid, shape `(n_trans, fine[..d−1], fine[d−1]/2 +
    /// 1)`: the cells past `fine[d−1]/2` along the last axis are the conjugates of their mirrors
    /// (see [`backend_core::Backend::nufft_interp_half`]).
    Half,
}

impl Grid {
    /// The operation's name in errors and the argument check of `grid`.
    fn check(self, full: &'static str, half: &'static str) -> (&'static str, CheckPoints) {
        match self {
            Grid::Full => (full, check::nufft_points),
            Grid::Half => (half, check::nufft_points_half),
        }
    }
}

/// The signature of `check::nufft_points` and `check::nufft_points_half`.
type CheckPoints = fn(&str, &SpreadParams, usize, &SpreadParams, &[usize], &[usize]) -> Result<()>;

/// Type-1 spreading: `fine` (laid out as `grid` says) `<- Σ_m c[t, m] φ(grid − x_m)`; on the half
/// spectrum, the cells past the middle are added conjugated to their mirrors (see
/// [`backend_core::Backend::nufft_spread_half`]).
pub(crate) fn spread<T: Real>(
    pts: &CpuPoints<T>,
    params: &SpreadParams,
    c: &[C<T>],
    grid: Grid,
    fine: &mut [C<T>],
) -> Result<()> {
    let (op, check) = grid.check("nufft_spread", "nufft_spread_half");
    check(
        op,
        &pts.params,
        pts.len(),
        params,
        &[c.len()],
        &[fine.len()],
    )?;
    spread::spread(pts, c, grid == Grid::Half, fine);
    Ok(())
}

/// The real part of type 1 from the half spectrum (see
/// [`backend_core::Backend::nufft_c2r_deconvolve`]).
pub(crate) fn c2r_deconvolve<T: Real>(
    params: &SpreadParams,
    factors: &[T],
    plan: &CpuFftPlan<T>,
    half: &mut [C<T>],
    modes: &mut [T],
) -> Result<()> {
    check::nufft_correct_half(
        "nufft_c2r_deconvolve",
        params,
        &[factors.len()],
        plan.spec(),
        &[modes.len()],
        &[half.len()],
    )?;
    deconvolve::c2r_deconvolve(params, factors, plan, half, modes)
}

/// Type-2 interpolation: `c[t, m] <- Σ_grid fine[t, grid] φ(grid − x_m)`, `fine` laid out as
/// `grid` says (see [`backend_core::Backend::nufft_interp_half`] for the half spectrum).
pub(crate) fn interp<T: Real>(
    pts: &CpuPoints<T>,
    params: &SpreadParams,
    fine: &[C<T>],
    grid: Grid,
    c: &mut [C<T>],
) -> Result<()> {
    let (op, check) = grid.check("nufft_interp", "nufft_interp_half");
    check(
        op,
        &pts.params,
        pts.len(),
        params,
        &[c.len()],
        &[fine.len()],
    )?;
    interp::interp(pts, fine, grid == Grid::Half, c);
    Ok(())
}

/// Real-mode type-2 pre-compensation fused with the fine grid's real FFT (see
/// [`backend_core::Backend::nufft_precompensate_r2c`]).
pub(crate) fn precompensate_r2c<T: Real>(
    params: &SpreadParams,
    factors: &[T],
    plan: &CpuFftPlan<T>,
    modes: &[T],
    half: &mut [C<T>],
) -> Result<()> {
    check::nufft_correct_half(
        "nufft_precompensate_r2c",
        params,
        &[factors.len()],
        plan.spec(),
        &[modes.len()],
        &[half.len()],
    )?;
    deconvolve::precompensate_r2c(params, factors, plan, modes, half)
}

/// Type-1 deconvolution: `modes[t, k] <- fine[t, k mod nf] · Π_a factors_a[k_a]`.
pub(crate) fn deconvolve<T: Real>(
    params: &SpreadParams,
    factors: &[T],
    fine: &[C<T>],
    modes: &mut [C<T>],
) -> Result<()> {
    check::nufft_correct(
        "nufft_deconvolve",
        params,
        &[factors.len()],
        &[fine.len()],
        &[modes.len()],
    )?;
    deconvolve::deconvolve(params, factors, fine, modes);
    Ok(())
}

/// Type-2 pre-compensation: `fine` zeroed, then `fine[t, k mod nf] <- modes[t, k] · Π_a
/// factors_a[k_a]`.
pub(crate) fn precompensate<T: Real>(
    params: &SpreadParams,
    factors: &[T],
    modes: &[C<T>],
    fine: &mut [C<T>],
) -> Result<()> {
    check::nufft_correct(
        "nufft_precompensate",
        params,
        &[factors.len()],
        &[fine.len()],
        &[modes.len()],
    )?;
    deconvolve::precompensate(params, factors, modes, fine);
    Ok(())
}

/// The kernel of a missing axis: 1 on the first cell, 0 elsewhere.
fn unit<T: Real, const L: usize>() -> [T; L] {
    let mut k = [T::zero(); L];
    k[0] = T::one();
    k[1] = T::one();
    k
}

/// A complex slice seen as interleaved `(re, im)` reals.
fn as_reals<T: Real>(z: &[C<T>]) -> &[T] {
    // SAFETY: `Complex<T>` is `repr(C)` `{ re: T, im: T }`: 2 `T`s with `T`'s alignment.
    unsafe { std::slice::from_raw_parts(z.as_ptr().cast::<T>(), 2 * z.len()) }
}

/// A mutable complex slice seen as interleaved `(re, im)` reals.
fn as_reals_mut<T: Real>(z: &mut [C<T>]) -> &mut [T] {
    // SAFETY: as in `as_reals`; the borrow is exclusive.
    unsafe { std::slice::from_raw_parts_mut(z.as_mut_ptr().cast::<T>(), 2 * z.len()) }
}

/// Defines `fn $name<T, const L>(args)` that runs `$generic::<T, L, FMA>(args)` compiled for the
/// best instruction set of the running CPU (AVX-512, AVX2 + FMA, or baseline).
macro_rules! simd_dispatch {
    (fn $name:ident => $generic:ident <$t:ident, $l:ident> ($($arg:ident : $ty:ty),* $(,)?)) => {
        fn $name<$t: Real, const $l: usize>($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
                fn avx512<$t: Real, const $l: usize>($($arg: $ty),*) {
                    $generic::<$t, $l, true>($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                fn avx2<$t: Real, const $l: usize>($($arg: $ty),*) {
                    $generic::<$t, $l, true>($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                {
                    // SAFETY: the CPU has every feature `avx512` is compiled for.
                    return unsafe { avx512::<$t, $l>($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: the CPU has every feature `avx2` is compiled for.
                    return unsafe { avx2::<$t, $l>($($arg),*) };
                }
            }
            $generic::<$t, $l, false>($($arg),*)
        }
    };
}
use simd_dispatch;
