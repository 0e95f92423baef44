//! Type-2 interpolation: each subproblem copies its box out of the periodic fine grid, then
//! gathers the kernel-weighted sum at each of its sorted points.

use super::horner::{self, madd};
use super::points::{Chunk, CpuPoints};
use super::subgrid::{for_each_half_run, for_each_run};
use super::{as_reals, simd_dispatch, unit};
use crate::par::{on_workers, SharedMut};
use backend_core::{Real, C};
use std::sync::atomic::{AtomicUsize, Ordering};

/// `c[t, m] <- Σ_grid fine[t, grid] φ(grid − x_m)`; with `half`, `fine` holds the half
/// spectrum of a Hermitian grid (see [`for_each_half_run`]).
pub(crate) fn interp<T: Real>(pts: &CpuPoints<T>, fine: &[C<T>], half: bool, c: &mut [C<T>]) {
    match pts.horner.lanes() {
        8 => interp_lanes::<T, 8>(pts, fine, half, c),
        16 => interp_lanes::<T, 16>(pts, fine, half, c),
        24 => interp_lanes::<T, 24>(pts, fine, half, c),
        _ => interp_lanes::<T, 32>(pts, fine, half, c),
    }
}

fn interp_lanes<T: Real, const L: usize>(
    pts: &CpuPoints<T>,
    fine: &[C<T>],
    half: bool,
    c: &mut [C<T>],
) {
    let n_trans = pts.params.n_trans;
    let flen = fine.len() / n_trans;
    let m = pts.len();
    // Each worker keeps one box buffer and one lane buffer, allocated once at the largest size
    // its subproblems need (a buffer per subproblem, or per rayon split, would touch fresh pages
    // every time), and writes each point's value straight to its place in `c`.
    let largest = |f: fn(&Chunk) -> usize| pts.chunks.iter().map(f).max().unwrap_or(0);
    let box_cells = largest(Chunk::len) * n_trans;
    let lane_values = largest(|ch| ch.range.len()) * n_trans * L;
    let out = SharedMut::new(c);
    let taken = AtomicUsize::new(0);
    let work = || {
        let mut sub: Vec<C<T>> = Vec::with_capacity(box_cells);
        // Every lane of a point is written by `interp_box`: no zeroing per subproblem.
        let mut lanes: Vec<T> = vec![T::zero(); lane_values];
        while let Some(ch) = pts.chunks.get(taken.fetch_add(1, Ordering::Relaxed)) {
            let n = ch.range.len();
            if n == 0 {
                continue;
            }
            // The runs visit the box's cells in order: appending them builds the box without
            // zeroing it first.
            sub.clear();
            for t in 0..n_trans {
                let gt = &fine[t * flen..(t + 1) * flen];
                if half {
                    for_each_half_run(ch, pts.fine, |_, gi, len, mirrored| {
                        if mirrored {
                            let run = gt[gi + 1 - len..=gi].iter().rev();
                            sub.extend(run.map(|v| v.conj()));
                        } else {
                            sub.extend_from_slice(&gt[gi..gi + len]);
                        }
                    });
                } else {
                    for_each_run(ch, pts.fine, |_, gi, len| {
                        sub.extend_from_slice(&gt[gi..gi + len]);
                    });
                }
            }
            debug_assert_eq!(sub.len(), ch.len() * n_trans);
            let lanes = &mut lanes[..n * n_trans * L];
            interp_box::<T, L>(pts, ch, &sub, lanes);
            // Sum the even (re) and odd (im) lanes of each point into its place.
            let sorted = &pts.sorted[ch.range.clone()];
            for (t, point_lanes) in lanes.chunks_exact(n * L).enumerate() {
                for (&(_, orig, _), v) in sorted.iter().zip(point_lanes.chunks_exact(L)) {
                    let (mut re, mut im) = (T::zero(), T::zero());
                    for pair in v.chunks_exact(2) {
                        re += pair[0];
                        im += pair[1];
                    }
                    // SAFETY: the sorted records hold each point index once and the workers
                    // take disjoint subproblems, so no two writes share a position; `c`
                    // stays borrowed until the scope ends.
                    unsafe { out.slice(t * m + orig as usize, 1)[0] = C::new(re, im) };
                }
            }
        }
    };
    on_workers(pts.chunks.len(), work);
}

simd_dispatch!(fn interp_box => interp_box_impl<T, L>(
    pts: &CpuPoints<T>,
    ch: &Chunk,
    sub: &[C<T>],
    lanes: &mut [T],
));

/// Interpolates the box `sub` (shape `(n_trans, ch.size...)`) at the points of `ch`:
/// `lanes[t, s, ..]` receives the `L` kernel-weighted lanes of sorted point
/// `ch.range.start + s` of vector `t`, whose even lanes sum to the real part and odd lanes to
/// the imaginary part. (Storing whole lanes keeps the compiler's vectors full-width.)
#[inline(always)]
fn interp_box_impl<T: Real, const L: usize, const FMA: bool>(
    pts: &CpuPoints<T>,
    ch: &Chunk,
    sub: &[C<T>],
    lanes: &mut [T],
) {
    let rows = pts.horner.rows::<L>();
    let one = unit::<T, L>();
    let [_, s1, s2] = ch.size;
    let cells = ch.len();
    let n = ch.range.len();
    let w = pts.width;
    let sub = as_reals(sub);
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
            let g = &sub[2 * t * cells..2 * (t + 1) * cells];
            // Four independent accumulators hide the FMA latency.
            let mut acc = [[T::zero(); L]; 4];
            let row = |a: usize, b: usize| {
                let off = 2 * (((o[0] + a) * s1 + o[1] + b) * s2 + o[2]);
                g[off..]
                    .first_chunk::<L>()
                    .expect("the box covers every stencil")
            };
            for a in 0..w[0] {
                let fa = k0[2 * a];
                let mut b = 0;
                while b + 4 <= w[1] {
                    for (q, acc) in acc.iter_mut().enumerate() {
                        add_row::<T, L, FMA>(acc, fa * k1[2 * (b + q)], row(a, b + q));
                    }
                    b += 4;
                }
                for (q, acc) in acc.iter_mut().enumerate().take(w[1] - b) {
                    add_row::<T, L, FMA>(acc, fa * k1[2 * (b + q)], row(a, b + q));
                }
            }
            let [a0, a1, a2, a3] = acc;
            let out = lanes[(t * n + s) * L..]
                .first_chunk_mut::<L>()
                .expect("L lanes per point");
            for j in 0..L {
                out[j] = ((a0[j] + a1[j]) + (a2[j] + a3[j])) * k2[j];
            }
        }
    }
}

/// `acc += f row`, lane by lane.
#[inline(always)]
fn add_row<T: Real, const L: usize, const FMA: bool>(acc: &mut [T; L], f: T, row: &[T; L]) {
    for j in 0..L {
        acc[j] = madd::<T, FMA>(f, row[j], acc[j]);
    }
}
