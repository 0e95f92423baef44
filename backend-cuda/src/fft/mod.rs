//! FFT plans on cuFFT with numpy's conventions: the plans of [`layout`] created once per spec
//! and precision, executed in place or out of place on the backend's stream. The inverse
//! scaling `1/N` is applied by the caller with the `scale` kernel.

mod layout;

use crate::backend::CudaBackend;
use crate::buffer::CudaBuffer;
use crate::device::{cufft, driver};
use crate::elementwise::scale_reals;
use backend_core::error::check_shape;
use backend_core::{DeviceBuffer, Direction, FftKind, C};
use backend_core::{Error, FftSpec, Precision, Real, Result};
use cudarc::cufft::result as cu;
use cudarc::cufft::sys::{cufftType, double2, float2};
use cudarc::cufft::{CudaFft, FftDirection};
use cudarc::driver::sys::CUdeviceptr;
use cudarc::driver::CudaStream;
use cudarc::driver::{DevicePtr, DevicePtrMut};
use layout::{dc_nyquist_imag, layouts, Layout, Ty};
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

/// A planned FFT of one [`FftSpec`] in precision `T`; cheap to clone (plans are shared through
/// the backend's cache).
pub struct CudaFftPlan<T: Real> {
    pub(crate) inner: Arc<PlanSet>,
    _t: PhantomData<T>,
}

impl<T: Real> CudaFftPlan<T> {
    pub(crate) fn new(inner: Arc<PlanSet>) -> Self {
        CudaFftPlan {
            inner,
            _t: PhantomData,
        }
    }
}

/// One cuFFT plan applied `repeat` times, at offsets of `step` elements.
struct Stage {
    fft: CudaFft,
    repeat: usize,
    /// Offset between repetitions, in elements of the input (= output for C2C).
    step: usize,
}

/// The cuFFT plans of one spec (see the module documentation).
pub(crate) struct PlanSet {
    pub(crate) spec: FftSpec,
    prec: Precision,
    /// C2C: both directions. R2C: the forward transform.
    forward: Vec<Stage>,
    /// R2C only: the inverse C2C stages over the leading axes, then the 1D C2R.
    inverse: Vec<Stage>,
    /// Serialises executions: a cuFFT plan's work area is shared by its launches.
    lock: Mutex<()>,
}

fn int(n: usize) -> Result<i32> {
    i32::try_from(n).map_err(|_| {
        Error::InvalidArgument(format!("FFT size {n} exceeds cuFFT's 32-bit plan sizes"))
    })
}

/// The cuFFT type of a transform kind in a precision.
fn cufft_type(ty: Ty, prec: Precision) -> cufftType {
    match (ty, prec) {
        (Ty::C2C, Precision::F32) => cufftType::CUFFT_C2C,
        (Ty::R2C, Precision::F32) => cufftType::CUFFT_R2C,
        (Ty::C2R, Precision::F32) => cufftType::CUFFT_C2R,
        (Ty::C2C, Precision::F64) => cufftType::CUFFT_Z2Z,
        (Ty::R2C, Precision::F64) => cufftType::CUFFT_D2Z,
        (Ty::C2R, Precision::F64) => cufftType::CUFFT_Z2D,
    }
}

/// The cuFFT plan of one layout.
fn stage(stream: &Arc<CudaStream>, l: Layout, prec: Precision) -> Result<Stage> {
    let n: Vec<i32> = l.n.iter().map(|&d| int(d)).collect::<Result<_>>()?;
    let t = cufft_type(l.ty, prec);
    let fft = if l.stride == 1 {
        // Basic layout: inembed / onembed NULL, strides and distances ignored.
        CudaFft::plan_many(&n, None, 1, 0, None, 1, 0, t, int(l.batch)?, stream.clone())
    } else {
        // Advanced layout: `batch` signals 1 element apart, elements `stride` apart.
        let s = int(l.stride)?;
        CudaFft::plan_many(
            &n,
            Some(&n),
            s,
            1,
            Some(&n),
            s,
            1,
            t,
            int(l.batch)?,
            stream.clone(),
        )
    };
    Ok(Stage {
        fft: fft.map_err(cufft)?,
        repeat: l.repeat,
        step: l.step,
    })
}

impl PlanSet {
    pub(crate) fn new(stream: &Arc<CudaStream>, spec: &FftSpec, prec: Precision) -> Result<Self> {
        let (f, i) = layouts(spec);
        let make = |ls: Vec<Layout>| -> Result<Vec<Stage>> {
            ls.into_iter().map(|l| stage(stream, l, prec)).collect()
        };
        let (forward, inverse) = (make(f)?, make(i)?);
        Ok(PlanSet {
            spec: spec.clone(),
            prec,
            forward,
            inverse,
            lock: Mutex::new(()),
        })
    }

    fn check_precision(&self, prec: Precision) -> Result<()> {
        if prec == self.prec {
            Ok(())
        } else {
            Err(Error::PrecisionMismatch(format!(
                "an FFT plan made for {} used with {prec} data",
                self.prec
            )))
        }
    }

    fn guard(&self) -> Result<std::sync::MutexGuard<'_, ()>> {
        self.lock
            .lock()
            .map_err(|_| Error::Device("cuFFT plan lock poisoned".into()))
    }

    /// In-place C2C over the plan's axes; `data` points to the first complex element.
    pub(crate) fn exec_c2c(
        &self,
        prec: Precision,
        data: CUdeviceptr,
        dir: FftDirection,
    ) -> Result<()> {
        self.check_precision(prec)?;
        let _g = self.guard()?;
        for s in &self.forward {
            self.c2c_stage(s, data, dir)?;
        }
        Ok(())
    }

    /// R2C: real `input` to complex `out` (spectrum shape).
    pub(crate) fn exec_r2c(
        &self,
        prec: Precision,
        input: CUdeviceptr,
        out: CUdeviceptr,
    ) -> Result<()> {
        self.check_precision(prec)?;
        let _g = self.guard()?;
        let (r2c, rest) = self.forward.split_first().ok_or_else(|| no_stage("R2C"))?;
        // SAFETY: the caller checked both shapes against the plan; `r2c` runs once (basic layout).
        unsafe {
            match prec {
                Precision::F32 => {
                    cu::exec_r2c(r2c.fft.handle(), input as *mut f32, out as *mut float2)
                }
                Precision::F64 => {
                    cu::exec_d2z(r2c.fft.handle(), input as *mut f64, out as *mut double2)
                }
            }
        }
        .map_err(cufft)?;
        for s in rest {
            self.c2c_stage(s, out, FftDirection::Forward)?;
        }
        Ok(())
    }

    /// C2R (unscaled): complex `input` (spectrum shape, overwritten) to real `out`.
    pub(crate) fn exec_c2r(
        &self,
        stream: &CudaStream,
        prec: Precision,
        input: CUdeviceptr,
        out: CUdeviceptr,
    ) -> Result<()> {
        self.check_precision(prec)?;
        let _g = self.guard()?;
        let (c2r, lead) = self.inverse.split_last().ok_or_else(|| no_stage("C2R"))?;
        for s in lead {
            self.c2c_stage(s, input, FftDirection::Inverse)?;
        }
        self.zero_dc_nyquist_imag(stream, prec, input)?;
        // SAFETY: shapes checked by the caller; one batched 1D C2R with the basic layout.
        unsafe {
            match prec {
                Precision::F32 => {
                    cu::exec_c2r(c2r.fft.handle(), input as *mut float2, out as *mut f32)
                }
                Precision::F64 => {
                    cu::exec_z2d(c2r.fft.handle(), input as *mut double2, out as *mut f64)
                }
            }
        }
        .map_err(cufft)
    }

    fn c2c_stage(&self, s: &Stage, data: CUdeviceptr, dir: FftDirection) -> Result<()> {
        let esize = 2 * precision_size(self.prec);
        for i in 0..s.repeat {
            let p = data + (i * s.step * esize) as CUdeviceptr;
            // SAFETY: `p` lies in the buffer: the stage's layout covers `step` elements per
            // repetition, `repeat * step` = the buffer's length.
            unsafe {
                match self.prec {
                    Precision::F32 => cu::exec_c2c(
                        s.fft.handle(),
                        p as *mut float2,
                        p as *mut float2,
                        dir as i32,
                    ),
                    Precision::F64 => cu::exec_z2z(
                        s.fft.handle(),
                        p as *mut double2,
                        p as *mut double2,
                        dir as i32,
                    ),
                }
            }
            .map_err(cufft)?;
        }
        Ok(())
    }

    /// numpy's `irfft` ignores the imaginary parts of the DC and (even length) Nyquist bins of
    /// the last axis; cuFFT does not, so they are set to zero (a pitched 2D memset: one imaginary
    /// part per line of the spectrum).
    fn zero_dc_nyquist_imag(
        &self,
        stream: &CudaStream,
        prec: Precision,
        data: CUdeviceptr,
    ) -> Result<()> {
        let real = precision_size(prec);
        for (first, pitch, rows) in dc_nyquist_imag(&self.spec) {
            // SAFETY: `rows` rows of `pitch` reals lie in the spectrum buffer; each gets
            // `real / 4` 32-bit zeros at real index `first` of the row (an imaginary part).
            unsafe {
                cudarc::driver::sys::cuMemsetD2D32Async(
                    data + (first * real) as CUdeviceptr,
                    pitch * real,
                    0,
                    real / 4,
                    rows,
                    stream.cu_stream(),
                )
            }
            .result()
            .map_err(driver)?;
        }
        Ok(())
    }
}

fn precision_size(p: Precision) -> usize {
    match p {
        Precision::F32 => 4,
        Precision::F64 => 8,
    }
}

fn no_stage(what: &str) -> Error {
    Error::InvalidArgument(format!(
        "this FFT plan has no {what} transform (plan an R2C spec)"
    ))
}

// ---- the backend methods ----------------------------------------------------------------

fn check_r2c(spec: &FftSpec) -> Result<()> {
    if spec.kind == FftKind::R2C {
        Ok(())
    } else {
        Err(Error::InvalidArgument(
            "real-to-complex transform with a C2C plan".into(),
        ))
    }
}

pub(crate) fn fft_c2c<T: Real>(
    be: &CudaBackend,
    plan: &CudaFftPlan<T>,
    data: &mut CudaBuffer<C<T>>,
    dir: Direction,
) -> Result<()> {
    let set = &plan.inner;
    if set.spec.kind != FftKind::C2C {
        return Err(Error::InvalidArgument("fft_c2c with an R2C plan".into()));
    }
    check_shape("fft_c2c", &set.spec.shape, data.shape())?;
    be.bind()?;
    {
        let (ptr, _sync) = data.mem.device_ptr_mut(be.stream());
        let d = match dir {
            Direction::Forward => FftDirection::Forward,
            Direction::Inverse => FftDirection::Inverse,
        };
        set.exec_c2c(T::PRECISION, ptr, d)?;
    }
    if dir == Direction::Inverse {
        let norm = set.spec.dims().iter().product::<usize>() as f64;
        scale_reals(be, T::PRECISION, &data.mem, 2 * data.len(), 1.0 / norm)?;
    }
    Ok(())
}

pub(crate) fn fft_r2c<T: Real>(
    be: &CudaBackend,
    plan: &CudaFftPlan<T>,
    input: &CudaBuffer<T>,
    out: &mut CudaBuffer<C<T>>,
) -> Result<()> {
    let set = &plan.inner;
    check_r2c(&set.spec)?;
    check_shape("fft_r2c (input)", &set.spec.shape, input.shape())?;
    check_shape("fft_r2c (output)", &set.spec.spectrum_shape(), out.shape())?;
    be.bind()?;
    let (i, _si) = input.mem.device_ptr(be.stream());
    let (o, _so) = out.mem.device_ptr_mut(be.stream());
    set.exec_r2c(T::PRECISION, i, o)
}

pub(crate) fn fft_c2r<T: Real>(
    be: &CudaBackend,
    plan: &CudaFftPlan<T>,
    input: &mut CudaBuffer<C<T>>,
    out: &mut CudaBuffer<T>,
) -> Result<()> {
    let set = &plan.inner;
    check_r2c(&set.spec)?;
    check_shape("fft_c2r (input)", &set.spec.spectrum_shape(), input.shape())?;
    check_shape("fft_c2r (output)", &set.spec.shape, out.shape())?;
    be.bind()?;
    {
        let (i, _si) = input.mem.device_ptr_mut(be.stream());
        let (o, _so) = out.mem.device_ptr_mut(be.stream());
        set.exec_c2r(be.stream(), T::PRECISION, i, o)?;
    }
    let norm = set.spec.dims().iter().product::<usize>() as f64;
    scale_reals(be, T::PRECISION, &out.mem, out.len(), 1.0 / norm)
}
