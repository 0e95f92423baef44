//! `fft_r2c_leading` / `fft_c2r_leading`: columns `a, b` packed as `z = x_a + i x_b` (one
//! complex transform along axis 0 per pair, blocks in parallel), `X_a[c] = (Z[c] +
//! conj(Z[−c])) / 2`, `X_b[c] = (Z[c] − conj(Z[−c])) / 2i`; the inverse packs `X_a + i X_b`.

use super::{block_width, line_stride, transform_lines, CpuFftPlan, Work};
use crate::par::SharedMut;
use backend_core::{Direction, FftKind, Real, Result, C};

impl<T: Real> CpuFftPlan<T> {
    /// Per block of `wd` columns from `c0`: `fill(lines, c0, wd, ld)` (a line per pair), the
    /// transform along axis 0, `store(..)`.
    fn pair_blocks(
        &self,
        op: &str,
        inner: usize,
        dir: Direction,
        fill: impl Fn(&mut [C<T>], usize, usize, usize) + Sync,
        store: impl Fn(&[C<T>], usize, usize, usize) + Sync,
    ) -> Result<()> {
        self.check_kind(FftKind::C2C, op)?;
        let n = self.complex_dims()[0];
        let w = block_width(inner, true);
        let width = (w + w % 2).min(inner);
        let ld = line_stride::<T>(n);
        let fft = self.c2c[0].get(dir).as_ref();
        self.for_tasks(inner.div_ceil(width), n * width, |task, w: &mut Work<T>| {
            let c0 = task * width;
            let wd = width.min(inner - c0);
            let (lines, scratch) = w.lines(ld * wd.div_ceil(2));
            fill(lines, c0, wd, ld);
            transform_lines(fft, lines, n, ld, scratch);
            store(lines, c0, wd, ld);
        });
        Ok(())
    }

    pub(crate) fn r2c_leading(&self, input: &[T], out: &mut [C<T>]) -> Result<()> {
        let n = self.complex_dims()[0];
        let inner = input.len() / n;
        let half = T::of(0.5);
        let out = SharedMut::new(out);
        let fill = |lines: &mut [C<T>], c0: usize, wd: usize, ld: usize| {
            for i in 0..n {
                let row = &input[i * inner + c0..][..wd];
                for (p, ab) in row.chunks(2).enumerate() {
                    lines[p * ld + i] = C::new(ab[0], ab.get(1).copied().unwrap_or(T::zero()));
                }
            }
        };
        let store = |lines: &[C<T>], c0: usize, wd: usize, ld: usize| {
            for c in 0..n / 2 + 1 {
                // SAFETY: the block's columns are this task's.
                let row = unsafe { out.slice(c * inner + c0, wd) };
                for (p, ab) in row.chunks_mut(2).enumerate() {
                    let (z, zm) = (lines[p * ld + c], lines[p * ld + (n - c) % n].conj());
                    ab[0] = (z + zm) * half;
                    if let Some(b) = ab.get_mut(1) {
                        *b = (z - zm) * C::new(T::zero(), -half);
                    }
                }
            }
        };
        self.pair_blocks("fft_r2c_leading", inner, Direction::Forward, fill, store)
    }

    pub(crate) fn c2r_leading(&self, input: &[C<T>], out: &mut [T]) -> Result<()> {
        let n = self.complex_dims()[0];
        let inner = out.len() / n;
        let scale = T::one() / T::of(n as f64);
        let out = SharedMut::new(out);
        let fill = |lines: &mut [C<T>], c0: usize, wd: usize, ld: usize| {
            for k in 0..n / 2 + 1 {
                // DC and Nyquist: real parts, no mirror.
                let own = k == 0 || 2 * k == n;
                for (p, ab) in input[k * inner + c0..][..wd].chunks(2).enumerate() {
                    let zero = C::new(T::zero(), T::zero());
                    let (mut a, mut b) = (ab[0], ab.get(1).copied().unwrap_or(zero));
                    if own {
                        (a.im, b.im) = (T::zero(), T::zero());
                    }
                    lines[p * ld + k] = C::new(a.re - b.im, a.im + b.re);
                    if !own {
                        lines[p * ld + n - k] = C::new(a.re + b.im, b.re - a.im);
                    }
                }
            }
        };
        let store = |lines: &[C<T>], c0: usize, wd: usize, ld: usize| {
            for l in 0..n {
                // SAFETY: the block's columns are this task's.
                let row = unsafe { out.slice(l * inner + c0, wd) };
                for (p, ab) in row.chunks_mut(2).enumerate() {
                    ab[0] = lines[p * ld + l].re * scale;
                    if let Some(b) = ab.get_mut(1) {
                        *b = lines[p * ld + l].im * scale;
                    }
                }
            }
        };
        self.pair_blocks("fft_c2r_leading", inner, Direction::Inverse, fill, store)
    }
}
