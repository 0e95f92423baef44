//! [`NufftPlan`]: make a plan, set the points, execute (FINUFFT's API shape).

use super::kernel::{fine_size, EsKernel};
use super::SpreadParams;
use crate::backend::{Backend, DeviceBuffer};
use crate::error::{Error, Result};
use crate::fft::{FftKind, FftSpec};
use crate::ops::Direction;
use crate::scalar::{Precision, Real, C};
use ndarray::ArrayView1;

/// Transform type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NufftType {
    /// Non-uniform to uniform, `f[k] = Σ_m c_m e^{+i<k, x_m>}` (backprojection).
    Type1,
    /// Uniform to non-uniform, `c_m = Σ_k f[k] e^{-i<k, x_m>}` (projection).
    Type2,
}

/// A NUFFT plan on backend `B` in precision `T`: the kernel, the fine grid and its FFT plan and
/// the deconvolution factors are made once; points are set once; `execute` runs many times.
pub struct NufftPlan<B: Backend, T: Real> {
    backend: B,
    ty: NufftType,
    params: SpreadParams,
    fft: B::FftPlan<T>,
    fine: B::Buffer<C<T>>,
    factors: B::Buffer<T>,
    points: Option<(B::NufftPoints<T>, usize)>,
}

impl<B: Backend, T: Real> NufftPlan<B, T> {
    /// Makes a plan of type `ty` for a mode grid of shape `modes` (1 to 3 axes, axis 0 first),
    /// `n_trans` vectors per execution and relative accuracy `eps` (at least 1e-7 in `f32`,
    /// 1e-15 in `f64`, below 1).
    pub fn new(backend: &B, ty: NufftType, modes: &[usize], n_trans: usize, eps: f64) -> Result<Self> {
        Self::with_upsampfac(backend, ty, modes, n_trans, eps, 2.0)
    }

    /// As [`NufftPlan::new`] with an explicit upsampling factor (2.0 or 1.25 in practice).
    pub fn with_upsampfac(
        backend: &B,
        ty: NufftType,
        modes: &[usize],
        n_trans: usize,
        eps: f64,
        upsampfac: f64,
    ) -> Result<Self> {
        if modes.is_empty() || modes.len() > 3 || modes.contains(&0) {
            return Err(Error::InvalidArgument(format!(
                "NUFFT mode grid {modes:?}: 1 to 3 axes, none empty"
            )));
        }
        if n_trans == 0 {
            return Err(Error::InvalidArgument("NUFFT with n_trans = 0".into()));
        }
        let min_eps = match T::PRECISION {
            Precision::F32 => 1e-7,
            Precision::F64 => 1e-15,
        };
        if !(eps >= min_eps && eps < 1.0) {
            return Err(Error::InvalidArgument(format!(
                "NUFFT accuracy eps = {eps} out of range [{min_eps:e}, 1) for {}",
                T::PRECISION
            )));
        }
        if T::PRECISION == Precision::F64 && !backend.supports_f64() {
            return Err(Error::precision_unsupported(&backend.name(), T::PRECISION));
        }
        let kernel = EsKernel::for_eps(eps, upsampfac)?;
        let fine: Vec<usize> = modes.iter().map(|&n| fine_size(n, &kernel)).collect();
        let params = SpreadParams {
            modes: modes.to_vec(),
            fine: fine.clone(),
            n_trans,
            kernel,
        };
        // Type 1 runs the +i transform, which the backends scale by 1/N: fold N back in.
        let mut host = Vec::with_capacity(modes.iter().sum());
        for (&n, &nf) in modes.iter().zip(&fine) {
            let fs = kernel.fourier_series(n, nf);
            let scale = match ty {
                NufftType::Type1 => nf as f64,
                NufftType::Type2 => 1.0,
            };
            host.extend(fs.iter().map(|&p| T::of(scale / p)));
        }
        let factors = backend.upload_flat(&[host.len()], host)?;
        let mut shape = vec![n_trans];
        shape.extend(&fine);
        let fft = backend.fft_plan::<T>(&FftSpec::new(&shape, modes.len(), FftKind::C2C)?)?;
        let fine = backend.zeros::<C<T>>(&shape)?;
        Ok(NufftPlan {
            backend: backend.clone(),
            ty,
            params,
            fft,
            fine,
            factors,
            points: None,
        })
    }

    /// The plan's spreading parameters (kernel, fine grid).
    pub fn params(&self) -> &SpreadParams {
        &self.params
    }

    /// The transform type.
    pub fn kind(&self) -> NufftType {
        self.ty
    }

    /// Number of points set (0 before [`NufftPlan::set_points`]).
    pub fn num_points(&self) -> usize {
        self.points.as_ref().map_or(0, |p| p.1)
    }

    /// Sets the non-uniform points: one coordinate array per mode axis (radians), all of one
    /// length M (M = 0 is allowed). Non-finite coordinates are an error.
    pub fn set_points(&mut self, coords: &[ArrayView1<'_, T>]) -> Result<()> {
        if coords.len() != self.params.dim() {
            return Err(Error::InvalidArgument(format!(
                "NUFFT of dimension {} given {} coordinate arrays",
                self.params.dim(),
                coords.len()
            )));
        }
        let m = coords[0].len();
        for (a, c) in coords.iter().enumerate() {
            if c.len() != m {
                return Err(Error::shape(
                    format!("NUFFT points (coordinate array {a})"),
                    &[m],
                    &[c.len()],
                ));
            }
            crate::error::check_finite("NUFFT points", c.iter())?;
        }
        let pts = self.backend.nufft_setpts(coords, &self.params)?;
        self.points = Some((pts, m));
        Ok(())
    }

    fn expect(&self, what: &str, buf_shape: &[usize], trailing: &[usize]) -> Result<()> {
        let nt = self.params.n_trans;
        let mut full = vec![nt];
        full.extend(trailing);
        let ok = buf_shape == full.as_slice() || (nt == 1 && buf_shape == trailing);
        if ok {
            Ok(())
        } else {
            Err(Error::shape(format!("NUFFT {what}"), &full, buf_shape))
        }
    }

    /// Runs the transform. Type 1: `input` holds the strengths, shape `(n_trans, M)` (or `(M,)`
    /// when `n_trans = 1`), `output` the modes `(n_trans, modes...)` (or `modes`). Type 2: the
    /// other way round.
    pub fn execute(&mut self, input: &B::Buffer<C<T>>, output: &mut B::Buffer<C<T>>) -> Result<()> {
        let (pts, m) = self
            .points
            .as_ref()
            .ok_or_else(|| Error::InvalidArgument("NUFFT executed before set_points".into()))?;
        let b = &self.backend;
        match self.ty {
            NufftType::Type1 => {
                self.expect("strengths", input.shape(), &[*m])?;
                self.expect("modes", output.shape(), &self.params.modes)?;
                b.nufft_spread(pts, &self.params, input, &mut self.fine)?;
                b.fft_c2c(&self.fft, &mut self.fine, Direction::Inverse)?;
                b.nufft_deconvolve(&self.params, &self.factors, &self.fine, output)?;
            }
            NufftType::Type2 => {
                self.expect("modes", input.shape(), &self.params.modes)?;
                self.expect("values", output.shape(), &[*m])?;
                b.nufft_precompensate(&self.params, &self.factors, input, &mut self.fine)?;
                b.fft_c2c(&self.fft, &mut self.fine, Direction::Forward)?;
                b.nufft_interp(pts, &self.params, &self.fine, output)?;
            }
        }
        Ok(())
    }
}
