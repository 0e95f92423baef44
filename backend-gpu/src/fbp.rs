//! Linear-interpolation backprojection (`fbp.cl`).

use crate::backend::GpuBackend;
use crate::buffer::GpuBuffer;
use crate::driver::{Arg, Driver};
use crate::kernels;
use backend_core::{check, DeviceBuffer, Real, Result};

type Buf<D, E> = GpuBuffer<D, E>;

pub(crate) fn interp_backproject<D: Driver, T: Real>(
    b: &GpuBackend<D>,
    f: &Buf<D, T>,
    g: &Buf<D, T>,
    grids: &[&Buf<D, T>],
    r0: T,
    dr: T,
    out: &mut Buf<D, T>,
) -> Result<()> {
    let shapes: Vec<&[usize]> = grids.iter().map(|x| x.shape()).collect();
    check::interp_backproject(
        f.shape(),
        g.shape(),
        &shapes,
        r0.f64(),
        dr.f64(),
        out.shape(),
    )?;
    let d = grids.len();
    let (nproj, nb) = (f.shape()[0], f.shape()[1]);
    // The kernel takes 3 grids and sizes; the unused ones are never read.
    let size = |a: usize| grids.get(a).map_or(1, |x| x.len());
    b.items(
        T::PRECISION,
        &kernels::INTERP_BACKPROJECT,
        out.len(),
        &[
            Arg::Mem(&f.mem),
            Arg::Mem(&g.mem),
            Arg::Mem(&grids[0].mem),
            Arg::Mem(&grids[1.min(d - 1)].mem),
            Arg::Mem(&grids[d - 1].mem),
            Arg::Mem(&out.mem),
            Arg::size(nproj)?,
            Arg::size(nb)?,
            Arg::I32(d as i32),
            Arg::size(size(0))?,
            Arg::size(size(1))?,
            Arg::size(size(2))?,
            Arg::real(r0),
            Arg::real(dr),
        ],
    )
}
