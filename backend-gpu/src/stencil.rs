//! Gradient / divergence stencils and the fused TV steps (`stencil.cl`).

use crate::backend::GpuBackend;
use crate::buffer::GpuBuffer;
use crate::driver::{Arg, Driver, Range};
use crate::{kernels, reduce};
use backend_core::{check, DeviceBuffer, PrimalStep, Real, Result, StepSums};

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

/// Most work groups of the primal step with sums on a CPU device. PoCL runs each round of a
/// group's 256-item reduction tree as a loop over the items: with one group per 256 pixels
/// (313 on the 400x200 phalanx grid) the trees took ≈ 20% of the step (perf, 2026-11-29); 16
/// groups keep 2–8 cores busy, each item striding over the pixels.
const CPU_PRIMAL_GROUPS: usize = 16;

/// One launch; with `step.sums`, fixed-size groups that each write their two partial sums into
/// the device's partial-result buffer, read back once ([`reduce::with_partials`]).
pub(crate) fn tv_primal_step<D: Driver, T: Real>(
    b: &GpuBackend<D>,
    s: Primal<'_, D, T>,
    step: &PrimalStep<T>,
) -> Result<Option<StepSums>> {
    check::tv_primal_step(&check::PrimalShapes {
        u: s.u.shape(),
        ubar: s.ubar.shape(),
        p: s.p.shape(),
        gradf: s.gradf.shape(),
        mask: s.mask.map(|m| m.shape()),
        masks: s.masks.map(|m| m.shape()),
    })?;
    let flags = step.positivity as i32
        | (s.mask.is_some() as i32) << 1
        | (s.masks.is_some() as i32) << 2
        | (step.sums as i32) << 3;
    let (shape, n) = (s.u.shape(), s.u.len());
    let launch = |range: Range, partial: &D::Mem| {
        b.launch(
            T::PRECISION,
            &kernels::TV_PRIMAL_STEP,
            range,
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
                Arg::real(step.tau),
                Arg::real(step.lambda),
                Arg::I32(flags),
                Arg::Mem(partial),
            ],
        )
    };
    if !step.sums {
        launch(Range::items(n), &s.u.mem)?;
        return Ok(None);
    }
    let wg = gpu_kernels::REDUCE_GROUP_SIZE;
    let most = if b.driver().caps().cpu {
        CPU_PRIMAL_GROUPS
    } else {
        reduce::PRIMAL_MAX_GROUPS
    };
    let groups = n.div_ceil(wg).min(most);
    let sums = reduce::with_partials(
        b,
        2 * groups,
        |partial| launch(Range::groups(groups, wg), partial),
        |host: &[T]| {
            let (change, norm) = host.split_at(groups);
            let total = |x: &[T]| x.iter().map(|v| v.f64()).sum();
            StepSums {
                change: total(change),
                norm: total(norm),
            }
        },
    )?;
    Ok(Some(sums))
}
