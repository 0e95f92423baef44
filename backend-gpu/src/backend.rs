//! [`GpuBackend`]: one device behind a [`Driver`], its programs (one per precision, built on
//! first use), and the launch path every operation goes through.

use crate::buffer::GpuBuffer;
use crate::driver::{Arg, Driver, Range};
use crate::kernels::{check_args, Kernel};
use crate::profile::Counters;
use backend_core::{Element, Error, Precision, Result};
use std::sync::{Arc, OnceLock};

/// How the NUFFT spreads (type 1): both give the same sums, up to rounding order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spreading {
    /// One work item per point, atomic adds into the fine grid (GPUs with float atomics).
    Atomic,
    /// One work item per tile of the fine grid, tiles of one colour at a time, no atomics
    /// (devices that emulate float atomics by compare-and-swap, such as PoCL).
    Tiled,
}

/// A GPU device: the driver and the programs built on it. Cloning is cheap (an `Arc`); every
/// clone shares the driver's queue.
pub struct GpuBackend<D: Driver> {
    pub(crate) device: Arc<Device<D>>,
    spreading: Spreading,
}

/// What every handle on one device shares.
pub(crate) struct Device<D: Driver> {
    pub(crate) driver: D,
    /// The f32 and f64 programs.
    programs: [OnceLock<D::Program>; 2],
    /// Launches, allocations and transfers (`EPRI_PROFILE=1`).
    pub(crate) counters: Counters,
    /// The reductions' partial results (64 words of 8 bytes), allocated on first use and
    /// reused, locked from the launch to the read-back.
    pub(crate) partials: std::sync::Mutex<Option<GpuBuffer<D, u32>>>,
}

impl<D: Driver> Clone for GpuBackend<D> {
    fn clone(&self) -> Self {
        GpuBackend {
            device: self.device.clone(),
            spreading: self.spreading,
        }
    }
}

impl<D: Driver> std::fmt::Debug for GpuBackend<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GpuBackend({})", self.device.driver.caps().label)
    }
}

impl<D: crate::driver::Discover> GpuBackend<D> {
    /// Opens device `spec` of the driver's API (see [`crate::driver::Discover`]).
    pub fn new(spec: D::Spec) -> Result<Self> {
        D::open(spec)
    }

    /// Every device of the driver's API, one line each.
    pub fn list_devices() -> Result<Vec<String>> {
        D::list_devices()
    }
}

impl<D: Driver> GpuBackend<D> {
    /// A backend over `driver`; the NUFFT spreads by atomics where the device has float
    /// atomics, by tiles elsewhere.
    pub fn from_driver(driver: D) -> Self {
        let spreading = if driver.caps().float_atomics {
            Spreading::Atomic
        } else {
            Spreading::Tiled
        };
        GpuBackend {
            device: Arc::new(Device {
                driver,
                programs: [OnceLock::new(), OnceLock::new()],
                counters: Counters::from_env(),
                partials: std::sync::Mutex::new(None),
            }),
            spreading,
        }
    }

    /// The driver.
    pub fn driver(&self) -> &D {
        &self.device.driver
    }

    /// This handle with another NUFFT spreading method (other handles keep theirs).
    pub fn with_spreading(mut self, spreading: Spreading) -> Self {
        self.spreading = spreading;
        self
    }

    /// The NUFFT spreading method of this handle.
    pub fn spreading(&self) -> Spreading {
        self.spreading
    }

    /// The program of precision `prec`, built on first use (f64 needs the device's fp64).
    fn program(&self, prec: Precision) -> Result<&D::Program> {
        let caps = self.device.driver.caps();
        if prec == Precision::F64 && !caps.fp64 {
            return Err(Error::precision_unsupported(&caps.label, prec));
        }
        let slot = &self.device.programs[(prec == Precision::F64) as usize];
        if let Some(p) = slot.get() {
            return Ok(p);
        }
        let built = self.device.driver.build(prec)?;
        // Another thread may have built it meanwhile: either program serves.
        let _ = slot.set(built);
        slot.get()
            .ok_or_else(|| Error::Device("program cache left empty".into()))
    }

    /// Launches `kernel` of the `prec` program over `range`, after checking `args` against
    /// the kernel table (nothing is launched for an empty range).
    pub(crate) fn launch(
        &self,
        prec: Precision,
        kernel: &Kernel,
        range: Range,
        args: &[Arg<'_, D::Mem>],
    ) -> Result<()> {
        check_args(kernel, prec, args)?;
        if range.global == 0 {
            return Ok(());
        }
        let program = self.program(prec)?;
        self.device.counters.launch();
        self.device.driver.launch(program, kernel, range, args)
    }

    /// [`Self::launch`] on `n` work items, group size of the driver's choice.
    pub(crate) fn items(
        &self,
        prec: Precision,
        kernel: &Kernel,
        n: usize,
        args: &[Arg<'_, D::Mem>],
    ) -> Result<()> {
        self.launch(prec, kernel, Range::items(n), args)
    }

    /// A new uninitialised buffer. Past the device's global memory (or when the driver fails
    /// to allocate) the error is [`Error::OutOfMemory`].
    pub(crate) fn alloc<E: Element>(&self, shape: &[usize]) -> Result<GpuBuffer<D, E>> {
        let caps = self.device.driver.caps();
        if E::KIND.precision() == Some(Precision::F64) && !caps.fp64 {
            return Err(Error::precision_unsupported(&caps.label, Precision::F64));
        }
        let n = shape
            .iter()
            .try_fold(1usize, |acc, &s| acc.checked_mul(s))
            .ok_or_else(|| Error::OutOfMemory(format!("a buffer of shape {shape:?}")))?;
        let bytes = n.saturating_mul(std::mem::size_of::<E>());
        if bytes as u64 > caps.global_mem_bytes {
            return Err(Error::OutOfMemory(format!(
                "{bytes} bytes asked of {} ({} bytes of global memory)",
                caps.label, caps.global_mem_bytes
            )));
        }
        Arg::<D::Mem>::size(n)?;
        self.device.counters.alloc(bytes);
        Ok(GpuBuffer::new(self.device.driver.alloc(bytes)?, shape))
    }
}

use crate::fft::GpuFftPlan;
use crate::nufft::GpuPoints;
use crate::{convolve, elementwise, fbp, index, memory, nufft, reduce, stencil};
use backend_core::nufft::SpreadParams;
use backend_core::{
    Backend, Binary, Direction, FftSpec, Field, Part, PrimalStep, Real, Reduce, StepSums, Unary, C,
};
use ndarray::{ArrayD, ArrayView1, ArrayViewD};

type Buf<D, E> = GpuBuffer<D, E>;

impl<D: Driver> Backend for GpuBackend<D> {
    type Buffer<E: Element> = GpuBuffer<D, E>;
    type FftPlan<T: Real> = GpuFftPlan<D, T>;
    type NufftPoints<T: Real> = GpuPoints<D, T>;

    fn name(&self) -> String {
        self.device.driver.caps().label.clone()
    }

    fn supports_f64(&self) -> bool {
        self.device.driver.caps().fp64
    }

    fn synchronize(&self) -> Result<()> {
        self.device.driver.synchronize()
    }

    fn memory_capacity(&self) -> Option<u64> {
        Some(self.device.driver.caps().global_mem_bytes)
    }

    fn profile(&self) -> Option<backend_core::Profile> {
        self.device.counters.snapshot()
    }

    fn zeros<E: Element>(&self, shape: &[usize]) -> Result<Buf<D, E>> {
        memory::zeros(self, shape)
    }

    fn upload<E: Element>(&self, host: ArrayViewD<'_, E>) -> Result<Buf<D, E>> {
        memory::upload(self, host)
    }

    fn download<E: Element>(&self, buf: &Buf<D, E>) -> Result<ArrayD<E>> {
        memory::download(self, buf)
    }

    fn copy<E: Element>(&self, src: &Buf<D, E>, dst: &mut Buf<D, E>) -> Result<()> {
        memory::copy(self, src, dst)
    }

    fn fill<E: Element>(&self, buf: &mut Buf<D, E>, value: E) -> Result<()> {
        memory::fill(self, buf, value)
    }

    fn map<T: Real>(&self, op: Unary, x: &mut Buf<D, T>) -> Result<()> {
        elementwise::map(self, op, x)
    }

    fn zip<T: Real>(&self, op: Binary, a: &mut Buf<D, T>, b: &Buf<D, T>) -> Result<()> {
        elementwise::zip(self, op, a, b)
    }

    fn zip_scalar<T: Real>(&self, op: Binary, a: &mut Buf<D, T>, s: T) -> Result<()> {
        elementwise::zip_scalar(self, op, a, s)
    }

    fn axpby<E: Field>(&self, alpha: E, x: &Buf<D, E>, beta: E, y: &mut Buf<D, E>) -> Result<()> {
        elementwise::axpby(self, alpha, x, beta, y)
    }

    fn scale<E: Field>(&self, x: &mut Buf<D, E>, alpha: E) -> Result<()> {
        elementwise::scale(self, x, alpha)
    }

    fn cmul<T: Real>(&self, a: &mut Buf<D, C<T>>, b: &Buf<D, C<T>>, conj_b: bool) -> Result<()> {
        elementwise::cmul(self, a, b, conj_b)
    }

    fn conj<T: Real>(&self, z: &mut Buf<D, C<T>>) -> Result<()> {
        elementwise::conj(self, z)
    }

    fn to_complex<T: Real>(&self, x: &Buf<D, T>, out: &mut Buf<D, C<T>>) -> Result<()> {
        elementwise::to_complex(self, x, out)
    }

    fn complex_part<T: Real>(
        &self,
        z: &Buf<D, C<T>>,
        part: Part,
        out: &mut Buf<D, T>,
    ) -> Result<()> {
        elementwise::complex_part(self, z, part, out)
    }

    fn gather<E: Element>(
        &self,
        src: &Buf<D, E>,
        idx: &Buf<D, u32>,
        out: &mut Buf<D, E>,
    ) -> Result<()> {
        index::gather(self, src, idx, out)
    }

    fn scatter<E: Element>(
        &self,
        src: &Buf<D, E>,
        idx: &Buf<D, u32>,
        out: &mut Buf<D, E>,
    ) -> Result<()> {
        index::scatter(self, src, idx, out)
    }

    fn embed<E: Element>(
        &self,
        src: &Buf<D, E>,
        dst: &mut Buf<D, E>,
        offset: &[usize],
    ) -> Result<()> {
        index::embed(self, src, dst, offset)
    }

    fn extract<E: Element>(
        &self,
        src: &Buf<D, E>,
        offset: &[usize],
        dst: &mut Buf<D, E>,
    ) -> Result<()> {
        index::extract(self, src, offset, dst)
    }

    fn roll<E: Element>(
        &self,
        src: &Buf<D, E>,
        shifts: &[isize],
        dst: &mut Buf<D, E>,
    ) -> Result<()> {
        index::roll(self, src, shifts, dst)
    }

    fn reduce<T: Real>(&self, op: Reduce, x: &Buf<D, T>) -> Result<T> {
        reduce::reduce(self, op, x)
    }

    fn dot<T: Real>(&self, a: &Buf<D, T>, b: &Buf<D, T>) -> Result<T> {
        reduce::dot(self, a, b)
    }

    fn sq_dist<T: Real>(&self, a: &Buf<D, T>, b: &Buf<D, T>) -> Result<T> {
        reduce::sq_dist(self, a, b)
    }

    fn grad<T: Real>(
        &self,
        u: &Buf<D, T>,
        axes: &[usize],
        masks: Option<&Buf<D, T>>,
        out: &mut Buf<D, T>,
    ) -> Result<()> {
        stencil::grad(self, u, axes, masks, out)
    }

    fn div<T: Real>(
        &self,
        p: &Buf<D, T>,
        axes: &[usize],
        masks: Option<&Buf<D, T>>,
        out: &mut Buf<D, T>,
    ) -> Result<()> {
        stencil::div(self, p, axes, masks, out)
    }

    fn tv_dual_step<T: Real>(
        &self,
        p: &mut Buf<D, T>,
        ubar: &Buf<D, T>,
        step: T,
        masks: Option<&Buf<D, T>>,
    ) -> Result<()> {
        stencil::tv_dual_step(self, p, ubar, step, masks)
    }

    fn tv_primal_step<T: Real>(
        &self,
        u: &mut Buf<D, T>,
        ubar: &mut Buf<D, T>,
        p: &Buf<D, T>,
        gradf: &Buf<D, T>,
        step: &PrimalStep<T>,
        mask: Option<&Buf<D, T>>,
        masks: Option<&Buf<D, T>>,
    ) -> Result<Option<StepSums>> {
        let buffers = stencil::Primal {
            u,
            ubar,
            p,
            gradf,
            mask,
            masks,
        };
        stencil::tv_primal_step(self, buffers, step)
    }

    fn fft_plan<T: Real>(&self, spec: &FftSpec) -> Result<GpuFftPlan<D, T>> {
        GpuFftPlan::new(self, spec)
    }

    fn fft_c2c<T: Real>(
        &self,
        plan: &GpuFftPlan<D, T>,
        data: &mut Buf<D, C<T>>,
        dir: Direction,
    ) -> Result<()> {
        plan.c2c(self, data, dir)
    }

    fn fft_r2c<T: Real>(
        &self,
        plan: &GpuFftPlan<D, T>,
        input: &Buf<D, T>,
        out: &mut Buf<D, C<T>>,
    ) -> Result<()> {
        plan.r2c(self, input, out)
    }

    fn fft_c2r<T: Real>(
        &self,
        plan: &GpuFftPlan<D, T>,
        input: &mut Buf<D, C<T>>,
        out: &mut Buf<D, T>,
    ) -> Result<()> {
        plan.c2r(self, input, out)
    }

    fn fft_convolve<T: Real>(
        &self,
        plan: &GpuFftPlan<D, T>,
        kernel_hat: &Buf<D, C<T>>,
        u: &Buf<D, T>,
        out: &mut Buf<D, T>,
        pad: &mut Buf<D, T>,
        spec: &mut Buf<D, C<T>>,
    ) -> Result<()> {
        convolve::convolve(self, plan, kernel_hat, u, out, pad, spec)
    }

    fn nufft_setpts<T: Real>(
        &self,
        coords: &[ArrayView1<'_, T>],
        params: &SpreadParams,
    ) -> Result<GpuPoints<D, T>> {
        nufft::setpts(self, coords, params)
    }

    fn nufft_spread<T: Real>(
        &self,
        pts: &GpuPoints<D, T>,
        params: &SpreadParams,
        c: &Buf<D, C<T>>,
        fine: &mut Buf<D, C<T>>,
    ) -> Result<()> {
        nufft::spread(self, pts, params, c, fine)
    }

    fn nufft_interp<T: Real>(
        &self,
        pts: &GpuPoints<D, T>,
        params: &SpreadParams,
        fine: &Buf<D, C<T>>,
        c: &mut Buf<D, C<T>>,
    ) -> Result<()> {
        nufft::interp(self, pts, params, fine, c)
    }

    fn nufft_deconvolve<T: Real>(
        &self,
        params: &SpreadParams,
        factors: &Buf<D, T>,
        fine: &Buf<D, C<T>>,
        modes: &mut Buf<D, C<T>>,
    ) -> Result<()> {
        nufft::correct(self, params, factors, fine, modes, false)
    }

    fn nufft_precompensate<T: Real>(
        &self,
        params: &SpreadParams,
        factors: &Buf<D, T>,
        modes: &Buf<D, C<T>>,
        fine: &mut Buf<D, C<T>>,
    ) -> Result<()> {
        nufft::correct(self, params, factors, modes, fine, true)
    }

    fn interp_backproject<T: Real>(
        &self,
        f: &Buf<D, T>,
        g: &Buf<D, T>,
        grids: &[&Buf<D, T>],
        r0: T,
        dr: T,
        out: &mut Buf<D, T>,
    ) -> Result<()> {
        fbp::interp_backproject(self, f, g, grids, r0, dr, out)
    }
}
