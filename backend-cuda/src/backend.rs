//! [`CudaBackend`]: the [`Backend`] trait on one CUDA device and one stream.

use crate::buffer::CudaBuffer;
use crate::device::{self, driver};
use crate::fft::{self, CudaFftPlan, PlanSet};
use crate::kernels::Kernel;
use crate::nufft::CudaNufftPoints;
use crate::program::{launch, Arg, Programs, Range};
use crate::{elementwise, fbp, index, memory, reduce, stencil};
use backend_core::nufft::SpreadParams;
use backend_core::{
    Backend, Binary, Direction, Element, Error, FftSpec, Field, Part, Precision, Real, Reduce,
    Result, Unary, C,
};
use cudarc::driver::{CudaContext, CudaSlice, CudaStream};
use ndarray::{ArrayD, ArrayView1, ArrayViewD};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

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

impl Inner {
    fn open(ordinal: usize) -> Result<Self> {
        let ctx = device::open(ordinal)?;
        // One stream and in-order semantics: cudarc's per-buffer event tracking is not needed.
        // SAFETY: no buffer exists yet on this context handle; all work goes to the one stream
        // below.
        unsafe { ctx.disable_event_tracking() };
        let stream = ctx.new_stream().map_err(driver)?;
        Ok(Inner {
            ordinal,
            device_name: ctx.name().map_err(driver)?,
            stream,
            programs: Programs::new(ctx.clone())?,
            fft_plans: Mutex::new(HashMap::new()),
            ctx,
        })
    }
}

impl CudaBackend {
    /// Opens CUDA device `ordinal` (0 for the first). Fails with
    /// [`Error::DeviceUnavailable`], never a panic, when the driver, NVRTC or cuFFT libraries
    /// or the device are missing.
    ///
    /// Handles opened while another handle of the same device is alive share its context,
    /// stream, compiled kernels and FFT plans (as clones do).
    pub fn new(ordinal: usize) -> Result<Self> {
        static OPEN: OnceLock<Mutex<HashMap<usize, Weak<Inner>>>> = OnceLock::new();
        let mut open = OPEN
            .get_or_init(|| Mutex::new(HashMap::new()))
            .lock()
            .map_err(|_| Error::Device("CUDA device table lock poisoned".into()))?;
        if let Some(inner) = open.get(&ordinal).and_then(Weak::upgrade) {
            return Ok(CudaBackend { inner });
        }
        let inner = Arc::new(Inner::open(ordinal)?);
        open.insert(ordinal, Arc::downgrade(&inner));
        Ok(CudaBackend { inner })
    }

    /// The CUDA devices of this machine, as `cuda:<i> (<name>)`; an error (not a panic) when
    /// the CUDA libraries are missing.
    pub fn list_devices() -> Result<Vec<String>> {
        device::list()
    }

    pub(crate) fn stream(&self) -> &Arc<CudaStream> {
        &self.inner.stream
    }

    /// Makes the context current on this thread, for the library calls (cuFFT, raw driver
    /// calls) that use the thread's context rather than cudarc's wrappers.
    pub(crate) fn bind(&self) -> Result<()> {
        self.inner.ctx.bind_to_thread().map_err(driver)
    }

    /// Launches kernel `name` of the `prec` program.
    pub(crate) fn run(
        &self,
        prec: Precision,
        kernel: &Kernel,
        range: Range,
        args: &[Arg<'_>],
    ) -> Result<()> {
        let f = self.inner.programs.function(prec, kernel)?;
        launch(self.stream(), &f, kernel, prec, range, args)
    }

    /// Launches kernel `name` of the `T` program on `n` work items (any block size).
    pub(crate) fn run_items<T: Real>(
        &self,
        kernel: &Kernel,
        n: usize,
        args: &[Arg<'_>],
    ) -> Result<()> {
        self.run(T::PRECISION, kernel, Range::items(n), args)
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
    pub(crate) fn alloc(&self, nbytes: usize, zeroed: bool) -> Result<CudaSlice<u8>> {
        let n = nbytes.max(1);
        if zeroed {
            self.stream().alloc_zeros::<u8>(n).map_err(driver)
        } else {
            // SAFETY: every caller writes the `nbytes` bytes it later reads.
            unsafe { self.stream().alloc::<u8>(n) }.map_err(driver)
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

/// Fails with a shape mismatch unless both shapes hold the same number of elements.
pub(crate) fn check_len(op: &str, expected: &[usize], got: &[usize]) -> Result<()> {
    if expected.iter().product::<usize>() == got.iter().product::<usize>() {
        Ok(())
    } else {
        Err(Error::shape(op, expected, got))
    }
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
        memory::zeros(self, shape)
    }

    fn upload<E: Element>(&self, host: ArrayViewD<'_, E>) -> Result<CudaBuffer<E>> {
        memory::upload(self, host)
    }

    fn download<E: Element>(&self, buf: &CudaBuffer<E>) -> Result<ArrayD<E>> {
        memory::download(self, buf)
    }

    fn copy<E: Element>(&self, src: &CudaBuffer<E>, dst: &mut CudaBuffer<E>) -> Result<()> {
        memory::copy(self, src, dst)
    }

    fn fill<E: Element>(&self, buf: &mut CudaBuffer<E>, value: E) -> Result<()> {
        memory::fill(self, buf, value)
    }

    // ---- elementwise ----------------------------------------------------------------------

    fn map<T: Real>(&self, op: Unary, x: &mut CudaBuffer<T>) -> Result<()> {
        elementwise::map(self, op, x)
    }

    fn zip<T: Real>(&self, op: Binary, a: &mut CudaBuffer<T>, b: &CudaBuffer<T>) -> Result<()> {
        elementwise::zip(self, op, a, b)
    }

    fn zip_scalar<T: Real>(&self, op: Binary, a: &mut CudaBuffer<T>, s: T) -> Result<()> {
        elementwise::zip_scalar(self, op, a, s)
    }

    fn axpby<E: Field>(
        &self,
        alpha: E,
        x: &CudaBuffer<E>,
        beta: E,
        y: &mut CudaBuffer<E>,
    ) -> Result<()> {
        elementwise::axpby(self, alpha, x, beta, y)
    }

    fn scale<E: Field>(&self, x: &mut CudaBuffer<E>, alpha: E) -> Result<()> {
        elementwise::scale(self, x, alpha)
    }

    fn cmul<T: Real>(
        &self,
        a: &mut CudaBuffer<C<T>>,
        b: &CudaBuffer<C<T>>,
        conj_b: bool,
    ) -> Result<()> {
        elementwise::cmul(self, a, b, conj_b)
    }

    fn conj<T: Real>(&self, z: &mut CudaBuffer<C<T>>) -> Result<()> {
        elementwise::conj(self, z)
    }

    fn to_complex<T: Real>(&self, x: &CudaBuffer<T>, out: &mut CudaBuffer<C<T>>) -> Result<()> {
        elementwise::to_complex(self, x, out)
    }

    fn complex_part<T: Real>(
        &self,
        z: &CudaBuffer<C<T>>,
        part: Part,
        out: &mut CudaBuffer<T>,
    ) -> Result<()> {
        elementwise::complex_part(self, z, part, out)
    }

    // ---- index maps -----------------------------------------------------------------------

    fn gather<E: Element>(
        &self,
        src: &CudaBuffer<E>,
        idx: &CudaBuffer<u32>,
        out: &mut CudaBuffer<E>,
    ) -> Result<()> {
        index::gather(self, src, idx, out)
    }

    fn scatter<E: Element>(
        &self,
        src: &CudaBuffer<E>,
        idx: &CudaBuffer<u32>,
        out: &mut CudaBuffer<E>,
    ) -> Result<()> {
        index::scatter(self, src, idx, out)
    }

    fn embed<E: Element>(
        &self,
        src: &CudaBuffer<E>,
        dst: &mut CudaBuffer<E>,
        offset: &[usize],
    ) -> Result<()> {
        index::embed(self, src, dst, offset)
    }

    fn extract<E: Element>(
        &self,
        src: &CudaBuffer<E>,
        offset: &[usize],
        dst: &mut CudaBuffer<E>,
    ) -> Result<()> {
        index::extract(self, src, offset, dst)
    }

    fn roll<E: Element>(
        &self,
        src: &CudaBuffer<E>,
        shifts: &[isize],
        dst: &mut CudaBuffer<E>,
    ) -> Result<()> {
        index::roll(self, src, shifts, dst)
    }

    // ---- reductions -------------------------------------------------------------------------

    fn reduce<T: Real>(&self, op: Reduce, x: &CudaBuffer<T>) -> Result<T> {
        reduce::reduce(self, op, x)
    }

    fn dot<T: Real>(&self, a: &CudaBuffer<T>, b: &CudaBuffer<T>) -> Result<T> {
        reduce::dot(self, a, b)
    }

    fn sq_dist<T: Real>(&self, a: &CudaBuffer<T>, b: &CudaBuffer<T>) -> Result<T> {
        reduce::sq_dist(self, a, b)
    }

    // ---- stencils ---------------------------------------------------------------------------

    fn grad<T: Real>(
        &self,
        u: &CudaBuffer<T>,
        axes: &[usize],
        masks: Option<&CudaBuffer<T>>,
        out: &mut CudaBuffer<T>,
    ) -> Result<()> {
        stencil::grad(self, u, axes, masks, out)
    }

    fn div<T: Real>(
        &self,
        p: &CudaBuffer<T>,
        axes: &[usize],
        masks: Option<&CudaBuffer<T>>,
        out: &mut CudaBuffer<T>,
    ) -> Result<()> {
        stencil::div(self, p, axes, masks, out)
    }

    fn tv_dual_step<T: Real>(
        &self,
        p: &mut CudaBuffer<T>,
        ubar: &CudaBuffer<T>,
        step: T,
        masks: Option<&CudaBuffer<T>>,
    ) -> Result<()> {
        stencil::tv_dual_step(self, p, ubar, step, masks)
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
        stencil::tv_primal_step(
            self, u, ubar, p, gradf, tau, lambda, positivity, mask, masks,
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
        fft::fft_c2c(self, plan, data, dir)
    }

    fn fft_r2c<T: Real>(
        &self,
        plan: &CudaFftPlan<T>,
        input: &CudaBuffer<T>,
        out: &mut CudaBuffer<C<T>>,
    ) -> Result<()> {
        fft::fft_r2c(self, plan, input, out)
    }

    fn fft_c2r<T: Real>(
        &self,
        plan: &CudaFftPlan<T>,
        input: &mut CudaBuffer<C<T>>,
        out: &mut CudaBuffer<T>,
    ) -> Result<()> {
        fft::fft_c2r(self, plan, input, out)
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
        fbp::interp_backproject(self, f, g, grids, r0, dr, out)
    }
}
