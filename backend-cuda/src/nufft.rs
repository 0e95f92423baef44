//! NUFFT stages on the device: points prepared once (folded, binned, sorted), spreading and
//! interpolation with the ES kernel, deconvolution / pre-compensation between grids.

use crate::backend::CudaBackend;
use crate::buffer::CudaBuffer;
use backend_core::nufft::SpreadParams;
use backend_core::{Error, Real, Result, C};
use ndarray::ArrayView1;
use std::marker::PhantomData;

/// Non-uniform points prepared for [`backend_core::Backend::nufft_spread`] and
/// [`backend_core::Backend::nufft_interp`].
pub struct CudaNufftPoints<T: Real> {
    _t: PhantomData<T>,
}

fn missing(stage: &str) -> Error {
    Error::Device(format!(
        "cuda: NUFFT {stage} kernel not available yet in gpu-kernels"
    ))
}

impl<T: Real> CudaNufftPoints<T> {
    pub(crate) fn new(
        _b: &CudaBackend,
        _coords: &[ArrayView1<'_, T>],
        _params: &SpreadParams,
    ) -> Result<Self> {
        Err(missing("setpts"))
    }

    pub(crate) fn spread(
        &self,
        _b: &CudaBackend,
        _params: &SpreadParams,
        _c: &CudaBuffer<C<T>>,
        _fine: &mut CudaBuffer<C<T>>,
    ) -> Result<()> {
        Err(missing("spread"))
    }

    pub(crate) fn interp(
        &self,
        _b: &CudaBackend,
        _params: &SpreadParams,
        _fine: &CudaBuffer<C<T>>,
        _c: &mut CudaBuffer<C<T>>,
    ) -> Result<()> {
        Err(missing("interp"))
    }
}

pub(crate) fn deconvolve<T: Real>(
    _b: &CudaBackend,
    _params: &SpreadParams,
    _factors: &CudaBuffer<T>,
    _fine: &CudaBuffer<C<T>>,
    _modes: &mut CudaBuffer<C<T>>,
) -> Result<()> {
    Err(missing("deconvolve"))
}

pub(crate) fn precompensate<T: Real>(
    _b: &CudaBackend,
    _params: &SpreadParams,
    _factors: &CudaBuffer<T>,
    _modes: &CudaBuffer<C<T>>,
    _fine: &mut CudaBuffer<C<T>>,
) -> Result<()> {
    Err(missing("precompensate"))
}
