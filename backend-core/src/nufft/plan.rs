//! [`NufftPlan`]: make a plan, set the points, execute (FINUFFT's API shape).

use super::kernel::{fine_size, EsKernel};
use super::upsampling::choose_upsampfac;
use super::SpreadParams;
use crate::backend::{Backend, DeviceBuffer};
use crate::error::{Error, Result};
use crate::fft::{FftKind, FftSpec, Pruning};
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
///
/// [`NufftPlan::new`] picks the upsampling factor (2, 1.5 or 1.25) when the points are set, from
/// their density ([`choose_upsampfac`]); [`NufftPlan::with_upsampfac`] fixes it.
///
/// [`NufftPlan::new_real`] makes a plan of real modes: type 2 of real modes
/// ([`NufftPlan::execute_real`]), or the real part of type 1 ([`NufftPlan::execute_to_real`]).
/// The fine grid's transform is then Hermitian, `F(−k) = conj F(k)`, so on backends with the
/// half-spectrum stages ([`Backend::nufft_half_spectrum`]) the fine grid holds only `k_{d−1} ∈
/// [0, nf_{d−1}/2]` (real FFT along the last axis: half the FFT work and memory); elsewhere the
/// complex stages run on complex modes.
///
/// A plan may hold several sets of points ([`NufftPlan::set_point_sets`]), executed one at a
/// time ([`NufftPlan::execute_set`]) on its one fine grid: transforms that differ only by their
/// points (the spectral-spatial operator's columns) share the grid's memory and FFT plan.
pub struct NufftPlan<B: Backend, T: Real> {
    backend: B,
    ty: NufftType,
    /// How the modes are held: complex, or real ([`NufftPlan::new_real`]).
    modes: Modes,
    eps: f64,
    /// Fixed upsampling factor, or `None` to choose it at `set_points`.
    upsampfac: Option<f64>,
    params: SpreadParams,
    /// Fine-grid FFT plan, fine grid and correction factors for `params` (made on demand).
    grid: Option<FineGrid<B, T>>,
    /// The point sets, each with its number of points (empty before the points are set).
    points: Vec<(B::NufftPoints<T>, usize)>,
}

/// The modes of a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Modes {
    Complex,
    /// Real modes on the half-spectrum fine grid.
    RealHalf,
    /// Real modes made complex (backends without the half-spectrum stages).
    RealComposed,
}

/// The device resources of one fine grid.
struct FineGrid<B: Backend, T: Real> {
    /// C2C plan of the fine grids, or R2C with [`Modes::RealHalf`].
    fft: B::FftPlan<T>,
    /// The fine grids `(n_trans, fine...)`, or their half spectrum `(n_trans, fine[..d−1],
    /// fine[d−1]/2 + 1)` with [`Modes::RealHalf`].
    fine: B::Buffer<C<T>>,
    factors: B::Buffer<T>,
    /// The complex modes, `(n_trans, modes...)` ([`Modes::RealComposed`] only).
    modes_c: Option<B::Buffer<C<T>>>,
}

impl<B: Backend, T: Real> FineGrid<B, T> {
    /// Complex type 1 on the whole fine grid: spread the strengths `c`, inverse FFT keeping
    /// the modes' rows, deconvolve into `modes`.
    fn type1(
        &mut self,
        b: &B,
        params: &SpreadParams,
        pts: &B::NufftPoints<T>,
        c: &B::Buffer<C<T>>,
        modes: &mut B::Buffer<C<T>>,
    ) -> Result<()> {
        b.nufft_spread(pts, params, c, &mut self.fine)?;
        let keep = Pruning::KeepOutput;
        b.fft_c2c_pruned(
            &self.fft,
            &mut self.fine,
            Direction::Inverse,
            &params.modes,
            keep,
        )?;
        b.nufft_deconvolve(params, &self.factors, &self.fine, modes)
    }

    /// Complex type 2 on the whole fine grid: pre-compensate `modes`, forward FFT of the
    /// zero-padded grid, interpolate at the points into `values`.
    fn type2(
        &mut self,
        b: &B,
        params: &SpreadParams,
        pts: &B::NufftPoints<T>,
        modes: &B::Buffer<C<T>>,
        values: &mut B::Buffer<C<T>>,
    ) -> Result<()> {
        b.nufft_precompensate(params, &self.factors, modes, &mut self.fine)?;
        let zero = Pruning::ZeroInput;
        b.fft_c2c_pruned(
            &self.fft,
            &mut self.fine,
            Direction::Forward,
            &params.modes,
            zero,
        )?;
        b.nufft_interp(pts, params, &self.fine, values)
    }
}

/// The relative accuracies a NUFFT plan accepts in `precision`: `[min, max)` (below `min` the
/// rounding of the precision dominates: 1e-7 in `f32`, 1e-15 in `f64`).
pub fn eps_range(precision: Precision) -> (f64, f64) {
    match precision {
        Precision::F32 => (1e-7, 1.0),
        Precision::F64 => (1e-15, 1.0),
    }
}

impl<B: Backend, T: Real> NufftPlan<B, T> {
    /// Makes a plan of type `ty` for a mode grid of shape `modes` (1 to 3 axes, axis 0 first),
    /// `n_trans` vectors per execution and relative accuracy `eps` (at least 1e-7 in `f32`,
    /// 1e-15 in `f64`, below 1). The upsampling factor is chosen when the points are set; the
    /// fine grid is allocated then.
    pub fn new(
        backend: &B,
        ty: NufftType,
        modes: &[usize],
        n_trans: usize,
        eps: f64,
    ) -> Result<Self> {
        Self::make(backend, ty, Modes::Complex, modes, n_trans, eps, None)
    }

    /// A plan of real modes: type 2 executed by [`NufftPlan::execute_real`], type 1 by
    /// [`NufftPlan::execute_to_real`]. Arguments as [`NufftPlan::new`], `upsampfac` as
    /// [`NufftPlan::with_upsampfac`] (`None`: chosen when the points are set). The fine grid is
    /// the half spectrum on backends with [`Backend::nufft_half_spectrum`].
    pub fn new_real(
        backend: &B,
        ty: NufftType,
        modes: &[usize],
        n_trans: usize,
        eps: f64,
        upsampfac: Option<f64>,
    ) -> Result<Self> {
        let kind = if backend.nufft_half_spectrum() {
            Modes::RealHalf
        } else {
            Modes::RealComposed
        };
        let mut plan = Self::make(backend, ty, kind, modes, n_trans, eps, upsampfac)?;
        if upsampfac.is_some() {
            plan.grid = Some(plan.fine_grid()?);
        }
        Ok(plan)
    }

    /// As [`NufftPlan::new`] with a fixed upsampling factor (2.0, 1.5 or 1.25 in practice); the fine
    /// grid is allocated now.
    pub fn with_upsampfac(
        backend: &B,
        ty: NufftType,
        modes: &[usize],
        n_trans: usize,
        eps: f64,
        upsampfac: f64,
    ) -> Result<Self> {
        let fixed = Some(upsampfac);
        let mut plan = Self::make(backend, ty, Modes::Complex, modes, n_trans, eps, fixed)?;
        plan.grid = Some(plan.fine_grid()?);
        Ok(plan)
    }

    fn make(
        backend: &B,
        ty: NufftType,
        kind: Modes,
        modes: &[usize],
        n_trans: usize,
        eps: f64,
        upsampfac: Option<f64>,
    ) -> Result<Self> {
        if modes.is_empty() || modes.len() > 3 || modes.contains(&0) {
            return Err(Error::InvalidArgument(format!(
                "NUFFT mode grid {modes:?}: 1 to 3 axes, none empty"
            )));
        }
        if n_trans == 0 {
            return Err(Error::InvalidArgument("NUFFT with n_trans = 0".into()));
        }
        let (min_eps, max_eps) = eps_range(T::PRECISION);
        if !(eps >= min_eps && eps < max_eps) {
            return Err(Error::InvalidArgument(format!(
                "NUFFT accuracy eps = {eps:e} out of range [{min_eps:e}, {max_eps}) for {}",
                T::PRECISION
            )));
        }
        if T::PRECISION == Precision::F64 && !backend.supports_f64() {
            return Err(Error::precision_unsupported(&backend.name(), T::PRECISION));
        }
        let params = Self::spread_params(modes, n_trans, eps, upsampfac.unwrap_or(2.0))?;
        Ok(NufftPlan {
            backend: backend.clone(),
            ty,
            modes: kind,
            eps,
            upsampfac,
            params,
            grid: None,
            points: Vec::new(),
        })
    }

    fn spread_params(
        modes: &[usize],
        n_trans: usize,
        eps: f64,
        sigma: f64,
    ) -> Result<SpreadParams> {
        let kernel = EsKernel::for_eps(eps, sigma)?;
        Ok(SpreadParams {
            modes: modes.to_vec(),
            fine: modes.iter().map(|&n| fine_size(n, &kernel)).collect(),
            n_trans,
            kernel,
        })
    }

    /// The FFT plan, fine grid and correction factors of the current parameters.
    fn fine_grid(&self) -> Result<FineGrid<B, T>> {
        let (modes, fine, kernel) = (&self.params.modes, &self.params.fine, &self.params.kernel);
        // Type 1 runs the +i transform, which the backends scale by 1/N: fold N back in.
        let mut host = Vec::with_capacity(modes.iter().sum());
        for (&n, &nf) in modes.iter().zip(fine) {
            let fs = kernel.fourier_series(n, nf);
            let scale = match self.ty {
                NufftType::Type1 => nf as f64,
                NufftType::Type2 => 1.0,
            };
            host.extend(fs.iter().map(|&p| T::of(scale / p)));
        }
        let b = &self.backend;
        let factors = b.upload_flat(&[host.len()], host)?;
        let nt = self.params.n_trans;
        let mut shape = vec![nt];
        shape.extend(fine);
        let kind = match self.modes {
            Modes::RealHalf => FftKind::R2C,
            Modes::Complex | Modes::RealComposed => FftKind::C2C,
        };
        let spec = FftSpec::new(&shape, modes.len(), kind)?;
        let fft = b.fft_plan::<T>(&spec)?;
        let fine = b.zeros::<C<T>>(&spec.spectrum_shape())?;
        let modes_c = match self.modes {
            Modes::RealComposed => Some(b.zeros::<C<T>>(&crate::check::stacked(nt, modes))?),
            Modes::Complex | Modes::RealHalf => None,
        };
        Ok(FineGrid {
            fft,
            fine,
            factors,
            modes_c,
        })
    }

    /// The plan's spreading parameters (kernel, fine grid); with an automatic upsampling factor
    /// they are final once the points are set.
    pub fn params(&self) -> &SpreadParams {
        &self.params
    }

    /// The transform type.
    pub fn kind(&self) -> NufftType {
        self.ty
    }

    /// Number of points of the first point set (0 before [`NufftPlan::set_points`]).
    pub fn num_points(&self) -> usize {
        self.points.first().map_or(0, |p| p.1)
    }

    /// Number of point sets (1 after [`NufftPlan::set_points`], 0 before any).
    pub fn num_point_sets(&self) -> usize {
        self.points.len()
    }

    /// Sets the non-uniform points: one coordinate array per mode axis (radians), all of one
    /// length M (M = 0 is allowed). Non-finite coordinates are an error.
    pub fn set_points(&mut self, coords: &[ArrayView1<'_, T>]) -> Result<()> {
        self.set_point_sets(&[coords])
    }

    /// Sets several sets of non-uniform points (each as [`NufftPlan::set_points`], of its own
    /// length), replacing any set before; set `k` is executed by
    /// [`NufftPlan::execute_set`]`(k, ..)`. The sets share the plan's fine grid: an automatic
    /// upsampling factor is chosen for the largest set. Errors: a malformed set (as
    /// [`NufftPlan::set_points`]), no set at all.
    pub fn set_point_sets(&mut self, sets: &[&[ArrayView1<'_, T>]]) -> Result<()> {
        if sets.is_empty() {
            return Err(Error::InvalidArgument(
                "NUFFT set_point_sets with no point set".into(),
            ));
        }
        let dim = self.params.dim();
        let counts = sets
            .iter()
            .map(|coords| crate::check::coordinates(coords, dim))
            .collect::<Result<Vec<usize>>>()?;
        self.points.clear();
        if self.upsampfac.is_none() {
            let m = counts.iter().copied().max().unwrap_or(0);
            let sigma = choose_upsampfac(self.ty, &self.params.modes, m, self.eps, T::PRECISION);
            if sigma != self.params.kernel.upsampfac {
                let (modes, nt) = (&self.params.modes, self.params.n_trans);
                self.params = Self::spread_params(modes, nt, self.eps, sigma)?;
                self.grid = None;
            }
        }
        if self.grid.is_none() {
            self.grid = Some(self.fine_grid()?);
        }
        for (coords, m) in sets.iter().zip(counts) {
            let pts = self.backend.nufft_setpts(coords, &self.params)?;
            self.points.push((pts, m));
        }
        Ok(())
    }

    fn expect(nt: usize, what: &str, buf_shape: &[usize], trailing: &[usize]) -> Result<()> {
        let mut full = vec![nt];
        full.extend(trailing);
        let ok = buf_shape == full.as_slice() || (nt == 1 && buf_shape == trailing);
        if ok {
            Ok(())
        } else {
            Err(Error::shape(format!("NUFFT {what}"), &full, buf_shape))
        }
    }

    /// Type 2 of real modes (a plan of type 2 made by [`NufftPlan::new_real`], one point set):
    /// `modes` of shape `(n_trans, modes...)` (or `modes` when `n_trans = 1`), `values` of shape
    /// `(n_trans, M)` (or `(M,)`), `values[t, m] = Σ_k modes[t, k] e^{−i<k, x_m>}`.
    pub fn execute_real(
        &mut self,
        modes: &B::Buffer<T>,
        values: &mut B::Buffer<C<T>>,
    ) -> Result<()> {
        self.real_plan("execute_real", NufftType::Type2)?;
        let (pts, m, grid) = Self::resources(&self.points, &mut self.grid, 0)?;
        let b = &self.backend;
        let nt = self.params.n_trans;
        Self::expect(nt, "modes", modes.shape(), &self.params.modes)?;
        Self::expect(nt, "values", values.shape(), &[m])?;
        if let Some(mut modes_c) = grid.modes_c.take() {
            let done = b
                .to_complex(modes, &mut modes_c)
                .and_then(|()| grid.type2(b, &self.params, pts, &modes_c, values));
            grid.modes_c = Some(modes_c);
            done
        } else {
            let (p, f) = (&self.params, &grid.factors);
            b.nufft_precompensate_r2c(p, f, &grid.fft, modes, &mut grid.fine)?;
            b.nufft_interp_half(pts, &self.params, &grid.fine, values)
        }
    }

    /// The real part of the type-1 transform (a plan of type 1 made by [`NufftPlan::new_real`],
    /// one point set): `strengths` of shape `(n_trans, M)` (or `(M,)` when `n_trans = 1`),
    /// `modes` of shape `(n_trans, modes...)` (or `modes`),
    /// `modes[t, k] = Re Σ_m strengths[t, m] e^{+i<k, x_m>}`.
    pub fn execute_to_real(
        &mut self,
        strengths: &B::Buffer<C<T>>,
        modes: &mut B::Buffer<T>,
    ) -> Result<()> {
        self.real_plan("execute_to_real", NufftType::Type1)?;
        let (pts, m, grid) = Self::resources(&self.points, &mut self.grid, 0)?;
        let b = &self.backend;
        let nt = self.params.n_trans;
        Self::expect(nt, "strengths", strengths.shape(), &[m])?;
        Self::expect(nt, "modes", modes.shape(), &self.params.modes)?;
        let p = &self.params;
        if let Some(mut modes_c) = grid.modes_c.take() {
            let done = grid
                .type1(b, p, pts, strengths, &mut modes_c)
                .and_then(|()| b.complex_part(&modes_c, crate::ops::Part::Re, modes));
            grid.modes_c = Some(modes_c);
            done
        } else {
            b.nufft_spread_half(pts, p, strengths, &mut grid.fine)?;
            b.nufft_c2r_deconvolve(p, &grid.factors, &grid.fft, &mut grid.fine, modes)
        }
    }

    /// Fails unless the plan is of real modes, of type `ty`, with one point set (`op` names
    /// the method).
    fn real_plan(&self, op: &str, ty: NufftType) -> Result<()> {
        if self.modes == Modes::Complex || self.ty != ty {
            return Err(Error::InvalidArgument(format!(
                "NUFFT {op} needs a plan of real modes of {ty:?} (NufftPlan::new_real), this one is {:?} of {} modes",
                self.ty,
                if self.modes == Modes::Complex { "complex" } else { "real" }
            )));
        }
        if self.points.len() > 1 {
            return Err(Error::InvalidArgument(format!(
                "NUFFT {op} on a plan of {} point sets",
                self.points.len()
            )));
        }
        Ok(())
    }

    /// The points of set `set`, their number and the fine grid.
    #[allow(clippy::type_complexity)]
    fn resources<'a>(
        points: &'a [(B::NufftPoints<T>, usize)],
        grid: &'a mut Option<FineGrid<B, T>>,
        set: usize,
    ) -> Result<(&'a B::NufftPoints<T>, usize, &'a mut FineGrid<B, T>)> {
        let (Some((pts, m)), Some(grid)) = (points.get(set), grid.as_mut()) else {
            return Err(Error::InvalidArgument(if points.is_empty() {
                "NUFFT executed before set_points".into()
            } else {
                format!(
                    "NUFFT point set {set} executed, the plan has {}",
                    points.len()
                )
            }));
        };
        Ok((pts, *m, grid))
    }

    /// Runs the transform. Type 1: `input` holds the strengths, shape `(n_trans, M)` (or `(M,)`
    /// when `n_trans = 1`), `output` the modes `(n_trans, modes...)` (or `modes`). Type 2: the
    /// other way round. With several point sets, see [`NufftPlan::execute_set`].
    pub fn execute(&mut self, input: &B::Buffer<C<T>>, output: &mut B::Buffer<C<T>>) -> Result<()> {
        if self.points.len() > 1 {
            return Err(Error::InvalidArgument(format!(
                "NUFFT execute on a plan of {} point sets: execute_set names the set",
                self.points.len()
            )));
        }
        self.execute_set(0, input, output)
    }

    /// [`NufftPlan::execute`] at point set `set` (`M` its number of points).
    pub fn execute_set(
        &mut self,
        set: usize,
        input: &B::Buffer<C<T>>,
        output: &mut B::Buffer<C<T>>,
    ) -> Result<()> {
        if self.modes != Modes::Complex {
            return Err(Error::InvalidArgument(
                "NUFFT execute on a plan of real modes: execute_real / execute_to_real".into(),
            ));
        }
        let (pts, m, grid) = Self::resources(&self.points, &mut self.grid, set)?;
        let b = &self.backend;
        let expect = |what: &str, buf_shape: &[usize], trailing: &[usize]| {
            Self::expect(self.params.n_trans, what, buf_shape, trailing)
        };
        match self.ty {
            NufftType::Type1 => {
                expect("strengths", input.shape(), &[m])?;
                expect("modes", output.shape(), &self.params.modes)?;
                grid.type1(b, &self.params, pts, input, output)
            }
            NufftType::Type2 => {
                expect("modes", input.shape(), &self.params.modes)?;
                expect("values", output.shape(), &[m])?;
                grid.type2(b, &self.params, pts, input, output)
            }
        }
    }
}
