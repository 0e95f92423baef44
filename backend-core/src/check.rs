//! Argument checks written once for every backend: one validator per [`crate::Backend`] method
//! that has preconditions, called by each backend before it touches memory, so that a bad call
//! fails the same way everywhere.
//!
//! The validators see shapes (row-major, as [`crate::DeviceBuffer::shape`] returns them), never
//! data. The errors:
//! * buffers whose sizes do not fit together: [`Error::ShapeMismatch`];
//! * axes, offsets, counts or parameters outside their range: [`Error::InvalidArgument`];
//! * NaN or infinite NUFFT points: [`Error::NonFinite`].

use crate::error::{check_shape, Error, Result};
use crate::fft::{check_band, FftKind, FftSpec};
use crate::nufft::SpreadParams;
use crate::scalar::Real;
use ndarray::ArrayView1;

/// Largest rank of the arrays that index maps (embed, extract, roll) and stencils handle (the
/// device kernels pass shapes in fixed arrays of this many entries).
pub const MAX_RANK: usize = 8;

/// Largest number of image axes of [`crate::Backend::interp_backproject`] and of grid axes of
/// the NUFFT (EPR images are 1D to 3D).
pub const MAX_GRID_AXES: usize = 3;

fn len(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Fails unless two buffers hold the same number of elements (their shapes may differ).
pub fn same_len(op: &str, expected: &[usize], got: &[usize]) -> Result<()> {
    if len(expected) == len(got) {
        Ok(())
    } else {
        Err(Error::shape(op, expected, got))
    }
}

/// Fails unless `b`'s length divides `a`'s (`b` is repeated along the leading axes); an empty
/// `b` only with an empty `a`.
pub fn divides(op: &str, a: &[usize], b: &[usize]) -> Result<()> {
    if len(a).is_multiple_of(len(b)) {
        Ok(())
    } else {
        Err(Error::shape(format!("{op} (b must divide a)"), a, b))
    }
}

/// Fails unless an array's rank is at most [`MAX_RANK`].
pub fn rank(op: &str, shape: &[usize]) -> Result<()> {
    if shape.len() <= MAX_RANK {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{op}: rank {} above the limit {MAX_RANK}",
            shape.len()
        )))
    }
}

/// [`crate::Backend::gather`]: one index per output element.
pub fn gather(out: &[usize], idx: &[usize]) -> Result<()> {
    same_len("gather (indices and output)", out, idx)
}

/// [`crate::Backend::scatter`]: one index per source element.
pub fn scatter(src: &[usize], idx: &[usize]) -> Result<()> {
    same_len("scatter (indices and source)", src, idx)
}

/// Fails unless every index (at most `max`, `None` when there is no index) is below `n`.
pub fn indices(op: &str, max: Option<u32>, n: usize) -> Result<()> {
    match max {
        Some(m) if m as usize >= n => Err(Error::InvalidArgument(format!(
            "{op}: index {m} out of range for {n} elements"
        ))),
        _ => Ok(()),
    }
}

/// Fails unless `block` fits inside `big` at `offset` (same rank, at most [`MAX_RANK`]).
fn block(op: &str, block: &[usize], big: &[usize], offset: &[usize]) -> Result<()> {
    rank(op, big)?;
    let fits = block.len() == big.len()
        && offset.len() == big.len()
        && (0..big.len()).all(|a| offset[a] + block[a] <= big[a]);
    if fits {
        return Ok(());
    }
    let end: Vec<usize> = (0..block.len().min(offset.len()))
        .map(|a| offset[a] + block[a])
        .collect();
    Err(Error::shape(
        format!("{op} (block {block:?} at offset {offset:?})"),
        big,
        &end,
    ))
}

/// [`crate::Backend::embed`]: `src` fits inside `dst` at `offset`.
pub fn embed(src: &[usize], dst: &[usize], offset: &[usize]) -> Result<()> {
    block("embed", src, dst, offset)
}

/// [`crate::Backend::extract`]: `dst` fits inside `src` at `offset`.
pub fn extract(src: &[usize], offset: &[usize], dst: &[usize]) -> Result<()> {
    block("extract", dst, src, offset)
}

/// [`crate::Backend::roll`]: same shapes, one shift per axis.
pub fn roll(src: &[usize], shifts: &[isize], dst: &[usize]) -> Result<()> {
    check_shape("roll", src, dst)?;
    rank("roll", src)?;
    if shifts.len() == src.len() {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "roll: {} shifts for an array of rank {}",
            shifts.len(),
            src.len()
        )))
    }
}

/// `(count, shape...)`: the shape of a stack of `count` arrays of `shape`.
pub fn stacked(count: usize, shape: &[usize]) -> Vec<usize> {
    std::iter::once(count)
        .chain(shape.iter().copied())
        .collect()
}

/// Fails unless `shape` is a stencil's grid: rank 1 to [`MAX_RANK`], no empty axis.
fn stencil_grid(op: &str, shape: &[usize]) -> Result<()> {
    if shape.is_empty() || shape.contains(&0) {
        return Err(Error::InvalidArgument(format!(
            "{op} of an array of shape {shape:?} (rank >= 1, no empty axis)"
        )));
    }
    rank(op, shape)
}

/// Fails unless `axes` are 1 or more distinct axes of `shape`.
fn stencil_axes(op: &str, shape: &[usize], axes: &[usize]) -> Result<()> {
    let distinct = axes.iter().enumerate().all(|(i, a)| !axes[..i].contains(a));
    if axes.is_empty() || !distinct || axes.iter().any(|&a| a >= shape.len()) {
        return Err(Error::InvalidArgument(format!(
            "{op}: axes {axes:?} must be distinct axes of an array of shape {shape:?}"
        )));
    }
    Ok(())
}

/// Fails unless the optional `masks` has shape `want`.
fn masks_shape(op: &str, want: &[usize], masks: Option<&[usize]>) -> Result<()> {
    masks.map_or(Ok(()), |m| check_shape(&format!("{op} (masks)"), want, m))
}

/// [`crate::Backend::grad`]: `out` and `masks` of shape `(axes.len(), u...)`.
pub fn grad(u: &[usize], axes: &[usize], masks: Option<&[usize]>, out: &[usize]) -> Result<()> {
    stencil_grid("grad", u)?;
    stencil_axes("grad", u, axes)?;
    let full = stacked(axes.len(), u);
    check_shape("grad (output)", &full, out)?;
    masks_shape("grad", &full, masks)
}

/// [`crate::Backend::div`]: `p` and `masks` of shape `(axes.len(), out...)`.
pub fn div(p: &[usize], axes: &[usize], masks: Option<&[usize]>, out: &[usize]) -> Result<()> {
    stencil_grid("div", out)?;
    stencil_axes("div", out, axes)?;
    let full = stacked(axes.len(), out);
    check_shape("div (field)", &full, p)?;
    masks_shape("div", &full, masks)
}

/// [`crate::Backend::tv_dual_step`]: `p` and `masks` of shape `(ubar.ndim, ubar...)`.
pub fn tv_dual_step(p: &[usize], ubar: &[usize], masks: Option<&[usize]>) -> Result<()> {
    stencil_grid("tv_dual_step", ubar)?;
    let full = stacked(ubar.len(), ubar);
    check_shape("tv_dual_step (dual field)", &full, p)?;
    masks_shape("tv_dual_step", &full, masks)
}

/// The buffers of [`crate::Backend::tv_primal_step`], by shape.
pub struct PrimalShapes<'a> {
    /// The image `u` (also the shape of `ubar`, `gradf`, `mask`).
    pub u: &'a [usize],
    /// The extrapolated image.
    pub ubar: &'a [usize],
    /// The dual field, `(u.ndim, u...)` (also the shape of `masks`).
    pub p: &'a [usize],
    /// The data-term gradient.
    pub gradf: &'a [usize],
    /// The support mask, if any.
    pub mask: Option<&'a [usize]>,
    /// The gradient masks, if any.
    pub masks: Option<&'a [usize]>,
}

/// [`crate::Backend::tv_primal_step`].
pub fn tv_primal_step(s: &PrimalShapes<'_>) -> Result<()> {
    let op = "tv_primal_step";
    stencil_grid(op, s.u)?;
    check_shape("tv_primal_step (ubar)", s.u, s.ubar)?;
    check_shape("tv_primal_step (gradf)", s.u, s.gradf)?;
    let full = stacked(s.u.len(), s.u);
    check_shape("tv_primal_step (dual field)", &full, s.p)?;
    if let Some(m) = s.mask {
        check_shape("tv_primal_step (mask)", s.u, m)?;
    }
    masks_shape(op, &full, s.masks)
}

/// Fails unless a plan of `spec` may run `op`, a transform of kind `kind`.
fn fft_kind(op: &str, spec: &FftSpec, kind: FftKind) -> Result<()> {
    if spec.kind == kind {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{op} with a plan made for {:?}",
            spec.kind
        )))
    }
}

/// [`crate::Backend::fft_c2c`]: a C2C plan, `data` of the plan's shape.
pub fn fft_c2c(spec: &FftSpec, data: &[usize]) -> Result<()> {
    fft_kind("fft_c2c", spec, FftKind::C2C)?;
    check_shape("fft_c2c", &spec.shape, data)
}

/// [`crate::Backend::fft_c2c_leading`]: `all` a C2C plan of every axis of `data` (rank 2 or
/// more), `trailing` a C2C plan of every axis but the first, both of `data`'s shape.
pub fn fft_c2c_leading(all: &FftSpec, trailing: &FftSpec, data: &[usize]) -> Result<()> {
    fft_c2c(all, data)?;
    fft_c2c(trailing, data)?;
    if data.len() >= 2 && all.axes == data.len() && trailing.axes + 1 == data.len() {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "DFT along axis 0 of an array of shape {data:?} with plans over {} and {} axes: expected {} (every axis) and {} (all but the first)",
            all.axes,
            trailing.axes,
            data.len(),
            data.len().saturating_sub(1)
        )))
    }
}

/// `fft_r2c_leading` / `fft_c2r_leading` (`op`): the plans of [`fft_c2c_leading`] for the real
/// shape `real`, `half` its half spectrum along axis 0.
pub fn fft_real_leading(
    op: &str,
    all: &FftSpec,
    trailing: &FftSpec,
    real: &[usize],
    half: &[usize],
) -> Result<()> {
    fft_c2c_leading(all, trailing, real)?;
    check_shape(op, &crate::fft::leading_half_shape(real), half)
}

/// [`crate::Backend::fft_c2c_pruned`]: as [`fft_c2c`], one band entry per transformed axis.
pub fn fft_c2c_pruned(spec: &FftSpec, data: &[usize], band: &[usize]) -> Result<()> {
    fft_c2c(spec, data)?;
    check_band(data, band)?;
    if band.len() == spec.axes {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "pruned FFT band {band:?} for a plan over {} axes",
            spec.axes
        )))
    }
}

/// [`crate::Backend::fft_r2c`]: an R2C plan, `input` of its shape, `out` of its spectrum shape.
pub fn fft_r2c(spec: &FftSpec, input: &[usize], out: &[usize]) -> Result<()> {
    fft_kind("fft_r2c", spec, FftKind::R2C)?;
    check_shape("fft_r2c (input)", &spec.shape, input)?;
    check_shape("fft_r2c (output)", &spec.spectrum_shape(), out)
}

/// [`crate::Backend::fft_c2r`]: an R2C plan, `input` of its spectrum shape, `out` of its shape.
pub fn fft_c2r(spec: &FftSpec, input: &[usize], out: &[usize]) -> Result<()> {
    fft_kind("fft_c2r", spec, FftKind::R2C)?;
    check_shape("fft_c2r (input)", &spec.spectrum_shape(), input)?;
    check_shape("fft_c2r (output)", &spec.shape, out)
}

/// [`crate::Backend::fft_convolve_prepare`]: an R2C plan over every axis, the kernel of its
/// spectrum shape.
pub fn fft_convolve_prepare(spec: &FftSpec, kernel_hat: &[usize]) -> Result<()> {
    check_shape(
        "fft_convolve_prepare (kernel)",
        &spec.spectrum_shape(),
        kernel_hat,
    )?;
    if spec.kind != FftKind::R2C || spec.axes != spec.shape.len() {
        return Err(Error::InvalidArgument(format!(
            "fft_convolve_prepare needs an R2C plan over every axis, got {:?} over {} axes of {:?}",
            spec.kind, spec.axes, spec.shape
        )));
    }
    Ok(())
}

/// NUFFT points: `dim` coordinate arrays, all of one length M (returned), finite.
pub fn coordinates<T: Real>(coords: &[ArrayView1<'_, T>], dim: usize) -> Result<usize> {
    if coords.len() != dim {
        return Err(Error::InvalidArgument(format!(
            "NUFFT of dimension {dim} given {} coordinate arrays",
            coords.len()
        )));
    }
    let m = coords.first().map_or(0, |c| c.len());
    for (a, c) in coords.iter().enumerate() {
        if c.len() != m {
            return Err(Error::shape(
                format!("NUFFT points (coordinate array {a})"),
                &[m],
                &[c.len()],
            ));
        }
        crate::error::check_finite("NUFFT points", c.iter())?;
    }
    Ok(m)
}

/// [`crate::Backend::nufft_setpts`]: 1 to [`MAX_GRID_AXES`] axes, one coordinate array per
/// axis, all of one length M < 2^32, finite; fine grids of at least twice the kernel width
/// (and below 2^30 cells per axis). Returns M.
pub fn nufft_setpts<T: Real>(coords: &[ArrayView1<'_, T>], params: &SpreadParams) -> Result<usize> {
    let d = params.dim();
    if d == 0 || d > MAX_GRID_AXES || params.fine.len() != d {
        return Err(Error::InvalidArgument(format!(
            "NUFFT over the modes {:?} with the fine grid {:?} (1 to {MAX_GRID_AXES} axes)",
            params.modes, params.fine
        )));
    }
    let m = coordinates(coords, d)?;
    if u32::try_from(m as u64 * params.n_trans.max(1) as u64).is_err() {
        return Err(Error::InvalidArgument(format!(
            "NUFFT with {m} points and {} transforms (at most 2^32 - 1 values)",
            params.n_trans
        )));
    }
    let w = params.kernel.width;
    if params
        .fine
        .iter()
        .any(|&n| n < 2 * w || n > i32::MAX as usize / 2)
    {
        return Err(Error::InvalidArgument(format!(
            "NUFFT fine grid {:?} too small for kernel width {w} (or too large)",
            params.fine
        )));
    }
    Ok(m)
}

/// [`crate::Backend::nufft_spread`] / [`crate::Backend::nufft_interp`] (`op`): points prepared
/// (M of them) for exactly `params`, `c` of M values per transform, `fine` of one fine grid
/// per transform.
pub fn nufft_points(
    op: &str,
    prepared: &SpreadParams,
    m: usize,
    params: &SpreadParams,
    c: &[usize],
    fine: &[usize],
) -> Result<()> {
    points_on_grid(
        op,
        prepared,
        m,
        params,
        c,
        &stacked(params.n_trans, &params.fine),
        fine,
    )
}

/// [`crate::Backend::nufft_interp_half`] / [`crate::Backend::nufft_spread_half`] (`op`): as
/// [`nufft_points`], `half` of the half-spectrum shape [`nufft_half_shape`].
pub fn nufft_points_half(
    op: &str,
    prepared: &SpreadParams,
    m: usize,
    params: &SpreadParams,
    c: &[usize],
    half: &[usize],
) -> Result<()> {
    points_on_grid(op, prepared, m, params, c, &nufft_half_shape(params), half)
}

/// The half spectrum of `params`' fine grids: `(n_trans, fine[..d−1], fine[d−1]/2 + 1)`.
pub fn nufft_half_shape(params: &SpreadParams) -> Vec<usize> {
    let mut shape = stacked(params.n_trans, &params.fine);
    if let Some(last) = shape.last_mut() {
        *last = *last / 2 + 1;
    }
    shape
}

/// [`crate::Backend::nufft_precompensate_r2c`] / [`crate::Backend::nufft_c2r_deconvolve`]
/// (`op`): as [`nufft_correct`] with real `modes`; `spec` an R2C plan of the real fine grids
/// `(n_trans, fine...)` over the grid axes, `half` of its spectrum shape.
pub fn nufft_correct_half(
    op: &str,
    params: &SpreadParams,
    factors: &[usize],
    spec: &FftSpec,
    modes: &[usize],
    half: &[usize],
) -> Result<()> {
    let fine = stacked(params.n_trans, &params.fine);
    nufft_correct(op, params, factors, &fine, modes)?;
    if spec.kind != FftKind::R2C || spec.shape != fine || spec.axes != params.dim() {
        return Err(Error::InvalidArgument(format!(
            "{op}: FFT plan {:?} of shape {:?} over {} axes, expected R2C of shape {fine:?} over {}",
            spec.kind,
            spec.shape,
            spec.axes,
            params.dim()
        )));
    }
    same_len(
        &format!("{op} (half spectrum)"),
        &nufft_half_shape(params),
        half,
    )
}

/// [`nufft_points`] on a grid of shape `grid` (`fine` its buffer's shape).
fn points_on_grid(
    op: &str,
    prepared: &SpreadParams,
    m: usize,
    params: &SpreadParams,
    c: &[usize],
    grid: &[usize],
    fine: &[usize],
) -> Result<()> {
    if prepared != params {
        return Err(Error::InvalidArgument(format!(
            "{op}: points prepared for the fine grid {:?} (n_trans {}), used with {:?} (n_trans {})",
            prepared.fine, prepared.n_trans, params.fine, params.n_trans
        )));
    }
    let nt = params.n_trans;
    same_len(&format!("{op} (values)"), &[nt, m], c)?;
    same_len(&format!("{op} (fine grid)"), grid, fine)
}

/// [`crate::Backend::nufft_deconvolve`] / [`crate::Backend::nufft_precompensate`] (`op`): 1 to
/// [`MAX_GRID_AXES`] axes, fine grid at least the modes, one factor per mode of each axis,
/// `fine` and `modes` of `n_trans` grids each.
pub fn nufft_correct(
    op: &str,
    params: &SpreadParams,
    factors: &[usize],
    fine: &[usize],
    modes: &[usize],
) -> Result<()> {
    let d = params.dim();
    if d == 0 || d > MAX_GRID_AXES || params.fine.len() != d {
        return Err(Error::InvalidArgument(format!(
            "{op}: modes {:?} / fine grid {:?} (1 to {MAX_GRID_AXES} axes)",
            params.modes, params.fine
        )));
    }
    if params
        .modes
        .iter()
        .zip(&params.fine)
        .any(|(&n, &nf)| n > nf)
    {
        return Err(Error::InvalidArgument(format!(
            "{op}: fine grid {:?} smaller than the modes {:?}",
            params.fine, params.modes
        )));
    }
    let nt = params.n_trans;
    same_len(
        &format!("{op} (factors)"),
        &[params.modes.iter().sum()],
        factors,
    )?;
    same_len(
        &format!("{op} (fine grid)"),
        &stacked(nt, &params.fine),
        fine,
    )?;
    same_len(&format!("{op} (modes)"), &stacked(nt, &params.modes), modes)
}

/// [`crate::Backend::interp_backproject`]: `f` of shape `(N, Nb)` with `Nb >= 1`, `g` of shape
/// `(N, d)` for `d` = 1 to [`MAX_GRID_AXES`] one-dimensional `grids`, `out` of shape
/// `(len(grids[0]), ...)`, `r0` finite, `dr` finite and non-zero (negative: samples in
/// decreasing order).
pub fn interp_backproject(
    f: &[usize],
    g: &[usize],
    grids: &[&[usize]],
    r0: f64,
    dr: f64,
    out: &[usize],
) -> Result<()> {
    let d = grids.len();
    if !(1..=MAX_GRID_AXES).contains(&d) {
        return Err(Error::InvalidArgument(format!(
            "interp_backproject over {d} image axes (1 to {MAX_GRID_AXES})"
        )));
    }
    let &[nproj, nb] = f else {
        return Err(Error::shape("interp_backproject (f)", &[0, 0], f));
    };
    check_shape("interp_backproject (g)", &[nproj, d], g)?;
    let lens: Vec<usize> = grids.iter().map(|x| len(x)).collect();
    for (a, x) in grids.iter().enumerate() {
        check_shape(&format!("interp_backproject (grid {a})"), &[lens[a]], x)?;
    }
    check_shape("interp_backproject (out)", &lens, out)?;
    if nb == 0 || !r0.is_finite() || !dr.is_finite() || dr == 0.0 {
        return Err(Error::InvalidArgument(format!(
            "interp_backproject: {nb} samples from {r0} by {dr} (need >= 1 sample, finite start, finite non-zero spacing)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_or_missing_axes_are_refused() {
        let u = [3, 4];
        assert!(grad(&u, &[0, 0], None, &[2, 3, 4]).is_err());
        assert!(grad(&u, &[], None, &[0, 3, 4]).is_err());
        assert!(div(&[1, 3, 4], &[2], None, &u).is_err());
        assert!(grad(&u, &[1, 0], None, &[2, 3, 4]).is_ok());
    }

    #[test]
    fn backprojection_arguments() {
        let ok = |nb: usize, dr: f64| {
            interp_backproject(&[2, nb], &[2, 2], &[&[3], &[4]], 0.0, dr, &[3, 4])
        };
        assert!(ok(5, -0.5).is_ok());
        assert!(matches!(ok(0, 1.0), Err(Error::InvalidArgument(_))));
        assert!(matches!(ok(5, 0.0), Err(Error::InvalidArgument(_))));
        let four: [&[usize]; 4] = [&[2]; 4];
        assert!(matches!(
            interp_backproject(&[1, 3], &[1, 4], &four, 0.0, 1.0, &[2, 2, 2, 2]),
            Err(Error::InvalidArgument(_))
        ));
    }

    #[test]
    fn blocks_fit_or_mismatch() {
        assert!(embed(&[2, 2], &[4, 4], &[2, 2]).is_ok());
        assert!(matches!(
            embed(&[2, 2], &[4, 4], &[3, 0]),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(extract(&[4, 4], &[1], &[2, 2]).is_err());
    }
}
