//! Non-uniform points prepared for spreading: folded into the fine grid, sorted by bin, cut
//! into subproblems (FINUFFT's `indexSort` and subproblem split).
//!
//! Every grid is seen as 3D, `(1, 1, n)` in 1D and `(1, n0, n1)` in 2D, so one code path
//! serves all dimensions: a missing leading axis has size 1 and kernel width 1.

use super::horner::Horner;
use crate::par::SharedMut;
use backend_core::nufft::SpreadParams;
use backend_core::{Real, Result};
use ndarray::ArrayView1;
use rayon::prelude::*;
use std::ops::Range;

/// Bin size in fine-grid cells along the three (padded) axes: thin along the contiguous last
/// axis' neighbours, long along the contiguous axis, as FINUFFT's 16 x 4 x 4.
const BIN_LOG2: [u32; 3] = [2, 2, 4];

/// In 3D the bins are ordered by tiles of `TILE x TILE` bins across axes 0 and 1 (`TILE =
/// 2^TILE_LOG2 = 4`): tile columns (tile row-major), along axis 2 within a column, the tile's
/// bins row-major within a step; and no subproblem spans more than one tile column and
/// `SEGMENT = 2^SEGMENT_LOG2 = 8` bins along axis 2. A subproblem's box is then at most
/// (4 TILE + w)² x (16 SEGMENT + w) cells (590 KB in `f32`
/// for w = 8: it stays in a core's L2 cache while interpolated from or spread into) instead of
/// whole slabs of the grid (several MB on a 150³ grid).
const TILE_LOG2: u32 = 2;
const SEGMENT_LOG2: u32 = 3;

/// Most points of one subproblem.
const MAX_SUBPROBLEM: usize = 10_000;

/// The points are cut into at least this many subproblems (when each can hold at least
/// [`MIN_SUBPROBLEM`] points): enough for the threads of a workstation, and a cut that does
/// not depend on the thread count, so neither do the type-1 sums (see `spread`).
const MIN_SUBPROBLEMS: usize = 16;

/// Fewest points of a subproblem cut for parallelism (smaller boxes cost more than they save).
const MIN_SUBPROBLEM: usize = 1_000;

/// One point, ready for the kernel: stencil start and local kernel variable per axis.
#[derive(Clone, Copy, Debug)]
pub struct Pt<T> {
    /// First stencil cell `⌈u − w/2⌉` per axis, unwrapped (`u ∈ [−nf/2, nf/2)`).
    pub i0: [i32; 3],
    /// Horner variable `y = 2 (i0 − u + w/2) − 1 ∈ [−1, 1)` per axis.
    pub y: [T; 3],
}

/// A subproblem: a run of sorted points and the box of fine-grid cells its stencils cover.
#[derive(Clone, Debug)]
pub struct Chunk {
    /// Positions in the sorted order.
    pub range: Range<usize>,
    /// First cell of the box per axis (unwrapped, may be negative).
    pub lo: [i64; 3],
    /// Box size per axis; the last axis is padded to a whole SIMD row.
    pub size: [usize; 3],
}

impl Chunk {
    /// Cells of the box.
    pub fn len(&self) -> usize {
        self.size.iter().product()
    }
}

/// Points folded into the fine grid and sorted by bin (see the module documentation).
pub struct CpuPoints<T> {
    /// Fine grid padded to 3 axes.
    pub(crate) fine: [usize; 3],
    /// Kernel width per padded axis (1 on missing axes).
    pub(crate) width: [usize; 3],
    /// Points in sorted order, each as (bin, the caller's index, point).
    pub(crate) sorted: Vec<(u32, u32, Pt<T>)>,
    /// Subproblems, covering the sorted points in order.
    pub(crate) chunks: Vec<Chunk>,
    /// The kernel in Horner form.
    pub(crate) horner: Horner<T>,
    /// The parameters the points were prepared for.
    pub(crate) params: SpreadParams,
}

impl<T> CpuPoints<T> {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// True when there is no point.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }
}

/// Pads a per-axis list to 3 axes with leading `fill`.
pub(crate) fn pad3<V: Copy>(v: &[V], fill: V) -> [V; 3] {
    let mut out = [fill; 3];
    out[3 - v.len()..].copy_from_slice(v);
    out
}

/// Folds, bins and sorts the points (see [`crate::nufft::setpts`]).
pub(crate) fn prepare<T: Real>(
    coords: &[ArrayView1<'_, T>],
    params: &SpreadParams,
) -> Result<CpuPoints<T>> {
    let d = params.dim();
    let m = backend_core::check::nufft_setpts(coords, params)?;
    let w = params.kernel.width;
    let fine = pad3(&params.fine, 1);
    let width = pad3(&vec![w; d], 1);
    let horner = Horner::fit(&params.kernel);
    let half_w = w as f64 / 2.0;

    // Contiguous coordinates, padded to 3 axes (a missing axis reads axis 0, unused).
    let owned: Vec<std::borrow::Cow<'_, [T]>> = coords
        .iter()
        .map(|c| match c.as_slice() {
            Some(s) => std::borrow::Cow::Borrowed(s),
            None => std::borrow::Cow::Owned(c.to_vec()),
        })
        .collect();
    let xs: [&[T]; 3] = std::array::from_fn(|a| &*owned[a.saturating_sub(3 - d)]);
    let scale: [f64; 3] = std::array::from_fn(|a| fine[a] as f64 / std::f64::consts::TAU);
    let first = 3 - d;

    // Each point's bin: cells of BIN_LOG2 sizes; in 3D ordered by tiles (see `TILE`), in 1D
    // and 2D row-major over the padded axes (one row of bins is already compact there).
    // Axis 2's bins padded to whole segments: a bin's segment is then a shift of its number.
    let tile_log2 = if d == 3 { TILE_LOG2 } else { 0 };
    let tile = 1 << tile_log2;
    let nbins: [usize; 3] = std::array::from_fn(|a| fine[a].div_ceil(1 << BIN_LOG2[a]));
    let ntiles = [nbins[0].div_ceil(tile), nbins[1].div_ceil(tile)];
    let steps = nbins[2].next_multiple_of(1 << SEGMENT_LOG2);
    let bin_of = |i: usize| {
        let b: [usize; 3] = std::array::from_fn(|a| {
            if a < first {
                return 0;
            }
            let u = fold(xs[a][i].f64()) * scale[a] + (fine[a] / 2) as f64;
            // u >= 0: truncation is the floor.
            let cell = (u as usize).min(fine[a] - 1);
            cell >> BIN_LOG2[a]
        });
        let column = (b[0] >> tile_log2) * ntiles[1] + (b[1] >> tile_log2);
        (((column * steps + b[2]) << tile_log2) + (b[0] & (tile - 1))) * tile + (b[1] & (tile - 1))
    };
    let point = |i: usize| {
        let mut p = Pt {
            i0: [0; 3],
            y: [T::zero(); 3],
        };
        for a in first..3 {
            let u = fold(xs[a][i].f64()) * scale[a];
            let i0 = ceil(u - half_w);
            p.i0[a] = i0 as i32;
            p.y[a] = T::of(2.0 * (i0 as f64 - u + half_w) - 1.0);
        }
        p
    };

    // Sort (bin, index, point) records by bin. A radix sort moves whole records in passes
    // of sequential reads and few write streams, instead of reading the points at random
    // positions (one TLB and cache miss each).
    let total_bins = ntiles[0] * ntiles[1] * steps * tile * tile;
    let recs: Vec<(u32, u32, Pt<T>)> = (0..m)
        .into_par_iter()
        .map(|i| (bin_of(i) as u32, i as u32, point(i)))
        .collect();
    let sorted = radix_sort(recs, usize::BITS - (total_bins - 1).leading_zeros());

    // Subproblems: at least MIN_SUBPROBLEMS unless smaller than MIN_SUBPROBLEM, none larger
    // than MAX_SUBPROBLEM, in 3D none across two segments of a tile column (see `TILE`).
    let per = m
        .div_ceil(MIN_SUBPROBLEMS)
        .clamp(MIN_SUBPROBLEM, MAX_SUBPROBLEM);
    let segment_shift = 2 * tile_log2 + SEGMENT_LOG2;
    let segment = |bin: u32| if d == 3 { bin >> segment_shift } else { 0 };
    let mut ranges = Vec::new();
    let mut start = 0;
    for i in 1..=m {
        if i == m || i - start == per || segment(sorted[i].0) != segment(sorted[start].0) {
            ranges.push(start..i);
            start = i;
        }
    }
    let pad_last = horner.lanes() / 2;
    let chunks = ranges
        .into_iter()
        .map(|range| {
            let mut lo = [i64::MAX; 3];
            let mut hi = [i64::MIN; 3];
            for (_, _, p) in &sorted[range.clone()] {
                for a in 0..3 {
                    lo[a] = lo[a].min(p.i0[a] as i64);
                    hi[a] = hi[a].max(p.i0[a] as i64);
                }
            }
            let size = std::array::from_fn(|a| {
                let reach = if a == 2 { pad_last } else { width[a] };
                (hi[a] - lo[a]) as usize + reach
            });
            Chunk { range, lo, size }
        })
        .collect();
    Ok(CpuPoints {
        fine,
        width,
        sorted,
        chunks,
        horner,
        params: params.clone(),
    })
}

/// `⌈v⌉` for `|v| < 2^62` (without a libm call on baseline x86-64).
#[inline]
fn ceil(v: f64) -> i64 {
    let t = v as i64;
    t + ((t as f64) < v) as i64
}

/// Stable LSD radix sort of `recs` by their first field, whose values are below `2^bits`:
/// passes of at most 12 bits (one pass for the 2D bins of a 512x512 grid), each a parallel counting sort (one histogram per block of
/// records; digits in order and, within a digit, blocks in order).
fn radix_sort<R: Copy + Send + Sync>(
    mut recs: Vec<(u32, u32, R)>,
    bits: u32,
) -> Vec<(u32, u32, R)> {
    let m = recs.len();
    if m == 0 || bits == 0 {
        return recs;
    }
    let passes = bits.div_ceil(12);
    let digit_bits = bits.div_ceil(passes);
    let buckets = 1usize << digit_bits;
    let block = m.div_ceil(rayon::current_num_threads().max(1)).max(1);
    let mut other = recs.clone();
    for pass in 0..passes {
        let shift = pass * digit_bits;
        let digit = |r: &(u32, u32, R)| ((r.0 >> shift) as usize) & (buckets - 1);
        let mut offsets: Vec<Vec<usize>> = recs
            .par_chunks(block)
            .map(|rs| {
                let mut h = vec![0usize; buckets];
                for r in rs {
                    h[digit(r)] += 1;
                }
                h
            })
            .collect();
        let mut next = 0;
        for b in 0..buckets {
            for h in offsets.iter_mut() {
                let count = h[b];
                h[b] = next;
                next += count;
            }
        }
        let out = SharedMut::new(&mut other);
        recs.par_chunks(block)
            .zip(offsets.par_iter_mut())
            .for_each(|(rs, off)| {
                for r in rs {
                    let s = &mut off[digit(r)];
                    // SAFETY: the offsets give every record its own position, so no two tasks
                    // write the same element; `other` outlives the loop.
                    unsafe { out.slice(*s, 1)[0] = *r };
                    *s += 1;
                }
            });
        std::mem::swap(&mut recs, &mut other);
    }
    recs
}

/// `x` folded into `[−π, π)`.
#[inline]
fn fold(x: f64) -> f64 {
    use std::f64::consts::{PI, TAU};
    if (-PI..PI).contains(&x) {
        return x;
    }
    let mut f = x - TAU * ((x + PI) / TAU).floor();
    if f >= PI {
        f -= TAU;
    }
    if f < -PI {
        f += TAU;
    }
    f
}

#[cfg(test)]
mod tests {
    use super::fold;
    use std::f64::consts::PI;

    #[test]
    fn fold_lands_in_range() {
        for x in [-PI, PI, 0.0, 3.0 * PI, -7.5, 1e7, -1e-300, 2.0 * PI - 1e-16] {
            let f = fold(x);
            assert!((-PI..PI).contains(&f), "{x} -> {f}");
            let turns = (x - f) / (2.0 * PI);
            assert!(
                (turns - turns.round()).abs() < 1e-9 * x.abs().max(1.0),
                "{x} -> {f}"
            );
        }
    }
}
