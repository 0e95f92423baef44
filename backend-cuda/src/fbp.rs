//! Linear-interpolation backprojection of filtered backprojection (fbp.cl).

use crate::backend::CudaBackend;
use crate::buffer::CudaBuffer;
use crate::kernels;
use crate::program::{Arg, Range};
use backend_core::error::check_shape;
use backend_core::{DeviceBuffer, Error, Real, Result};

pub(crate) fn interp_backproject<T: Real>(
    be: &CudaBackend,
    f: &CudaBuffer<T>,
    g: &CudaBuffer<T>,
    grids: &[&CudaBuffer<T>],
    r0: T,
    dr: T,
    out: &mut CudaBuffer<T>,
) -> Result<()> {
    let d = grids.len();
    if !(1..=3).contains(&d) {
        return Err(Error::InvalidArgument(format!(
            "interp_backproject: {d} grid axes (1 to 3)"
        )));
    }
    let (fs, gs) = (f.shape(), g.shape());
    if fs.len() != 2 || gs.len() != 2 || gs[0] != fs[0] || gs[1] != d {
        return Err(Error::shape(
            "interp_backproject (f, g)",
            &[fs.first().copied().unwrap_or(0), d],
            gs,
        ));
    }
    let sizes: Vec<usize> = grids.iter().map(|b| b.len()).collect();
    check_shape("interp_backproject (output)", &sizes, out.shape())?;
    if !(dr.is_finite() && dr != T::zero() && r0.is_finite()) {
        return Err(Error::InvalidArgument(format!(
            "interp_backproject: r0 = {r0}, dr = {dr}"
        )));
    }
    let n1 = if d >= 2 { sizes[1] } else { 1 };
    let n2 = if d == 3 { sizes[2] } else { 1 };
    be.run(
        T::PRECISION,
        &kernels::INTERP_BACKPROJECT,
        Range::items(out.len()),
        &[
            Arg::Mem(&f.mem),
            Arg::Mem(&g.mem),
            Arg::Mem(&grids[0].mem),
            Arg::Mem(&grids[1.min(d - 1)].mem),
            Arg::Mem(&grids[d - 1].mem),
            Arg::Mem(&out.mem),
            Arg::size(fs[0])?,
            Arg::size(fs[1])?,
            Arg::I32(d as i32),
            Arg::size(sizes[0])?,
            Arg::size(n1)?,
            Arg::size(n2)?,
            Arg::real(r0),
            Arg::real(dr),
        ],
    )
}
