//! [`OpenClBackend`]: the [`Backend`] implementation, each method one or a few launches of the
//! shared kernels (`gpu-kernels`).

use crate::buffer::ClBuffer;
use crate::device::{cl_error, Shared};
use crate::fft::ClFftPlan;
use crate::launch::{Arg, MAX_RANK};
use crate::nufft::ClPoints;
use backend_core::error::check_shape;
use backend_core::nufft::SpreadParams;
use backend_core::{
    Backend, Binary, DeviceBuffer, Direction, ElemKind, Element, Error, FftSpec, Field, Part,
    Precision, Real, Reduce, Result, Unary, C,
};
use ndarray::{ArrayD, ArrayView1, ArrayViewD, IxDyn};
use opencl3::memory::{Buffer, CL_MEM_READ_WRITE};
use opencl3::types::CL_BLOCKING;
use std::sync::Arc;

/// An OpenCL device: shared context, one in-order queue, programs built once per precision.
/// Cloning is cheap (an `Arc`); every handle on one device shares the same queue.
#[derive(Clone)]
pub struct OpenClBackend {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for OpenClBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OpenClBackend({})", self.shared.label)
    }
}

impl OpenClBackend {
    /// Opens device `(platform, device)` (indices as listed by [`OpenClBackend::list_devices`]),
    /// or the first device found. No device, loader or ICD is [`Error::DeviceUnavailable`].
    pub fn new(spec: Option<(usize, usize)>) -> Result<Self> {
        Ok(OpenClBackend {
            shared: Shared::open(spec)?,
        })
    }

    /// Every OpenCL device, one line each: `opencl:<platform>:<device>  <name> (<platform>)`.
    pub fn list_devices() -> Result<Vec<String>> {
        crate::device::list_devices()
    }

    /// Launches a kernel of the program of precision `p` on `global` work items.
    pub(crate) fn launch(
        &self,
        p: Precision,
        name: &'static str,
        global: usize,
        args: &[Arg],
    ) -> Result<()> {
        self.shared.programs(p)?.launch(
            &self.shared.queue,
            name,
            global,
            self.shared.group,
            false,
            args,
        )
    }

    /// As [`Self::launch`] with exactly `local` work items per group (an error when the
    /// kernel cannot run that many on the device).
    pub(crate) fn launch_exact(
        &self,
        p: Precision,
        name: &'static str,
        global: usize,
        local: usize,
        args: &[Arg],
    ) -> Result<()> {
        self.shared
            .programs(p)?
            .launch(&self.shared.queue, name, global, local, true, args)
    }

    /// A new uninitialised buffer (at least one element is allocated).
    pub(crate) fn alloc<E: Element>(&self, shape: &[usize]) -> Result<ClBuffer<E>> {
        if E::KIND.precision() == Some(Precision::F64) && !self.shared.fp64 {
            return Err(Error::precision_unsupported(
                &self.shared.label,
                Precision::F64,
            ));
        }
        let n: usize = shape.iter().product();
        count(n)?;
        // SAFETY: no host pointer; the size is checked by OpenCL.
        let buf = unsafe {
            Buffer::<E>::create(
                &self.shared.context,
                CL_MEM_READ_WRITE,
                n.max(1),
                std::ptr::null_mut(),
            )
        }
        .map_err(|e| cl_error(&format!("allocating {n} elements"), e))?;
        Ok(ClBuffer::new(buf, shape))
    }

    /// Fills the first `n` elements of a buffer with `value` (word kernels of the f32 program).
    pub(crate) fn fill_raw<E: Element>(
        &self,
        mem: opencl3::memory::cl_mem,
        n: usize,
        value: E,
    ) -> Result<()> {
        let words = words_of(&value);
        let (name, w) = match words.len() {
            1 => ("fill_w4", Arg::U32(words[0])),
            2 => ("fill_w8", Arg::W8([words[0], words[1]])),
            _ => (
                "fill_w16",
                Arg::W16([words[0], words[1], words[2], words[3]]),
            ),
        };
        self.launch(
            Precision::F32,
            name,
            n,
            &[Arg::Mem(mem), Arg::U32(count(n)?), w],
        )
    }

    /// Enqueues `dst[..n] <- src[..n]` (same element type).
    pub(crate) fn copy_raw<E: Element>(
        &self,
        src: &Buffer<E>,
        dst: &mut Buffer<E>,
        n: usize,
    ) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        // SAFETY: both buffers hold at least n elements (checked by the callers).
        unsafe {
            self.shared
                .queue
                .enqueue_copy_buffer(src, dst, 0, 0, n * std::mem::size_of::<E>(), &[])
        }
        .map_err(|e| cl_error("buffer copy", e))?;
        Ok(())
    }

    pub(crate) fn remap<E: Element>(
        &self,
        op: &str,
        src: &ClBuffer<E>,
        dst: &mut ClBuffer<E>,
        delta: &[i64],
        wrap: bool,
    ) -> Result<()> {
        let rank = dst.shape().len();
        if src.shape().len() != rank || delta.len() != rank {
            return Err(Error::InvalidArgument(format!(
                "{op}: ranks differ (source {:?}, destination {:?}, {} offsets)",
                src.shape(),
                dst.shape(),
                delta.len()
            )));
        }
        let name = word_kernel("remap", E::KIND);
        let mut d = [0i32; MAX_RANK];
        for (a, &v) in delta.iter().enumerate().take(MAX_RANK) {
            d[a] = i32::try_from(v)
                .map_err(|_| Error::InvalidArgument(format!("{op}: offset {v} too large")))?;
        }
        let n = dst.len();
        // embed writes zeros around the block
        dst.max_index = src.max_index;
        self.launch(
            Precision::F32,
            name,
            n,
            &[
                Arg::Mem(src.mem()),
                Arg::Mem(dst.mem()),
                Arg::U32(count(n)?),
                Arg::I32(rank as i32),
                Arg::Dims(dims(op, dst.shape())?),
                Arg::Dims(dims(op, src.shape())?),
                Arg::Dims(d),
                Arg::I32(wrap as i32),
            ],
        )
    }

    /// Fails unless every index of `idx` is below `n` (from the recorded maximum, or by
    /// reading the indices back when it is unknown).
    fn check_indices(&self, op: &str, idx: &ClBuffer<u32>, n: usize) -> Result<()> {
        let max = match idx.max_index {
            Some(m) => Some(m),
            None => self.download(idx)?.iter().copied().max(),
        };
        match max {
            Some(m) if m as usize >= n => Err(Error::InvalidArgument(format!(
                "{op}: index {m} out of range for {n} elements"
            ))),
            _ => Ok(()),
        }
    }

    fn reduce_op<T: Real>(&self, op: i32, a: &ClBuffer<T>, b: &ClBuffer<T>) -> Result<T> {
        let n = a.len();
        let nan_if_empty = op == 2 || op == 3;
        if n == 0 {
            return Ok(if nan_if_empty { T::nan() } else { T::zero() });
        }
        let wg = gpu_kernels::REDUCE_GROUP_SIZE;
        let groups = n.div_ceil(wg).min(64);
        let partial = self.alloc::<T>(&[groups])?;
        self.launch_exact(
            T::PRECISION,
            "reduce_partial",
            groups * wg,
            wg,
            &[
                Arg::Mem(a.mem()),
                Arg::Mem(b.mem()),
                Arg::U32(count(n)?),
                Arg::I32(op),
                Arg::Mem(partial.mem()),
            ],
        )?;
        let host = self.download(&partial)?;
        let vals = host.iter().map(|v| v.f64());
        let r = match op {
            2 => fold_nan(vals, f64::max),
            3 => fold_nan(vals, f64::min),
            _ => vals.sum(),
        };
        Ok(T::of(r))
    }

    fn real_arg<T: Real>(v: T) -> Arg {
        Arg::real(T::PRECISION == Precision::F64, v.f64())
    }
}

/// `n` as a kernel count (`uint`), or an error past 2^32 − 1 elements.
pub(crate) fn count(n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| {
        Error::InvalidArgument(format!(
            "{n} elements: the OpenCL kernels index with 32-bit integers"
        ))
    })
}

/// A shape as a `DIMS` kernel argument (unused entries 1).
pub(crate) fn dims(op: &str, shape: &[usize]) -> Result<[i32; MAX_RANK]> {
    if shape.len() > MAX_RANK {
        return Err(Error::InvalidArgument(format!(
            "{op}: rank {} above the kernels' limit {MAX_RANK}",
            shape.len()
        )));
    }
    let mut d = [1i32; MAX_RANK];
    for (a, &s) in shape.iter().enumerate() {
        d[a] = i32::try_from(s)
            .map_err(|_| Error::InvalidArgument(format!("{op}: axis of length {s}")))?;
    }
    Ok(d)
}

/// The 32-bit words of an element (1, 2 or 4 of them).
fn words_of<E: Element>(v: &E) -> Vec<u32> {
    let n = E::KIND.size() / 4;
    // SAFETY: every Element is plain old data of KIND.size() bytes, a multiple of 4, with at
    // least 4-byte alignment (f32, f64, u32 and their complex pairs).
    unsafe { std::slice::from_raw_parts(v as *const E as *const u32, n) }.to_vec()
}

/// The real and imaginary parts of a field element, as f64.
fn parts<E: Field>(v: E) -> (f64, f64) {
    let w = words_of(&v);
    let f32_of = |i: usize| f32::from_bits(w[i]) as f64;
    let f64_of = |i: usize| f64::from_bits(w[i] as u64 | ((w[i + 1] as u64) << 32));
    match E::KIND {
        ElemKind::Real(Precision::F32) => (f32_of(0), 0.0),
        ElemKind::Real(Precision::F64) => (f64_of(0), 0.0),
        ElemKind::Complex(Precision::F32) => (f32_of(0), f32_of(1)),
        ElemKind::Complex(Precision::F64) => (f64_of(0), f64_of(2)),
        ElemKind::U32 => (w[0] as f64, 0.0),
    }
}

/// The name of an index kernel for the element's word size.
fn word_kernel(stem: &str, kind: ElemKind) -> &'static str {
    match (stem, kind.size()) {
        ("gather", 4) => "gather_w4",
        ("gather", 8) => "gather_w8",
        ("gather", _) => "gather_w16",
        ("scatter", 4) => "scatter_w4",
        ("scatter", 8) => "scatter_w8",
        ("scatter", _) => "scatter_w16",
        ("remap", 4) => "remap_w4",
        ("remap", 8) => "remap_w8",
        _ => "remap_w16",
    }
}

fn same_len(op: &str, a: &[usize], b: &[usize]) -> Result<()> {
    let (na, nb): (usize, usize) = (a.iter().product(), b.iter().product());
    if na == nb {
        Ok(())
    } else {
        Err(Error::shape(op, a, b))
    }
}

/// `(lead, shape...)`.
fn stacked(lead: usize, shape: &[usize]) -> Vec<usize> {
    let mut s = vec![lead];
    s.extend_from_slice(shape);
    s
}

impl Backend for OpenClBackend {
    type Buffer<E: Element> = ClBuffer<E>;
    type FftPlan<T: Real> = ClFftPlan<T>;
    type NufftPoints<T: Real> = ClPoints<T>;

    fn name(&self) -> String {
        self.shared.label.clone()
    }

    fn supports_f64(&self) -> bool {
        self.shared.fp64
    }

    fn synchronize(&self) -> Result<()> {
        self.shared
            .queue
            .finish()
            .map_err(|e| cl_error("synchronize", e))
    }

    fn zeros<E: Element>(&self, shape: &[usize]) -> Result<ClBuffer<E>> {
        let mut b = self.alloc::<E>(shape)?;
        self.fill(&mut b, E::default())?;
        Ok(b)
    }

    fn upload<E: Element>(&self, host: ArrayViewD<'_, E>) -> Result<ClBuffer<E>> {
        let mut b = self.alloc::<E>(host.shape())?;
        let data: Vec<E> = host.iter().copied().collect();
        if E::KIND == ElemKind::U32 {
            b.max_index = data.iter().map(|v| words_of(v)[0]).max();
        }
        if !data.is_empty() {
            // SAFETY: the buffer holds data.len() elements; the write is blocking.
            unsafe {
                self.shared
                    .queue
                    .enqueue_write_buffer(&mut b.buf, CL_BLOCKING, 0, &data, &[])
            }
            .map_err(|e| cl_error("upload", e))?;
        }
        Ok(b)
    }

    fn download<E: Element>(&self, buf: &ClBuffer<E>) -> Result<ArrayD<E>> {
        let mut data = vec![E::default(); buf.len()];
        if !data.is_empty() {
            // SAFETY: the buffer holds data.len() elements; the read is blocking.
            unsafe {
                self.shared
                    .queue
                    .enqueue_read_buffer(&buf.buf, CL_BLOCKING, 0, &mut data, &[])
            }
            .map_err(|e| cl_error("download", e))?;
        }
        ArrayD::from_shape_vec(IxDyn(buf.shape()), data)
            .map_err(|e| Error::Device(format!("download: {e}")))
    }

    fn copy<E: Element>(&self, src: &ClBuffer<E>, dst: &mut ClBuffer<E>) -> Result<()> {
        same_len("copy", dst.shape(), src.shape())?;
        let n = src.len();
        dst.max_index = src.max_index;
        self.copy_raw(&src.buf, &mut dst.buf, n)
    }

    fn fill<E: Element>(&self, buf: &mut ClBuffer<E>, value: E) -> Result<()> {
        if E::KIND == ElemKind::U32 {
            buf.max_index = (!buf.is_empty()).then(|| words_of(&value)[0]);
        }
        self.fill_raw(buf.mem(), buf.len(), value)
    }

    fn map<T: Real>(&self, op: Unary, x: &mut ClBuffer<T>) -> Result<()> {
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
        self.launch(
            T::PRECISION,
            "map_real",
            n,
            &[Arg::Mem(x.mem()), Arg::U32(count(n)?), Arg::I32(code)],
        )
    }

    fn zip<T: Real>(&self, op: Binary, a: &mut ClBuffer<T>, b: &ClBuffer<T>) -> Result<()> {
        let (n, nb) = (a.len(), b.len());
        if n > 0 && (nb == 0 || n % nb != 0) {
            return Err(Error::shape("zip (b must divide a)", a.shape(), b.shape()));
        }
        self.launch(
            T::PRECISION,
            "zip_real",
            n,
            &[
                Arg::Mem(a.mem()),
                Arg::Mem(b.mem()),
                Arg::U32(count(n)?),
                Arg::U32(count(nb.max(1))?),
                Arg::I32(binary_code(op)),
            ],
        )
    }

    fn zip_scalar<T: Real>(&self, op: Binary, a: &mut ClBuffer<T>, s: T) -> Result<()> {
        let n = a.len();
        self.launch(
            T::PRECISION,
            "zip_scalar_real",
            n,
            &[
                Arg::Mem(a.mem()),
                Arg::U32(count(n)?),
                Self::real_arg(s),
                Arg::I32(binary_code(op)),
            ],
        )
    }

    fn axpby<E: Field>(
        &self,
        alpha: E,
        x: &ClBuffer<E>,
        beta: E,
        y: &mut ClBuffer<E>,
    ) -> Result<()> {
        check_shape("axpby", y.shape(), x.shape())?;
        let n = x.len();
        let (ar, ai) = parts(alpha);
        let (br, bi) = parts(beta);
        match E::KIND {
            ElemKind::Real(p) => {
                let d = p == Precision::F64;
                self.launch(
                    p,
                    "axpby_real",
                    n,
                    &[
                        Arg::Mem(x.mem()),
                        Arg::Mem(y.mem()),
                        Arg::U32(count(n)?),
                        Arg::real(d, ar),
                        Arg::real(d, br),
                    ],
                )
            }
            ElemKind::Complex(p) => {
                let d = p == Precision::F64;
                self.launch(
                    p,
                    "axpby_complex",
                    n,
                    &[
                        Arg::Mem(x.mem()),
                        Arg::Mem(y.mem()),
                        Arg::U32(count(n)?),
                        Arg::real(d, ar),
                        Arg::real(d, ai),
                        Arg::real(d, br),
                        Arg::real(d, bi),
                    ],
                )
            }
            ElemKind::U32 => Err(Error::InvalidArgument("axpby of an index buffer".into())),
        }
    }

    fn scale<E: Field>(&self, x: &mut ClBuffer<E>, alpha: E) -> Result<()> {
        let n = x.len();
        let (ar, ai) = parts(alpha);
        match E::KIND {
            ElemKind::Real(p) => self.launch(
                p,
                "scale_real",
                n,
                &[
                    Arg::Mem(x.mem()),
                    Arg::U32(count(n)?),
                    Arg::real(p == Precision::F64, ar),
                ],
            ),
            ElemKind::Complex(p) => self.launch(
                p,
                "scale_complex",
                n,
                &[
                    Arg::Mem(x.mem()),
                    Arg::U32(count(n)?),
                    Arg::real(p == Precision::F64, ar),
                    Arg::real(p == Precision::F64, ai),
                ],
            ),
            ElemKind::U32 => Err(Error::InvalidArgument("scale of an index buffer".into())),
        }
    }

    fn cmul<T: Real>(
        &self,
        a: &mut ClBuffer<C<T>>,
        b: &ClBuffer<C<T>>,
        conj_b: bool,
    ) -> Result<()> {
        let (n, nb) = (a.len(), b.len());
        if n > 0 && (nb == 0 || n % nb != 0) {
            return Err(Error::shape("cmul (b must divide a)", a.shape(), b.shape()));
        }
        self.launch(
            T::PRECISION,
            "cmul_complex",
            n,
            &[
                Arg::Mem(a.mem()),
                Arg::Mem(b.mem()),
                Arg::U32(count(n)?),
                Arg::U32(count(nb.max(1))?),
                Arg::I32(conj_b as i32),
            ],
        )
    }

    fn conj<T: Real>(&self, z: &mut ClBuffer<C<T>>) -> Result<()> {
        let n = z.len();
        self.launch(
            T::PRECISION,
            "conj_complex",
            n,
            &[Arg::Mem(z.mem()), Arg::U32(count(n)?)],
        )
    }

    fn to_complex<T: Real>(&self, x: &ClBuffer<T>, out: &mut ClBuffer<C<T>>) -> Result<()> {
        same_len("to_complex", out.shape(), x.shape())?;
        let n = x.len();
        self.launch(
            T::PRECISION,
            "real_to_complex",
            n,
            &[Arg::Mem(x.mem()), Arg::Mem(out.mem()), Arg::U32(count(n)?)],
        )
    }

    fn complex_part<T: Real>(
        &self,
        z: &ClBuffer<C<T>>,
        part: Part,
        out: &mut ClBuffer<T>,
    ) -> Result<()> {
        same_len("complex_part", out.shape(), z.shape())?;
        let n = z.len();
        let code = match part {
            Part::Re => 0,
            Part::Im => 1,
            Part::Abs => 2,
        };
        self.launch(
            T::PRECISION,
            "complex_part",
            n,
            &[
                Arg::Mem(z.mem()),
                Arg::Mem(out.mem()),
                Arg::U32(count(n)?),
                Arg::I32(code),
            ],
        )
    }

    fn gather<E: Element>(
        &self,
        src: &ClBuffer<E>,
        idx: &ClBuffer<u32>,
        out: &mut ClBuffer<E>,
    ) -> Result<()> {
        same_len("gather (indices and output)", out.shape(), idx.shape())?;
        self.check_indices("gather", idx, src.len())?;
        out.max_index = src.max_index;
        let m = idx.len();
        self.launch(
            Precision::F32,
            word_kernel("gather", E::KIND),
            m,
            &[
                Arg::Mem(src.mem()),
                Arg::Mem(idx.mem()),
                Arg::Mem(out.mem()),
                Arg::U32(count(m)?),
                Arg::U32(count(src.len())?),
            ],
        )
    }

    fn scatter<E: Element>(
        &self,
        src: &ClBuffer<E>,
        idx: &ClBuffer<u32>,
        out: &mut ClBuffer<E>,
    ) -> Result<()> {
        same_len("scatter (indices and source)", src.shape(), idx.shape())?;
        self.check_indices("scatter", idx, out.len())?;
        out.max_index = out.max_index.zip(src.max_index).map(|(a, b)| a.max(b));
        let m = idx.len();
        self.launch(
            Precision::F32,
            word_kernel("scatter", E::KIND),
            m,
            &[
                Arg::Mem(src.mem()),
                Arg::Mem(idx.mem()),
                Arg::Mem(out.mem()),
                Arg::U32(count(m)?),
                Arg::U32(count(out.len())?),
            ],
        )
    }

    fn embed<E: Element>(
        &self,
        src: &ClBuffer<E>,
        dst: &mut ClBuffer<E>,
        offset: &[usize],
    ) -> Result<()> {
        let fits = offset.len() == src.shape().len()
            && dst.shape().len() == src.shape().len()
            && (0..offset.len()).all(|a| offset[a] + src.shape()[a] <= dst.shape()[a]);
        if !fits {
            return Err(Error::shape(
                format!("embed (block {:?} at offset {offset:?})", src.shape()),
                &block_end(offset, src.shape()),
                dst.shape(),
            ));
        }
        let delta: Vec<i64> = offset.iter().map(|&o| -(o as i64)).collect();
        self.remap("embed", src, dst, &delta, false)
    }

    fn extract<E: Element>(
        &self,
        src: &ClBuffer<E>,
        offset: &[usize],
        dst: &mut ClBuffer<E>,
    ) -> Result<()> {
        let fits = offset.len() == src.shape().len()
            && dst.shape().len() == src.shape().len()
            && (0..offset.len()).all(|a| offset[a] + dst.shape()[a] <= src.shape()[a]);
        if !fits {
            return Err(Error::shape(
                format!("extract (block {:?} at offset {offset:?})", dst.shape()),
                &block_end(offset, dst.shape()),
                src.shape(),
            ));
        }
        let delta: Vec<i64> = offset.iter().map(|&o| o as i64).collect();
        self.remap("extract", src, dst, &delta, false)
    }

    fn roll<E: Element>(
        &self,
        src: &ClBuffer<E>,
        shifts: &[isize],
        dst: &mut ClBuffer<E>,
    ) -> Result<()> {
        check_shape("roll", src.shape(), dst.shape())?;
        if shifts.len() != src.shape().len() {
            return Err(Error::InvalidArgument(format!(
                "roll: {} shifts for an array of rank {}",
                shifts.len(),
                src.shape().len()
            )));
        }
        let delta: Vec<i64> = shifts
            .iter()
            .zip(src.shape())
            .map(|(&s, &n)| (-(s as i64)).rem_euclid(n.max(1) as i64))
            .collect();
        self.remap("roll", src, dst, &delta, true)
    }

    fn reduce<T: Real>(&self, op: Reduce, x: &ClBuffer<T>) -> Result<T> {
        let code = match op {
            Reduce::Sum => 0,
            Reduce::SumSq => 1,
            Reduce::Max => 2,
            Reduce::Min => 3,
        };
        self.reduce_op(code, x, x)
    }

    fn dot<T: Real>(&self, a: &ClBuffer<T>, b: &ClBuffer<T>) -> Result<T> {
        same_len("dot", a.shape(), b.shape())?;
        self.reduce_op(4, a, b)
    }

    fn sq_dist<T: Real>(&self, a: &ClBuffer<T>, b: &ClBuffer<T>) -> Result<T> {
        same_len("sq_dist", a.shape(), b.shape())?;
        self.reduce_op(5, a, b)
    }

    fn grad<T: Real>(
        &self,
        u: &ClBuffer<T>,
        axes: &[usize],
        masks: Option<&ClBuffer<T>>,
        out: &mut ClBuffer<T>,
    ) -> Result<()> {
        let shape = u.shape();
        check_axes("grad", shape, axes)?;
        let full = stacked(axes.len(), shape);
        check_shape("grad (output)", &full, out.shape())?;
        if let Some(m) = masks {
            check_shape("grad (masks)", &full, m.shape())?;
        }
        let n = u.len();
        let ax: Vec<usize> = axes.to_vec();
        self.launch(
            T::PRECISION,
            "stencil_grad",
            n * axes.len(),
            &[
                Arg::Mem(u.mem()),
                Arg::Mem(masks.map_or(u.mem(), |m| m.mem())),
                Arg::Mem(out.mem()),
                Arg::U32(count(n)?),
                Arg::I32(shape.len() as i32),
                Arg::Dims(dims("grad", shape)?),
                Arg::I32(axes.len() as i32),
                Arg::Dims(dims("grad", &ax)?),
                Arg::I32(masks.is_some() as i32),
            ],
        )
    }

    fn div<T: Real>(
        &self,
        p: &ClBuffer<T>,
        axes: &[usize],
        masks: Option<&ClBuffer<T>>,
        out: &mut ClBuffer<T>,
    ) -> Result<()> {
        let shape = out.shape().to_vec();
        check_axes("div", &shape, axes)?;
        let full = stacked(axes.len(), &shape);
        check_shape("div (field)", &full, p.shape())?;
        if let Some(m) = masks {
            check_shape("div (masks)", &full, m.shape())?;
        }
        let n = out.len();
        self.launch(
            T::PRECISION,
            "stencil_div",
            n,
            &[
                Arg::Mem(p.mem()),
                Arg::Mem(masks.map_or(p.mem(), |m| m.mem())),
                Arg::Mem(out.mem()),
                Arg::U32(count(n)?),
                Arg::I32(shape.len() as i32),
                Arg::Dims(dims("div", &shape)?),
                Arg::I32(axes.len() as i32),
                Arg::Dims(dims("div", axes)?),
                Arg::I32(masks.is_some() as i32),
            ],
        )
    }

    fn tv_dual_step<T: Real>(
        &self,
        p: &mut ClBuffer<T>,
        ubar: &ClBuffer<T>,
        step: T,
        masks: Option<&ClBuffer<T>>,
    ) -> Result<()> {
        let shape = ubar.shape();
        let full = stacked(shape.len(), shape);
        check_shape("tv_dual_step (dual field)", &full, p.shape())?;
        if let Some(m) = masks {
            check_shape("tv_dual_step (masks)", &full, m.shape())?;
        }
        let n = ubar.len();
        self.launch(
            T::PRECISION,
            "tv_dual_step",
            n,
            &[
                Arg::Mem(p.mem()),
                Arg::Mem(ubar.mem()),
                Arg::Mem(masks.map_or(ubar.mem(), |m| m.mem())),
                Arg::U32(count(n)?),
                Arg::I32(shape.len() as i32),
                Arg::Dims(dims("tv_dual_step", shape)?),
                Self::real_arg(step),
                Arg::I32(masks.is_some() as i32),
            ],
        )
    }

    fn tv_primal_step<T: Real>(
        &self,
        u: &mut ClBuffer<T>,
        ubar: &mut ClBuffer<T>,
        p: &ClBuffer<T>,
        gradf: &ClBuffer<T>,
        tau: T,
        lambda: T,
        positivity: bool,
        mask: Option<&ClBuffer<T>>,
        masks: Option<&ClBuffer<T>>,
    ) -> Result<()> {
        let shape = u.shape().to_vec();
        check_shape("tv_primal_step (ubar)", &shape, ubar.shape())?;
        check_shape("tv_primal_step (gradf)", &shape, gradf.shape())?;
        let full = stacked(shape.len(), &shape);
        check_shape("tv_primal_step (dual field)", &full, p.shape())?;
        if let Some(m) = mask {
            check_shape("tv_primal_step (mask)", &shape, m.shape())?;
        }
        if let Some(m) = masks {
            check_shape("tv_primal_step (masks)", &full, m.shape())?;
        }
        let flags =
            positivity as i32 | (mask.is_some() as i32) << 1 | (masks.is_some() as i32) << 2;
        let n = u.len();
        self.launch(
            T::PRECISION,
            "tv_primal_step",
            n,
            &[
                Arg::Mem(u.mem()),
                Arg::Mem(ubar.mem()),
                Arg::Mem(p.mem()),
                Arg::Mem(gradf.mem()),
                Arg::Mem(mask.map_or(u.mem(), |m| m.mem())),
                Arg::Mem(masks.map_or(p.mem(), |m| m.mem())),
                Arg::U32(count(n)?),
                Arg::I32(shape.len() as i32),
                Arg::Dims(dims("tv_primal_step", &shape)?),
                Self::real_arg(tau),
                Self::real_arg(lambda),
                Arg::I32(flags),
            ],
        )
    }

    fn fft_plan<T: Real>(&self, spec: &FftSpec) -> Result<ClFftPlan<T>> {
        ClFftPlan::new(self, spec)
    }

    fn fft_c2c<T: Real>(
        &self,
        plan: &ClFftPlan<T>,
        data: &mut ClBuffer<C<T>>,
        dir: Direction,
    ) -> Result<()> {
        plan.c2c(self, data, dir)
    }

    fn fft_r2c<T: Real>(
        &self,
        plan: &ClFftPlan<T>,
        input: &ClBuffer<T>,
        out: &mut ClBuffer<C<T>>,
    ) -> Result<()> {
        plan.r2c(self, input, out)
    }

    fn fft_c2r<T: Real>(
        &self,
        plan: &ClFftPlan<T>,
        input: &mut ClBuffer<C<T>>,
        out: &mut ClBuffer<T>,
    ) -> Result<()> {
        plan.c2r(self, input, out)
    }

    fn nufft_setpts<T: Real>(
        &self,
        coords: &[ArrayView1<'_, T>],
        params: &SpreadParams,
    ) -> Result<ClPoints<T>> {
        ClPoints::new(self, coords, params)
    }

    fn nufft_spread<T: Real>(
        &self,
        pts: &ClPoints<T>,
        params: &SpreadParams,
        c: &ClBuffer<C<T>>,
        fine: &mut ClBuffer<C<T>>,
    ) -> Result<()> {
        pts.spread(self, params, c, fine)
    }

    fn nufft_interp<T: Real>(
        &self,
        pts: &ClPoints<T>,
        params: &SpreadParams,
        fine: &ClBuffer<C<T>>,
        c: &mut ClBuffer<C<T>>,
    ) -> Result<()> {
        pts.interp(self, params, fine, c)
    }

    fn nufft_deconvolve<T: Real>(
        &self,
        params: &SpreadParams,
        factors: &ClBuffer<T>,
        fine: &ClBuffer<C<T>>,
        modes: &mut ClBuffer<C<T>>,
    ) -> Result<()> {
        crate::nufft::correct(self, params, factors, fine, modes, false)
    }

    fn nufft_precompensate<T: Real>(
        &self,
        params: &SpreadParams,
        factors: &ClBuffer<T>,
        modes: &ClBuffer<C<T>>,
        fine: &mut ClBuffer<C<T>>,
    ) -> Result<()> {
        crate::nufft::correct(self, params, factors, modes, fine, true)
    }

    fn interp_backproject<T: Real>(
        &self,
        f: &ClBuffer<T>,
        g: &ClBuffer<T>,
        grids: &[&ClBuffer<T>],
        r0: T,
        dr: T,
        out: &mut ClBuffer<T>,
    ) -> Result<()> {
        let d = grids.len();
        if !(1..=3).contains(&d) {
            return Err(Error::InvalidArgument(format!(
                "interp_backproject: {d} grid axes (1 to 3)"
            )));
        }
        if f.shape().len() != 2 || g.shape() != [f.shape()[0], d] {
            return Err(Error::shape(
                "interp_backproject (g must be (N, d) for f of shape (N, Nb))",
                &[f.shape().first().copied().unwrap_or(0), d],
                g.shape(),
            ));
        }
        if !(r0.is_finite() && dr.is_finite() && dr > T::zero()) {
            return Err(Error::InvalidArgument(format!(
                "interp_backproject: r0 = {r0}, dr = {dr} (finite, dr > 0)"
            )));
        }
        let sizes: Vec<usize> = grids.iter().map(|b| b.len()).collect();
        check_shape("interp_backproject (output)", &sizes, out.shape())?;
        let (nproj, nb) = (f.shape()[0], f.shape()[1]);
        if nb == 0 {
            return self.fill(out, T::zero());
        }
        let n1 = if d >= 2 { sizes[1] } else { 1 };
        let n2 = if d == 3 { sizes[2] } else { 1 };
        self.launch(
            T::PRECISION,
            "interp_backproject",
            out.len(),
            &[
                Arg::Mem(f.mem()),
                Arg::Mem(g.mem()),
                Arg::Mem(grids[0].mem()),
                Arg::Mem(grids[1.min(d - 1)].mem()),
                Arg::Mem(grids[d - 1].mem()),
                Arg::Mem(out.mem()),
                Arg::U32(count(nproj)?),
                Arg::U32(count(nb)?),
                Arg::I32(d as i32),
                Arg::U32(count(sizes[0])?),
                Arg::U32(count(n1)?),
                Arg::U32(count(n2)?),
                Self::real_arg(r0),
                Self::real_arg(dr),
            ],
        )
    }
}

/// Folds with `f`, NaN as soon as one value is NaN (numpy's max / min).
fn fold_nan(vals: impl Iterator<Item = f64>, f: fn(f64, f64) -> f64) -> f64 {
    let mut acc: Option<f64> = None;
    for v in vals {
        if v.is_nan() {
            return f64::NAN;
        }
        acc = Some(acc.map_or(v, |a| f(a, v)));
    }
    acc.unwrap_or(f64::NAN)
}

/// The smallest shape holding `shape` at `offset` (for error messages).
fn block_end(offset: &[usize], shape: &[usize]) -> Vec<usize> {
    shape
        .iter()
        .enumerate()
        .map(|(a, &s)| s + offset.get(a).copied().unwrap_or(0))
        .collect()
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

fn check_axes(op: &str, shape: &[usize], axes: &[usize]) -> Result<()> {
    if axes.is_empty() || axes.iter().any(|&a| a >= shape.len()) || shape.len() > MAX_RANK {
        return Err(Error::InvalidArgument(format!(
            "{op}: axes {axes:?} for an array of shape {shape:?}"
        )));
    }
    Ok(())
}
