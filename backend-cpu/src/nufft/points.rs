//! Non-uniform points prepared for spreading: folded into the fine grid, sorted by bin, cut
//! into subproblems (FINUFFT's `indexSort` and subproblem split).
//!
//! Every grid is seen as 3D, `(1, 1, n)` in 1D and `(1, n0, n1)` in 2D, so one code path
//! serves all dimensions: a missing leading axis has size 1 and kernel width 1.
//!
//! The sort is a stable counting sort over the bins, in two parallel passes over the points
//! in the caller's order, split into one block per thread:
//! 1. each point's bin into `bins` (`u32`, one per point) and one histogram per block (a
//!    `u32` count per bin); exclusive prefix sums over the bins, and within a bin over the
//!    blocks, turn the histograms into each block's first sorted position per bin;
//! 2. each point's record `(bin, index, Pt)` written once, straight to its sorted position,
//!    into the one buffer of `sorted` (32 bytes a point in `f32`, allocated once; huge pages
//!    advised above 4 MiB, see `crate::alloc`).
//!
//! Ties keep the caller's order, so `sorted`, the subproblems and the type-1 sums do not
//! depend on the thread count. The subproblem cut needs only the prefix sums (each segment's
//! first position); the subproblem boxes are bounds over their points, in parallel.

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

/// Fewest points of a block of the bin sort (each block has a histogram of every bin).
const MIN_BLOCK: usize = 4_096;

/// The bin sort's histograms (one per block, an entry per bin) hold at most `total_bins +
/// HIST_PER_POINT · m` entries (m points): on a large fine grid with few points, more blocks
/// would cost more than they save.
const HIST_PER_POINT: usize = 4;

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

    // Sort by bin, stably (ties in the caller's order), as a counting sort: each point's bin
    // first (4 bytes a point) with a histogram per block of points, then every record
    // `(bin, index, point)` written once, straight to its sorted position (bins in order,
    // within a bin blocks in order, within a block the caller's order), into one buffer.
    let total_bins = ntiles[0] * ntiles[1] * steps * tile * tile;
    let blocks = rayon::current_num_threads()
        .min(m.div_ceil(MIN_BLOCK))
        .min(1 + HIST_PER_POINT * m / total_bins)
        .max(1);
    let block = m.div_ceil(blocks).max(1);
    let mut bins = crate::alloc::zeroed::<u32>(&[m])?;
    let mut offsets: Vec<Vec<u32>> = bins
        .par_chunks_mut(block)
        .enumerate()
        .map(|(b, bs)| {
            let mut h = vec![0u32; total_bins];
            for (bin, i) in bs.iter_mut().zip(b * block..) {
                *bin = bin_of(i) as u32;
                h[*bin as usize] += 1;
            }
            h
        })
        .collect();
    // Exclusive prefix sums: `offsets[b][bin]`, the first sorted position of block b's points
    // in `bin`; `segment_starts`, of each segment's points (in 3D a segment of a tile column
    // is a run of bins, see `TILE`; in 1D and 2D all the bins are one segment), then `m`.
    let segment_bins = if d == 3 {
        1 << (2 * tile_log2 + SEGMENT_LOG2)
    } else {
        total_bins
    };
    let mut segment_starts = Vec::with_capacity(total_bins / segment_bins + 1);
    let mut next = 0u32;
    for bin in 0..total_bins {
        if bin % segment_bins == 0 {
            segment_starts.push(next as usize);
        }
        for h in offsets.iter_mut() {
            let count = h[bin];
            h[bin] = next;
            next += count;
        }
    }
    segment_starts.push(m);
    let mut sorted: Vec<(u32, u32, Pt<T>)> = crate::alloc::reserve(&[m])?;
    let out = SharedMut::new(&mut sorted.spare_capacity_mut()[..m]);
    bins.par_chunks(block)
        .zip(offsets.par_iter_mut())
        .enumerate()
        .for_each(|(b, (bs, off))| {
            for (&bin, i) in bs.iter().zip(b * block..) {
                let s = &mut off[bin as usize];
                // SAFETY: the offsets give every point its own position, so no two tasks
                // write the same element; `sorted` outlives the loop.
                unsafe { out.slice(*s as usize, 1)[0].write((bin, i as u32, point(i))) };
                *s += 1;
            }
        });
    // SAFETY: the offsets are a permutation of 0..m (the counts of every bin and block, laid
    // end to end), so the loop above initialized each of the first m elements.
    unsafe { sorted.set_len(m) };

    // Subproblems: at least MIN_SUBPROBLEMS unless smaller than MIN_SUBPROBLEM, none larger
    // than MAX_SUBPROBLEM, none across two segments: each segment's points cut into runs of
    // `per` from its start.
    let per = m
        .div_ceil(MIN_SUBPROBLEMS)
        .clamp(MIN_SUBPROBLEM, MAX_SUBPROBLEM);
    let ranges: Vec<Range<usize>> = segment_starts
        .windows(2)
        .flat_map(|w| {
            (w[0]..w[1])
                .step_by(per)
                .map(move |s| s..(s + per).min(w[1]))
        })
        .collect();
    let pad_last = horner.lanes() / 2;
    let chunks = ranges
        .into_par_iter()
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
    use super::*;
    use backend_core::nufft::EsKernel;
    use std::f64::consts::{PI, TAU};

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

    /// `m` coordinates per axis (xorshift from `seed`): uniform in [−π, π) but for every
    /// eighth point exactly ±π, every eighth a cell boundary of the fine grid, every eighth
    /// outside [−π, π), and a quarter of the points at one position (ties in one bin).
    fn coordinates(fine: &[usize], m: usize, seed: u64) -> Vec<Vec<f64>> {
        let mut state = seed;
        let mut uniform = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        fine.iter()
            .map(|&nf| {
                (0..m)
                    .map(|i| match i % 8 {
                        0 => [-PI, PI][i / 8 % 2],
                        1 => -PI + TAU * (uniform() * nf as f64).floor() / nf as f64,
                        2 => (uniform() - 0.5) * 8.0 * PI,
                        3 | 4 => 0.3,
                        _ => (uniform() - 0.5) * TAU,
                    })
                    .collect()
            })
            .collect()
    }

    /// The bin of a point at fine-grid cells `cell` (3 padded axes) as the module documents
    /// it: bins of `BIN_LOG2` cells; in 3D tile columns row-major, then the bin along axis 2
    /// (padded to whole segments), then the bin row-major within the tile; in 1D and 2D
    /// row-major with axis 2 padded to whole segments.
    fn expected_bin(cell: [usize; 3], fine: [usize; 3], d: usize) -> u32 {
        let b: [usize; 3] = std::array::from_fn(|a| cell[a] >> BIN_LOG2[a]);
        let nbins: [usize; 3] = std::array::from_fn(|a| fine[a].div_ceil(1 << BIN_LOG2[a]));
        let steps = nbins[2].next_multiple_of(1 << SEGMENT_LOG2);
        let bin = if d == 3 {
            let tile = 1 << TILE_LOG2;
            let column = b[0] / tile * nbins[1].div_ceil(tile) + b[1] / tile;
            ((column * steps + b[2]) * tile + b[0] % tile) * tile + b[1] % tile
        } else {
            (b[0] * nbins[1] + b[1]) * steps + b[2]
        };
        bin as u32
    }

    /// `prepare` on `coords` against plain references: the records are the points sorted by
    /// `sort_by_key` (stable) on their expected bins, with the stencil start `⌈u − w/2⌉`; the
    /// subproblems are the serial cut (a new one at `per` points or at a new 3D segment) and
    /// the boxes the serial bounds of their stencils.
    fn check<T: Real>(fine: &[usize], coords: &[Vec<f64>], threads: usize) {
        let d = fine.len();
        let kernel = EsKernel::for_eps(1e-6, 2.0).unwrap();
        let params = SpreadParams {
            modes: fine.iter().map(|n| n / 2).collect(),
            fine: fine.to_vec(),
            n_trans: 1,
            kernel,
        };
        let xs: Vec<Vec<T>> = coords
            .iter()
            .map(|c| c.iter().map(|&x| T::of(x)).collect())
            .collect();
        let views: Vec<ArrayView1<'_, T>> = xs.iter().map(ArrayView1::from).collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let pts = pool.install(|| prepare(&views, &params)).unwrap();
        let m = coords[0].len();
        let fine3 = pad3(fine, 1);
        let w = kernel.width as f64;
        let expected_pt = |i: usize| {
            let mut cell = [0; 3];
            let mut i0 = [0; 3];
            for a in 3 - d..3 {
                let u = fold(xs[a + d - 3][i].f64()) * (fine3[a] as f64 / TAU);
                let c = ((u + (fine3[a] / 2) as f64) as usize).min(fine3[a] - 1);
                cell[a] = c;
                i0[a] = (u - w / 2.0).ceil() as i32;
            }
            (expected_bin(cell, fine3, d), i0)
        };
        let mut expected: Vec<(u32, u32, [i32; 3])> = (0..m)
            .map(|i| {
                let (bin, i0) = expected_pt(i);
                (bin, i as u32, i0)
            })
            .collect();
        expected.sort_by_key(|r| r.0);
        let got: Vec<(u32, u32, [i32; 3])> =
            pts.sorted.iter().map(|&(b, i, p)| (b, i, p.i0)).collect();
        let case = format!("{fine:?}, {m} points, {threads} threads");
        assert_eq!(got.len(), m, "{case}");
        if let Some(k) = (0..m).find(|&k| got[k] != expected[k]) {
            panic!(
                "{case}: sorted[{k}] = {:?}, expected {:?}",
                got[k], expected[k]
            );
        }

        let per = m
            .div_ceil(MIN_SUBPROBLEMS)
            .clamp(MIN_SUBPROBLEM, MAX_SUBPROBLEM);
        let segment = |bin: u32| {
            if d == 3 {
                bin >> (2 * TILE_LOG2 + SEGMENT_LOG2)
            } else {
                0
            }
        };
        let mut start = 0;
        let mut chunks = pts.chunks.iter();
        for i in 1..=m {
            let (bin, start_bin) = (expected.get(i).map(|r| r.0), expected[start].0);
            if i == m || i - start == per || bin.map(segment) != Some(segment(start_bin)) {
                let ch = chunks.next().expect("a subproblem per serial cut");
                assert_eq!(ch.range, start..i, "{case}");
                let stencils = &expected[start..i];
                for a in 0..3 {
                    let lo = stencils.iter().map(|r| r.2[a] as i64).min().unwrap();
                    let hi = stencils.iter().map(|r| r.2[a] as i64).max().unwrap();
                    let reach = if a == 2 {
                        pts.horner.lanes() / 2
                    } else {
                        pts.width[a]
                    };
                    let box_ = (ch.lo[a], ch.size[a]);
                    assert_eq!(box_, (lo, (hi - lo) as usize + reach), "{case}, axis {a}");
                }
                start = i;
            }
        }
        assert!(
            chunks.next().is_none(),
            "{case}: subproblems past the points"
        );
    }

    /// The counting sort equals a stable `sort_by_key` on the bins in 1D, 2D and 3D (grids
    /// of partial bins, tiles and segments), with 0 to 30,000 points (several blocks and
    /// subproblems), points on the grid boundaries ±π and cell edges, ties, 1 to 3 threads.
    #[test]
    fn sort_matches_stable_sort_by_key() {
        for fine in [&[200][..], &[40, 72], &[36, 40, 72]] {
            for (m, seed) in [(0, 1), (1, 2), (5_000, 3), (30_000, 4)] {
                let coords = coordinates(fine, m, seed);
                for threads in [1, 2, 3] {
                    check::<f64>(fine, &coords, threads);
                    check::<f32>(fine, &coords, threads);
                }
            }
        }
    }
}
