//! Type-1 spreading: each subproblem spreads its sorted points into a private box; the boxes
//! are added to the periodic fine grid in subproblem order, whatever thread finished first, so
//! the sums (and the type-1 result) are the same bits from run to run and for any thread count
//! (the subproblems themselves do not depend on the thread count, see `points`).

use super::horner::{self, madd};
use super::points::{Chunk, CpuPoints};
use super::subgrid::{for_each_half_run, for_each_run};
use super::{as_reals_mut, simd_dispatch, unit};
use crate::par::on_workers;
use backend_core::{Real, C};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// `fine` (shape `(n_trans, fine...)`) `<- Σ_m c[t, m] φ(grid − x_m)`, wrapped periodically;
/// with `half`, `fine` is the half spectrum along the last axis and the cells beyond it are
/// added, conjugated, to their mirrors (see [`for_each_half_run`]).
pub(crate) fn spread<T: Real>(pts: &CpuPoints<T>, c: &[C<T>], half: bool, fine: &mut [C<T>]) {
    crate::par::for_each(fine, |x| *x = C::new(T::zero(), T::zero()));
    match pts.horner.lanes() {
        8 => spread_lanes::<T, 8>(pts, c, half, fine),
        16 => spread_lanes::<T, 16>(pts, c, half, fine),
        24 => spread_lanes::<T, 24>(pts, c, half, fine),
        _ => spread_lanes::<T, 32>(pts, c, half, fine),
    }
}

/// The fine grid and the boxes spread but not yet added to it.
struct InOrder<'a, T> {
    fine: &'a mut [C<T>],
    /// Index of the next subproblem to add.
    next: usize,
    /// Boxes of later subproblems, waiting for `next`.
    pending: BTreeMap<usize, Vec<C<T>>>,
    /// Box buffers to reuse.
    free: Vec<Vec<C<T>>>,
}

fn spread_lanes<T: Real, const L: usize>(
    pts: &CpuPoints<T>,
    c: &[C<T>],
    half: bool,
    fine: &mut [C<T>],
) {
    let n_trans = pts.params.n_trans;
    let flen = fine.len() / n_trans;
    let m = pts.len();
    let add_run = |g: &mut [C<T>], s: &[C<T>]| {
        for (x, y) in g.iter_mut().zip(s) {
            *x += *y;
        }
    };
    let add = |fine: &mut [C<T>], ch: &Chunk, sub: &[C<T>]| {
        let cells = ch.len();
        for t in 0..n_trans {
            let gt = &mut fine[t * flen..(t + 1) * flen];
            let st = &sub[t * cells..(t + 1) * cells];
            if half {
                for_each_half_run(ch, pts.fine, |s, gi, len, mirrored| {
                    if mirrored {
                        let run = gt[gi + 1 - len..=gi].iter_mut().rev();
                        for (x, y) in run.zip(&st[s..s + len]) {
                            *x += y.conj();
                        }
                    } else {
                        add_run(&mut gt[gi..gi + len], &st[s..s + len]);
                    }
                });
            } else {
                for_each_run(ch, pts.fine, |s, gi, len| {
                    add_run(&mut gt[gi..gi + len], &st[s..s + len]);
                });
            }
        }
    };
    let state = Mutex::new(InOrder {
        fine,
        next: 0,
        pending: BTreeMap::new(),
        free: Vec::new(),
    });
    // Workers take the subproblems in increasing order, so at most about one box per worker
    // waits for an earlier one.
    let taken = AtomicUsize::new(0);
    let work = || {
        let mut cs: Vec<C<T>> = Vec::new();
        loop {
            let i = taken.fetch_add(1, Ordering::Relaxed);
            let Some(ch) = pts.chunks.get(i) else {
                return;
            };
            let reuse = state.lock().unwrap_or_else(|e| e.into_inner()).free.pop();
            let mut sub = reuse.unwrap_or_default();
            sub.clear();
            sub.resize(ch.len() * n_trans, C::new(T::zero(), T::zero()));
            // Gather the strengths in sorted order first: a tight loop of independent loads
            // instead of one cache miss per point inside the spreading loop.
            cs.clear();
            for t in 0..n_trans {
                let ct = &c[t * m..(t + 1) * m];
                cs.extend(
                    pts.sorted[ch.range.clone()]
                        .iter()
                        .map(|r| ct[r.1 as usize]),
                );
            }
            spread_box::<T, L>(pts, ch, &cs, &mut sub);
            let mut guard = state.lock().unwrap_or_else(|e| e.into_inner());
            let g = &mut *guard;
            g.pending.insert(i, sub);
            while let Some(sub) = g.pending.remove(&g.next) {
                add(g.fine, &pts.chunks[g.next], &sub);
                g.next += 1;
                g.free.push(sub);
            }
        }
    };
    on_workers(pts.chunks.len(), work);
}

simd_dispatch!(fn spread_box => spread_box_impl<T, L>(
    pts: &CpuPoints<T>,
    ch: &Chunk,
    c: &[C<T>],
    sub: &mut [C<T>],
));

/// Spreads the points of `ch`, strengths `c` (shape `(n_trans, ch.range.len())`, sorted order),
/// into its box `sub` (shape `(n_trans, ch.size...)`).
#[inline(always)]
fn spread_box_impl<T: Real, const L: usize, const FMA: bool>(
    pts: &CpuPoints<T>,
    ch: &Chunk,
    c: &[C<T>],
    sub: &mut [C<T>],
) {
    let rows = pts.horner.rows::<L>();
    let one = unit::<T, L>();
    let [_, s1, s2] = ch.size;
    let cells = ch.len();
    let n = ch.range.len();
    let w = pts.width;
    let sub = as_reals_mut(sub);
    for (s, (_, _, p)) in pts.sorted[ch.range.clone()].iter().enumerate() {
        let k0 = if w[0] > 1 {
            horner::eval::<T, L, FMA>(rows, p.y[0])
        } else {
            one
        };
        let k1 = if w[1] > 1 {
            horner::eval::<T, L, FMA>(rows, p.y[1])
        } else {
            one
        };
        let k2 = horner::eval::<T, L, FMA>(rows, p.y[2]);
        let o: [usize; 3] = std::array::from_fn(|a| (p.i0[a] as i64 - ch.lo[a]) as usize);
        for t in 0..pts.params.n_trans {
            let v = c[t * n + s];
            let mut kv = k2;
            for j in (0..L).step_by(2) {
                kv[j] = k2[j] * v.re;
                kv[j + 1] = k2[j + 1] * v.im;
            }
            let g = &mut sub[2 * t * cells..2 * (t + 1) * cells];
            for a in 0..w[0] {
                for b in 0..w[1] {
                    let f = k0[2 * a] * k1[2 * b];
                    let off = 2 * (((o[0] + a) * s1 + o[1] + b) * s2 + o[2]);
                    let row = g[off..]
                        .first_chunk_mut::<L>()
                        .expect("the box covers every stencil");
                    for j in 0..L {
                        row[j] = madd::<T, FMA>(f, kv[j], row[j]);
                    }
                }
            }
        }
    }
}
