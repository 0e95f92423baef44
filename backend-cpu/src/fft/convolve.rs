//! Linear convolution by FFT on a zero-padded grid ([`backend_core::Backend::fft_convolve`]),
//! fused and pruned.
//!
//! The composed version (embed, rfftn, product, irfftn, crop) passes over the whole grid five
//! times. Here, with `g` the grid, `a` the input block and `b` the kept output block (`a, b <= g`
//! per axis), the half spectrum only ever holds `max(a_0, b_0)` slabs (a slab: the axes after
//! the first):
//! 1. per slab `j < a_0`: real FFT of the rows inside the input block, zero-padded to `g_last`
//!    (the other rows are zero), runs of consecutive rows through the lane-SIMD transforms
//!    together, then the inner strided axes;
//! 2. per block of columns of the first axis: the `a_0` values gathered into
//!    lines (zeros up to `g_0`), forward FFT, product with the kernel's columns,
//!    inverse FFT, the first `b_0` values scattered back;
//! 3. per slab `j < b_0`: the inner axes inverse, then the complex-to-real transform of the rows
//!    inside the output block, cropped to `b_last`.
//!
//! The kernel is prepared once ([`CpuFftPlan::prepare_kernel`]): scaled by the inverse's `1/N`
//! and stored column by column, so that step 2 multiplies contiguous lines.
//!
//! With `K` channels through a `K × K` matrix of kernels
//! ([`backend_core::Backend::fft_convolve_matrix`], the multi-source Toeplitz products), steps 1
//! and 3 run per channel and step 2 transforms every channel's lines of a column block before
//! summing the products of each output channel: `2K` transforms in all, not `2K²`.
//!
//! Rows that are zero in the padded input or cropped from the output are never transformed: on
//! the doubled grids of the TV Toeplitz products this halves the real transforms (2D) and most
//! of the inner axes (3D), and the first axis is read and written once instead of four times.

use super::{
    block_width, gather_lines, line_stride, transform_lines, CpuFftPlan, Work, TASK_MIN, TILE,
};
use crate::par::{phased, SharedMut};
use crate::stencil::widest_simd;
use backend_core::{Direction, Real, Result, C};
use rustfft::Fft;
use std::ops::Range;

impl<T: Real> CpuFftPlan<T> {
    /// Rearranges the spectrum `kernel` (the plan's spectrum shape, row-major) for
    /// [`Self::convolve`]: scaled by `1/N` (the inverse transform's factor) and, over two or
    /// more axes, transposed to `inner` columns of `n` values (`n` the first axis' length).
    pub(crate) fn prepare_kernel(&self, kernel: &mut [C<T>]) {
        let scale = self.inverse_scale();
        if self.spec.axes == 1 {
            kernel.iter_mut().for_each(|v| *v = v.scale(scale));
            return;
        }
        let n = self.complex_dims()[0];
        let inner = kernel.len() / n;
        let mut columns = vec![C::new(T::zero(), T::zero()); kernel.len()];
        for (i, row) in kernel.chunks(inner).enumerate() {
            for (c, v) in row.iter().enumerate() {
                columns[c * n + i] = v.scale(scale);
            }
        }
        kernel.copy_from_slice(&columns);
    }

    /// `outs[k] <- Σ_j irfftn(rfftn(pad(inputs[j])) · kernels[k·K + j])[..out_shape]` for an
    /// R2C plan over every axis of the grid and `K = inputs.len()` channels (`K = 1`: one
    /// convolution); input `j` has shape `in_shapes[j]`, output `k` shape `out_shapes[k]` (all
    /// within the grid), the `K²` kernels prepared by [`Self::prepare_kernel`]; `inters` (`K`
    /// slices of at least the spectrum's length) is scratch. Each input is transformed once and
    /// the products of a row are summed before one inverse transform.
    /// The caller has checked the shapes ([`backend_core::FftSpec::check_convolution`]).
    pub(crate) fn convolve(
        &self,
        kernels: &[&[C<T>]],
        inputs: &[&[T]],
        in_shapes: &[&[usize]],
        outs: &mut [&mut [T]],
        out_shapes: &[&[usize]],
        inters: &mut [&mut [C<T>]],
    ) -> Result<()> {
        let g = &self.spec.shape;
        let k = g.len();
        let nk = inputs.len();
        let m = g[k - 1] / 2 + 1;
        if k == 1 {
            let mut w = self.work();
            for (input, inter) in inputs.iter().zip(inters.iter_mut()) {
                self.row_forward(input, &mut inter[..m], &mut w);
            }
            let mut acc = vec![C::new(T::zero(), T::zero()); m];
            for (row, out) in kernels.chunks(nk).zip(outs.iter_mut()) {
                acc.fill(C::new(T::zero(), T::zero()));
                for (h, inter) in row.iter().zip(inters.iter()) {
                    for ((a, v), h) in acc.iter_mut().zip(&inter[..m]).zip(*h) {
                        *a += *v * *h;
                    }
                }
                self.row_inverse(&mut acc, &mut w, out);
            }
            return Ok(());
        }
        let cslab: usize = self.complex_dims()[1..].iter().product();
        let middle = &g[1..k - 1];
        let conv = ColumnConv {
            n: g[0],
            inner: cslab,
            width: block_width(cslab, true),
            rows_in: in_shapes.iter().map(|s| s[0]).collect(),
            rows_out: out_shapes.iter().map(|s| s[0]).collect(),
            fwd: self.c2c[0].fwd.as_ref(),
            inv: self.c2c[0].inv.as_ref(),
            kernels,
        };
        let (fwd_tasks, inv_tasks) = (
            slab_tasks(&conv.rows_in, cslab),
            slab_tasks(&conv.rows_out, cslab),
        );
        let blocks = cslab.div_ceil(conv.width);
        let shared: Vec<SharedMut<C<T>>> = inters.iter_mut().map(|s| SharedMut::new(s)).collect();
        let shared_outs: Vec<SharedMut<T>> = outs.iter_mut().map(|o| SharedMut::new(o)).collect();
        // 1. real rows of each input block, then the inner axes, slab by slab; 2. the first axis
        // (forward, products, inverse) per column block; 3. the inner axes inverse, then the
        // real rows of each output block, slab by slab.
        let phases = [fwd_tasks.len(), blocks, inv_tasks.len()];
        let task = |phase: usize, task: usize, w: &mut Work<T>| match phase {
            0 => {
                let (j, ref slabs) = fwd_tasks[task];
                let (input, in_shape) = (inputs[j], in_shapes[j]);
                let a_slab: usize = in_shape[1..].iter().product();
                let a_last = in_shape[k - 1];
                let (per, steps) = slab_steps(k, slabs);
                // Row `r` of a step's slabs: its row in the input block (with two axes, the
                // steps' row `r` is the block's row `r`).
                let q = |r| match k {
                    2 => Some(r),
                    _ => row_in_block(r, middle, &in_shape[1..k - 1]),
                };
                for sl in steps {
                    // SAFETY: the slabs of a task belong to it alone in this phase.
                    let s = unsafe { shared[j].slice(sl * cslab, per * cslab) };
                    let src = &input[sl * a_slab..(sl + per) * a_slab];
                    let fill = |r, row: &mut [T]| {
                        let q = q(r).expect("a row in the block");
                        row[..a_last].copy_from_slice(&src[q * a_last..(q + 1) * a_last]);
                        row[a_last..].fill(T::zero());
                    };
                    self.rows_forward(s, |r| q(r).is_some(), fill, w);
                    if k > 2 {
                        self.slab_columns(s, (1..k - 1).rev(), Direction::Forward, w);
                    }
                }
            }
            // SAFETY: every task owns distinct column blocks, of every channel.
            1 => unsafe { conv.block(&shared, task, w) },
            _ => {
                let (j, ref slabs) = inv_tasks[task];
                let out_shape = out_shapes[j];
                let (b_slab, b_last) = (out_shape[1..].iter().product::<usize>(), out_shape[k - 1]);
                let (per, steps) = slab_steps(k, slabs);
                let q = |r| match k {
                    2 => Some(r),
                    _ => row_in_block(r, middle, &out_shape[1..k - 1]),
                };
                for sl in steps {
                    // SAFETY: the slabs of a task, of the spectrum and of the output, belong
                    // to it alone in this phase.
                    let s = unsafe { shared[j].slice(sl * cslab, per * cslab) };
                    if k > 2 {
                        self.slab_columns(s, 1..k - 1, Direction::Inverse, w);
                    }
                    let dst = unsafe { shared_outs[j].slice(sl * b_slab, per * b_slab) };
                    let emit = |r, values: &[T]| {
                        let q = q(r).expect("a row in the block");
                        dst[q * b_last..(q + 1) * b_last].copy_from_slice(&values[..b_last]);
                    };
                    self.rows_inverse(s, |r| q(r).is_some(), emit, w);
                }
            }
        };
        phased(&phases, || self.work(), task);
        Ok(())
    }
}

/// The tasks of a pass over the leading slabs of `K` channels (`slabs[j]` of channel `j`, of
/// `cslab` elements each): `(channel, slab range)`, a few slabs each (at least
/// [`TASK_MIN`] elements, at most an eighth of a thread's share of the channel), so that the
/// threads claiming them one by one finish together.
fn slab_tasks(slabs: &[usize], cslab: usize) -> Vec<(usize, Range<usize>)> {
    let threads = rayon::current_num_threads();
    let mut tasks = Vec::new();
    for (j, &count) in slabs.iter().enumerate() {
        let per = TASK_MIN
            .div_ceil(cslab)
            .min(count.div_ceil(8 * threads))
            .max(1);
        tasks.extend((0..count.div_ceil(per)).map(|t| (j, t * per..((t + 1) * per).min(count))));
    }
    tasks
}

/// How a task over the slabs `slabs` of a `k`-axis grid walks them: `(slabs per step, steps)`.
/// With two axes a slab is one row and the task's rows form one step, so that its rows run
/// through the lane transforms together; else slab by slab (the inner axes between).
fn slab_steps(k: usize, slabs: &Range<usize>) -> (usize, Range<usize>) {
    if k == 2 {
        (slabs.len(), slabs.start..slabs.start + 1)
    } else {
        (1, slabs.clone())
    }
}

/// The position of row `r` of a slab (row-major over the middle axes `dims`) among the rows of
/// the block `block` (same rank), or `None` when the row lies outside the block.
fn row_in_block(mut r: usize, dims: &[usize], block: &[usize]) -> Option<usize> {
    let (mut q, mut stride) = (0, 1);
    for (&d, &b) in dims.iter().zip(block).rev() {
        let i = r % d;
        if i >= b {
            return None;
        }
        q += i * stride;
        stride *= b;
        r /= d;
    }
    Some(q)
}

impl<T: Real> CpuFftPlan<T> {
    /// Real-to-complex transform of one row of the grid's last axis (`m = g_last/2 + 1` bins to
    /// `out`) whose first `input.len()` values are `input` and the others zero, unscaled.
    pub(super) fn row_forward(&self, input: &[T], out: &mut [C<T>], w: &mut Work<T>) {
        if let Some(half) = &self.half {
            return half.forward(input, out, &mut w.scratch);
        }
        let (fwd, _) = self.real.as_ref().expect("R2C plans have real sub-plans");
        w.real[..input.len()].copy_from_slice(input);
        w.real[input.len()..].fill(T::zero());
        fwd.process_with_scratch(&mut w.real, out, &mut w.scratch)
            .expect("buffer sizes follow the plan");
    }

    /// Real-to-complex transforms of the rows of `out` (rows of `m = n/2 + 1` bins, `n` the
    /// last axis' length), unscaled: row `r` from the `n` values `fill(r, row)` writes (zero
    /// padding included) when `has(r)`, else zero. Runs of up to [`super::lanes::width`] consecutive
    /// rows go through [`super::real::HalfReal::forward_rows`] together (SIMD lanes where planned).
    pub(super) fn rows_forward(
        &self,
        out: &mut [C<T>],
        has: impl Fn(usize) -> bool,
        fill: impl Fn(usize, &mut [T]),
        w: &mut Work<T>,
    ) {
        let n = self.spec.dims()[self.spec.axes - 1];
        let m = n / 2 + 1;
        let rows = out.len() / m;
        let mut stage = std::mem::take(&mut w.stage);
        let mut r = 0;
        while r < rows {
            let count = (r..rows.min(r + super::lanes::width::<T>()))
                .take_while(|&q| has(q))
                .count();
            if count == 0 {
                out[r * m..(r + 1) * m].fill(C::new(T::zero(), T::zero()));
                r += 1;
                continue;
            }
            let o = &mut out[r * m..(r + count) * m];
            stage.resize(count * n, T::zero());
            for (l, row) in stage.chunks_mut(n).enumerate() {
                fill(r + l, row);
            }
            match &self.half {
                Some(half) => half.forward_rows(&stage, o, &mut w.scratch),
                None => {
                    for (row, o) in stage.chunks(n).zip(o.chunks_mut(m)) {
                        self.row_forward(row, o, w);
                    }
                }
            }
            r += count;
        }
        w.stage = stage;
    }

    /// Complex-to-real transforms of the rows `r` of `spec` (rows of `m` bins, overwritten) for
    /// which `wanted(r)`, unscaled, each row's `n` values handed to `emit(r, values)`; runs of
    /// up to [`super::lanes::width`] consecutive rows together, as in [`Self::rows_forward`].
    pub(super) fn rows_inverse(
        &self,
        spec: &mut [C<T>],
        wanted: impl Fn(usize) -> bool,
        mut emit: impl FnMut(usize, &[T]),
        w: &mut Work<T>,
    ) {
        let n = self.spec.dims()[self.spec.axes - 1];
        let m = n / 2 + 1;
        let rows = spec.len() / m;
        let mut stage = std::mem::take(&mut w.stage);
        let mut r = 0;
        while r < rows {
            let count = (r..rows.min(r + super::lanes::width::<T>()))
                .take_while(|&q| wanted(q))
                .count();
            if count == 0 {
                r += 1;
                continue;
            }
            stage.resize(count * n, T::zero());
            let i = &mut spec[r * m..(r + count) * m];
            match &self.half {
                Some(half) => half.inverse_rows(i, &mut stage, T::one(), &mut w.scratch),
                None => {
                    for (i, o) in i.chunks_mut(m).zip(stage.chunks_mut(n)) {
                        self.row_inverse(i, w, o);
                    }
                }
            }
            for (l, values) in stage.chunks(n).enumerate() {
                emit(r + l, values);
            }
            r += count;
        }
        w.stage = stage;
    }

    /// Complex-to-real transform of one half-spectrum row of the grid's last axis (numpy: the
    /// imaginary parts of the DC and Nyquist bins ignored), unscaled, its first `out.len()`
    /// values written to `out`; `row` is overwritten.
    pub(super) fn row_inverse(&self, row: &mut [C<T>], w: &mut Work<T>, out: &mut [T]) {
        if let Some(half) = &self.half {
            return half.inverse(row, out, T::one(), &mut w.scratch);
        }
        let (_, inv) = self.real.as_ref().expect("R2C plans have real sub-plans");
        let n = w.real.len();
        row[0].im = T::zero();
        if n.is_multiple_of(2) {
            row[n / 2].im = T::zero();
        }
        inv.process_with_scratch(row, &mut w.real, &mut w.scratch)
            .expect("buffer sizes follow the plan");
        out.copy_from_slice(&w.real[..out.len()]);
    }
}

/// The first-axis pass of a convolution of `K` channels: columns of `K` matrices of
/// `n × inner` values whose first `rows_in[j]` rows hold data (the rest is zero), of which the
/// first `rows_out[k]` are kept.
struct ColumnConv<'a, T: Real> {
    n: usize,
    inner: usize,
    /// Columns per block.
    width: usize,
    rows_in: Vec<usize>,
    rows_out: Vec<usize>,
    fwd: &'a dyn Fft<T>,
    inv: &'a dyn Fft<T>,
    /// The `K²` prepared kernels, row by row: `inner` columns of `n` values each
    /// ([`CpuFftPlan::prepare_kernel`]).
    kernels: &'a [&'a [C<T>]],
}

impl<T: Real> ColumnConv<'_, T> {
    /// Convolves column block `block` of the `K` matrices `data` (columns `block·width ..`):
    /// every channel's lines are gathered and transformed before any result is written back.
    ///
    /// # Safety
    /// No other task may touch the same column block concurrently.
    unsafe fn block(&self, data: &[SharedMut<C<T>>], block: usize, w: &mut Work<T>) {
        conv_block_simd(self, data, block, w);
    }
}

widest_simd!(fn conv_block_simd => conv_block(
    conv: &ColumnConv<'_, T>,
    data: &[SharedMut<C<T>>],
    block: usize,
    w: &mut Work<T>,
) -> ());

/// [`ColumnConv::block`], compiled for the running CPU's vectors (the products, and the
/// transposes of [`gather_lines`] and [`scatter_tiled`]); its caller owns the column block.
#[inline(always)]
fn conv_block<T: Real>(
    conv: &ColumnConv<'_, T>,
    data: &[SharedMut<C<T>>],
    block: usize,
    w: &mut Work<T>,
) {
    let (n, inner, nk) = (conv.n, conv.inner, data.len());
    let c0 = block * conv.width;
    let width = conv.width.min(inner - c0);
    let ld = line_stride::<T>(n);
    let per = ld * width;
    let (lines, scratch) = w.lines(per * (nk + usize::from(nk > 1)));
    let (sources, acc) = lines.split_at_mut(per * nk);
    for ((d, src), &rows_in) in data.iter().zip(sources.chunks_mut(per)).zip(&conv.rows_in) {
        // SAFETY: the caller owns this column block (columns `c0 .. c0 + width`).
        unsafe { gather_lines(d, c0, inner, 0..rows_in, width, ld, src) };
        for line in src.chunks_mut(ld) {
            line[rows_in..n].fill(C::new(T::zero(), T::zero()));
        }
        transform_lines(conv.fwd, src, n, ld, scratch);
    }
    for ((d, row), &rows_out) in data.iter().zip(conv.kernels.chunks(nk)).zip(&conv.rows_out) {
        let column = |l: usize| (c0 + l) * n..(c0 + l + 1) * n;
        let result = if nk == 1 {
            for (l, line) in sources.chunks_mut(ld).enumerate() {
                mul_line_simd(&mut line[..n], &row[0][column(l)]);
            }
            &mut *sources
        } else {
            for (l, a) in acc.chunks_mut(ld).enumerate() {
                let a = &mut a[..n];
                a.fill(C::new(T::zero(), T::zero()));
                for (h, src) in row.iter().zip(sources.chunks(per)) {
                    mul_add_line_simd(a, &src[l * ld..l * ld + n], &h[column(l)]);
                }
            }
            &mut *acc
        };
        transform_lines(conv.inv, result, n, ld, scratch);
        scatter_tiled(result, ld, rows_out, d, c0, inner, width);
    }
}

/// `v · h` with numpy's operation order, `(a c − b d) + i (a d + b c)`, both parts computed
/// before either is stored: written so (not as `Complex`'s `*=`, which stores the real part
/// before reading the imaginary one), and compiled apart from their caller ([`widest_simd`]
/// with `#[inline(never)]`), the loops of [`mul_line`] and [`mul_add_line`] vectorise (a
/// vector of products per instruction instead of one).
#[inline(always)]
fn cmul<T: Real>(v: C<T>, h: C<T>) -> C<T> {
    C::new(v.re * h.re - v.im * h.im, v.re * h.im + v.im * h.re)
}

/// `v[i] <- v[i] · h[i]`.
#[inline(always)]
fn mul_line<T: Real>(v: &mut [C<T>], h: &[C<T>]) {
    for (v, h) in v.iter_mut().zip(h) {
        *v = cmul(*v, *h);
    }
}

/// `acc[i] <- acc[i] + v[i] · h[i]`.
#[inline(always)]
fn mul_add_line<T: Real>(acc: &mut [C<T>], v: &[C<T>], h: &[C<T>]) {
    for (a, (v, h)) in acc.iter_mut().zip(v.iter().zip(h)) {
        let p = cmul(*v, *h);
        *a = C::new(a.re + p.re, a.im + p.im);
    }
}

widest_simd!(#[inline(never)] fn mul_line_simd => mul_line(v: &mut [C<T>], h: &[C<T>]) -> ());

widest_simd!(#[inline(never)] fn mul_add_line_simd => mul_add_line(
    acc: &mut [C<T>],
    v: &[C<T>],
    h: &[C<T>],
) -> ());

/// The converse of [`gather_lines`]: position `i` of every line to row `i` of the columns, for
/// the first `rows` rows; the caller owns those columns.
#[inline(always)]
fn scatter_tiled<T: Real>(
    lines: &[C<T>],
    ld: usize,
    rows: usize,
    data: &SharedMut<C<T>>,
    c0: usize,
    inner: usize,
    width: usize,
) {
    // SAFETY: the calling task owns columns `c0 .. c0 + width` of every row, and the rows of
    // one tile are distinct.
    let row = |i: usize| -> &mut [C<T>] { unsafe { data.slice(c0 + i * inner, width) } };
    let tiled = rows - rows % TILE;
    for i0 in (0..tiled).step_by(TILE) {
        let mut tile: [&mut [C<T>]; TILE] = Default::default();
        for (r, t) in tile.iter_mut().enumerate() {
            *t = row(i0 + r);
        }
        for (l, line) in lines.chunks(ld).take(width).enumerate() {
            for (dst, &v) in tile.iter_mut().zip(&line[i0..i0 + TILE]) {
                dst[l] = v;
            }
        }
    }
    for i in tiled..rows {
        for (line, v) in lines.chunks(ld).zip(row(i)) {
            *v = line[i];
        }
    }
}
