//! FFT plans on the CPU: rustfft (complex) and realfft (real, last axis) sub-plans, executed
//! axis by axis without transposes, in parallel over rows and column blocks.
//!
//! * The last axis is contiguous: groups of rows are handed to parallel tasks, each with its own
//!   scratch; rustfft transforms a group of rows in one call.
//! * Any other axis of length `n` and inner stride `s` (the product of the later axes): the array
//!   is a stack of `n × s` matrices whose columns are transformed. A task gathers a block of
//!   adjacent columns ([`block_width`]) (contiguous reads of every row) into a scratch buffer of
//!   contiguous lines, transforms them together and scatters them back: a cache-blocked
//!   transpose fused with the transform. Blocks of different columns are disjoint, so they run
//!   in parallel.
//!   Columns whose length has no prime factor above 5 (at most 1024 points) are transformed
//!   without the gather on x86-64 CPUs with AVX2 and FMA: [`lanes`] transforms 4 (f64) or 8
//!   (f32) adjacent columns at once, one column per SIMD lane.
//!
//! Normalisation is numpy's "backward": forward unscaled, inverse scaled by `1/N` (product of
//! the transformed sizes), the scale folded into the last pass.

mod convolve;
mod lanes;
mod leading;
mod real;

use crate::par::SharedMut;
use backend_core::fft::in_band;
use backend_core::{Direction, Error, FftKind, FftSpec, Pruning, Real, Result, C};
use lanes::{LaneFft, Skip};
use rayon::prelude::*;
use real::HalfReal;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// Most columns gathered and transformed together in a strided-axis pass: wide blocks read
/// long contiguous runs of every row (what matters when rows are far apart, as along the first
/// axis of a 3D grid).
const MAX_BLOCK: usize = 64;

/// Columns per block when a parallel pass has too few columns for [`MAX_BLOCK`]-wide blocks
/// to keep every thread busy.
const MIN_BLOCK: usize = 16;

/// Columns per block of a strided pass over `inner` columns: all of them (up to
/// [`MAX_BLOCK`]) in a sequential pass; in a parallel one, [`MAX_BLOCK`] when that still makes
/// at least 4 blocks per thread, else about [`MIN_BLOCK`], adjusted so that the block count is
/// a multiple of the thread count.
fn block_width(inner: usize, parallel: bool) -> usize {
    let threads = rayon::current_num_threads();
    if !parallel || inner >= 4 * MAX_BLOCK * threads {
        return MAX_BLOCK.min(inner);
    }
    let blocks = inner.div_ceil(MIN_BLOCK).next_multiple_of(threads);
    inner.div_ceil(blocks).max(1)
}

/// Elements (complex or real) handed to one parallel task at least.
const TASK_MIN: usize = 1 << 14;

/// The planners of one precision, kept by the backend so that plans share twiddles.
pub struct Planners<T: Real> {
    c2c: FftPlanner<T>,
    real: RealFftPlanner<T>,
}

impl<T: Real> Default for Planners<T> {
    fn default() -> Self {
        Planners {
            c2c: FftPlanner::new(),
            real: RealFftPlanner::new(),
        }
    }
}

/// The complex transforms of one axis, both directions.
struct AxisFft<T: Real> {
    fwd: Arc<dyn Fft<T>>,
    inv: Arc<dyn Fft<T>>,
}

impl<T: Real> AxisFft<T> {
    fn get(&self, dir: Direction) -> &Arc<dyn Fft<T>> {
        match dir {
            Direction::Forward => &self.fwd,
            Direction::Inverse => &self.inv,
        }
    }
}

/// Forward and inverse real transforms of one length.
type RealPair<T> = (Arc<dyn RealToComplex<T>>, Arc<dyn ComplexToReal<T>>);

/// A planned FFT over the last `spec.axes` axes of arrays of shape `spec.shape`.
pub struct CpuFftPlan<T: Real> {
    spec: FftSpec,
    /// Complex transforms of every transformed axis (C2C), or of every one but the last (R2C).
    c2c: Vec<AxisFft<T>>,
    /// Real transforms of the last axis (R2C plans only).
    real: Option<RealPair<T>>,
    /// The same through a half-length complex FFT without copies (R2C plans with an even last
    /// axis): what [`Self::r2c`] and [`Self::c2r`] use when present.
    half: Option<HalfReal<T>>,
    /// Lane-SIMD transforms of the axes of `c2c` where the CPU and the length allow them
    /// ([`LaneFft::new`]): what the strided (column) passes use when present.
    lanes: Vec<Option<LaneFft<T>>>,
    /// Complex sizes of the transformed axes (the last one halved for R2C).
    cdims: Vec<usize>,
}

impl<T: Real> CpuFftPlan<T> {
    /// Plans `spec` with the backend's planners.
    pub fn new(spec: &FftSpec, planners: &mut Planners<T>) -> Self {
        let dims = spec.dims();
        let complex_axes = match spec.kind {
            FftKind::C2C => dims,
            FftKind::R2C => &dims[..dims.len() - 1],
        };
        let lanes = complex_axes.iter().map(|&n| LaneFft::new(n)).collect();
        let c2c = complex_axes
            .iter()
            .map(|&n| AxisFft {
                fwd: planners.c2c.plan_fft_forward(n),
                inv: planners.c2c.plan_fft_inverse(n),
            })
            .collect();
        let real = (spec.kind == FftKind::R2C).then(|| {
            let n = dims[dims.len() - 1];
            (
                planners.real.plan_fft_forward(n),
                planners.real.plan_fft_inverse(n),
            )
        });
        let last = dims[dims.len() - 1];
        let half = (spec.kind == FftKind::R2C && last.is_multiple_of(2))
            .then(|| HalfReal::new(last, &mut planners.c2c));
        let s = spec.spectrum_shape();
        CpuFftPlan {
            spec: spec.clone(),
            c2c,
            real,
            half,
            lanes,
            cdims: s[s.len() - spec.axes..].to_vec(),
        }
    }

    /// What this plan transforms.
    pub fn spec(&self) -> &FftSpec {
        &self.spec
    }

    fn check_kind(&self, kind: FftKind, op: &str) -> Result<()> {
        if self.spec.kind == kind {
            Ok(())
        } else {
            Err(Error::InvalidArgument(format!(
                "{op} with a {:?} plan",
                self.spec.kind
            )))
        }
    }

    /// `1/N`, `N` the number of points of one transform.
    fn inverse_scale(&self) -> T {
        T::one() / T::of(self.spec.dims().iter().product::<usize>() as f64)
    }

    /// Working memory for one task.
    fn work(&self) -> Work<T> {
        let dims = self.spec.dims();
        let zero = C::new(T::zero(), T::zero());
        let mut scratch = self
            .c2c
            .iter()
            .flat_map(|a| {
                [
                    a.fwd.get_inplace_scratch_len(),
                    a.inv.get_inplace_scratch_len(),
                ]
            })
            .max()
            .unwrap_or(0);
        if let Some((f, i)) = &self.real {
            scratch = scratch.max(f.get_scratch_len()).max(i.get_scratch_len());
        }
        if let Some(h) = &self.half {
            scratch = scratch.max(h.scratch_len());
        }
        // The real row is for realfft (odd last axis) alone.
        let real = if self.half.is_none() {
            dims[dims.len() - 1]
        } else {
            0
        };
        Work {
            lines: Vec::new(),
            scratch: vec![zero; scratch],
            real: vec![T::zero(); real],
            stage: Vec::new(),
        }
    }

    /// Complex sizes of the transformed axes (the last one halved for R2C).
    fn complex_dims(&self) -> &[usize] {
        &self.cdims
    }

    /// Strided passes over the transformed axes `axes` (indices into the transformed axes, all
    /// >= 1) of one slab: the contiguous block of the axes after the first transformed one.
    fn slab_columns(
        &self,
        slab: &mut [C<T>],
        axes: impl Iterator<Item = usize>,
        dir: Direction,
        w: &mut Work<T>,
    ) {
        let cd = self.complex_dims();
        let len = slab.len();
        let shared = SharedMut::new(slab);
        for a in axes {
            let inner: usize = cd[a + 1..].iter().product();
            let pass = self.column_pass(a, inner, false, dir, None, None);
            let matrices = len / (cd[a] * inner);
            for task in 0..matrices * pass.blocks {
                // SAFETY: one task owns the slab; blocks are processed one at a time.
                unsafe { pass.block(&shared, task, w) };
            }
        }
    }

    /// The strided pass over transformed axis `a` (inner stride `inner`) of a parallel or
    /// sequential loop: lane-SIMD when the axis has a lane plan (blocks a multiple of the lane
    /// width wide), else rustfft on gathered lines.
    fn column_pass(
        &self,
        a: usize,
        inner: usize,
        parallel: bool,
        dir: Direction,
        scale: Option<T>,
        prune: Option<(usize, Pruning)>,
    ) -> ColumnPass<'_, T> {
        let (width, fft) = match &self.lanes[a] {
            Some(lanes) => (
                block_width(inner, parallel).next_multiple_of(lanes::width::<T>()),
                LineFft::Lanes(lanes),
            ),
            None => (
                block_width(inner, parallel),
                LineFft::Gathered(self.c2c[a].get(dir).as_ref()),
            ),
        };
        ColumnPass {
            n: self.complex_dims()[a],
            inner,
            width,
            blocks: inner.div_ceil(width),
            fft,
            dir,
            scale,
            prune,
        }
    }

    /// `f(slab_index, slabs, work)` over groups of consecutive slabs of `data` (slabs of
    /// `slab` elements), in parallel.
    fn for_slabs<E: Send>(
        &self,
        data: &mut [E],
        slab: usize,
        f: impl Fn(usize, &mut [E], &mut Work<T>) + Sync,
    ) {
        let count = data.len() / slab;
        let per_task = rows_per_task(count, slab);
        data.par_chunks_mut(per_task * slab)
            .enumerate()
            .for_each(|(t, chunk)| {
                let mut w = self.work();
                f(t * per_task, chunk, &mut w);
            });
    }

    /// The pass over the first transformed axis (of `n` points, inner stride `slab`), in
    /// parallel over column blocks, scaled by `scale`.
    fn first_axis(
        &self,
        data: &mut [C<T>],
        dir: Direction,
        scale: Option<T>,
        prune: Option<(usize, Pruning)>,
    ) {
        let n = self.complex_dims()[0];
        let inner = data.len() / self.spec.batch() / n;
        let pass = self.column_pass(0, inner, true, dir, scale, prune);
        let shared = SharedMut::new(data);
        self.for_tasks(
            self.spec.batch() * pass.blocks,
            n * pass.width,
            |task, w| {
                // SAFETY: every task owns distinct column blocks.
                unsafe { pass.block(&shared, task, w) };
            },
        );
    }

    /// `f(task, work)` for every task of `0..tasks` (each touching about `elems` elements), in
    /// parallel groups of consecutive tasks balanced over the threads ([`group_count`]): group
    /// `g` of `G` runs tasks `g·tasks/G .. (g+1)·tasks/G`, so that the sizes differ by one at
    /// most (14 column blocks in 6 groups: 2, 2, 3, 2, 2, 3, where groups of `⌈14/6⌉ = 3`
    /// made 5 groups, 8 blocks on one thread and 6 on the other).
    fn for_tasks(&self, tasks: usize, elems: usize, f: impl Fn(usize, &mut Work<T>) + Sync) {
        let groups = group_count(tasks, TASK_MIN.div_ceil(elems.max(1)));
        (0..groups).into_par_iter().for_each(|g| {
            let mut w = self.work();
            for task in g * tasks / groups..(g + 1) * tasks / groups {
                f(task, &mut w);
            }
        });
    }

    /// In-place complex transform (C2C plans).
    ///
    /// One axis: parallel over rows. More: per slab (the contiguous block of the axes after the
    /// first transformed one) the rows, then the strided inner axes while the slab is in cache;
    /// then the first transformed axis over the whole array.
    pub fn c2c(&self, data: &mut [C<T>], dir: Direction) -> Result<()> {
        self.c2c_pruned(data, dir, None)
    }

    /// [`Self::c2c`], skipping what `prune` allows (`band`: one entry per transformed axis,
    /// see [`Pruning`]). [`Pruning::ZeroInput`]: the slabs and rows outside the band are zero
    /// and stay zero, so only the first axis sees them. [`Pruning::KeepOutput`]: the first axis
    /// first, then only the slabs and rows inside the band.
    pub(crate) fn c2c_pruned(
        &self,
        data: &mut [C<T>],
        dir: Direction,
        prune: Option<(&[usize], Pruning)>,
    ) -> Result<()> {
        self.check_kind(FftKind::C2C, "fft_c2c")?;
        let scale = (dir == Direction::Inverse).then(|| self.inverse_scale());
        let k = self.spec.axes;
        let last = self.c2c[k - 1].get(dir).as_ref();
        if k == 1 {
            rows_pass(data, last, scale);
            return Ok(());
        }
        let dims = self.spec.dims();
        let slab: usize = dims[1..].iter().product();
        let (n0, n_last) = (dims[0], dims[k - 1]);
        let middle = &dims[1..k - 1];
        let slab_in_band = |s: usize| prune.is_none_or(|(band, _)| in_band(s % n0, n0, band[0]));
        // Row `r` of a slab, row-major over the middle axes.
        let row_in_band = |r: usize| {
            prune.is_none_or(|(band, _)| {
                let mut r = r;
                middle.iter().zip(&band[1..k - 1]).rev().all(|(&n, &b)| {
                    let i = r % n;
                    r /= n;
                    in_band(i, n, b)
                })
            })
        };
        let keep_output = matches!(prune, Some((_, Pruning::KeepOutput)));
        let slab_pass = |first: usize, chunk: &mut [C<T>], w: &mut Work<T>| {
            for (j, s) in chunk.chunks_mut(slab).enumerate() {
                if !slab_in_band(first + j) {
                    continue;
                }
                if keep_output {
                    self.slab_columns(s, 1..k - 1, dir, w);
                }
                if prune.is_none() {
                    last.process_with_scratch(s, &mut w.scratch);
                } else {
                    for (r, row) in s.chunks_mut(n_last).enumerate() {
                        if row_in_band(r) {
                            last.process_with_scratch(row, &mut w.scratch);
                        }
                    }
                }
                if !keep_output {
                    self.slab_columns(s, (1..k - 1).rev(), dir, w);
                }
            }
        };
        let band0 = prune.map(|(band, p)| (band[0], p));
        if keep_output {
            self.first_axis(data, dir, scale, band0);
            self.for_slabs(data, slab, slab_pass);
        } else {
            self.for_slabs(data, slab, slab_pass);
            self.first_axis(data, dir, scale, band0);
        }
        Ok(())
    }

    /// The transform along the first transformed axis alone, in place, the inverse scaled by
    /// `1/n` ([`backend_core::Backend::fft_c2c_leading`] with this plan as `all`): one strided
    /// pass, in parallel over column blocks.
    pub(crate) fn c2c_leading(&self, data: &mut [C<T>], dir: Direction) -> Result<()> {
        self.check_kind(FftKind::C2C, "fft_c2c_leading")?;
        let n = self.complex_dims()[0];
        let scale = (dir == Direction::Inverse).then(|| T::one() / T::of(n as f64));
        self.first_axis(data, dir, scale, None);
        Ok(())
    }

    /// Real-to-complex forward transform (R2C plans): real rows first, then as [`Self::c2c`].
    pub fn r2c(&self, input: &[T], out: &mut [C<T>]) -> Result<()> {
        self.check_kind(FftKind::R2C, "fft_r2c")?;
        let (fwd, _) = self.real.as_ref().expect("R2C plans have real sub-plans");
        let k = self.spec.axes;
        let dims = self.spec.dims();
        let (n, m) = (dims[k - 1], dims[k - 1] / 2 + 1);
        // Slabs: rows (one axis) or the blocks after the first transformed axis.
        let (rslab, cslab) = if k == 1 {
            (n, m)
        } else {
            (
                dims[1..].iter().product::<usize>(),
                self.complex_dims()[1..].iter().product::<usize>(),
            )
        };
        self.for_slabs(out, cslab, |first, chunk, w| {
            // Without inner axes (one or two transformed axes) the whole chunk's rows at once.
            let slab = if k <= 2 { chunk.len() } else { cslab };
            let rows_in = slab / m * n;
            for (j, s) in chunk.chunks_mut(slab).enumerate() {
                let src = &input[first * rslab + j * rows_in..][..rows_in];
                if let Some(half) = &self.half {
                    half.forward_rows(src, s, &mut w.scratch);
                } else {
                    for (o, i) in s.chunks_mut(m).zip(src.chunks(n)) {
                        w.real.copy_from_slice(i);
                        fwd.process_with_scratch(&mut w.real, o, &mut w.scratch)
                            .expect("buffer sizes follow the plan");
                    }
                }
                if k > 2 {
                    self.slab_columns(s, (1..k - 1).rev(), Direction::Forward, w);
                }
            }
        });
        if k > 1 {
            self.first_axis(out, Direction::Forward, None, None);
        }
        Ok(())
    }

    /// The rows of the real arrays of this (R2C) plan inside the box of `band` (one entry per
    /// transformed axis, see [`Pruning`]; the last axis' entry is not used).
    fn row_box<'a>(&'a self, band: &'a [usize]) -> RowBox<'a> {
        let k = self.spec.axes;
        let dims = self.spec.dims();
        let m = dims[k - 1] / 2 + 1;
        if k == 1 {
            return RowBox {
                first: None,
                middle: &[],
                band: &[],
                rows: 1,
                cslab: m,
            };
        }
        RowBox {
            first: Some((dims[0], band[0])),
            middle: &dims[1..k - 1],
            band: &band[1..k - 1],
            rows: dims[1..k - 1].iter().product(),
            cslab: self.complex_dims()[1..].iter().product(),
        }
    }

    /// [`Self::r2c`] of a real array that is zero outside the box of `band` (see
    /// [`Self::row_box`]), given row by row: `row(r, buf)` writes real row `r` (row-major over
    /// the batch and the transformed axes but the last) into `buf` (the last axis' length), for
    /// the rows inside the box only. Rows and slabs outside the box are not transformed, their
    /// spectrum rows only zeroed: the type-2 NUFFT's zero-padded real fine grid, never stored.
    pub(crate) fn r2c_rows_pruned(
        &self,
        out: &mut [C<T>],
        band: &[usize],
        row: impl Fn(usize, &mut [T]) + Sync,
    ) -> Result<()> {
        self.check_kind(FftKind::R2C, "fft_r2c_rows_pruned")?;
        let k = self.spec.axes;
        let rb = self.row_box(band);
        let zero = C::new(T::zero(), T::zero());
        self.for_slabs(out, rb.cslab, |first, chunk, w| {
            for (j, s) in chunk.chunks_mut(rb.cslab).enumerate() {
                let slab = first + j;
                if !rb.slab(slab) {
                    s.fill(zero);
                    continue;
                }
                let fill = |r, buf: &mut [T]| row(slab * rb.rows + r, buf);
                self.rows_forward(s, |r| rb.row(r), fill, w);
                if k > 1 {
                    self.slab_columns(s, (1..k - 1).rev(), Direction::Forward, w);
                }
            }
        });
        if let Some((_, b0)) = rb.first {
            let band0 = Some((b0, Pruning::ZeroInput));
            self.first_axis(out, Direction::Forward, None, band0);
        }
        Ok(())
    }

    /// [`Self::c2r`] when only the rows inside the box of `band` (see [`Self::row_box`]) are
    /// wanted, handed row by row to `row(r, values)` (`r` as in [`Self::r2c_rows_pruned`],
    /// `values` the row's real values, unscaled: times `N`) instead of stored; `input` is
    /// overwritten. The first axis keeps only the slabs in the box, the other passes transform
    /// only those: the type-1 NUFFT's fine grid, of which only the modes are read.
    pub(crate) fn c2r_rows_pruned(
        &self,
        input: &mut [C<T>],
        band: &[usize],
        row: impl Fn(usize, &[T]) + Sync,
    ) -> Result<()> {
        self.check_kind(FftKind::R2C, "fft_c2r_rows_pruned")?;
        let k = self.spec.axes;
        let rb = self.row_box(band);
        if let Some((_, b0)) = rb.first {
            let band0 = Some((b0, Pruning::KeepOutput));
            self.first_axis(input, Direction::Inverse, None, band0);
        }
        self.for_slabs(input, rb.cslab, |first, chunk, w| {
            for (j, s) in chunk.chunks_mut(rb.cslab).enumerate() {
                let slab = first + j;
                if !rb.slab(slab) {
                    continue;
                }
                if k > 1 {
                    self.slab_columns(s, 1..k - 1, Direction::Inverse, w);
                }
                let emit = |r, values: &[T]| row(slab * rb.rows + r, values);
                self.rows_inverse(s, |r| rb.row(r), emit, w);
            }
        });
        Ok(())
    }

    /// Complex-to-real inverse transform (R2C plans); `input` is overwritten. The mirror image
    /// of [`Self::r2c`]: first transformed axis, then per slab the inner axes and the real rows.
    pub fn c2r(&self, input: &mut [C<T>], out: &mut [T]) -> Result<()> {
        self.check_kind(FftKind::R2C, "fft_c2r")?;
        let (_, inv) = self.real.as_ref().expect("R2C plans have real sub-plans");
        let k = self.spec.axes;
        let dims = self.spec.dims();
        let (n, m) = (dims[k - 1], dims[k - 1] / 2 + 1);
        let scale = self.inverse_scale();
        let (rslab, cslab) = if k == 1 {
            (n, m)
        } else {
            self.first_axis(input, Direction::Inverse, None, None);
            (
                dims[1..].iter().product::<usize>(),
                self.complex_dims()[1..].iter().product::<usize>(),
            )
        };
        let shared_out = SharedMut::new(out);
        self.for_slabs(input, cslab, |first, chunk, w| {
            // Without inner axes (one or two transformed axes) the whole chunk's rows at once.
            let slab = if k <= 2 { chunk.len() } else { cslab };
            let rows_out = slab / m * n;
            for (j, s) in chunk.chunks_mut(slab).enumerate() {
                if k > 2 {
                    self.slab_columns(s, 1..k - 1, Direction::Inverse, w);
                }
                // SAFETY: these rows of the output belong to this task (its slabs).
                let dst = unsafe { shared_out.slice(first * rslab + j * rows_out, rows_out) };
                if let Some(half) = &self.half {
                    half.inverse_rows(s, dst, scale, &mut w.scratch);
                    continue;
                }
                for (i, o) in s.chunks_mut(m).zip(dst.chunks_mut(n)) {
                    // numpy ignores the imaginary parts of the DC and Nyquist bins.
                    i[0].im = T::zero();
                    if n % 2 == 0 {
                        i[m - 1].im = T::zero();
                    }
                    inv.process_with_scratch(i, o, &mut w.scratch)
                        .expect("buffer sizes follow the plan");
                    o.iter_mut().for_each(|v| *v *= scale);
                }
            }
        });
        Ok(())
    }
}

/// The rows of an R2C plan's real arrays inside the box of a band ([`CpuFftPlan::row_box`]):
/// slabs are the blocks after the first transformed axis (single rows with one axis).
struct RowBox<'a> {
    /// The first transformed axis' length and band (none with one axis).
    first: Option<(usize, usize)>,
    /// The transformed axes between the first and the last, and their bands.
    middle: &'a [usize],
    band: &'a [usize],
    /// Real rows per slab, complex elements per slab of the spectrum.
    rows: usize,
    cslab: usize,
}

impl RowBox<'_> {
    /// Whether slab `s` (counted over the batch too) lies in the box.
    fn slab(&self, s: usize) -> bool {
        self.first.is_none_or(|(n, b)| in_band(s % n, n, b))
    }

    /// Whether row `r` of a slab lies in the box.
    fn row(&self, mut r: usize) -> bool {
        self.middle.iter().zip(self.band).rev().all(|(&n, &b)| {
            let i = r % n;
            r /= n;
            in_band(i, n, b)
        })
    }
}

/// Working memory of one task: gathered column lines (grown on first use), FFT scratch, one
/// real row (R2C plans without [`HalfReal`], else empty), staged real rows.
struct Work<T> {
    lines: Vec<C<T>>,
    scratch: Vec<C<T>>,
    real: Vec<T>,
    /// Real rows staged for a group transform (grown on first use).
    stage: Vec<T>,
}

impl<T: Real> Work<T> {
    /// `len` elements of line storage, and the FFT scratch.
    fn lines(&mut self, len: usize) -> (&mut [C<T>], &mut [C<T>]) {
        if self.lines.len() < len {
            self.lines.resize(len, C::new(T::zero(), T::zero()));
        }
        (&mut self.lines[..len], &mut self.scratch)
    }
}

/// Rows (of `len` elements each, `rows` of them) per parallel task.
fn rows_per_task(rows: usize, len: usize) -> usize {
    per_task(rows, TASK_MIN.div_ceil(len))
}

/// Items per parallel task for `count` items of which a task should hold at least `min`
/// ([`group_count`] tasks, the last one possibly shorter).
fn per_task(count: usize, min: usize) -> usize {
    count.div_ceil(group_count(count, min)).max(1)
}

/// Parallel tasks for `count` items of which a task should hold at least `min`: at most 4 per
/// thread, and a multiple of the thread count when there are several, so that the threads
/// finish together (5 equal tasks on 2 threads take 3 task times).
fn group_count(count: usize, min: usize) -> usize {
    let threads = rayon::current_num_threads();
    let mut tasks = (count / min.max(1)).clamp(1, 4 * threads).min(count.max(1));
    if tasks > threads {
        tasks -= tasks % threads;
    } else if tasks > 1 {
        tasks = threads.min(count);
    }
    tasks
}

/// Transforms every contiguous row (`fft.len()` elements) of `data`, then scales by `scale`.
fn rows_pass<T: Real>(data: &mut [C<T>], fft: &dyn Fft<T>, scale: Option<T>) {
    let n = fft.len();
    let per_task = rows_per_task(data.len() / n, n);
    data.par_chunks_mut(per_task * n).for_each(|rows| {
        let mut scratch = vec![C::new(T::zero(), T::zero()); fft.get_inplace_scratch_len()];
        fft.process_with_scratch(rows, &mut scratch);
        if let Some(s) = scale {
            rows.iter_mut().for_each(|v| *v *= s);
        }
    });
}

/// One strided pass over the columns of a stack of `n × inner` matrices, in blocks of `width`
/// columns (`blocks` per matrix).
struct ColumnPass<'a, T: Real> {
    n: usize,
    inner: usize,
    width: usize,
    blocks: usize,
    fft: LineFft<'a, T>,
    dir: Direction,
    /// Applied to the output (the inverse's `1/N`).
    scale: Option<T>,
    /// The band of this axis and what it allows: rows outside it are not read
    /// ([`Pruning::ZeroInput`]: they are zero) or not written back ([`Pruning::KeepOutput`]).
    prune: Option<(usize, Pruning)>,
}

/// How a [`ColumnPass`] transforms its columns.
enum LineFft<'a, T: Real> {
    /// rustfft on columns gathered into contiguous lines (in the pass's direction).
    Gathered(&'a dyn Fft<T>),
    /// Lane-SIMD, in place in the columns (both directions).
    Lanes(&'a LaneFft<T>),
}

impl<T: Real> ColumnPass<'_, T> {
    /// Transforms column block `task % blocks` of matrix `task / blocks`: the block's columns
    /// are gathered into contiguous lines, transformed together and scattered back.
    ///
    /// # Safety
    /// No other task may touch the same column block concurrently.
    unsafe fn block(&self, data: &SharedMut<C<T>>, task: usize, w: &mut Work<T>) {
        let (n, inner) = (self.n, self.inner);
        let (mat, block) = (task / self.blocks, task % self.blocks);
        let c0 = block * self.width;
        let width = self.width.min(inner - c0);
        let base = mat * n * inner + c0;
        let fft = match self.fft {
            LineFft::Gathered(fft) => fft,
            LineFft::Lanes(fft) => {
                let skip = match self.prune {
                    None => Skip::None,
                    Some((b, Pruning::ZeroInput)) => Skip::ZeroInput(b - b / 2, n - b / 2),
                    Some((b, Pruning::KeepOutput)) => Skip::KeepOutput(b - b / 2, n - b / 2),
                };
                lanes::Columns {
                    fft,
                    data,
                    base,
                    inner,
                    cols: width,
                    dir: self.dir,
                    scale: self.scale,
                    skip,
                }
                .run();
                return;
            }
        };
        let ld = line_stride::<T>(n);
        let (lines, scratch) = w.lines(ld * width);
        // Rows lo..hi lie outside the band (none without pruning).
        let (lo, hi) = match self.prune {
            Some((b, _)) => (b - b / 2, n - b / 2),
            None => (n, n),
        };
        if matches!(self.prune, Some((_, Pruning::ZeroInput))) {
            gather_lines(data, base, inner, 0..lo, width, ld, lines);
            gather_lines(data, base, inner, hi..n, width, ld, lines);
            for line in lines.chunks_mut(ld) {
                line[lo..hi].fill(C::new(T::zero(), T::zero()));
            }
        } else {
            gather_lines(data, base, inner, 0..n, width, ld, lines);
        }
        transform_lines(fft, lines, n, ld, scratch);
        let s = self.scale.unwrap_or(T::one());
        let keep =
            |i: usize| !matches!(self.prune, Some((_, Pruning::KeepOutput))) || i < lo || i >= hi;
        for i in (0..n).filter(|&i| keep(i)) {
            let row = data.slice(base + i * inner, width);
            for (l, v) in row.iter_mut().enumerate() {
                *v = lines[l * ld + i] * s;
            }
        }
    }
}

/// Distance (in elements) between the gathered lines of a column block of `n`-point columns:
/// at least `n`, and an odd number of 64-byte cache lines, so that the same position of the
/// gathered lines falls in different cache sets (with `n` a power of two, lines exactly
/// `n` apart all compete for one set of an 8-way L1 cache, and every access misses).
fn line_stride<T: Real>(n: usize) -> usize {
    let per_line = (64 / std::mem::size_of::<C<T>>()).max(1);
    let lines = n.div_ceil(per_line);
    (lines | 1) * per_line
}

/// Copies rows `rows` of `width` adjacent columns (starting at flat position `base`, rows
/// `inner` apart) into the same positions of the lines of `lines` (`ld` apart, one per column).
///
/// # Safety
/// No other task may write those positions concurrently.
#[inline(always)]
unsafe fn gather_lines<T: Real>(
    data: &SharedMut<C<T>>,
    base: usize,
    inner: usize,
    rows: std::ops::Range<usize>,
    width: usize,
    ld: usize,
    lines: &mut [C<T>],
) {
    let row = |i: usize| -> &[C<T>] { data.slice(base + i * inner, width) };
    let tiled = rows.start + (rows.len() - rows.len() % TILE);
    for i0 in (rows.start..tiled).step_by(TILE) {
        // A loop, not `std::array::from_fn`, which LLVM does not always inline here.
        let mut tile: [&[C<T>]; TILE] = [&[]; TILE];
        for (r, t) in tile.iter_mut().enumerate() {
            *t = row(i0 + r);
        }
        for (l, line) in lines.chunks_mut(ld).take(width).enumerate() {
            for (v, src) in line[i0..i0 + TILE].iter_mut().zip(&tile) {
                *v = src[l];
            }
        }
    }
    for i in tiled..rows.end {
        for (line, &v) in lines.chunks_mut(ld).zip(row(i)) {
            line[i] = v;
        }
    }
}

/// Rows that [`gather_lines`] (and the convolution's scatter) move together: each line
/// receives or gives `TILE` consecutive values at a time (64 bytes in single precision).
const TILE: usize = 8;

/// Transforms the first `n` points of every line of `lines` (lines `ld` apart).
fn transform_lines<T: Real>(
    fft: &dyn Fft<T>,
    lines: &mut [C<T>],
    n: usize,
    ld: usize,
    scratch: &mut [C<T>],
) {
    for line in lines.chunks_mut(ld) {
        fft.process_with_scratch(&mut line[..n], scratch);
    }
}
