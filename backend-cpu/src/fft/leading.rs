//! The real DFT along the first axis alone ([`backend_core::Backend::fft_r2c_leading`] and
//! [`backend_core::Backend::fft_c2r_leading`]) with the first-axis complex transform of a C2C
//! plan of every axis: two real columns packed into one complex column (`z = x_a + i x_b`)
//! per transform, in parallel over column blocks as the strided passes of the parent module.
//!
//! Forward: `Z = DFT(z)`, then `X_a[c] = (Z[c] + conj(Z[n − c])) / 2` and
//! `X_b[c] = (Z[c] − conj(Z[n − c])) / 2i` for `c = 0 … n/2`. Inverse: `Z` the Hermitian
//! extensions `X_a + i X_b` (the imaginary parts of the DC and Nyquist bins dropped, as numpy's
//! `irfft`), `z = IDFT(Z) / n`, `x_a = Re z`, `x_b = Im z`.

use super::{block_width, line_stride, transform_lines, CpuFftPlan};
use crate::par::SharedMut;
use backend_core::{Direction, FftKind, Real, Result, C};

/// The column blocks of one pass along axis 0 of an `(n, inner)` array: an even width (whole
/// pairs) except for a last odd column.
struct Blocks {
    inner: usize,
    width: usize,
}

impl Blocks {
    fn new(inner: usize) -> Self {
        let width = block_width(inner, true);
        Blocks {
            inner,
            width: (width + width % 2).min(inner),
        }
    }

    fn count(&self) -> usize {
        self.inner.div_ceil(self.width)
    }

    /// First column and width of block `task`.
    fn block(&self, task: usize) -> (usize, usize) {
        let c0 = task * self.width;
        (c0, self.width.min(self.inner - c0))
    }
}

impl<T: Real> CpuFftPlan<T> {
    /// `n` and the number of columns `inner` of an array of `len` elements along this plan's
    /// first axis (a C2C plan of every axis).
    fn leading_sizes(&self, op: &str, len: usize) -> Result<(usize, usize)> {
        self.check_kind(FftKind::C2C, op)?;
        let n = self.complex_dims()[0];
        Ok((n, len / n))
    }

    /// Real `input` `(n, rest...)` to its half spectrum `out` `(n/2 + 1, rest...)` along axis 0,
    /// unscaled.
    pub(crate) fn r2c_leading(&self, input: &[T], out: &mut [C<T>]) -> Result<()> {
        let (n, inner) = self.leading_sizes("fft_r2c_leading", input.len())?;
        let m = n / 2 + 1;
        let blocks = Blocks::new(inner);
        let fft = self.c2c[0].get(Direction::Forward).as_ref();
        let ld = line_stride::<T>(n);
        let half = T::of(0.5);
        let out = SharedMut::new(out);
        self.for_tasks(blocks.count(), n * blocks.width, |task, w| {
            let (c0, width) = blocks.block(task);
            let pairs = width.div_ceil(2);
            let (lines, scratch) = w.lines(ld * pairs);
            for i in 0..n {
                let row = &input[i * inner + c0..i * inner + c0 + width];
                for (p, xy) in row.chunks(2).enumerate() {
                    lines[p * ld + i] = C::new(xy[0], xy.get(1).copied().unwrap_or(T::zero()));
                }
            }
            transform_lines(fft, lines, n, ld, scratch);
            for c in 0..m {
                // SAFETY: the columns c0 .. c0 + width of every row belong to this task.
                let row = unsafe { out.slice(c * inner + c0, width) };
                for (p, ab) in row.chunks_mut(2).enumerate() {
                    let z = lines[p * ld + c];
                    let zm = lines[p * ld + (n - c) % n].conj();
                    ab[0] = (z + zm) * half;
                    if let Some(b) = ab.get_mut(1) {
                        *b = (z - zm) * C::new(T::zero(), -half);
                    }
                }
            }
        });
        Ok(())
    }

    /// Half spectrum `input` `(n/2 + 1, rest...)` along axis 0 to the real `out`
    /// `(n, rest...)`, scaled by `1/n` (numpy's `irfft` along axis 0). `input` is only read.
    pub(crate) fn c2r_leading(&self, input: &[C<T>], out: &mut [T]) -> Result<()> {
        let (n, inner) = self.leading_sizes("fft_c2r_leading", out.len())?;
        let m = n / 2 + 1;
        let blocks = Blocks::new(inner);
        let fft = self.c2c[0].get(Direction::Inverse).as_ref();
        let ld = line_stride::<T>(n);
        let scale = T::one() / T::of(n as f64);
        let out = SharedMut::new(out);
        self.for_tasks(blocks.count(), n * blocks.width, |task, w| {
            let (c0, width) = blocks.block(task);
            let pairs = width.div_ceil(2);
            let (lines, scratch) = w.lines(ld * pairs);
            for k in 0..m {
                let row = &input[k * inner + c0..k * inner + c0 + width];
                // Bins 0 and n/2 (even n) stand for themselves only: real parts.
                let own = k == 0 || 2 * k == n;
                for (p, ab) in row.chunks(2).enumerate() {
                    let (mut a, mut b) = (ab[0], ab.get(1).copied().unwrap_or(C::new(T::zero(), T::zero())));
                    if own {
                        a.im = T::zero();
                        b.im = T::zero();
                    }
                    // a + i b at bin k, conj(a) + i conj(b) at its mirror n − k.
                    lines[p * ld + k] = C::new(a.re - b.im, a.im + b.re);
                    if !own {
                        lines[p * ld + n - k] = C::new(a.re + b.im, b.re - a.im);
                    }
                }
            }
            transform_lines(fft, lines, n, ld, scratch);
            for l in 0..n {
                // SAFETY: the columns c0 .. c0 + width of every row belong to this task.
                let row = unsafe { out.slice(l * inner + c0, width) };
                for (p, ab) in row.chunks_mut(2).enumerate() {
                    let z = lines[p * ld + l];
                    ab[0] = z.re * scale;
                    if let Some(b) = ab.get_mut(1) {
                        *b = z.im * scale;
                    }
                }
            }
        });
        Ok(())
    }
}
