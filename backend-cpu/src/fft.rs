//! FFT plans on the CPU: rustfft (complex) and realfft (real, last axis) sub-plans, executed
//! axis by axis without transposes, in parallel over rows and column blocks.
//!
//! * The last axis is contiguous: groups of rows are handed to parallel tasks, each with its own
//!   scratch; rustfft transforms a group of rows in one call.
//! * Any other axis of length `n` and inner stride `s` (the product of the later axes): the array
//!   is a stack of `n × s` matrices whose columns are transformed. A task gathers a block of
//!   [`COL_BLOCK`] adjacent columns (contiguous reads of every row) into a scratch buffer of
//!   contiguous lines, transforms them together and scatters them back: a cache-blocked
//!   transpose fused with the transform. Blocks of different columns are disjoint, so they run
//!   in parallel.
//!
//! Normalisation is numpy's "backward": forward unscaled, inverse scaled by `1/N` (product of
//! the transformed sizes), the scale folded into the last pass.

use crate::par::SharedMut;
use backend_core::{Direction, Error, FftKind, FftSpec, Real, Result, C};
use rayon::prelude::*;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// Columns transformed together by one task in a strided-axis pass.
const COL_BLOCK: usize = 16;

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
}

impl<T: Real> CpuFftPlan<T> {
    /// Plans `spec` with the backend's planners.
    pub fn new(spec: &FftSpec, planners: &mut Planners<T>) -> Self {
        let dims = spec.dims();
        let complex_axes = match spec.kind {
            FftKind::C2C => dims,
            FftKind::R2C => &dims[..dims.len() - 1],
        };
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
        CpuFftPlan {
            spec: spec.clone(),
            c2c,
            real,
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

    /// Shape of the complex arrays this plan's complex passes run over.
    fn complex_shape(&self) -> Vec<usize> {
        self.spec.spectrum_shape()
    }

    /// Complex passes over the axes `axes` (indices into the transformed axes) of `data`, which
    /// has the plan's complex shape; `scale` is applied on the last pass.
    fn complex_passes(
        &self,
        data: &mut [C<T>],
        axes: impl ExactSizeIterator<Item = usize>,
        dir: Direction,
        scale: Option<T>,
    ) {
        let shape = self.complex_shape();
        let first = shape.len() - self.spec.axes;
        let count = axes.len();
        for (i, a) in axes.enumerate() {
            let s = if i + 1 == count { scale } else { None };
            let axis = first + a;
            let inner: usize = shape[axis + 1..].iter().product();
            let fft = self.c2c[a].get(dir);
            if inner == 1 {
                rows_pass(data, fft.as_ref(), s);
            } else {
                columns_pass(data, shape[axis], inner, fft.as_ref(), s);
            }
        }
    }

    /// In-place complex transform (C2C plans).
    pub fn c2c(&self, data: &mut [C<T>], dir: Direction) -> Result<()> {
        self.check_kind(FftKind::C2C, "fft_c2c")?;
        let scale = (dir == Direction::Inverse).then(|| self.inverse_scale());
        // Last axis first (contiguous rows), then the strided ones.
        self.complex_passes(data, (0..self.spec.axes).rev(), dir, scale);
        Ok(())
    }

    /// Real-to-complex forward transform (R2C plans).
    pub fn r2c(&self, input: &[T], out: &mut [C<T>]) -> Result<()> {
        self.check_kind(FftKind::R2C, "fft_r2c")?;
        let (fwd, _) = self.real.as_ref().expect("R2C plans have real sub-plans");
        let n = *self.spec.shape.last().expect("rank >= 1");
        let m = n / 2 + 1;
        let rows = input.len() / n;
        let per_task = rows_per_task(rows, n);
        out.par_chunks_mut(per_task * m)
            .zip(input.par_chunks(per_task * n))
            .for_each(|(o, i)| {
                let mut line = vec![T::zero(); n];
                let mut scratch = vec![C::new(T::zero(), T::zero()); fwd.get_scratch_len()];
                for (o, i) in o.chunks_mut(m).zip(i.chunks(n)) {
                    line.copy_from_slice(i);
                    fwd.process_with_scratch(&mut line, o, &mut scratch)
                        .expect("buffer sizes follow the plan");
                }
            });
        self.complex_passes(out, (0..self.spec.axes - 1).rev(), Direction::Forward, None);
        Ok(())
    }

    /// Complex-to-real inverse transform (R2C plans); `input` is overwritten.
    pub fn c2r(&self, input: &mut [C<T>], out: &mut [T]) -> Result<()> {
        self.check_kind(FftKind::R2C, "fft_c2r")?;
        let (_, inv) = self.real.as_ref().expect("R2C plans have real sub-plans");
        self.complex_passes(input, 0..self.spec.axes - 1, Direction::Inverse, None);
        let n = *self.spec.shape.last().expect("rank >= 1");
        let m = n / 2 + 1;
        let scale = self.inverse_scale();
        let rows = out.len() / n;
        let per_task = rows_per_task(rows, n);
        input
            .par_chunks_mut(per_task * m)
            .zip(out.par_chunks_mut(per_task * n))
            .for_each(|(i, o)| {
                let mut scratch = vec![C::new(T::zero(), T::zero()); inv.get_scratch_len()];
                for (i, o) in i.chunks_mut(m).zip(o.chunks_mut(n)) {
                    // numpy ignores the imaginary parts of the DC and Nyquist bins.
                    i[0].im = T::zero();
                    if n % 2 == 0 {
                        i[m - 1].im = T::zero();
                    }
                    inv.process_with_scratch(i, o, &mut scratch)
                        .expect("buffer sizes follow the plan");
                    o.iter_mut().for_each(|v| *v *= scale);
                }
            });
        Ok(())
    }
}

/// Rows (of `len` elements each, `rows` of them) per parallel task.
fn rows_per_task(rows: usize, len: usize) -> usize {
    let threads = rayon::current_num_threads();
    // At least TASK_MIN elements per task, and about 4 tasks per thread when there is more.
    TASK_MIN
        .div_ceil(len)
        .max(rows.div_ceil(4 * threads))
        .clamp(1, rows.max(1))
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

/// Transforms the columns of every `n × inner` matrix of `data` (a stack of them), then scales.
fn columns_pass<T: Real>(
    data: &mut [C<T>],
    n: usize,
    inner: usize,
    fft: &dyn Fft<T>,
    scale: Option<T>,
) {
    let matrices = data.len() / (n * inner);
    let blocks = inner.div_ceil(COL_BLOCK);
    let tasks = matrices * blocks;
    // Column blocks per parallel task: enough work per task, several tasks per thread.
    let per_task = (TASK_MIN / (n * COL_BLOCK))
        .max(1)
        .min(tasks.div_ceil(4 * rayon::current_num_threads()).max(1));
    let shared = SharedMut::new(data);
    let scratch_len = fft.get_inplace_scratch_len();
    (0..tasks.div_ceil(per_task)).into_par_iter().for_each(|t| {
        let mut lines = vec![C::new(T::zero(), T::zero()); n * COL_BLOCK];
        let mut scratch = vec![C::new(T::zero(), T::zero()); scratch_len];
        for task in t * per_task..((t + 1) * per_task).min(tasks) {
            let (mat, block) = (task / blocks, task % blocks);
            let c0 = block * COL_BLOCK;
            let width = COL_BLOCK.min(inner - c0);
            let base = mat * n * inner + c0;
            let lines = &mut lines[..n * width];
            for i in 0..n {
                // SAFETY: this task alone touches columns c0..c0+width of matrix `mat`.
                let row = unsafe { shared.slice(base + i * inner, width) };
                for (l, v) in row.iter().enumerate() {
                    lines[l * n + i] = *v;
                }
            }
            fft.process_with_scratch(lines, &mut scratch);
            let s = scale.unwrap_or(T::one());
            for i in 0..n {
                // SAFETY: as above.
                let row = unsafe { shared.slice(base + i * inner, width) };
                for (l, v) in row.iter_mut().enumerate() {
                    *v = lines[l * n + i] * s;
                }
            }
        }
    });
}
