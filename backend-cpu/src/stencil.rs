//! Forward-difference gradient, divergence (its negative adjoint) and the fused TV steps
//! computed row by row (rows along the last, contiguous axis), rows in
//! parallel for large arrays.
//!
//! Along an axis of length `n`: `(∇u)(i) = u(i+1) - u(i)` for `i < n-1`, 0 at `i = n-1`;
//! `(div p)(i) = p(i)·[i < n-1] - p(i-1)·[i > 0]`, which is SPEC's `div[0] = p[0]`,
//! `div[i] = p[i] - p[i-1]`, `div[n-1] = -p[n-2]` for `n >= 2` (and 0 for `n = 1`, where the
//! gradient is 0).

use crate::par::{SharedMut, PAR_MIN};
use backend_core::check::MAX_RANK;
use backend_core::{PrimalStep, Real, StepSums};
use rayon::prelude::*;
use std::ops::Range;
use strength_reduce::StrengthReducedUsize;

/// Elements per task of the fused TV steps, at least, on images of `2 · TASK_ELEMS` elements
/// or more; with 2 threads the 400x200 phalanx image is 4 tasks of 100 rows.
const TASK_ELEMS: usize = 1 << 14;

/// Images of `2 · SPLIT_ELEMS` to `2 · TASK_ELEMS` elements take two tasks of the fused TV
/// steps (below: one, no parallelism). The multi-source separations iterate on such images
/// (100x100, 50x20x20): one step takes 10–50 µs there, several times what handing half of it
/// to the other thread costs, and a serial step lets the idle threads fall asleep between the
/// parallel FFT passes.
const SPLIT_ELEMS: usize = 1 << 12;

/// Most tasks of one fused TV step.
const MAX_TASKS: usize = 64;

/// Elements of a row handled at once by the dual step (its stack scratch).
const SEGMENT: usize = 256;

/// Independent `f64` accumulators of a sum, added up in a fixed order at the end: the
/// accumulation vectorises, in four chains of additions (of 8 lanes each with AVX-512) that do
/// not wait on one another (with one chain its latency bounded the primal step: 20 % slower).
const LANES: usize = 32;

/// The axes `0, 1, …`: `&ALL_AXES[..d]` lists every axis of a rank-`d` array.
const ALL_AXES: [usize; MAX_RANK] = [0, 1, 2, 3, 4, 5, 6, 7];

/// The geometry of an array for row-wise stencils (rank at most [`MAX_RANK`], checked by the
/// callers), held without allocation.
pub struct Grid {
    rank: usize,
    shape: [usize; MAX_RANK],
    strides: [usize; MAX_RANK],
    /// Per axis, its length and its stride in rows (1 for the last axis) as divisors
    /// reduced to multiplications: [`Grid::coord`] runs for every row of every stencil pass.
    shape_div: [StrengthReducedUsize; MAX_RANK],
    row_stride_div: [StrengthReducedUsize; MAX_RANK],
    /// Length of a row (the last axis).
    width: usize,
    /// Number of elements.
    len: usize,
}

impl Grid {
    /// The grid of a non-empty array of rank 1 to [`MAX_RANK`].
    pub fn new(shape: &[usize]) -> Self {
        let rank = shape.len();
        let one = StrengthReducedUsize::new(1);
        let mut g = Grid {
            rank,
            shape: [1; MAX_RANK],
            strides: [1; MAX_RANK],
            shape_div: [one; MAX_RANK],
            row_stride_div: [one; MAX_RANK],
            width: shape[rank - 1],
            len: shape.iter().product(),
        };
        g.shape[..rank].copy_from_slice(shape);
        for a in (0..rank - 1).rev() {
            g.strides[a] = g.strides[a + 1] * shape[a + 1];
            g.row_stride_div[a] = StrengthReducedUsize::new(g.strides[a] / g.width);
        }
        for (d, &n) in g.shape_div.iter_mut().zip(shape) {
            *d = StrengthReducedUsize::new(n);
        }
        g
    }

    fn last(&self) -> usize {
        self.rank - 1
    }

    /// Number of rows.
    fn rows(&self) -> usize {
        self.len / self.width
    }

    /// Index along `axis` (not the last one) of the elements of row `r`.
    #[inline(always)]
    fn coord(&self, r: usize, axis: usize) -> usize {
        (r / self.row_stride_div[axis]) % self.shape_div[axis]
    }

    /// Rows handed to one parallel task of [`grad`] and [`div`].
    fn rows_per_task(&self) -> usize {
        (4096 / self.width).max(1)
    }

    /// `f(r, row_r)` over every row of `x` (an array of this grid's shape), in parallel above
    /// [`PAR_MIN`] elements.
    fn for_rows<T: Send>(&self, x: &mut [T], f: impl Fn(usize, &mut [T]) + Sync) {
        let w = self.width;
        if self.len < PAR_MIN {
            x.chunks_mut(w).enumerate().for_each(|(r, row)| f(r, row));
        } else {
            let k = self.rows_per_task();
            x.par_chunks_mut(k * w).enumerate().for_each(|(c, rows)| {
                rows.chunks_mut(w)
                    .enumerate()
                    .for_each(|(i, row)| f(c * k + i, row))
            });
        }
    }

    /// `f(rows)` over the tasks of the fused TV steps: about [`TASK_ELEMS`] elements each (at
    /// most [`MAX_TASKS`], whole rows, as even as rows allow), in parallel when there are
    /// several. Task `t`'s result is entry `t` of the returned vector: the partition depends on
    /// the shape alone, not on the thread count.
    fn for_tasks<R: Send>(&self, f: impl Fn(Range<usize>) -> R + Sync) -> Vec<R> {
        let rows = self.rows();
        let tasks = if self.len < 2 * TASK_ELEMS {
            (self.len / SPLIT_ELEMS).clamp(1, 2)
        } else {
            (self.len / TASK_ELEMS).min(MAX_TASKS)
        }
        .min(rows);
        let range = |t: usize| t * rows / tasks..(t + 1) * rows / tasks;
        if tasks == 1 {
            vec![f(range(0))]
        } else {
            (0..tasks).into_par_iter().map(|t| f(range(t))).collect()
        }
    }

    /// `out <- ∇_axis u` on row `r` (before masking).
    fn grad_row<T: Real>(&self, u: &[T], axis: usize, r: usize, out: &mut [T]) {
        let base = r * self.width;
        let row = &u[base..base + self.width];
        if axis == self.last() {
            out.iter_mut()
                .zip(row.windows(2))
                .for_each(|(o, p)| *o = p[1] - p[0]);
            out[self.width - 1] = T::zero();
        } else if self.coord(r, axis) + 1 < self.shape[axis] {
            let next = &u[base + self.strides[axis]..base + self.strides[axis] + self.width];
            out.iter_mut()
                .zip(row.iter().zip(next))
                .for_each(|(o, (a, b))| *o = *b - *a);
        } else {
            out.fill(T::zero());
        }
    }

    /// `out += div_axis (mask ⊙ q)` on the rows `rows` (`out` holds those rows), `q` one
    /// component of the dual field and `mask` its gradient mask.
    #[inline(always)]
    fn div_rows_add<T: Real>(
        &self,
        q: &[T],
        mask: Option<&[T]>,
        axis: usize,
        rows: Range<usize>,
        out: &mut [T],
    ) {
        let w = self.width;
        let base = rows.start * w;
        if axis == self.last() {
            if w > 1 {
                for (r, o) in rows.zip(out.chunks_exact_mut(w)) {
                    let row = r * w..(r + 1) * w;
                    last_axis_div_add(&q[row.clone()], mask.map(|m| &m[row]), o);
                }
            }
            return;
        }
        let piece = base..rows.end * w;
        // `out += m ⊙ q` on the entries with a successor along `axis`, then `out −= m ⊙ q` at
        // their predecessors, for the entries that have one.
        for (next, shift) in [(true, 0), (false, self.strides[axis])] {
            for run in self.runs(&piece, axis, next) {
                let o = &mut out[run.start - base..run.end - base];
                let src = run.start - shift..run.end - shift;
                let q = &q[src.clone()];
                match (mask.map(|m| &m[src]), next) {
                    (Some(m), true) => zip3(o, q, m, |o, q, m| *o += q * m),
                    (Some(m), false) => zip3(o, q, m, |o, q, m| *o -= q * m),
                    (None, true) => o.iter_mut().zip(q).for_each(|(o, q)| *o += *q),
                    (None, false) => o.iter_mut().zip(q).for_each(|(o, q)| *o -= *q),
                }
            }
        }
    }

    /// `out <- div(masks ⊙ p)` on the rows `rows` (`out` holds those rows), `p` holding one
    /// component per entry of `axes`.
    #[inline(always)]
    fn div_rows<T: Real>(
        &self,
        p: &[T],
        axes: &[usize],
        masks: Option<&[T]>,
        rows: Range<usize>,
        out: &mut [T],
    ) {
        out.fill(T::zero());
        let n = self.len;
        for (k, &a) in axes.iter().enumerate() {
            let mask = masks.map(|m| &m[k * n..(k + 1) * n]);
            self.div_rows_add(&p[k * n..(k + 1) * n], mask, a, rows.clone(), out);
        }
    }

    /// Rows per block of the fused TV steps: about [`SEGMENT`] elements (at least one row), so
    /// that short rows (the 15 or 20 of small 3D images) still make long vector loops.
    fn rows_per_piece(&self) -> usize {
        (SEGMENT / self.width).max(1)
    }

    /// The pieces of the rows `rows`: flat ranges of at most [`SEGMENT`] elements,
    /// [`Self::rows_per_piece`] whole rows, or parts of one row when rows are longer.
    fn pieces(&self, rows: Range<usize>) -> Pieces {
        let w = self.width;
        Pieces {
            width: w,
            step: if w > SEGMENT {
                SEGMENT
            } else {
                self.rows_per_piece() * w
            },
            at: rows.start * w,
            end: rows.end * w,
        }
    }

    /// The maximal runs of entries of `piece` (a flat range of whole rows, or inside one row)
    /// whose index along `axis` (not the last) is below its last (`next = true`: they have a
    /// successor) or above 0 (`next = false`: a predecessor).
    fn runs<'a>(&'a self, piece: &Range<usize>, axis: usize, next: bool) -> Runs<'a> {
        Runs {
            grid: self,
            axis,
            next,
            row: piece.start / self.width,
            end_row: piece.end.div_ceil(self.width),
            piece: piece.clone(),
        }
    }
}

/// See [`Grid::pieces`].
struct Pieces {
    width: usize,
    step: usize,
    at: usize,
    end: usize,
}

impl Iterator for Pieces {
    type Item = Range<usize>;

    #[inline(always)]
    fn next(&mut self) -> Option<Range<usize>> {
        if self.at >= self.end {
            return None;
        }
        let mut hi = (self.at + self.step).min(self.end);
        if self.width > SEGMENT {
            hi = hi.min((self.at / self.width + 1) * self.width);
        }
        let piece = self.at..hi;
        self.at = hi;
        Some(piece)
    }
}

/// See [`Grid::runs`].
struct Runs<'a> {
    grid: &'a Grid,
    axis: usize,
    next: bool,
    row: usize,
    end_row: usize,
    piece: Range<usize>,
}

impl Runs<'_> {
    #[inline(always)]
    fn valid(&self, r: usize) -> bool {
        let i = self.grid.coord(r, self.axis);
        if self.next {
            i + 1 < self.grid.shape[self.axis]
        } else {
            i > 0
        }
    }
}

impl Iterator for Runs<'_> {
    type Item = Range<usize>;

    #[inline(always)]
    fn next(&mut self) -> Option<Range<usize>> {
        while self.row < self.end_row && !self.valid(self.row) {
            self.row += 1;
        }
        if self.row >= self.end_row {
            return None;
        }
        let first = self.row;
        while self.row < self.end_row && self.valid(self.row) {
            self.row += 1;
        }
        let w = self.grid.width;
        Some((first * w).max(self.piece.start)..(self.row * w).min(self.piece.end))
    }
}

/// `out[k] <- masks[k] ⊙ ∇_{axes[k]} u` (shapes checked by the caller).
pub fn grad<T: Real>(grid: &Grid, u: &[T], axes: &[usize], masks: Option<&[T]>, out: &mut [T]) {
    let n = grid.len;
    for (k, (&a, block)) in axes.iter().zip(out.chunks_mut(n)).enumerate() {
        grid.for_rows(block, |r, row| {
            grid.grad_row(u, a, r, row);
            if let Some(m) = masks {
                let m = &m[k * n + r * grid.width..k * n + (r + 1) * grid.width];
                row.iter_mut().zip(m).for_each(|(g, m)| *g *= *m);
            }
        });
    }
}

/// `out <- div(masks ⊙ p)`.
pub fn div<T: Real>(grid: &Grid, p: &[T], axes: &[usize], masks: Option<&[T]>, out: &mut [T]) {
    grid.for_rows(out, |r, row| grid.div_rows(p, axes, masks, r..r + 1, row));
}

/// `f(&mut a[j], b[j], c[j])` over three rows of equal length.
#[inline(always)]
fn zip3<T: Copy>(a: &mut [T], b: &[T], c: &[T], f: impl Fn(&mut T, T, T)) {
    a.iter_mut()
        .zip(b.iter().zip(c))
        .for_each(|(a, (b, c))| f(a, *b, *c));
}

/// `out += div(m ⊙ q)` along the row itself (width `w >= 2`): `out[0] += q[0]`,
/// `out[j] += q[j] − q[j−1]`, `out[w−1] −= q[w−2]`, `q` masked by `m` if given.
#[inline(always)]
fn last_axis_div_add<T: Real>(q: &[T], m: Option<&[T]>, out: &mut [T]) {
    let w = q.len();
    let (first, rest) = out.split_at_mut(1);
    let (mid, last) = rest.split_at_mut(w - 2);
    let mid = mid.iter_mut().zip(q[1..].iter().zip(&q[..w - 2]));
    match m {
        None => {
            first[0] += q[0];
            mid.for_each(|(o, (a, b))| *o += *a - *b);
            last[0] -= q[w - 2];
        }
        Some(m) => {
            first[0] += q[0] * m[0];
            mid.zip(m[1..].iter().zip(&m[..w - 2]))
                .for_each(|((o, (a, b)), (ma, mb))| *o += *a * *ma - *b * *mb);
            last[0] -= q[w - 2] * m[w - 2];
        }
    }
}

/// `p <- p + step (masks ⊙ ∇ū)`, then `p[:, k] /= max(1, |p[:, k]|)`, gradient over every axis.
/// One pass over `p` ([`SEGMENT`] elements at a time, scratch on the stack).
pub fn tv_dual_step<T: Real>(grid: &Grid, p: &mut [T], ubar: &[T], step: T, masks: Option<&[T]>) {
    let shared = SharedMut::new(p);
    grid.for_tasks(|rows| dual_rows_simd(grid, rows, shared, ubar, step, masks));
}

/// The dual step on the rows `rows` of `p` (shared with the other tasks, which own other
/// rows), [`Grid::pieces`] at a time.
#[inline(always)]
fn dual_rows<T: Real>(
    grid: &Grid,
    rows: Range<usize>,
    shared: SharedMut<T>,
    ubar: &[T],
    step: T,
    masks: Option<&[T]>,
) {
    let (n, w, d) = (grid.len, grid.width, grid.rank);
    let mut norm2 = [T::zero(); SEGMENT];
    for piece in grid.pieces(rows) {
        let e0 = piece.start;
        let norm2 = &mut norm2[..piece.len()];
        norm2.fill(T::zero());
        for a in 0..d {
            let start = a * n;
            // SAFETY: each task owns its rows, in every component block.
            let pa = unsafe { shared.slice(start + e0, piece.len()) };
            let m = masks.map(|m| &m[start..start + n]);
            if a == d - 1 {
                // Along the rows: every entry but the last of each row.
                for r in piece.start / w..piece.end.div_ceil(w) {
                    let (lo, hi) = (e0.max(r * w), piece.end.min(r * w + w - 1));
                    if lo < hi {
                        dual_add(&mut pa[lo - e0..hi - e0], ubar, m, lo..hi, 1, step);
                    }
                }
            } else {
                for run in grid.runs(&piece, a, true) {
                    let o = &mut pa[run.start - e0..run.end - e0];
                    dual_add(o, ubar, m, run, grid.strides[a], step);
                }
            }
            norm2
                .iter_mut()
                .zip(pa.iter())
                .for_each(|(s, p)| *s += *p * *p);
        }
        norm2
            .iter_mut()
            .for_each(|s| *s = T::one() / s.sqrt().max(T::one()));
        for a in 0..d {
            // SAFETY: as above.
            let pa = unsafe { shared.slice(a * n + e0, piece.len()) };
            pa.iter_mut().zip(norm2.iter()).for_each(|(p, s)| *p *= *s);
        }
    }
}

/// `p += step (m ⊙ (ū[e + s] − ū[e]))` for the entries `e` of `run` (where `∇` along the axis
/// of stride `s` is defined; elsewhere it is 0 and `p` is unchanged), `p` holding those
/// entries and `m` the component's gradient mask.
#[inline(always)]
fn dual_add<T: Real>(
    p: &mut [T],
    ubar: &[T],
    m: Option<&[T]>,
    run: Range<usize>,
    s: usize,
    step: T,
) {
    let moved = p.iter_mut().zip(
        ubar[run.start + s..run.end + s]
            .iter()
            .zip(&ubar[run.clone()]),
    );
    match m {
        Some(m) => moved
            .zip(&m[run])
            .for_each(|((p, (b, a)), m)| *p += step * *m * (*b - *a)),
        None => moved.for_each(|(p, (b, a))| *p += step * (*b - *a)),
    }
}

/// Lane-wise `f64` sums of `(u_new − u_old)²` and `u_new²`.
#[derive(Clone, Copy, Default)]
struct Lanes {
    change: [f64; LANES],
    norm: [f64; LANES],
}

impl Lanes {
    /// The two sums, lanes added in order.
    fn total(&self) -> (f64, f64) {
        (self.change.iter().sum(), self.norm.iter().sum())
    }
}

/// The last pass of the primal step on one row: `v = ubar[j]` holds `u_new`; writes
/// `ubar <- 2 v − u`, `u <- v`, and with `acc` adds the sums of `(v − u)²` and `v²`.
#[inline(always)]
fn extrapolate_row<T: Real>(u: &mut [T], ubar: &mut [T], acc: Option<&mut Lanes>) {
    let two = T::one() + T::one();
    let step = |u: &mut T, b: &mut T| {
        let (old, v) = (*u, *b);
        *b = two * v - old;
        *u = v;
        (v.f64() - old.f64(), v.f64())
    };
    let Some(acc) = acc else {
        u.iter_mut().zip(ubar.iter_mut()).for_each(|(u, b)| {
            step(u, b);
        });
        return;
    };
    let (uc, ur) = u.as_chunks_mut::<LANES>();
    let (bc, br) = ubar.as_chunks_mut::<LANES>();
    for (u, b) in uc.iter_mut().zip(bc) {
        for l in 0..LANES {
            let (dv, v) = step(&mut u[l], &mut b[l]);
            acc.change[l] += dv * dv;
            acc.norm[l] += v * v;
        }
    }
    for (l, (u, b)) in ur.iter_mut().zip(br).enumerate() {
        let (dv, v) = step(u, b);
        acc.change[l] += dv * dv;
        acc.norm[l] += v * v;
    }
}

/// `u_new = u + τ(λ div(masks ⊙ p) − gradf)`, masked and clipped; `ubar <- 2 u_new − u`,
/// `u <- u_new`, divergence over every axis; with `s.sums`, also `Σ (u_new − u)²` and
/// `Σ u_new²` (lane-wise `f64` partial sums per task, tasks added in order: the result depends
/// on the shape, not on the thread count). One pass, `ubar`'s row serving as the divergence's
/// scratch.
#[allow(clippy::too_many_arguments)]
pub fn tv_primal_step<T: Real>(
    grid: &Grid,
    u: &mut [T],
    ubar: &mut [T],
    p: &[T],
    gradf: &[T],
    s: &PrimalStep<T>,
    mask: Option<&[T]>,
    masks: Option<&[T]>,
) -> Option<StepSums> {
    let w = grid.width;
    let (su, sb) = (SharedMut::new(u), SharedMut::new(ubar));
    let partial = grid.for_tasks(|rows| {
        // SAFETY: each task owns its rows of `u` and `ubar`.
        let us = unsafe { su.slice(rows.start * w, rows.len() * w) };
        let bs = unsafe { sb.slice(rows.start * w, rows.len() * w) };
        primal_rows_simd(grid, rows.start, us, bs, p, gradf, s, mask, masks)
    });
    s.sums.then(|| {
        let (change, norm) = partial
            .iter()
            .map(Lanes::total)
            .fold((0.0, 0.0), |(c, n), (dc, dn)| (c + dc, n + dn));
        StepSums { change, norm }
    })
}

/// The primal step on the rows `first ..` of `u` and `ubar` given as `us`, `bs` (whole rows),
/// blocks of [`Grid::rows_per_piece`] rows at a time; returns the task's lane-wise sums (zero
/// unless `s.sums`).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn primal_rows<T: Real>(
    grid: &Grid,
    first: usize,
    us: &mut [T],
    bs: &mut [T],
    p: &[T],
    gradf: &[T],
    s: &PrimalStep<T>,
    mask: Option<&[T]>,
    masks: Option<&[T]>,
) -> Lanes {
    let w = grid.width;
    let k = grid.rows_per_piece();
    let axes = &ALL_AXES[..grid.rank];
    let mut acc = Lanes::default();
    for (c, (u, b)) in us.chunks_mut(k * w).zip(bs.chunks_mut(k * w)).enumerate() {
        let r0 = first + c * k;
        let piece = r0 * w..r0 * w + u.len();
        grid.div_rows(p, axes, masks, r0..r0 + u.len() / w, b);
        zip3(b, u, &gradf[piece.clone()], |b, u, g| {
            *b = u + s.tau * (s.lambda * *b - g)
        });
        if let Some(m) = mask {
            b.iter_mut()
                .zip(&m[piece])
                .for_each(|(v, m)| *v = if *m > T::zero() { *v } else { T::zero() });
        }
        if s.positivity {
            b.iter_mut().for_each(|v| *v = v.max(T::zero()));
        }
        extrapolate_row(u, b, s.sums.then_some(&mut acc));
    }
    acc
}

/// Defines `fn $name` running `$inner` (an `#[inline(always)]` function, whose callees are
/// too) compiled for the widest vectors of the running CPU: AVX-512, AVX2, or baseline x86-64.
/// The operations are the same (no FMA contraction), so are the results. Attributes before
/// `fn` go to the compiled variants (`#[inline(never)]`: a loop over slice arguments keeps
/// their no-alias guarantee, which LLVM may lose, and with it the vectorised loop, once the
/// variant is inlined into a caller that splits the slices from one buffer).
macro_rules! widest_simd {
    ($(#[$attr:meta])* fn $name:ident => $inner:ident ($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty) => {
        #[allow(clippy::too_many_arguments)]
        fn $name<T: Real>($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[allow(clippy::too_many_arguments)]
                #[target_feature(enable = "avx512f,avx512vl,avx2")]
                $(#[$attr])*
                fn avx512<T: Real>($($arg: $ty),*) -> $ret {
                    $inner::<T>($($arg),*)
                }
                #[allow(clippy::too_many_arguments)]
                #[target_feature(enable = "avx2")]
                $(#[$attr])*
                fn avx2<T: Real>($($arg: $ty),*) -> $ret {
                    $inner::<T>($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                {
                    // SAFETY: the CPU has every feature `avx512` is compiled for.
                    return unsafe { avx512::<T>($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has every feature `avx2` is compiled for.
                    return unsafe { avx2::<T>($($arg),*) };
                }
            }
            $inner::<T>($($arg),*)
        }
    };
}

pub(crate) use widest_simd;

widest_simd!(fn dual_rows_simd => dual_rows(
    grid: &Grid,
    rows: Range<usize>,
    shared: SharedMut<T>,
    ubar: &[T],
    step: T,
    masks: Option<&[T]>,
) -> ());

widest_simd!(fn primal_rows_simd => primal_rows(
    grid: &Grid,
    first: usize,
    us: &mut [T],
    bs: &mut [T],
    p: &[T],
    gradf: &[T],
    s: &PrimalStep<T>,
    mask: Option<&[T]>,
    masks: Option<&[T]>,
) -> Lanes);
