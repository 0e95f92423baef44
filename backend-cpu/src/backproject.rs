//! Linear-interpolation backprojection of filtered projections (the last step of filtered backprojection).
//!
//! `out[x] = Σ_n interp(f[n, :], -<g_n, x>)`. The output is processed in tiles of whole rows
//! (rows along the last image axis, tiles in parallel) that stay in cache while every projection
//! is accumulated into them. For one row and one projection the sample position is affine in
//! the last coordinate, `t = base_n + slope_n·z`, so the inner loop is branch-free: a
//! multiply-add, a clamp, two table loads (`f[l]` and `f[l+1] - f[l]`) and a multiply-add. On
//! x86-64 it is compiled a second time with AVX2/FMA (gathers), chosen at run time.

use crate::par::PAR_MIN;
use backend_core::Real;
use rayon::prelude::*;

/// Output elements per tile (a few KiB: in L1/L2 with the projection being accumulated).
const TILE: usize = 2048;

/// The inputs of [`backproject`], shapes checked by the caller.
pub struct Backprojection<'a, T> {
    /// Filtered projections, `(N, nb)` row-major.
    pub f: &'a [T],
    /// Samples per projection.
    pub nb: usize,
    /// Projection gradients, `(N, d)` row-major, image axis order.
    pub g: &'a [T],
    /// One coordinate array per image axis (`d` of them, at most 8).
    pub grids: Vec<&'a [T]>,
    /// Position of the first sample.
    pub r0: T,
    /// Sample spacing.
    pub dr: T,
}

/// One projection's samples as a table for interpolation.
struct Table<'a, T> {
    /// `f[l]`, `l < nb`.
    f0: &'a [T],
    /// `f[l+1] - f[l]`, 0 for the last sample.
    df: &'a [T],
    /// Largest sample index `nb - 1`, as a real.
    last: T,
}

/// `row[k] += interp(t_k)` with `t_k = base + slope·z[k]` (0 outside `[0, last]`). Written
/// without branches or checked conversions so that it vectorises (gathers for the tables).
#[inline(always)]
fn accumulate<T: Real>(row: &mut [T], z: &[T], base: T, slope: T, tab: &Table<'_, T>) {
    let n = tab.f0.len().min(tab.df.len());
    let top = T::of((n - 1) as f64);
    for (o, &zk) in row.iter_mut().zip(z) {
        let t = base + slope * zk;
        let tc = t.max(T::zero()).min(top);
        let fl = tc.floor();
        // 0 <= fl <= n - 1 < 2^31, so the conversion is exact and the index in bounds.
        let i = fl.f64() as i32 as usize;
        debug_assert!(i < n);
        // SAFETY: i <= n - 1 (clamped above), both tables have at least n elements.
        let v = unsafe { *tab.f0.get_unchecked(i) + (tc - fl) * *tab.df.get_unchecked(i) };
        let inside = T::of(u8::from(t >= T::zero() && t <= tab.last) as f64);
        *o += inside * v;
    }
}

/// [`accumulate`] compiled for AVX2 and FMA.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn accumulate_avx2<T: Real>(row: &mut [T], z: &[T], base: T, slope: T, tab: &Table<'_, T>) {
    accumulate(row, z, base, slope, tab)
}

/// The accumulation kernel for this CPU.
fn kernel<T: Real>() -> fn(&mut [T], &[T], T, T, &Table<'_, T>) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        // SAFETY: the features were just detected.
        return |row, z, base, slope, tab| unsafe { accumulate_avx2(row, z, base, slope, tab) };
    }
    accumulate
}

/// Writes the backprojection into `out` (shape: the grid lengths, row-major).
pub fn backproject<T: Real>(bp: &Backprojection<'_, T>, out: &mut [T]) {
    let d = bp.grids.len();
    let nb = bp.nb;
    let nproj = bp.f.len() / nb;
    let z = bp.grids[d - 1];
    let width = z.len();
    if width == 0 || out.is_empty() {
        return;
    }
    // Per projection: coefficients of the coordinates in the sample index, t = Σ_a c_a x_a + c0.
    let inv_dr = T::one() / bp.dr;
    let coef: Vec<T> = bp.g.iter().map(|&g| -g * inv_dr).collect();
    let c0 = -bp.r0 * inv_dr;
    let lead: Vec<usize> = bp.grids[..d - 1].iter().map(|x| x.len()).collect();
    // Interpolation tables, nb entries per projection.
    let f0 = bp.f;
    let df: Vec<T> =
        bp.f.chunks(nb)
            .flat_map(|fr| {
                (0..nb).map(move |l| {
                    if l + 1 < nb {
                        fr[l + 1] - fr[l]
                    } else {
                        T::zero()
                    }
                })
            })
            .collect();
    let last = T::of((nb - 1) as f64);
    let run = kernel::<T>();
    let rows_per_tile = (TILE / width).max(1);
    let tile_fn = |first_row: usize, tile: &mut [T]| {
        tile.fill(T::zero());
        // Coordinates of the rows of this tile along the leading axes.
        let rows: Vec<[T; 8]> = (0..tile.len() / width)
            .map(|j| {
                let (mut idx, mut x) = (first_row + j, [T::zero(); 8]);
                for a in (0..d - 1).rev() {
                    x[a] = bp.grids[a][idx % lead[a]];
                    idx /= lead[a];
                }
                x
            })
            .collect();
        for n in 0..nproj {
            let c = &coef[n * d..(n + 1) * d];
            let tab = Table {
                f0: &f0[n * nb..(n + 1) * nb],
                df: &df[n * nb..(n + 1) * nb],
                last,
            };
            for (row, x) in tile.chunks_mut(width).zip(&rows) {
                let base = c0 + (0..d - 1).fold(T::zero(), |s, a| s + c[a] * x[a]);
                run(row, z, base, c[d - 1], &tab);
            }
        }
    };
    let tile_len = rows_per_tile * width;
    if out.len() * nproj < PAR_MIN {
        out.chunks_mut(tile_len)
            .enumerate()
            .for_each(|(k, tile)| tile_fn(k * rows_per_tile, tile));
    } else {
        out.par_chunks_mut(tile_len)
            .enumerate()
            .for_each(|(k, tile)| tile_fn(k * rows_per_tile, tile));
    }
}
