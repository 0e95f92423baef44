//! Index maps: gather/scatter over flat positions, block copies (padding, cropping) and circular
//! shifts of arrays of any rank. Arrays are row-major; the work is done row by row (last axis
//! contiguous), rows in parallel for large arrays.

use crate::par::{SharedMut, PAR_MIN};
use backend_core::{Element, Error, Result};
use rayon::prelude::*;

/// Row-major strides of `shape`.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for a in (0..shape.len().saturating_sub(1)).rev() {
        s[a] = s[a + 1] * shape[a + 1];
    }
    s
}

/// Flat position of the start of row `r` of an array whose leading dimensions (all but the last)
/// are `lead`, placed at `offset` inside an array of strides `strides` (both of rank
/// `lead.len() + 1`); `map(axis, i)` transforms each leading index first.
fn row_start(
    mut r: usize,
    lead: &[usize],
    strides: &[usize],
    map: impl Fn(usize, usize) -> usize,
) -> usize {
    let mut pos = 0;
    for a in (0..lead.len()).rev() {
        let i = r % lead[a];
        r /= lead[a];
        pos += map(a, i) * strides[a];
    }
    pos
}

/// Fails unless every index is below `n`.
fn check_indices(op: &str, idx: &[u32], n: usize) -> Result<()> {
    match idx.iter().find(|&&i| i as usize >= n) {
        Some(i) => Err(Error::InvalidArgument(format!(
            "{op}: index {i} out of bounds for {n} elements"
        ))),
        None => Ok(()),
    }
}

/// `out[m] <- src[idx[m]]` (lengths checked by the caller).
pub fn gather<E: Element>(src: &[E], idx: &[u32], out: &mut [E]) -> Result<()> {
    check_indices("gather", idx, src.len())?;
    crate::par::zip_each(out, idx, |o, &i| *o = src[i as usize]);
    Ok(())
}

/// `out[idx[m]] <- src[m]`.
pub fn scatter<E: Element>(src: &[E], idx: &[u32], out: &mut [E]) -> Result<()> {
    check_indices("scatter", idx, out.len())?;
    for (&i, &v) in idx.iter().zip(src) {
        out[i as usize] = v;
    }
    Ok(())
}

/// Copies the block of shape `block` from `src` (shape `src_shape`, block at `src_off`) to `dst`
/// (shape `dst_shape`, block at `dst_off`). All ranks equal and the block fits (checked by the
/// caller); rank 0 is a single element.
pub fn copy_block<E: Element>(
    src: &[E],
    src_shape: &[usize],
    src_off: &[usize],
    dst: &mut [E],
    dst_shape: &[usize],
    dst_off: &[usize],
    block: &[usize],
) {
    let Some((&width, lead)) = block.split_last() else {
        dst[0] = src[0];
        return;
    };
    let (ss, ds) = (strides(src_shape), strides(dst_shape));
    let (last_s, last_d) = (src_off[lead.len()], dst_off[lead.len()]);
    let rows: usize = lead.iter().product();
    if width == 0 || rows == 0 {
        return;
    }
    let copy_row = |r: usize, dst: &mut [E]| {
        let s = row_start(r, lead, &ss, |a, i| i + src_off[a]) + last_s;
        dst.copy_from_slice(&src[s..s + width]);
    };
    let dst_row = |r: usize| row_start(r, lead, &ds, |a, i| i + dst_off[a]) + last_d;
    if rows * width < PAR_MIN {
        for r in 0..rows {
            let d = dst_row(r);
            copy_row(r, &mut dst[d..d + width]);
        }
    } else {
        let shared = SharedMut::new(dst);
        (0..rows).into_par_iter().for_each(|r| {
            // SAFETY: distinct block rows map to disjoint ranges of `dst`.
            let row = unsafe { shared.slice(dst_row(r), width) };
            copy_row(r, row);
        });
    }
}

/// `dst[(i + shift) mod n] <- src[i]` along every axis (same shape, `shifts` one per axis).
pub fn roll<E: Element>(src: &[E], shape: &[usize], shifts: &[isize], dst: &mut [E]) {
    let Some((&n, lead)) = shape.split_last() else {
        dst[0] = src[0];
        return;
    };
    if n == 0 || dst.is_empty() {
        return;
    }
    let st = strides(shape);
    let modulo = |s: isize, n: usize| s.rem_euclid(n as isize) as usize;
    let last = modulo(shifts[lead.len()], n);
    // dst row (i_0..i_{d-2}) comes from src row (i_a - shift_a mod n_a).
    let roll_row = |r: usize, out: &mut [E]| {
        let s = row_start(r, lead, &st, |a, i| {
            (i + lead[a] - modulo(shifts[a], lead[a])) % lead[a]
        });
        let row = &src[s..s + n];
        out[last..].copy_from_slice(&row[..n - last]);
        out[..last].copy_from_slice(&row[n - last..]);
    };
    if dst.len() < PAR_MIN {
        dst.chunks_mut(n)
            .enumerate()
            .for_each(|(r, out)| roll_row(r, out));
    } else {
        dst.par_chunks_mut(n)
            .enumerate()
            .for_each(|(r, out)| roll_row(r, out));
    }
}
