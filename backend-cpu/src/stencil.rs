//! Forward-difference gradient, divergence (its negative adjoint) and the fused TV steps
//! computed row by row (rows along the last, contiguous axis), rows in
//! parallel for large arrays.
//!
//! Along an axis of length `n`: `(∇u)(i) = u(i+1) - u(i)` for `i < n-1`, 0 at `i = n-1`;
//! `(div p)(i) = p(i)·[i < n-1] - p(i-1)·[i > 0]`, which is SPEC's `div[0] = p[0]`,
//! `div[i] = p[i] - p[i-1]`, `div[n-1] = -p[n-2]` for `n >= 2` (and 0 for `n = 1`, where the
//! gradient is 0).

use crate::index::strides;
use crate::par::{SharedMut, PAR_MIN};
use backend_core::Real;
use rayon::prelude::*;

/// The geometry of an array for row-wise stencils.
pub struct Grid {
    shape: Vec<usize>,
    strides: Vec<usize>,
    /// Length of a row (the last axis).
    width: usize,
    /// Number of elements.
    len: usize,
}

impl Grid {
    /// The grid of a non-empty array of rank >= 1.
    pub fn new(shape: &[usize]) -> Self {
        Grid {
            shape: shape.to_vec(),
            strides: strides(shape),
            width: shape[shape.len() - 1],
            len: shape.iter().product(),
        }
    }

    fn last(&self) -> usize {
        self.shape.len() - 1
    }

    /// Index along `axis` (not the last one) of the elements of row `r`.
    fn coord(&self, r: usize, axis: usize) -> usize {
        (r * self.width / self.strides[axis]) % self.shape[axis]
    }

    /// Rows handed to one parallel task.
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

    /// `f(rows)` over blocks of consecutive row indices covering every row, in parallel above
    /// [`PAR_MIN`] elements.
    fn for_row_blocks(&self, f: impl Fn(std::ops::Range<usize>) + Sync) {
        let rows = self.len / self.width;
        if self.len < PAR_MIN {
            f(0..rows);
        } else {
            let k = self.rows_per_task();
            (0..rows.div_ceil(k))
                .into_par_iter()
                .for_each(|c| f(c * k..((c + 1) * k).min(rows)));
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

    /// `out += div_axis q` on row `r`, `q` one component (masked or not) of the dual field.
    fn div_row_add<T: Real>(
        &self,
        q: &[T],
        mask: Option<&[T]>,
        axis: usize,
        r: usize,
        out: &mut [T],
    ) {
        let w = self.width;
        let base = r * w;
        let qv = |i: usize| match mask {
            Some(m) => q[i] * m[i],
            None => q[i],
        };
        if axis == self.last() {
            if w == 1 {
                return;
            }
            out[0] += qv(base);
            for (j, o) in out.iter_mut().enumerate().take(w - 1).skip(1) {
                *o += qv(base + j) - qv(base + j - 1);
            }
            out[w - 1] -= qv(base + w - 2);
        } else {
            let i = self.coord(r, axis);
            let s = self.strides[axis];
            if i + 1 < self.shape[axis] {
                for (j, o) in out.iter_mut().enumerate() {
                    *o += qv(base + j);
                }
            }
            if i > 0 {
                for (j, o) in out.iter_mut().enumerate() {
                    *o -= qv(base - s + j);
                }
            }
        }
    }

    /// `out <- div(masks ⊙ p)` on row `r`, `p` holding one component per entry of `axes`.
    fn div_row<T: Real>(
        &self,
        p: &[T],
        axes: &[usize],
        masks: Option<&[T]>,
        r: usize,
        out: &mut [T],
    ) {
        out.fill(T::zero());
        let n = self.len;
        for (k, &a) in axes.iter().enumerate() {
            let mask = masks.map(|m| &m[k * n..(k + 1) * n]);
            self.div_row_add(&p[k * n..(k + 1) * n], mask, a, r, out);
        }
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
    grid.for_rows(out, |r, row| grid.div_row(p, axes, masks, r, row));
}

/// `p <- p + step (masks ⊙ ∇ū)`, then `p[:, k] /= max(1, |p[:, k]|)`, gradient over every axis.
pub fn tv_dual_step<T: Real>(grid: &Grid, p: &mut [T], ubar: &[T], step: T, masks: Option<&[T]>) {
    let (n, w, d) = (grid.len, grid.width, grid.shape.len());
    let shared = SharedMut::new(p);
    grid.for_row_blocks(|rows| {
        let mut g = vec![T::zero(); w];
        let mut norm2 = vec![T::zero(); w];
        for r in rows {
            norm2.fill(T::zero());
            for a in 0..d {
                let start = a * n + r * w;
                // SAFETY: each task owns its rows `r`, in every component block.
                let pa = unsafe { shared.slice(start, w) };
                grid.grad_row(ubar, a, r, &mut g);
                match masks {
                    Some(m) => pa
                        .iter_mut()
                        .zip(&g)
                        .zip(&m[start..start + w])
                        .for_each(|((p, g), m)| *p += step * *m * *g),
                    None => pa.iter_mut().zip(&g).for_each(|(p, g)| *p += step * *g),
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
                let pa = unsafe { shared.slice(a * n + r * w, w) };
                pa.iter_mut().zip(&norm2).for_each(|(p, s)| *p *= *s);
            }
        }
    });
}

/// The scalars and masks of [`tv_primal_step`].
pub struct PrimalStep<'a, T> {
    /// Primal step τ.
    pub tau: T,
    /// TV weight λ.
    pub lambda: T,
    /// Clip at 0.
    pub positivity: bool,
    /// Support mask (`u *= [mask > 0]`).
    pub mask: Option<&'a [T]>,
    /// Gradient masks, as in [`div`].
    pub masks: Option<&'a [T]>,
}

/// `u_new = u + τ(λ div(masks ⊙ p) − gradf)`, masked and clipped; `ubar <- 2 u_new − u`,
/// `u <- u_new`, divergence over every axis.
pub fn tv_primal_step<T: Real>(
    grid: &Grid,
    u: &mut [T],
    ubar: &mut [T],
    p: &[T],
    gradf: &[T],
    s: &PrimalStep<'_, T>,
) {
    let w = grid.width;
    let axes: Vec<usize> = (0..grid.shape.len()).collect();
    let two = T::one() + T::one();
    let row = |r: usize, u: &mut [T], ubar: &mut [T], dv: &mut [T]| {
        grid.div_row(p, &axes, s.masks, r, dv);
        let base = r * w;
        for j in 0..w {
            let mut v = u[j] + s.tau * (s.lambda * dv[j] - gradf[base + j]);
            if let Some(m) = s.mask {
                if m[base + j].is_nan() || m[base + j] <= T::zero() {
                    v = T::zero();
                }
            }
            if s.positivity {
                v = v.max(T::zero());
            }
            ubar[j] = two * v - u[j];
            u[j] = v;
        }
    };
    if grid.len < PAR_MIN {
        let mut dv = vec![T::zero(); w];
        u.chunks_mut(w)
            .zip(ubar.chunks_mut(w))
            .enumerate()
            .for_each(|(r, (u, b))| row(r, u, b, &mut dv));
    } else {
        let k = grid.rows_per_task();
        u.par_chunks_mut(k * w)
            .zip(ubar.par_chunks_mut(k * w))
            .enumerate()
            .for_each(|(c, (us, bs))| {
                let mut dv = vec![T::zero(); w];
                us.chunks_mut(w)
                    .zip(bs.chunks_mut(w))
                    .enumerate()
                    .for_each(|(i, (u, b))| row(c * k + i, u, b, &mut dv));
            });
    }
}
