//! The correspondence between a subproblem's box and the periodic fine grid.

use super::points::Chunk;

/// Calls `f(sub, global, len)` for runs of `len` cells that are contiguous both in the box
/// (offset `sub`, row-major over `chunk.size`) and in one vector of the fine grid (offset
/// `global`, row-major over `fine`), the box's cells wrapped periodically. Every cell of the box
/// is visited once; a box wider than the grid visits some grid cells more than once.
pub fn for_each_run(chunk: &Chunk, fine: [usize; 3], mut f: impl FnMut(usize, usize, usize)) {
    let [s0, s1, s2] = chunk.size;
    let wrap = |lo: i64, i: usize, n: usize| (lo + i as i64).rem_euclid(n as i64) as usize;
    let start2 = wrap(chunk.lo[2], 0, fine[2]);
    for a in 0..s0 {
        let g0 = wrap(chunk.lo[0], a, fine[0]);
        for b in 0..s1 {
            let g1 = wrap(chunk.lo[1], b, fine[1]);
            let row = (g0 * fine[1] + g1) * fine[2];
            let mut sub = (a * s1 + b) * s2;
            let (mut g2, mut left) = (start2, s2);
            while left > 0 {
                let len = left.min(fine[2] - g2);
                f(sub, row + g2, len);
                sub += len;
                left -= len;
                g2 = 0;
            }
        }
    }
}

/// [`for_each_run`] on the half spectrum `(fine[0], fine[1], fine[2]/2 + 1)` of a Hermitian
/// grid (`F(−k) = conj F(k)`): `f(sub, global, len, mirrored)` for runs of `len` cells of the
/// box, read either at `global .. global + len` of one vector of the half spectrum
/// (`mirrored` false), or as the conjugates of the cells `global, global − 1, …, global − len
/// + 1` (`mirrored` true: box cells whose last index, wrapped, is above `fine[2]/2`, read at
/// `−k mod fine`).
pub fn for_each_half_run(
    chunk: &Chunk,
    fine: [usize; 3],
    mut f: impl FnMut(usize, usize, usize, bool),
) {
    let [s0, s1, s2] = chunk.size;
    let h = fine[2] / 2 + 1;
    let wrap = |lo: i64, i: usize, n: usize| (lo + i as i64).rem_euclid(n as i64) as usize;
    let mirror = |g: usize, n: usize| (n - g) % n;
    let start2 = wrap(chunk.lo[2], 0, fine[2]);
    for a in 0..s0 {
        let g0 = wrap(chunk.lo[0], a, fine[0]);
        for b in 0..s1 {
            let g1 = wrap(chunk.lo[1], b, fine[1]);
            let row = (g0 * fine[1] + g1) * h;
            let mirrored_row = (mirror(g0, fine[0]) * fine[1] + mirror(g1, fine[1])) * h;
            let mut sub = (a * s1 + b) * s2;
            let (mut g2, mut left) = (start2, s2);
            while left > 0 {
                let len = if g2 < h {
                    let len = left.min(h - g2);
                    f(sub, row + g2, len, false);
                    len
                } else {
                    let len = left.min(fine[2] - g2);
                    f(sub, mirrored_row + fine[2] - g2, len, true);
                    len
                };
                sub += len;
                left -= len;
                g2 = (g2 + len) % fine[2];
            }
        }
    }
}
