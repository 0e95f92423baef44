//! Gradient / divergence stencils and the fused TV steps (`stencil.cl`).

use crate::backend::GpuBackend;
use crate::buffer::GpuBuffer;
use crate::driver::{Arg, Driver};
use crate::kernels;
use backend_core::{check, DeviceBuffer, Real, Result};

type Buf<D, E> = GpuBuffer<D, E>;

pub(crate) fn grad<D: Driver, T: Real>(
    b: &GpuBackend<D>,
    u: &Buf<D, T>,
    axes: &[usize],
    masks: Option<&Buf<D, T>>,
    out: &mut Buf<D, T>,
) -> Result<()> {
    check::grad(u.shape(), axes, masks.map(|m| m.shape()), out.shape())?;
    let (shape, n) = (u.shape(), u.len());
    b.items(
        T::PRECISION,
        &kernels::STENCIL_GRAD,
        n * axes.len(),
        &[
            Arg::Mem(&u.mem),
            Arg::Mem(masks.map_or(&u.mem, |m| &m.mem)),
            Arg::Mem(&out.mem),
            Arg::size(n)?,
            Arg::I32(shape.len() as i32),
            Arg::dims("grad", shape, 1)?,
            Arg::I32(axes.len() as i32),
            Arg::dims("grad", axes, 1)?,
            Arg::I32(masks.is_some() as i32),
        ],
    )
}

pub(crate) fn div<D: Driver, T: Real>(
    b: &GpuBackend<D>,
    p: &Buf<D, T>,
    axes: &[usize],
    masks: Option<&Buf<D, T>>,
    out: &mut Buf<D, T>,
) -> Result<()> {
    check::div(p.shape(), axes, masks.map(|m| m.shape()), out.shape())?;
    let (shape, n) = (out.shape(), out.len());
    b.items(
        T::PRECISION,
        &kernels::STENCIL_DIV,
        n,
        &[
            Arg::Mem(&p.mem),
            Arg::Mem(masks.map_or(&p.mem, |m| &m.mem)),
            Arg::Mem(&out.mem),
            Arg::size(n)?,
            Arg::I32(shape.len() as i32),
            Arg::dims("div", shape, 1)?,
            Arg::I32(axes.len() as i32),
            Arg::dims("div", axes, 1)?,
            Arg::I32(masks.is_some() as i32),
        ],
    )
}

pub(crate) fn tv_dual_step<D: Driver, T: Real>(
    b: &GpuBackend<D>,
    p: &mut Buf<D, T>,
    ubar: &Buf<D, T>,
    step: T,
    masks: Option<&Buf<D, T>>,
) -> Result<()> {
    check::tv_dual_step(p.shape(), ubar.shape(), masks.map(|m| m.shape()))?;
    let (shape, n) = (ubar.shape(), ubar.len());
    b.items(
        T::PRECISION,
        &kernels::TV_DUAL_STEP,
        n,
        &[
            Arg::Mem(&p.mem),
            Arg::Mem(&ubar.mem),
            Arg::Mem(masks.map_or(&ubar.mem, |m| &m.mem)),
            Arg::size(n)?,
            Arg::I32(shape.len() as i32),
            Arg::dims("tv_dual_step", shape, 1)?,
            Arg::real(step),
            Arg::I32(masks.is_some() as i32),
        ],
    )
}

/// The buffers of [`backend_core::Backend::tv_primal_step`].
pub(crate) struct Primal<'a, D: Driver, T: Real> {
    pub u: &'a mut Buf<D, T>,
    pub ubar: &'a mut Buf<D, T>,
    pub p: &'a Buf<D, T>,
    pub gradf: &'a Buf<D, T>,
    pub mask: Option<&'a Buf<D, T>>,
    pub masks: Option<&'a Buf<D, T>>,
}

pub(crate) fn tv_primal_step<D: Driver, T: Real>(
    b: &GpuBackend<D>,
    s: Primal<'_, D, T>,
    tau: T,
    lambda: T,
    positivity: bool,
) -> Result<()> {
    check::tv_primal_step(&check::PrimalShapes {
        u: s.u.shape(),
        ubar: s.ubar.shape(),
        p: s.p.shape(),
        gradf: s.gradf.shape(),
        mask: s.mask.map(|m| m.shape()),
        masks: s.masks.map(|m| m.shape()),
    })?;
    let flags =
        positivity as i32 | (s.mask.is_some() as i32) << 1 | (s.masks.is_some() as i32) << 2;
    let (shape, n) = (s.u.shape(), s.u.len());
    b.items(
        T::PRECISION,
        &kernels::TV_PRIMAL_STEP,
        n,
        &[
            Arg::Mem(&s.u.mem),
            Arg::Mem(&s.ubar.mem),
            Arg::Mem(&s.p.mem),
            Arg::Mem(&s.gradf.mem),
            Arg::Mem(s.mask.map_or(&s.u.mem, |m| &m.mem)),
            Arg::Mem(s.masks.map_or(&s.p.mem, |m| &m.mem)),
            Arg::size(n)?,
            Arg::I32(shape.len() as i32),
            Arg::dims("tv_primal_step", shape, 1)?,
            Arg::real(tau),
            Arg::real(lambda),
            Arg::I32(flags),
        ],
    )
}
