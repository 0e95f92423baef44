//! [`CudaBackend`]: the [`Backend`] trait on one CUDA device and one stream.

use crate::buffer::{bytes, bytes_mut, CudaBuffer};
use crate::device::{self, driver};
use crate::fft::{CudaFftPlan, PlanSet};
use crate::nufft::CudaNufftPoints;
use crate::program::{launch, Arg, Dims, Programs, Range, Words};
use backend_core::error::check_shape;
use backend_core::nufft::SpreadParams;
use backend_core::{
    Backend, Binary, DeviceBuffer, Direction, ElemKind, Element, Error, FftKind, FftSpec, Field,
    Part, Precision, Real, Reduce, Result, Unary, C,
};
use cudarc::cufft::FftDirection;
use cudarc::driver::{CudaContext, CudaSlice, CudaStream, DevicePtr, DevicePtrMut};
use ndarray::{ArrayD, ArrayView1, ArrayViewD, IxDyn};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A CUDA device: its primary context, one stream (all work is queued in order on it), the
/// kernels compiled by NVRTC (per precision, on first use) and the cuFFT plans made so far.
///
/// Cloning is cheap and shares all of it.
#[derive(Clone)]
pub struct CudaBackend {
    inner: Arc<Inner>,
}

struct Inner {
    ordinal: usize,
    device_name: String,
    stream: Arc<CudaStream>,
    programs: Programs,
    fft_plans: Mutex<HashMap<(FftSpec, Precision), Arc<PlanSet>>>,
    // Dropped last: every buffer, module and plan above belongs to it.
    ctx: Arc<CudaContext>,
}

/// Work-group size of `reduce_partial` (`EPRI_REDUCE_WG` in reduce.cl).
const REDUCE_WG: usize = gpu_kernels::REDUCE_GROUP_SIZE;
/// At most this many partial results per reduction.
const REDUCE_MAX_GROUPS: usize = 1024;

impl CudaBackend {
    /// Opens CUDA device `ordinal` (0 for the first). Fails with
    /// [`Error::DeviceUnavailable`], never a panic, when the driver, NVRTC or cuFFT libraries
    /// or the device are missing.
    pub fn new(ordinal: usize) -> Result<Self> {
        let ctx = device::open(ordinal)?;
        // One stream and in-order semantics: cudarc's per-buffer event tracking is not needed.
        // SAFETY: no buffer exists yet on this context from this backend; all its work goes to
        // the one stream below.
        unsafe { ctx.disable_event_tracking() };
        let stream = ctx.new_stream().map_err(driver)?;
        let device_name = ctx.name().map_err(driver)?;
        Ok(CudaBackend {
            inner: Arc::new(Inner {
                ordinal,
                device_name,
                stream,
                programs: Programs::new(ctx.clone())?,
                fft_plans: Mutex::new(HashMap::new()),
                ctx,
            }),
        })
    }

    /// The CUDA devices of this machine, as `cuda:<i> (<name>)`; an error (not a panic) when
    /// the CUDA libraries are missing.
    pub fn list_devices() -> Result<Vec<String>> {
        device::list()
    }

    fn stream(&self) -> &Arc<CudaStream> {
        &self.inner.stream
    }

    /// Makes the context current on this thread, for the library calls (cuFFT, raw driver
    /// calls) that use the thread's context rather than cudarc's wrappers.
    fn bind(&self) -> Result<()> {
        self.inner.ctx.bind_to_thread().map_err(driver)
    }

    /// Launches kernel `name` of the `prec` program.
    fn run(
        &self,
        prec: Precision,
        name: &'static str,
        range: Range,
        args: &[Arg<'_>],
    ) -> Result<()> {
        let f = self.inner.programs.function(prec, name)?;
        launch(self.stream(), &f, range, args)
    }

    /// Launches kernel `name` of the `T` program on `n` work items (any block size).
    pub(crate) fn run_items<T: Real>(
        &self,
        name: &'static str,
        n: usize,
        args: &[Arg<'_>],
    ) -> Result<()> {
        self.run(T::PRECISION, name, Range::items(n), args)
    }

    /// Sets every byte of a buffer to zero.
    pub(crate) fn memset_zero<E: Element>(&self, buf: &mut CudaBuffer<E>) -> Result<()> {
        let nb = buf.num_bytes();
        if nb > 0 {
            self.stream()
                .memset_zeros(&mut buf.mem.slice_mut(..nb))
                .map_err(driver)?;
        }
        Ok(())
    }

    /// Device memory of `nbytes` bytes (at least one), uninitialised or zeroed.
    fn alloc(&self, nbytes: usize, zeroed: bool) -> Result<CudaSlice<u8>> {
        let n = nbytes.max(1);
        if zeroed {
            self.stream().alloc_zeros::<u8>(n).map_err(driver)
        } else {
            // SAFETY: every caller writes the `nbytes` bytes it later reads.
            unsafe { self.stream().alloc::<u8>(n) }.map_err(driver)
        }
    }

    /// Fails unless every index of `idx` is below `n`: from the buffer's known bound, or else by
    /// reading the indices back.
    fn check_indices(&self, op: &str, idx: &CudaBuffer<u32>, n: usize) -> Result<()> {
        if idx.is_empty() || idx.bound.is_some_and(|b| (b as usize) < n) {
            return Ok(());
        }
        let max = self.download(idx)?.iter().copied().max().unwrap_or(0);
        if (max as usize) < n {
            Ok(())
        } else {
            Err(Error::InvalidArgument(format!(
                "{op}: index {max} out of range for {n} elements"
            )))
        }
    }

    fn fft_planset(&self, spec: &FftSpec, prec: Precision) -> Result<Arc<PlanSet>> {
        let mut plans = self
            .inner
            .fft_plans
            .lock()
            .map_err(|_| Error::Device("FFT plan cache lock poisoned".into()))?;
        let key = (spec.clone(), prec);
        if let Some(p) = plans.get(&key) {
            return Ok(p.clone());
        }
        let p = Arc::new(PlanSet::new(self.stream(), spec, prec)?);
        plans.insert(key, p.clone());
        Ok(p)
    }
}

/// The largest value of an index (`u32`) slice (0 when empty); `None` for other elements.
fn index_max<E: Element>(data: &[E]) -> Option<u32> {
    (E::KIND == ElemKind::U32).then(|| {
        bytes(data)
            .chunks_exact(4)
            .map(|w| u32::from_ne_bytes([w[0], w[1], w[2], w[3]]))
            .max()
            .unwrap_or(0)
    })
}

/// Real and imaginary parts of a real or complex element, as `f64`.
fn parts<E: Element>(v: E) -> (f64, f64) {
    let b = bytes(std::slice::from_ref(&v));
    let f32_at = |i: usize| f32::from_ne_bytes(b[i..i + 4].try_into().unwrap_or_default()) as f64;
    let f64_at = |i: usize| f64::from_ne_bytes(b[i..i + 8].try_into().unwrap_or_default());
    match E::KIND {
        ElemKind::Real(Precision::F32) => (f32_at(0), 0.0),
        ElemKind::Real(Precision::F64) => (f64_at(0), 0.0),
        ElemKind::Complex(Precision::F32) => (f32_at(0), f32_at(4)),
        ElemKind::Complex(Precision::F64) => (f64_at(0), f64_at(8)),
        ElemKind::U32 => (
            u32::from_ne_bytes(b[..4].try_into().unwrap_or_default()) as f64,
            0.0,
        ),
    }
}

/// The precision of a real or complex element type.
fn precision_of<E: Element>() -> Result<Precision> {
    E::KIND
        .precision()
        .ok_or_else(|| Error::InvalidArgument("arithmetic on an index (u32) buffer".into()))
}

/// Suffix of the index kernels for an element size (`_w4`, `_w8`, `_w16`).
fn word_kernel(base: &'static str, size: usize) -> Result<&'static str> {
    Ok(match (base, size) {
        ("fill", 4) => "fill_w4",
        ("fill", 8) => "fill_w8",
        ("fill", 16) => "fill_w16",
        ("gather", 4) => "gather_w4",
        ("gather", 8) => "gather_w8",
        ("gather", 16) => "gather_w16",
        ("scatter", 4) => "scatter_w4",
        ("scatter", 8) => "scatter_w8",
        ("scatter", 16) => "scatter_w16",
        ("remap", 4) => "remap_w4",
        ("remap", 8) => "remap_w8",
        ("remap", 16) => "remap_w16",
        _ => {
            return Err(Error::InvalidArgument(format!(
                "no {base} kernel for {size}-byte elements"
            )))
        }
    })
}

/// `b.len()` must divide `a.len()` (and be non-zero unless `a` is empty).
fn check_divides(op: &str, a: &[usize], b: &[usize]) -> Result<()> {
    let (na, nb) = (a.iter().product::<usize>(), b.iter().product::<usize>());
    if (nb == 0 && na != 0) || (nb != 0 && na % nb != 0) {
        Err(Error::shape(op, a, b))
    } else {
        Ok(())
    }
}

fn check_len(op: &str, expected: &[usize], got: &[usize]) -> Result<()> {
    if expected.iter().product::<usize>() == got.iter().product::<usize>() {
        Ok(())
    } else {
        Err(Error::shape(op, expected, got))
    }
}

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

fn rank_of(op: &str, shape: &[usize]) -> Result<Arg<'static>> {
    if shape.len() > crate::program::MAX_RANK {
        return Err(Error::InvalidArgument(format!(
            "{op}: arrays of rank {} (at most {})",
            shape.len(),
            crate::program::MAX_RANK
        )));
    }
    Ok(Arg::I32(shape.len() as i32))
}

impl Backend for CudaBackend {
    type Buffer<E: Element> = CudaBuffer<E>;
    type FftPlan<T: Real> = CudaFftPlan<T>;
    type NufftPoints<T: Real> = CudaNufftPoints<T>;

    fn name(&self) -> String {
        format!("cuda:{} ({})", self.inner.ordinal, self.inner.device_name)
    }

    fn supports_f64(&self) -> bool {
        true
    }

    fn synchronize(&self) -> Result<()> {
        self.stream().synchronize().map_err(driver)
    }

    // ---- memory ---------------------------------------------------------------------------

    fn zeros<E: Element>(&self, shape: &[usize]) -> Result<CudaBuffer<E>> {
        let n: usize = shape.iter().product();
        let mem = self.alloc(n * std::mem::size_of::<E>(), true)?;
        Ok(CudaBuffer::new(mem, shape, Some(0)))
    }

    fn upload<E: Element>(&self, host: ArrayViewD<'_, E>) -> Result<CudaBuffer<E>> {
        let std = host.as_standard_layout();
        let data = std
            .as_slice()
            .ok_or_else(|| Error::Device("standard-layout array without a slice".into()))?;
        let mut mem = self.alloc(std::mem::size_of_val(data), false)?;
        if !data.is_empty() {
            let nb = std::mem::size_of_val(data);
            self.stream()
                .memcpy_htod(bytes(data), &mut mem.slice_mut(..nb))
                .map_err(driver)?;
        }
        Ok(CudaBuffer::new(mem, host.shape(), index_max(data)))
    }

    fn download<E: Element>(&self, buf: &CudaBuffer<E>) -> Result<ArrayD<E>> {
        let mut host = vec![E::default(); buf.len()];
        if !host.is_empty() {
            self.stream()
                .memcpy_dtoh(&buf.mem.slice(..buf.num_bytes()), bytes_mut(&mut host))
                .map_err(driver)?;
            self.synchronize()?;
        }
        ArrayD::from_shape_vec(IxDyn(buf.shape()), host)
            .map_err(|e| Error::Device(format!("download: {e}")))
    }

    fn copy<E: Element>(&self, src: &CudaBuffer<E>, dst: &mut CudaBuffer<E>) -> Result<()> {
        check_len("copy", dst.shape(), src.shape())?;
        let nb = src.num_bytes();
        if nb > 0 {
            self.stream()
                .memcpy_dtod(&src.mem.slice(..nb), &mut dst.mem.slice_mut(..nb))
                .map_err(driver)?;
        }
        dst.bound = src.bound;
        Ok(())
    }

    fn fill<E: Element>(&self, buf: &mut CudaBuffer<E>, value: E) -> Result<()> {
        let size = std::mem::size_of::<E>();
        let w = bytes(std::slice::from_ref(&value));
        let word =
            |i: usize| u32::from_ne_bytes([w[4 * i], w[4 * i + 1], w[4 * i + 2], w[4 * i + 3]]);
        let v = match size {
            4 => Arg::U32(word(0)),
            8 => Arg::W8(Words([word(0), word(1)])),
            _ => Arg::W16(Words([word(0), word(1), word(2), word(3)])),
        };
        let n = buf.len();
        buf.bound = index_max(std::slice::from_ref(&value));
        self.run(
            Precision::F32,
            word_kernel("fill", size)?,
            Range::items(n),
            &[Arg::Mem(&buf.mem), Arg::size(n)?, v],
        )
    }

    // ---- elementwise ----------------------------------------------------------------------

    fn map<T: Real>(&self, op: Unary, x: &mut CudaBuffer<T>) -> Result<()> {
        let code = match op {
            Unary::Abs => 0,
            Unary::Sqrt => 1,
            Unary::Exp => 2,
            Unary::Sin => 3,
            Unary::Cos => 4,
            Unary::Neg => 5,
            Unary::Square => 6,
        };
        let n = x.len();
        self.run(
            T::PRECISION,
            "map_real",
            Range::items(n),
            &[Arg::Mem(&x.mem), Arg::size(n)?, Arg::I32(code)],
        )
    }

    fn zip<T: Real>(&self, op: Binary, a: &mut CudaBuffer<T>, b: &CudaBuffer<T>) -> Result<()> {
        check_divides("zip", a.shape(), b.shape())?;
        let n = a.len();
        self.run(
            T::PRECISION,
            "zip_real",
            Range::items(n),
            &[
                Arg::Mem(&a.mem),
                Arg::Mem(&b.mem),
                Arg::size(n)?,
                Arg::size(b.len())?,
                Arg::I32(binary_code(op)),
            ],
        )
    }

    fn zip_scalar<T: Real>(&self, op: Binary, a: &mut CudaBuffer<T>, s: T) -> Result<()> {
        let n = a.len();
        self.run(
            T::PRECISION,
            "zip_scalar_real",
            Range::items(n),
            &[
                Arg::Mem(&a.mem),
                Arg::size(n)?,
                Arg::real(s),
                Arg::I32(binary_code(op)),
            ],
        )
    }

    fn axpby<E: Field>(
        &self,
        alpha: E,
        x: &CudaBuffer<E>,
        beta: E,
        y: &mut CudaBuffer<E>,
    ) -> Result<()> {
        check_len("axpby", y.shape(), x.shape())?;
        let p = precision_of::<E>()?;
        let n = y.len();
        let (ar, ai) = parts(alpha);
        let (br, bi) = parts(beta);
        let mut args = vec![Arg::Mem(&x.mem), Arg::Mem(&y.mem), Arg::size(n)?];
        let name = match E::KIND {
            ElemKind::Complex(_) => {
                args.extend([ar, ai, br, bi].map(|v| Arg::real_in(p, v)));
                "axpby_complex"
            }
            _ => {
                args.extend([ar, br].map(|v| Arg::real_in(p, v)));
                "axpby_real"
            }
        };
        self.run(p, name, Range::items(n), &args)
    }

    fn scale<E: Field>(&self, x: &mut CudaBuffer<E>, alpha: E) -> Result<()> {
        let p = precision_of::<E>()?;
        let n = x.len();
        let (ar, ai) = parts(alpha);
        match E::KIND {
            ElemKind::Complex(_) => self.run(
                p,
                "scale_complex",
                Range::items(n),
                &[
                    Arg::Mem(&x.mem),
                    Arg::size(n)?,
                    Arg::real_in(p, ar),
                    Arg::real_in(p, ai),
                ],
            ),
            _ => scale_reals(self, p, &x.mem, n, ar),
        }
    }

    fn cmul<T: Real>(
        &self,
        a: &mut CudaBuffer<C<T>>,
        b: &CudaBuffer<C<T>>,
        conj_b: bool,
    ) -> Result<()> {
        check_divides("cmul", a.shape(), b.shape())?;
        let n = a.len();
        self.run(
            T::PRECISION,
            "cmul_complex",
            Range::items(n),
            &[
                Arg::Mem(&a.mem),
                Arg::Mem(&b.mem),
                Arg::size(n)?,
                Arg::size(b.len())?,
                Arg::I32(conj_b as i32),
            ],
        )
    }

    fn conj<T: Real>(&self, z: &mut CudaBuffer<C<T>>) -> Result<()> {
        let n = z.len();
        self.run(
            T::PRECISION,
            "conj_complex",
            Range::items(n),
            &[Arg::Mem(&z.mem), Arg::size(n)?],
        )
    }

    fn to_complex<T: Real>(&self, x: &CudaBuffer<T>, out: &mut CudaBuffer<C<T>>) -> Result<()> {
        check_len("to_complex", out.shape(), x.shape())?;
        let n = x.len();
        self.run(
            T::PRECISION,
            "real_to_complex",
            Range::items(n),
            &[Arg::Mem(&x.mem), Arg::Mem(&out.mem), Arg::size(n)?],
        )
    }

    fn complex_part<T: Real>(
        &self,
        z: &CudaBuffer<C<T>>,
        part: Part,
        out: &mut CudaBuffer<T>,
    ) -> Result<()> {
        check_len("complex_part", out.shape(), z.shape())?;
        let code = match part {
            Part::Re => 0,
            Part::Im => 1,
            Part::Abs => 2,
        };
        let n = z.len();
        self.run(
            T::PRECISION,
            "complex_part",
            Range::items(n),
            &[
                Arg::Mem(&z.mem),
                Arg::Mem(&out.mem),
                Arg::size(n)?,
                Arg::I32(code),
            ],
        )
    }

    // ---- index maps -----------------------------------------------------------------------

    fn gather<E: Element>(
        &self,
        src: &CudaBuffer<E>,
        idx: &CudaBuffer<u32>,
        out: &mut CudaBuffer<E>,
    ) -> Result<()> {
        check_len("gather", out.shape(), idx.shape())?;
        self.check_indices("gather", idx, src.len())?;
        let m = out.len();
        out.bound = src.bound;
        self.run(
            Precision::F32,
            word_kernel("gather", std::mem::size_of::<E>())?,
            Range::items(m),
            &[
                Arg::Mem(&src.mem),
                Arg::Mem(&idx.mem),
                Arg::Mem(&out.mem),
                Arg::size(m)?,
                Arg::size(src.len())?,
            ],
        )
    }

    fn scatter<E: Element>(
        &self,
        src: &CudaBuffer<E>,
        idx: &CudaBuffer<u32>,
        out: &mut CudaBuffer<E>,
    ) -> Result<()> {
        check_len("scatter", src.shape(), idx.shape())?;
        self.check_indices("scatter", idx, out.len())?;
        let m = src.len();
        out.bound = out.bound.zip(src.bound).map(|(a, b)| a.max(b));
        self.run(
            Precision::F32,
            word_kernel("scatter", std::mem::size_of::<E>())?,
            Range::items(m),
            &[
                Arg::Mem(&src.mem),
                Arg::Mem(&idx.mem),
                Arg::Mem(&out.mem),
                Arg::size(m)?,
                Arg::size(out.len())?,
            ],
        )
    }

    fn embed<E: Element>(
        &self,
        src: &CudaBuffer<E>,
        dst: &mut CudaBuffer<E>,
        offset: &[usize],
    ) -> Result<()> {
        check_block("embed", src.shape(), offset, dst.shape())?;
        let delta: Vec<isize> = offset.iter().map(|&o| -(o as isize)).collect();
        remap(self, src, dst, &delta, false)
    }

    fn extract<E: Element>(
        &self,
        src: &CudaBuffer<E>,
        offset: &[usize],
        dst: &mut CudaBuffer<E>,
    ) -> Result<()> {
        check_block("extract", dst.shape(), offset, src.shape())?;
        let delta: Vec<isize> = offset.iter().map(|&o| o as isize).collect();
        remap(self, src, dst, &delta, false)
    }

    fn roll<E: Element>(
        &self,
        src: &CudaBuffer<E>,
        shifts: &[isize],
        dst: &mut CudaBuffer<E>,
    ) -> Result<()> {
        check_shape("roll", src.shape(), dst.shape())?;
        if shifts.len() != src.shape().len() {
            return Err(Error::InvalidArgument(format!(
                "roll: {} shifts for an array of rank {}",
                shifts.len(),
                src.shape().len()
            )));
        }
        // dst[(i + s) mod n] = src[i]  <=>  dst[d] = src[(d - s) mod n].
        let delta: Vec<isize> = shifts
            .iter()
            .zip(src.shape())
            .map(|(&s, &n)| (-s).rem_euclid(n.max(1) as isize))
            .collect();
        remap(self, src, dst, &delta, true)
    }

    // ---- reductions -------------------------------------------------------------------------

    fn reduce<T: Real>(&self, op: Reduce, x: &CudaBuffer<T>) -> Result<T> {
        let code = match op {
            Reduce::Sum => 0,
            Reduce::SumSq => 1,
            Reduce::Max => 2,
            Reduce::Min => 3,
        };
        reduction(self, code, x, x)
    }

    fn dot<T: Real>(&self, a: &CudaBuffer<T>, b: &CudaBuffer<T>) -> Result<T> {
        check_len("dot", a.shape(), b.shape())?;
        reduction(self, 4, a, b)
    }

    fn sq_dist<T: Real>(&self, a: &CudaBuffer<T>, b: &CudaBuffer<T>) -> Result<T> {
        check_len("sq_dist", a.shape(), b.shape())?;
        reduction(self, 5, a, b)
    }

    // ---- stencils ---------------------------------------------------------------------------

    fn grad<T: Real>(
        &self,
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
        self.run(
            T::PRECISION,
            "stencil_grad",
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

    fn div<T: Real>(
        &self,
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
        self.run(
            T::PRECISION,
            "stencil_div",
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

    fn tv_dual_step<T: Real>(
        &self,
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
        self.run(
            T::PRECISION,
            "tv_dual_step",
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

    fn tv_primal_step<T: Real>(
        &self,
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
        let flags =
            positivity as i32 | (mask.is_some() as i32) << 1 | (masks.is_some() as i32) << 2;
        let n = u.len();
        self.run(
            T::PRECISION,
            "tv_primal_step",
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

    // ---- FFT --------------------------------------------------------------------------------

    fn fft_plan<T: Real>(&self, spec: &FftSpec) -> Result<CudaFftPlan<T>> {
        Ok(CudaFftPlan::new(self.fft_planset(spec, T::PRECISION)?))
    }

    fn fft_c2c<T: Real>(
        &self,
        plan: &CudaFftPlan<T>,
        data: &mut CudaBuffer<C<T>>,
        dir: Direction,
    ) -> Result<()> {
        let set = &plan.inner;
        if set.spec.kind != FftKind::C2C {
            return Err(Error::InvalidArgument("fft_c2c with an R2C plan".into()));
        }
        check_shape("fft_c2c", &set.spec.shape, data.shape())?;
        self.bind()?;
        {
            let (ptr, _sync) = data.mem.device_ptr_mut(self.stream());
            let d = match dir {
                Direction::Forward => FftDirection::Forward,
                Direction::Inverse => FftDirection::Inverse,
            };
            set.exec_c2c(T::PRECISION, ptr, d)?;
        }
        if dir == Direction::Inverse {
            let norm = set.spec.dims().iter().product::<usize>() as f64;
            scale_reals(self, T::PRECISION, &data.mem, 2 * data.len(), 1.0 / norm)?;
        }
        Ok(())
    }

    fn fft_r2c<T: Real>(
        &self,
        plan: &CudaFftPlan<T>,
        input: &CudaBuffer<T>,
        out: &mut CudaBuffer<C<T>>,
    ) -> Result<()> {
        let set = &plan.inner;
        check_r2c(&set.spec)?;
        check_shape("fft_r2c (input)", &set.spec.shape, input.shape())?;
        check_shape("fft_r2c (output)", &set.spec.spectrum_shape(), out.shape())?;
        self.bind()?;
        let (i, _si) = input.mem.device_ptr(self.stream());
        let (o, _so) = out.mem.device_ptr_mut(self.stream());
        set.exec_r2c(T::PRECISION, i, o)
    }

    fn fft_c2r<T: Real>(
        &self,
        plan: &CudaFftPlan<T>,
        input: &mut CudaBuffer<C<T>>,
        out: &mut CudaBuffer<T>,
    ) -> Result<()> {
        let set = &plan.inner;
        check_r2c(&set.spec)?;
        check_shape("fft_c2r (input)", &set.spec.spectrum_shape(), input.shape())?;
        check_shape("fft_c2r (output)", &set.spec.shape, out.shape())?;
        self.bind()?;
        {
            let (i, _si) = input.mem.device_ptr_mut(self.stream());
            let (o, _so) = out.mem.device_ptr_mut(self.stream());
            set.exec_c2r(self.stream(), T::PRECISION, i, o)?;
        }
        let norm = set.spec.dims().iter().product::<usize>() as f64;
        scale_reals(self, T::PRECISION, &out.mem, out.len(), 1.0 / norm)
    }

    // ---- NUFFT stages -----------------------------------------------------------------------

    fn nufft_setpts<T: Real>(
        &self,
        coords: &[ArrayView1<'_, T>],
        params: &SpreadParams,
    ) -> Result<CudaNufftPoints<T>> {
        CudaNufftPoints::new(self, coords, params)
    }

    fn nufft_spread<T: Real>(
        &self,
        pts: &CudaNufftPoints<T>,
        params: &SpreadParams,
        c: &CudaBuffer<C<T>>,
        fine: &mut CudaBuffer<C<T>>,
    ) -> Result<()> {
        pts.spread(self, params, c, fine)
    }

    fn nufft_interp<T: Real>(
        &self,
        pts: &CudaNufftPoints<T>,
        params: &SpreadParams,
        fine: &CudaBuffer<C<T>>,
        c: &mut CudaBuffer<C<T>>,
    ) -> Result<()> {
        pts.interp(self, params, fine, c)
    }

    fn nufft_deconvolve<T: Real>(
        &self,
        params: &SpreadParams,
        factors: &CudaBuffer<T>,
        fine: &CudaBuffer<C<T>>,
        modes: &mut CudaBuffer<C<T>>,
    ) -> Result<()> {
        crate::nufft::deconvolve(self, params, factors, fine, modes)
    }

    fn nufft_precompensate<T: Real>(
        &self,
        params: &SpreadParams,
        factors: &CudaBuffer<T>,
        modes: &CudaBuffer<C<T>>,
        fine: &mut CudaBuffer<C<T>>,
    ) -> Result<()> {
        crate::nufft::precompensate(self, params, factors, modes, fine)
    }

    // ---- filtered backprojection --------------------------------------------------------------

    fn interp_backproject<T: Real>(
        &self,
        f: &CudaBuffer<T>,
        g: &CudaBuffer<T>,
        grids: &[&CudaBuffer<T>],
        r0: T,
        dr: T,
        out: &mut CudaBuffer<T>,
    ) -> Result<()> {
        let d = grids.len();
        if !(2..=3).contains(&d) {
            return Err(Error::InvalidArgument(format!(
                "interp_backproject: {d} grid axes (2 or 3)"
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
        let n2 = if d == 3 { sizes[2] } else { 1 };
        self.run(
            T::PRECISION,
            "interp_backproject",
            Range::items(out.len()),
            &[
                Arg::Mem(&f.mem),
                Arg::Mem(&g.mem),
                Arg::Mem(&grids[0].mem),
                Arg::Mem(&grids[1].mem),
                Arg::Mem(&grids[d - 1].mem),
                Arg::Mem(&out.mem),
                Arg::size(fs[0])?,
                Arg::size(fs[1])?,
                Arg::I32(d as i32),
                Arg::size(sizes[0])?,
                Arg::size(sizes[1])?,
                Arg::size(n2)?,
                Arg::real(r0),
                Arg::real(dr),
            ],
        )
    }
}

fn binary_code(op: Binary) -> i32 {
    match op {
        Binary::Add => 0,
        Binary::Sub => 1,
        Binary::Mul => 2,
        Binary::Div => 3,
        Binary::Max => 4,
        Binary::Min => 5,
    }
}

/// `x[i] <- alpha x[i]` over `n` reals of precision `p` (also a complex buffer by a real factor).
fn scale_reals(
    b: &CudaBackend,
    p: Precision,
    mem: &CudaSlice<u8>,
    n: usize,
    alpha: f64,
) -> Result<()> {
    b.run(
        p,
        "scale_real",
        Range::items(n),
        &[Arg::Mem(mem), Arg::size(n)?, Arg::real_in(p, alpha)],
    )
}

fn check_r2c(spec: &FftSpec) -> Result<()> {
    if spec.kind == FftKind::R2C {
        Ok(())
    } else {
        Err(Error::InvalidArgument(
            "real-to-complex transform with a C2C plan".into(),
        ))
    }
}

/// `offset + inner <= outer` per axis, same rank.
fn check_block(op: &str, inner: &[usize], offset: &[usize], outer: &[usize]) -> Result<()> {
    let fits = inner.len() == outer.len()
        && offset.len() == outer.len()
        && inner
            .iter()
            .zip(offset)
            .zip(outer)
            .all(|((&i, &o), &n)| o + i <= n);
    if fits {
        Ok(())
    } else {
        Err(Error::shape(
            format!("{op} (a block of shape {inner:?} at offset {offset:?})"),
            outer,
            inner,
        ))
    }
}

/// `dst[d] <- src[d + delta]` (modulo the source shape with `wrap`, zero outside otherwise).
fn remap<E: Element>(
    b: &CudaBackend,
    src: &CudaBuffer<E>,
    dst: &mut CudaBuffer<E>,
    delta: &[isize],
    wrap: bool,
) -> Result<()> {
    let n = dst.len();
    dst.bound = src.bound;
    b.run(
        Precision::F32,
        word_kernel("remap", std::mem::size_of::<E>())?,
        Range::items(n),
        &[
            Arg::Mem(&src.mem),
            Arg::Mem(&dst.mem),
            Arg::size(n)?,
            rank_of("remap", dst.shape())?,
            Arg::Dims(Dims::new(dst.shape(), 1)?),
            Arg::Dims(Dims::new(src.shape(), 1)?),
            Arg::Dims(Dims::signed(delta)?),
            Arg::I32(wrap as i32),
        ],
    )
}

/// Reduction `code` of reduce.cl: one partial result per work group on the device, the partial
/// results combined on the host in `f64`.
fn reduction<T: Real>(
    b: &CudaBackend,
    code: i32,
    x: &CudaBuffer<T>,
    y: &CudaBuffer<T>,
) -> Result<T> {
    let n = x.len();
    if n == 0 {
        return Ok(if code == 2 || code == 3 {
            T::nan()
        } else {
            T::zero()
        });
    }
    let groups = n.div_ceil(REDUCE_WG).min(REDUCE_MAX_GROUPS);
    let partial = b.alloc(groups * std::mem::size_of::<T>(), false)?;
    b.run(
        T::PRECISION,
        "reduce_partial",
        Range::groups(groups, REDUCE_WG),
        &[
            Arg::Mem(&x.mem),
            Arg::Mem(&y.mem),
            Arg::size(n)?,
            Arg::I32(code),
            Arg::Mem(&partial),
        ],
    )?;
    let mut host = vec![T::zero(); groups];
    b.stream()
        .memcpy_dtoh(
            &partial.slice(..groups * std::mem::size_of::<T>()),
            bytes_mut(&mut host),
        )
        .map_err(driver)?;
    b.synchronize()?;
    let vals = host.iter().map(|v| v.f64());
    let r = match code {
        // numpy's max / min: a NaN anywhere gives NaN.
        2 => vals.fold(f64::NEG_INFINITY, |m, v| {
            if m.is_nan() || v.is_nan() {
                f64::NAN
            } else {
                m.max(v)
            }
        }),
        3 => vals.fold(f64::INFINITY, |m, v| {
            if m.is_nan() || v.is_nan() {
                f64::NAN
            } else {
                m.min(v)
            }
        }),
        _ => vals.sum(),
    };
    Ok(T::of(r))
}
