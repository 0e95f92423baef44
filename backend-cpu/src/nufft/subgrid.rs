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
