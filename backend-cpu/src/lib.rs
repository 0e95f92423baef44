//! # backend-cpu
//!
//! epri's CPU backend: [`CpuBackend`] implements [`backend_core::Backend`] on host memory
//! ([`CpuBuffer`]: shape + contiguous row-major `Vec`), with rayon for parallel loops and
//! rustfft/realfft for the FFT plans. Work runs synchronously on the calling thread and rayon's
//! global pool, so `synchronize` has nothing to wait for.
//!
//! Iterative work (a TV reconstruction makes a dozen backend calls per iteration) runs fastest
//! from inside a rayon pool (`rayon::ThreadPool::install`, as the `epri` command does): a
//! parallel loop started from a thread outside the pool is handed to the pool and the caller
//! sleeps until it ends, which costs a few microseconds per call.

pub mod alloc;
mod backproject;
mod buffer;
mod elementwise;
mod fft;
mod index;
mod nufft;
mod par;
mod reduce;
mod stencil;

pub use buffer::CpuBuffer;
pub use fft::CpuFftPlan;
pub use nufft::CpuPoints;
use nufft::Grid;

use backend_core::nufft::SpreadParams;
use backend_core::{
    check, Backend, Binary, DeviceBuffer, Direction, Element, Error, FftSpec, Field, Part,
    PrimalStep, Pruning, Real, Reduce, Result, StepSums, Unary, C,
};
use ndarray::{ArrayD, ArrayView1, ArrayViewD, IxDyn};
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The CPU device: cheap to clone (the shared state sits behind an `Arc`).
#[derive(Clone)]
pub struct CpuBackend {
    inner: Arc<Inner>,
}

struct Inner {
    /// FFT planners per precision (`fft::Planners<f32>`, `fft::Planners<f64>`), shared by every
    /// plan of this backend so that sub-plans and twiddles are computed once.
    planners: Mutex<HashMap<TypeId, Box<dyn Any + Send>>>,
}

impl CpuBackend {
    /// The CPU backend, on rayon's global thread pool (`RAYON_NUM_THREADS` sets its size).
    pub fn new() -> Result<Self> {
        Ok(CpuBackend {
            inner: Arc::new(Inner {
                planners: Mutex::new(HashMap::new()),
            }),
        })
    }

    fn with_planners<T: Real, R>(&self, f: impl FnOnce(&mut fft::Planners<T>) -> R) -> R {
        let mut map = self
            .inner
            .planners
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = map
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(fft::Planners::<T>::default()));
        f(entry
            .downcast_mut::<fft::Planners<T>>()
            .expect("planners are stored under their own TypeId"))
    }
}

/// The data of an optional mask buffer (shape checked by [`check`]).
fn mask_data<T: Element>(masks: Option<&CpuBuffer<T>>) -> Option<&[T]> {
    masks.map(|m| m.as_slice())
}

impl Backend for CpuBackend {
    type Buffer<E: Element> = CpuBuffer<E>;
    type FftPlan<T: Real> = CpuFftPlan<T>;
    type NufftPoints<T: Real> = CpuPoints<T>;

    fn name(&self) -> String {
        format!("cpu ({} threads)", rayon::current_num_threads())
    }

    fn supports_f64(&self) -> bool {
        true
    }

    fn synchronize(&self) -> Result<()> {
        Ok(())
    }

    // ---- memory ----------------------------------------------------------------------------

    fn zeros<E: Element>(&self, shape: &[usize]) -> Result<CpuBuffer<E>> {
        CpuBuffer::from_vec(shape, alloc::zeroed::<E>(shape)?)
    }

    fn upload<E: Element>(&self, host: ArrayViewD<'_, E>) -> Result<CpuBuffer<E>> {
        let mut data = alloc::reserve::<E>(host.shape())?;
        match host.as_slice() {
            Some(s) => data.extend_from_slice(s),
            None => data.extend(host.iter().copied()),
        }
        CpuBuffer::from_vec(host.shape(), data)
    }

    /// Takes `data` itself as the buffer: no copy, no new allocation (nor the huge-page advice
    /// of [`alloc`]: the pages are already there).
    fn upload_flat<E: Element>(&self, shape: &[usize], data: Vec<E>) -> Result<CpuBuffer<E>> {
        let n = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        if n != Some(data.len()) {
            return Err(Error::InvalidArgument(format!(
                "upload of shape {shape:?}: {} values given",
                data.len()
            )));
        }
        CpuBuffer::from_vec(shape, data)
    }

    fn download<E: Element>(&self, buf: &CpuBuffer<E>) -> Result<ArrayD<E>> {
        ArrayD::from_shape_vec(IxDyn(buf.shape()), buf.as_slice().to_vec())
            .map_err(|e| Error::InvalidArgument(format!("download: {e}")))
    }

    /// Returns the buffer's own memory: no copy.
    fn download_owned<E: Element>(&self, buf: CpuBuffer<E>) -> Result<ArrayD<E>> {
        let shape = IxDyn(buf.shape());
        ArrayD::from_shape_vec(shape, buf.into_vec())
            .map_err(|e| Error::InvalidArgument(format!("download_owned: {e}")))
    }

    fn copy<E: Element>(&self, src: &CpuBuffer<E>, dst: &mut CpuBuffer<E>) -> Result<()> {
        check::same_len("copy", dst.shape(), src.shape())?;
        dst.as_mut_slice().copy_from_slice(src.as_slice());
        Ok(())
    }

    fn fill<E: Element>(&self, buf: &mut CpuBuffer<E>, value: E) -> Result<()> {
        par::for_each(buf.as_mut_slice(), |v| *v = value);
        Ok(())
    }

    // ---- elementwise -----------------------------------------------------------------------

    fn map<T: Real>(&self, op: Unary, x: &mut CpuBuffer<T>) -> Result<()> {
        elementwise::map(op, x.as_mut_slice());
        Ok(())
    }

    fn zip<T: Real>(&self, op: Binary, a: &mut CpuBuffer<T>, b: &CpuBuffer<T>) -> Result<()> {
        check::divides("zip", a.shape(), b.shape())?;
        if !a.is_empty() {
            elementwise::zip(op, a.as_mut_slice(), b.as_slice());
        }
        Ok(())
    }

    fn zip_scalar<T: Real>(&self, op: Binary, a: &mut CpuBuffer<T>, s: T) -> Result<()> {
        elementwise::zip_scalar(op, a.as_mut_slice(), s);
        Ok(())
    }

    fn axpby<E: Field>(
        &self,
        alpha: E,
        x: &CpuBuffer<E>,
        beta: E,
        y: &mut CpuBuffer<E>,
    ) -> Result<()> {
        check::same_len("axpby", y.shape(), x.shape())?;
        elementwise::axpby(alpha, x.as_slice(), beta, y.as_mut_slice());
        Ok(())
    }

    fn scale<E: Field>(&self, x: &mut CpuBuffer<E>, alpha: E) -> Result<()> {
        elementwise::scale(x.as_mut_slice(), alpha);
        Ok(())
    }

    fn cmul<T: Real>(
        &self,
        a: &mut CpuBuffer<C<T>>,
        b: &CpuBuffer<C<T>>,
        conj_b: bool,
    ) -> Result<()> {
        check::divides("cmul", a.shape(), b.shape())?;
        if !a.is_empty() {
            elementwise::cmul(a.as_mut_slice(), b.as_slice(), conj_b);
        }
        Ok(())
    }

    fn conj<T: Real>(&self, z: &mut CpuBuffer<C<T>>) -> Result<()> {
        elementwise::conj(z.as_mut_slice());
        Ok(())
    }

    fn to_complex<T: Real>(&self, x: &CpuBuffer<T>, out: &mut CpuBuffer<C<T>>) -> Result<()> {
        check::same_len("to_complex", out.shape(), x.shape())?;
        elementwise::to_complex(x.as_slice(), out.as_mut_slice());
        Ok(())
    }

    fn complex_part<T: Real>(
        &self,
        z: &CpuBuffer<C<T>>,
        part: Part,
        out: &mut CpuBuffer<T>,
    ) -> Result<()> {
        check::same_len("complex_part", out.shape(), z.shape())?;
        elementwise::complex_part(z.as_slice(), part, out.as_mut_slice());
        Ok(())
    }

    // ---- index maps ------------------------------------------------------------------------

    fn gather<E: Element>(
        &self,
        src: &CpuBuffer<E>,
        idx: &CpuBuffer<u32>,
        out: &mut CpuBuffer<E>,
    ) -> Result<()> {
        check::gather(out.shape(), idx.shape())?;
        index::gather(src.as_slice(), idx.as_slice(), out.as_mut_slice())
    }

    fn scatter<E: Element>(
        &self,
        src: &CpuBuffer<E>,
        idx: &CpuBuffer<u32>,
        out: &mut CpuBuffer<E>,
    ) -> Result<()> {
        check::scatter(src.shape(), idx.shape())?;
        index::scatter(src.as_slice(), idx.as_slice(), out.as_mut_slice())
    }

    fn embed<E: Element>(
        &self,
        src: &CpuBuffer<E>,
        dst: &mut CpuBuffer<E>,
        offset: &[usize],
    ) -> Result<()> {
        check::embed(src.shape(), dst.shape(), offset)?;
        let (block, dst_shape) = (src.shape().to_vec(), dst.shape().to_vec());
        let zero = vec![0; block.len()];
        let d = dst.as_mut_slice();
        par::for_each(d, |v| *v = E::default());
        index::copy_block(src.as_slice(), &block, &zero, d, &dst_shape, offset, &block);
        Ok(())
    }

    fn extract<E: Element>(
        &self,
        src: &CpuBuffer<E>,
        offset: &[usize],
        dst: &mut CpuBuffer<E>,
    ) -> Result<()> {
        check::extract(src.shape(), offset, dst.shape())?;
        let block = dst.shape().to_vec();
        let zero = vec![0; block.len()];
        index::copy_block(
            src.as_slice(),
            src.shape(),
            offset,
            dst.as_mut_slice(),
            &block,
            &zero,
            &block,
        );
        Ok(())
    }

    fn roll<E: Element>(
        &self,
        src: &CpuBuffer<E>,
        shifts: &[isize],
        dst: &mut CpuBuffer<E>,
    ) -> Result<()> {
        check::roll(src.shape(), shifts, dst.shape())?;
        if !src.is_empty() {
            let shape = src.shape().to_vec();
            index::roll(src.as_slice(), &shape, shifts, dst.as_mut_slice());
        }
        Ok(())
    }

    // ---- reductions ------------------------------------------------------------------------

    fn reduce<T: Real>(&self, op: Reduce, x: &CpuBuffer<T>) -> Result<T> {
        Ok(reduce::reduce(op, x.as_slice()))
    }

    fn dot<T: Real>(&self, a: &CpuBuffer<T>, b: &CpuBuffer<T>) -> Result<T> {
        check::same_len("dot", a.shape(), b.shape())?;
        Ok(reduce::dot(a.as_slice(), b.as_slice()))
    }

    fn sq_dist<T: Real>(&self, a: &CpuBuffer<T>, b: &CpuBuffer<T>) -> Result<T> {
        check::same_len("sq_dist", a.shape(), b.shape())?;
        Ok(reduce::sq_dist(a.as_slice(), b.as_slice()))
    }

    // ---- stencils --------------------------------------------------------------------------

    fn grad<T: Real>(
        &self,
        u: &CpuBuffer<T>,
        axes: &[usize],
        masks: Option<&CpuBuffer<T>>,
        out: &mut CpuBuffer<T>,
    ) -> Result<()> {
        check::grad(u.shape(), axes, masks.map(|m| m.shape()), out.shape())?;
        let masks = mask_data(masks);
        let grid = stencil::Grid::new(u.shape());
        stencil::grad(&grid, u.as_slice(), axes, masks, out.as_mut_slice());
        Ok(())
    }

    fn div<T: Real>(
        &self,
        p: &CpuBuffer<T>,
        axes: &[usize],
        masks: Option<&CpuBuffer<T>>,
        out: &mut CpuBuffer<T>,
    ) -> Result<()> {
        check::div(p.shape(), axes, masks.map(|m| m.shape()), out.shape())?;
        let masks = mask_data(masks);
        let grid = stencil::Grid::new(out.shape());
        stencil::div(&grid, p.as_slice(), axes, masks, out.as_mut_slice());
        Ok(())
    }

    fn tv_dual_step<T: Real>(
        &self,
        p: &mut CpuBuffer<T>,
        ubar: &CpuBuffer<T>,
        step: T,
        masks: Option<&CpuBuffer<T>>,
    ) -> Result<()> {
        check::tv_dual_step(p.shape(), ubar.shape(), masks.map(|m| m.shape()))?;
        let masks = mask_data(masks);
        let grid = stencil::Grid::new(ubar.shape());
        stencil::tv_dual_step(&grid, p.as_mut_slice(), ubar.as_slice(), step, masks);
        Ok(())
    }

    fn tv_primal_step<T: Real>(
        &self,
        u: &mut CpuBuffer<T>,
        ubar: &mut CpuBuffer<T>,
        p: &CpuBuffer<T>,
        gradf: &CpuBuffer<T>,
        step: &PrimalStep<T>,
        mask: Option<&CpuBuffer<T>>,
        masks: Option<&CpuBuffer<T>>,
    ) -> Result<Option<StepSums>> {
        check::tv_primal_step(&check::PrimalShapes {
            u: u.shape(),
            ubar: ubar.shape(),
            p: p.shape(),
            gradf: gradf.shape(),
            mask: mask.map(|m| m.shape()),
            masks: masks.map(|m| m.shape()),
        })?;
        let grid = stencil::Grid::new(u.shape());
        Ok(stencil::tv_primal_step(
            &grid,
            u.as_mut_slice(),
            ubar.as_mut_slice(),
            p.as_slice(),
            gradf.as_slice(),
            step,
            mask_data(mask),
            mask_data(masks),
        ))
    }

    // ---- FFT -------------------------------------------------------------------------------

    fn fft_plan<T: Real>(&self, spec: &FftSpec) -> Result<CpuFftPlan<T>> {
        // Re-validate (the fields are public).
        let spec = FftSpec::new(&spec.shape, spec.axes, spec.kind)?;
        Ok(self.with_planners::<T, _>(|p| CpuFftPlan::new(&spec, p)))
    }

    fn fft_c2c<T: Real>(
        &self,
        plan: &CpuFftPlan<T>,
        data: &mut CpuBuffer<C<T>>,
        dir: Direction,
    ) -> Result<()> {
        check::fft_c2c(plan.spec(), data.shape())?;
        plan.c2c(data.as_mut_slice(), dir)
    }

    fn fft_c2c_leading<T: Real>(
        &self,
        all: &CpuFftPlan<T>,
        trailing: &CpuFftPlan<T>,
        data: &mut CpuBuffer<C<T>>,
        dir: Direction,
    ) -> Result<()> {
        check::fft_c2c_leading(all.spec(), trailing.spec(), data.shape())?;
        all.c2c_leading(data.as_mut_slice(), dir)
    }

    fn fft_r2c_leading<T: Real>(
        &self,
        all: &CpuFftPlan<T>,
        trailing: &CpuFftPlan<T>,
        input: &CpuBuffer<T>,
        out: &mut CpuBuffer<C<T>>,
    ) -> Result<()> {
        let (a, t) = (all.spec(), trailing.spec());
        check::fft_real_leading("fft_r2c_leading", a, t, input.shape(), out.shape())?;
        all.r2c_leading(input.as_slice(), out.as_mut_slice())
    }

    fn fft_c2r_leading<T: Real>(
        &self,
        all: &CpuFftPlan<T>,
        trailing: &CpuFftPlan<T>,
        input: &mut CpuBuffer<C<T>>,
        out: &mut CpuBuffer<T>,
    ) -> Result<()> {
        let (a, t) = (all.spec(), trailing.spec());
        check::fft_real_leading("fft_c2r_leading", a, t, out.shape(), input.shape())?;
        all.c2r_leading(input.as_slice(), out.as_mut_slice())
    }

    fn fft_c2c_pruned<T: Real>(
        &self,
        plan: &CpuFftPlan<T>,
        data: &mut CpuBuffer<C<T>>,
        dir: Direction,
        band: &[usize],
        pruning: Pruning,
    ) -> Result<()> {
        check::fft_c2c_pruned(plan.spec(), data.shape(), band)?;
        plan.c2c_pruned(data.as_mut_slice(), dir, Some((band, pruning)))
    }

    fn fft_r2c<T: Real>(
        &self,
        plan: &CpuFftPlan<T>,
        input: &CpuBuffer<T>,
        out: &mut CpuBuffer<C<T>>,
    ) -> Result<()> {
        check::fft_r2c(plan.spec(), input.shape(), out.shape())?;
        plan.r2c(input.as_slice(), out.as_mut_slice())
    }

    fn fft_c2r<T: Real>(
        &self,
        plan: &CpuFftPlan<T>,
        input: &mut CpuBuffer<C<T>>,
        out: &mut CpuBuffer<T>,
    ) -> Result<()> {
        check::fft_c2r(plan.spec(), input.shape(), out.shape())?;
        plan.c2r(input.as_mut_slice(), out.as_mut_slice())
    }

    fn fft_convolve_prepare<T: Real>(
        &self,
        plan: &CpuFftPlan<T>,
        kernel_hat: &mut CpuBuffer<C<T>>,
    ) -> Result<()> {
        check::fft_convolve_prepare(plan.spec(), kernel_hat.shape())?;
        plan.prepare_kernel(kernel_hat.as_mut_slice());
        Ok(())
    }

    fn fft_convolve<T: Real>(
        &self,
        plan: &CpuFftPlan<T>,
        kernel_hat: &CpuBuffer<C<T>>,
        u: &CpuBuffer<T>,
        out: &mut CpuBuffer<T>,
        pad: &mut CpuBuffer<T>,
        spec: &mut CpuBuffer<C<T>>,
    ) -> Result<()> {
        plan.spec().check_convolution(
            kernel_hat.shape(),
            u.shape(),
            out.shape(),
            pad.shape(),
            spec.shape(),
        )?;
        let (in_shape, out_shape) = (u.shape().to_vec(), out.shape().to_vec());
        plan.convolve(
            &[kernel_hat.as_slice()],
            &[u.as_slice()],
            &[&in_shape],
            &mut [out.as_mut_slice()],
            &[&out_shape],
            &mut [spec.as_mut_slice()],
        )
    }

    fn fft_convolve_matrix<T: Real>(
        &self,
        plan: &CpuFftPlan<T>,
        kernel_hat: &[CpuBuffer<C<T>>],
        u: &[CpuBuffer<T>],
        out: &mut [CpuBuffer<T>],
        pad: &mut CpuBuffer<T>,
        spec: &mut [CpuBuffer<C<T>>],
    ) -> Result<()> {
        let shapes = |b: &[CpuBuffer<T>]| b.iter().map(|x| x.shape().to_vec()).collect::<Vec<_>>();
        let (in_shapes, out_shapes) = (shapes(u), shapes(out));
        let kernels: Vec<&[usize]> = kernel_hat.iter().map(|x| x.shape()).collect();
        let specs: Vec<&[usize]> = spec.iter().map(|x| x.shape()).collect();
        plan.spec().check_convolution_matrix(
            &kernels,
            &in_shapes,
            &out_shapes,
            pad.shape(),
            &specs,
        )?;
        let nk = u.len();
        plan.convolve(
            &kernel_hat.iter().map(|x| x.as_slice()).collect::<Vec<_>>(),
            &u.iter().map(|x| x.as_slice()).collect::<Vec<_>>(),
            &in_shapes.iter().map(Vec::as_slice).collect::<Vec<_>>(),
            &mut out.iter_mut().map(|x| x.as_mut_slice()).collect::<Vec<_>>(),
            &out_shapes.iter().map(Vec::as_slice).collect::<Vec<_>>(),
            &mut spec[..nk]
                .iter_mut()
                .map(|x| x.as_mut_slice())
                .collect::<Vec<_>>(),
        )
    }

    // ---- NUFFT stages ----------------------------------------------------------------------

    fn nufft_setpts<T: Real>(
        &self,
        coords: &[ArrayView1<'_, T>],
        params: &SpreadParams,
    ) -> Result<CpuPoints<T>> {
        nufft::setpts(coords, params)
    }

    fn nufft_spread<T: Real>(
        &self,
        pts: &CpuPoints<T>,
        params: &SpreadParams,
        c: &CpuBuffer<C<T>>,
        fine: &mut CpuBuffer<C<T>>,
    ) -> Result<()> {
        nufft::spread(pts, params, c.as_slice(), Grid::Full, fine.as_mut_slice())
    }

    fn nufft_interp<T: Real>(
        &self,
        pts: &CpuPoints<T>,
        params: &SpreadParams,
        fine: &CpuBuffer<C<T>>,
        c: &mut CpuBuffer<C<T>>,
    ) -> Result<()> {
        nufft::interp(pts, params, fine.as_slice(), Grid::Full, c.as_mut_slice())
    }

    fn nufft_deconvolve<T: Real>(
        &self,
        params: &SpreadParams,
        factors: &CpuBuffer<T>,
        fine: &CpuBuffer<C<T>>,
        modes: &mut CpuBuffer<C<T>>,
    ) -> Result<()> {
        nufft::deconvolve(
            params,
            factors.as_slice(),
            fine.as_slice(),
            modes.as_mut_slice(),
        )
    }

    fn nufft_precompensate<T: Real>(
        &self,
        params: &SpreadParams,
        factors: &CpuBuffer<T>,
        modes: &CpuBuffer<C<T>>,
        fine: &mut CpuBuffer<C<T>>,
    ) -> Result<()> {
        nufft::precompensate(
            params,
            factors.as_slice(),
            modes.as_slice(),
            fine.as_mut_slice(),
        )
    }

    fn nufft_half_spectrum(&self) -> bool {
        true
    }

    fn nufft_precompensate_r2c<T: Real>(
        &self,
        params: &SpreadParams,
        factors: &CpuBuffer<T>,
        plan: &CpuFftPlan<T>,
        modes: &CpuBuffer<T>,
        half: &mut CpuBuffer<C<T>>,
    ) -> Result<()> {
        nufft::precompensate_r2c(
            params,
            factors.as_slice(),
            plan,
            modes.as_slice(),
            half.as_mut_slice(),
        )
    }

    fn nufft_spread_half<T: Real>(
        &self,
        pts: &CpuPoints<T>,
        params: &SpreadParams,
        c: &CpuBuffer<C<T>>,
        half: &mut CpuBuffer<C<T>>,
    ) -> Result<()> {
        nufft::spread(pts, params, c.as_slice(), Grid::Half, half.as_mut_slice())
    }

    fn nufft_c2r_deconvolve<T: Real>(
        &self,
        params: &SpreadParams,
        factors: &CpuBuffer<T>,
        plan: &CpuFftPlan<T>,
        half: &mut CpuBuffer<C<T>>,
        modes: &mut CpuBuffer<T>,
    ) -> Result<()> {
        nufft::c2r_deconvolve(
            params,
            factors.as_slice(),
            plan,
            half.as_mut_slice(),
            modes.as_mut_slice(),
        )
    }

    fn nufft_interp_half<T: Real>(
        &self,
        pts: &CpuPoints<T>,
        params: &SpreadParams,
        half: &CpuBuffer<C<T>>,
        c: &mut CpuBuffer<C<T>>,
    ) -> Result<()> {
        nufft::interp(pts, params, half.as_slice(), Grid::Half, c.as_mut_slice())
    }

    // ---- filtered backprojection -------------------------------------------------------------

    fn interp_backproject<T: Real>(
        &self,
        f: &CpuBuffer<T>,
        g: &CpuBuffer<T>,
        grids: &[&CpuBuffer<T>],
        r0: T,
        dr: T,
        out: &mut CpuBuffer<T>,
    ) -> Result<()> {
        let grid_shapes: Vec<&[usize]> = grids.iter().map(|x| x.shape()).collect();
        check::interp_backproject(
            f.shape(),
            g.shape(),
            &grid_shapes,
            r0.f64(),
            dr.f64(),
            out.shape(),
        )?;
        let nb = f.shape()[1];
        let bp = backproject::Backprojection {
            f: f.as_slice(),
            nb,
            g: g.as_slice(),
            grids: grids.iter().map(|x| x.as_slice()).collect(),
            r0,
            dr,
        };
        backproject::backproject(&bp, out.as_mut_slice());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_flat_and_download_owned_move_the_vector() {
        let b = CpuBackend::new().unwrap();
        let v: Vec<f32> = (0..12).map(|i| i as f32).collect();
        let at = v.as_ptr();
        let buf = b.upload_flat(&[3, 4], v).unwrap();
        assert_eq!(buf.as_slice().as_ptr(), at, "no copy");
        assert_eq!(buf.as_slice()[7], 7.0);
        let host = b.download_owned(buf).unwrap();
        assert_eq!(host.as_ptr(), at, "download_owned: no copy");
        assert_eq!(host.shape(), &[3, 4]);
        assert_eq!(host[[1, 3]], 7.0);
    }
}
