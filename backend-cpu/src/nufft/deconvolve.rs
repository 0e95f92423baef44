//! Copies between the fine grid (FFT order, `k mod nf`) and the centred mode grid, with the
//! per-axis kernel correction factors (type-1 deconvolution, type-2 pre-compensation).

use super::points::pad3;
use crate::fft::CpuFftPlan;
use backend_core::nufft::SpreadParams;
use backend_core::{Real, C};
use rayon::prelude::*;

/// Per padded axis: mode count, fine size and that axis' factors (`[1]` on missing axes).
struct Axes<'a, T> {
    n: [usize; 3],
    nf: [usize; 3],
    f: [&'a [T]; 3],
}

impl<'a, T: Real> Axes<'a, T> {
    fn new(params: &SpreadParams, factors: &'a [T], one: &'a [T]) -> Self {
        let n = pad3(&params.modes, 1);
        let nf = pad3(&params.fine, 1);
        let mut f = [one; 3];
        let mut rest = factors;
        for a in 3 - params.dim()..3 {
            let (head, tail) = rest.split_at(n[a]);
            f[a] = head;
            rest = tail;
        }
        Axes { n, nf, f }
    }

    /// Fine-grid index of mode index `i` (centred order) on axis `a`.
    fn fine_of(&self, a: usize, i: usize) -> usize {
        (i + self.nf[a] - self.n[a] / 2) % self.nf[a]
    }

    /// Mode index (centred order) of fine-grid index `l` on axis `a`, if `l` holds a mode.
    fn mode_of(&self, a: usize, l: usize) -> Option<usize> {
        let half = self.n[a] / 2;
        if l < self.n[a] - half {
            Some(l + half)
        } else if l >= self.nf[a] - half {
            Some(l + half - self.nf[a])
        } else {
            None
        }
    }
}

/// `modes[t, k] <- fine[t, k mod nf] · Π_a factors_a[k_a]`.
pub(crate) fn deconvolve<T: Real>(
    params: &SpreadParams,
    factors: &[T],
    fine: &[C<T>],
    modes: &mut [C<T>],
) {
    let one = [T::one()];
    let ax = Axes::new(params, factors, &one);
    let [n0, n1, n2] = ax.n;
    let flen = params.fine_len();
    let (neg, pos) = (n2 / 2, n2 - n2 / 2);
    modes.par_chunks_mut(n2).enumerate().for_each(|(r, out)| {
        let (t, i0, i1) = (r / (n0 * n1), (r / n1) % n0, r % n1);
        let f01 = ax.f[0][i0] * ax.f[1][i1];
        let start = t * flen + (ax.fine_of(0, i0) * ax.nf[1] + ax.fine_of(1, i1)) * ax.nf[2];
        let row = &fine[start..start + ax.nf[2]];
        let (out_neg, out_pos) = out.split_at_mut(neg);
        let (f_neg, f_pos) = ax.f[2].split_at(neg);
        for ((o, &v), &f) in out_neg.iter_mut().zip(&row[ax.nf[2] - neg..]).zip(f_neg) {
            *o = v * (f01 * f);
        }
        for ((o, &v), &f) in out_pos.iter_mut().zip(&row[..pos]).zip(f_pos) {
            *o = v * (f01 * f);
        }
    });
}

/// `fine` zeroed, then `fine[t, k mod nf] <- modes[t, k] · Π_a factors_a[k_a]`.
pub(crate) fn precompensate<T: Real>(
    params: &SpreadParams,
    factors: &[T],
    modes: &[C<T>],
    fine: &mut [C<T>],
) {
    let one = [T::one()];
    let ax = Axes::new(params, factors, &one);
    let [n0, n1, n2] = ax.n;
    let [nf0, nf1, nf2] = ax.nf;
    let (neg, pos) = (n2 / 2, n2 - n2 / 2);
    fine.par_chunks_mut(nf2).enumerate().for_each(|(r, row)| {
        let (t, l0, l1) = (r / (nf0 * nf1), (r / nf1) % nf0, r % nf1);
        row.fill(C::new(T::zero(), T::zero()));
        let (Some(i0), Some(i1)) = (ax.mode_of(0, l0), ax.mode_of(1, l1)) else {
            return;
        };
        let f01 = ax.f[0][i0] * ax.f[1][i1];
        let start = ((t * n0 + i0) * n1 + i1) * n2;
        let (m_neg, m_pos) = modes[start..start + n2].split_at(neg);
        let (f_neg, f_pos) = ax.f[2].split_at(neg);
        for ((o, &v), &f) in row[nf2 - neg..].iter_mut().zip(m_neg).zip(f_neg) {
            *o = v * (f01 * f);
        }
        for ((o, &v), &f) in row[..pos].iter_mut().zip(m_pos).zip(f_pos) {
            *o = v * (f01 * f);
        }
    });
}

/// `half <- rfftn(fine)` with `fine` the real grid [`precompensate`] writes from real `modes`:
/// each row of `fine` inside the modes' box built in a task's buffer and transformed there
/// (`plan`: R2C of the fine grids over the grid axes).
pub(crate) fn precompensate_r2c<T: Real>(
    params: &SpreadParams,
    factors: &[T],
    plan: &CpuFftPlan<T>,
    modes: &[T],
    half: &mut [C<T>],
) -> backend_core::Result<()> {
    let one = [T::one()];
    let ax = Axes::new(params, factors, &one);
    let [n0, n1, n2] = ax.n;
    let [nf0, nf1, _] = ax.nf;
    let (neg, pos) = (n2 / 2, n2 - n2 / 2);
    plan.r2c_rows_pruned(half, &params.modes, |r, row| {
        let (t, l0, l1) = (r / (nf0 * nf1), (r / nf1) % nf0, r % nf1);
        let (Some(i0), Some(i1)) = (ax.mode_of(0, l0), ax.mode_of(1, l1)) else {
            row.fill(T::zero());
            return;
        };
        let f01 = ax.f[0][i0] * ax.f[1][i1];
        let start = ((t * n0 + i0) * n1 + i1) * n2;
        let (m_neg, m_pos) = modes[start..start + n2].split_at(neg);
        let (f_neg, f_pos) = ax.f[2].split_at(neg);
        let (head, tail) = row.split_at_mut(row.len() - neg);
        for ((o, &v), &f) in tail.iter_mut().zip(m_neg).zip(f_neg) {
            *o = v * (f01 * f);
        }
        for ((o, &v), &f) in head[..pos].iter_mut().zip(m_pos).zip(f_pos) {
            *o = v * (f01 * f);
        }
        head[pos..].fill(T::zero());
    })
}

/// `modes[t, k] <- ½ irfftn(H)[k mod nf] · Π_a factors_a[k_a]` (`irfftn` scaled by `1/N`) with
/// `H` the half spectrum
/// [`super::spread::spread`] wrote with `half`: `G[k] + conj G[−k]` off the planes
/// `k_{d−1} = 0, nf/2`, `G[k]` on them, which are first made `G[k] + conj G[−k]` too (the
/// real part of the type-1 sum of `G`, twice); only the rows of `half` holding modes are
/// transformed (`plan`: R2C of the fine grids over the grid axes). `half` is overwritten.
pub(crate) fn c2r_deconvolve<T: Real>(
    params: &SpreadParams,
    factors: &[T],
    plan: &CpuFftPlan<T>,
    half: &mut [C<T>],
    modes: &mut [T],
) -> backend_core::Result<()> {
    let one = [T::one()];
    let ax = Axes::new(params, factors, &one);
    let [n0, n1, n2] = ax.n;
    let [nf0, nf1, nf2] = ax.nf;
    let h = nf2 / 2 + 1;
    for grid in half.chunks_mut(nf0 * nf1 * h) {
        let planes = if nf2.is_multiple_of(2) {
            vec![0, h - 1]
        } else {
            vec![0]
        };
        for p in planes {
            for l0 in 0..nf0 {
                for l1 in 0..nf1 {
                    let (m0, m1) = ((nf0 - l0) % nf0, (nf1 - l1) % nf1);
                    if (m0, m1) < (l0, l1) {
                        continue;
                    }
                    let (i, j) = ((l0 * nf1 + l1) * h + p, (m0 * nf1 + m1) * h + p);
                    let (a, b) = (grid[i], grid[j]);
                    grid[i] = a + b.conj();
                    grid[j] = b + a.conj();
                }
            }
        }
    }
    let (neg, pos) = (n2 / 2, n2 - n2 / 2);
    let out = crate::par::SharedMut::new(modes);
    // The real part is half the transform of the doubled spectrum; the rows come unscaled.
    let half_scale = T::of(0.5 / (nf0 * nf1 * nf2) as f64);
    plan.c2r_rows_pruned(half, &params.modes, |r, row| {
        let (t, l0, l1) = (r / (nf0 * nf1), (r / nf1) % nf0, r % nf1);
        let (Some(i0), Some(i1)) = (ax.mode_of(0, l0), ax.mode_of(1, l1)) else {
            return;
        };
        let f01 = ax.f[0][i0] * ax.f[1][i1] * half_scale;
        let start = ((t * n0 + i0) * n1 + i1) * n2;
        // SAFETY: each row of modes is written by the one call of its fine-grid row.
        let dst = unsafe { out.slice(start, n2) };
        let (o_neg, o_pos) = dst.split_at_mut(neg);
        let (f_neg, f_pos) = ax.f[2].split_at(neg);
        for ((o, &v), &f) in o_neg.iter_mut().zip(&row[nf2 - neg..]).zip(f_neg) {
            *o = v * (f01 * f);
        }
        for ((o, &v), &f) in o_pos.iter_mut().zip(&row[..pos]).zip(f_pos) {
            *o = v * (f01 * f);
        }
    })
}
