//! Linear-interpolation backprojection of filtered projections (FBP, SPEC §2.13 step 7).
//!
//! `out[x] = Σ_n interp(f[n, :], -<g_n, x>)`: the output is walked row by row (rows along the
//! last image axis, in parallel); for each row and projection the sample position is affine in
//! the last coordinate, `t = base_n - g_n[d-1]·z / dr`, so the inner loop is one multiply-add, a
//! bounds test and a linear interpolation in the projection's row (which stays in cache).

use crate::par::PAR_MIN;
use backend_core::Real;
use rayon::prelude::*;

/// The inputs of [`backproject`], shapes checked by the caller.
pub struct Backprojection<'a, T> {
    /// Filtered projections, `(N, nb)` row-major.
    pub f: &'a [T],
    /// Samples per projection.
    pub nb: usize,
    /// Projection gradients, `(N, d)` row-major, image axis order.
    pub g: &'a [T],
    /// One coordinate array per image axis (`d` of them).
    pub grids: Vec<&'a [T]>,
    /// Position of the first sample.
    pub r0: T,
    /// Sample spacing.
    pub dr: T,
}

/// Writes the backprojection into `out` (shape: the grid lengths, row-major).
pub fn backproject<T: Real>(bp: &Backprojection<'_, T>, out: &mut [T]) {
    let d = bp.grids.len();
    let nproj = bp.f.len() / bp.nb.max(1);
    let z = bp.grids[d - 1];
    let width = z.len();
    if width == 0 || out.is_empty() {
        return;
    }
    // Per projection: coefficient of each coordinate in the sample index, t = Σ_a c_a x_a + c0.
    let inv_dr = T::one() / bp.dr;
    let coef: Vec<T> = bp.g.iter().map(|&g| -g * inv_dr).collect();
    let c0 = -bp.r0 * inv_dr;
    let lead: Vec<usize> = bp.grids[..d - 1].iter().map(|x| x.len()).collect();
    let last = T::of((bp.nb - 1) as f64);
    let top = bp.nb.saturating_sub(2);
    let row_fn = |r: usize, row: &mut [T]| {
        row.fill(T::zero());
        // Coordinates of this row along the leading axes.
        let mut idx = r;
        let mut x = [T::zero(); 8];
        for a in (0..d - 1).rev() {
            x[a] = bp.grids[a][idx % lead[a]];
            idx /= lead[a];
        }
        for n in 0..nproj {
            let c = &coef[n * d..(n + 1) * d];
            let base = c0 + (0..d - 1).fold(T::zero(), |s, a| s + c[a] * x[a]);
            let slope = c[d - 1];
            let fr = &bp.f[n * bp.nb..(n + 1) * bp.nb];
            for (o, &zk) in row.iter_mut().zip(z) {
                let t = base + slope * zk;
                if t >= T::zero() && t <= last {
                    let i = t.to_usize().unwrap_or(0).min(top);
                    let w = t - T::of(i as f64);
                    let lo = fr[i];
                    let hi = if bp.nb > 1 { fr[i + 1] } else { lo };
                    *o += lo + w * (hi - lo);
                }
            }
        }
    };
    if out.len() * nproj < PAR_MIN {
        out.chunks_mut(width)
            .enumerate()
            .for_each(|(r, row)| row_fn(r, row));
    } else {
        out.par_chunks_mut(width)
            .enumerate()
            .for_each(|(r, row)| row_fn(r, row));
    }
}
