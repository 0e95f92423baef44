//! The CPU NUFFT stages (setpts, spread, interp, deconvolve), called by the `Backend` impl.
//! Placeholder interface: the implementation replaces these bodies.

use backend_core::nufft::SpreadParams;
use backend_core::{Error, Real, Result, C};
use ndarray::ArrayView1;

/// Points folded into the fine grid and sorted by bin.
pub struct CpuPoints<T> {
    coords: Vec<Vec<T>>,
}

pub(crate) fn setpts<T: Real>(
    coords: &[ArrayView1<'_, T>],
    _params: &SpreadParams,
) -> Result<CpuPoints<T>> {
    Ok(CpuPoints {
        coords: coords.iter().map(|c| c.to_vec()).collect(),
    })
}

fn missing<T>(pts: &CpuPoints<T>) -> Error {
    Error::Device(format!(
        "CPU NUFFT stage not available yet ({} axes)",
        pts.coords.len()
    ))
}

pub(crate) fn spread<T: Real>(
    pts: &CpuPoints<T>,
    _params: &SpreadParams,
    _c: &[C<T>],
    _fine: &mut [C<T>],
) -> Result<()> {
    Err(missing(pts))
}

pub(crate) fn interp<T: Real>(
    pts: &CpuPoints<T>,
    _params: &SpreadParams,
    _fine: &[C<T>],
    _c: &mut [C<T>],
) -> Result<()> {
    Err(missing(pts))
}

pub(crate) fn deconvolve<T: Real>(
    _params: &SpreadParams,
    _factors: &[T],
    _fine: &[C<T>],
    _modes: &mut [C<T>],
) -> Result<()> {
    Err(Error::Device("CPU NUFFT deconvolution not available yet".into()))
}

pub(crate) fn precompensate<T: Real>(
    _params: &SpreadParams,
    _factors: &[T],
    _modes: &[C<T>],
    _fine: &mut [C<T>],
) -> Result<()> {
    Err(Error::Device("CPU NUFFT pre-compensation not available yet".into()))
}
