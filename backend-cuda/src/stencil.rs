//! Finite-difference stencils and the fused TV steps (stencil.cl).

use crate::backend::CudaBackend;
use crate::buffer::CudaBuffer;
use crate::kernels;
use crate::program::{Arg, Dims, Range};
use backend_core::error::check_shape;
use backend_core::{DeviceBuffer, Error, Real, Result};

/// The gradient-stack shape `(k, shape...)`.
fn stacked(k: usize, shape: &[usize]) -> Vec<usize> {
    std::iter::once(k).chain(shape.iter().copied()).collect()
}

fn check_axes(op: &str, axes: &[usize], rank: usize) -> Result<()> {
    if axes.is_empty() || axes.iter().any(|&a| a >= rank) {
        Err(Error::InvalidArgument(format!(
            "{op}: axes {axes:?} of an array of rank {rank}"
        )))
    } else {
        Ok(())
    }
}

pub(crate) fn rank_of(op: &str, shape: &[usize]) -> Result<Arg<'static>> {
    if shape.len() > crate::program::MAX_RANK {
        return Err(Error::InvalidArgument(format!(
            "{op}: arrays of rank {} (at most {})",
            shape.len(),
            crate::program::MAX_RANK
        )));
    }
    Ok(Arg::I32(shape.len() as i32))
}

pub(crate) fn grad<T: Real>(
    be: &CudaBackend,
    u: &CudaBuffer<T>,
    axes: &[usize],
    masks: Option<&CudaBuffer<T>>,
    out: &mut CudaBuffer<T>,
) -> Result<()> {
    let shape = u.shape();
    check_axes("grad", axes, shape.len())?;
    let expected = stacked(axes.len(), shape);
    check_shape("grad (output)", &expected, out.shape())?;
    if let Some(m) = masks {
        check_shape("grad (masks)", &expected, m.shape())?;
    }
    let n = u.len();
    be.run(
        T::PRECISION,
        &kernels::STENCIL_GRAD,
        Range::items(n * axes.len()),
        &[
            Arg::Mem(&u.mem),
            Arg::Mem(&masks.unwrap_or(u).mem),
            Arg::Mem(&out.mem),
            Arg::size(n)?,
            rank_of("grad", shape)?,
            Arg::Dims(Dims::new(shape, 1)?),
            Arg::I32(axes.len() as i32),
            Arg::Dims(Dims::new(axes, 0)?),
            Arg::I32(masks.is_some() as i32),
        ],
    )
}

pub(crate) fn div<T: Real>(
    be: &CudaBackend,
    p: &CudaBuffer<T>,
    axes: &[usize],
    masks: Option<&CudaBuffer<T>>,
    out: &mut CudaBuffer<T>,
) -> Result<()> {
    let shape = out.shape().to_vec();
    check_axes("div", axes, shape.len())?;
    let expected = stacked(axes.len(), &shape);
    check_shape("div (field)", &expected, p.shape())?;
    if let Some(m) = masks {
        check_shape("div (masks)", &expected, m.shape())?;
    }
    let n = out.len();
    be.run(
        T::PRECISION,
        &kernels::STENCIL_DIV,
        Range::items(n),
        &[
            Arg::Mem(&p.mem),
            Arg::Mem(&masks.unwrap_or(p).mem),
            Arg::Mem(&out.mem),
            Arg::size(n)?,
            rank_of("div", &shape)?,
            Arg::Dims(Dims::new(&shape, 1)?),
            Arg::I32(axes.len() as i32),
            Arg::Dims(Dims::new(axes, 0)?),
            Arg::I32(masks.is_some() as i32),
        ],
    )
}

pub(crate) fn tv_dual_step<T: Real>(
    be: &CudaBackend,
    p: &mut CudaBuffer<T>,
    ubar: &CudaBuffer<T>,
    step: T,
    masks: Option<&CudaBuffer<T>>,
) -> Result<()> {
    let shape = ubar.shape();
    let expected = stacked(shape.len(), shape);
    check_shape("tv_dual_step (p)", &expected, p.shape())?;
    if let Some(m) = masks {
        check_shape("tv_dual_step (masks)", &expected, m.shape())?;
    }
    let n = ubar.len();
    be.run(
        T::PRECISION,
        &kernels::TV_DUAL_STEP,
        Range::items(n),
        &[
            Arg::Mem(&p.mem),
            Arg::Mem(&ubar.mem),
            Arg::Mem(&masks.unwrap_or(ubar).mem),
            Arg::size(n)?,
            rank_of("tv_dual_step", shape)?,
            Arg::Dims(Dims::new(shape, 1)?),
            Arg::real(step),
            Arg::I32(masks.is_some() as i32),
        ],
    )
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn tv_primal_step<T: Real>(
    be: &CudaBackend,
    u: &mut CudaBuffer<T>,
    ubar: &mut CudaBuffer<T>,
    p: &CudaBuffer<T>,
    gradf: &CudaBuffer<T>,
    tau: T,
    lambda: T,
    positivity: bool,
    mask: Option<&CudaBuffer<T>>,
    masks: Option<&CudaBuffer<T>>,
) -> Result<()> {
    let shape = u.shape().to_vec();
    check_shape("tv_primal_step (ubar)", &shape, ubar.shape())?;
    check_shape("tv_primal_step (gradf)", &shape, gradf.shape())?;
    let expected = stacked(shape.len(), &shape);
    check_shape("tv_primal_step (p)", &expected, p.shape())?;
    if let Some(m) = mask {
        check_shape("tv_primal_step (mask)", &shape, m.shape())?;
    }
    if let Some(m) = masks {
        check_shape("tv_primal_step (masks)", &expected, m.shape())?;
    }
    let flags = positivity as i32 | (mask.is_some() as i32) << 1 | (masks.is_some() as i32) << 2;
    let n = u.len();
    be.run(
        T::PRECISION,
        &kernels::TV_PRIMAL_STEP,
        Range::items(n),
        &[
            Arg::Mem(&u.mem),
            Arg::Mem(&ubar.mem),
            Arg::Mem(&p.mem),
            Arg::Mem(&gradf.mem),
            Arg::Mem(&mask.unwrap_or(u).mem),
            Arg::Mem(&masks.unwrap_or(p).mem),
            Arg::size(n)?,
            rank_of("tv_primal_step", &shape)?,
            Arg::Dims(Dims::new(&shape, 1)?),
            Arg::real(tau),
            Arg::real(lambda),
            Arg::I32(flags),
        ],
    )
}
