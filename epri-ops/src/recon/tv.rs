//! TV-regularised least squares for one source (PyEPRI's `tv_monosrc`).
//!
//! Minimises `E(u) = ½‖A u − s‖² + λ_unrm TV(u)` [+ positivity] [+ support] with the
//! Condat–Vũ / Chambolle–Pock 2016 primal–dual scheme (PyEPRI's `tvsolver_cp2016`):
//! `τ = 0.5 / L`, `σ = L / (L_grad λ_unrm)²`, `L_grad = √8` (2D) or `√12` (3D), where `L` is the
//! Lipschitz constant of `∇f(u) = A*A u − A* s`. The iterations run entirely on the device; the
//! host only receives two scalars per iteration (`‖u − u_old‖²` and `‖u‖²`, measured by the
//! primal step) for the stopping test, or none on the iterations that skip it
//! ([`TvOptions::check_every`]).

use super::cp2016::{solve, DataTerm, Steps, Support};
use super::stop::{StopReason, StopRule};
use crate::error::{Error, Result};
use crate::geometry::Geometry;
use crate::grad::{grad_norm_bound, gradient_masks};
use crate::power::power_iteration;
use crate::proj::{Projector, ProjectorOptions};
use crate::toeplitz::ToeplitzKernel;
use backend_core::{Backend, Binary, DeviceBuffer, Real, Reduce};
use ndarray::{ArrayD, ArrayView1, ArrayView2, IxDyn};
use std::f64::consts::PI;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// How the Lipschitz constant `L` of `∇f = A*A u − A* s` is obtained.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Lipschitz {
    /// Power iteration on `A*A` started from the initial image, with the solver's `tol` and at
    /// most 1000 iterations, times a 1.05 safety margin (PyEPRI's default `'auto'`).
    Auto,
    /// `max |Φ̂|`, the largest modulus of the Toeplitz kernel's Fourier transform (a formal,
    /// non-tight upper bound; needs `use_toeplitz`).
    UpperBound,
    /// A value given by the caller, in `[image]⁻¹`-free units of `A*A` (`([proj]/[image])²`).
    Value(f64),
}

/// Options of [`tv_monosrc`]; `Default` gives PyEPRI's defaults with `λ = 1`.
#[derive(Clone, Debug)]
pub struct TvOptions<T> {
    /// Dimensionless regularisation weight (PyEPRI's `lbda`); the TV weight actually used is
    /// `λ_unrm = (max h − min h) · P / (2^{d−1} π) · Nb / Bsw · δ^{d−1} · λ`. Must be > 0.
    pub lambda: f64,
    /// Stopping tolerance of the rules [`StopRule::Change`] (`‖u − u_old‖ < tol ‖u‖`, also
    /// the fallback of [`StopRule::Discrepancy`]) and [`StopRule::Gap`].
    pub tol: f64,
    /// The stopping rule (default: the relative change, as PyEPRI).
    pub stop: StopRule,
    /// Iteration cap.
    pub max_iter: usize,
    /// Evaluate the stopping rule every that many iterations (>= 1; default 1, PyEPRI's
    /// behaviour). The other iterations skip the rule's norms: on a GPU backend they then read
    /// nothing back from the device. A run stops at the first evaluated iteration where the rule
    /// holds, so at most `check_every − 1` iterations after the one PyEPRI would stop at.
    pub check_every: usize,
    /// Constrain `u ≥ 0`.
    pub positivity: bool,
    /// Support constraint: `u = 0` where `mask <= 0` (same shape as the image).
    pub mask: Option<ArrayD<T>>,
    /// How the Lipschitz constant is obtained.
    pub lipschitz: Lipschitz,
    /// Apply `A*A` as a convolution with the Toeplitz kernel (default) rather than as a
    /// projection followed by a backprojection.
    pub use_toeplitz: bool,
    /// NUFFT accuracy of the projector and of the Toeplitz kernel.
    pub eps: f64,
    /// Initial image (shape of the image); default `A*s / (δ^d Σ A*s)`, clipped at 0 with
    /// `positivity`.
    pub init: Option<ArrayD<T>>,
    /// Evaluate the energy every that many iterations (reported through the progress callback).
    pub energy_every: Option<usize>,
    /// Cancellation flag, read after every iteration (after the progress callback, which may
    /// set it): once it is `true` the solver returns [`Error::Cancelled`].
    pub cancel: Option<Arc<AtomicBool>>,
}

impl<T> TvOptions<T> {
    /// The checks shared by the mono- and multi-source solvers: `lambda` positive and finite,
    /// `tol >= 0`, `energy_every >= 1`, `check_every >= 1`.
    pub(crate) fn check_solver(&self) -> Result<()> {
        if !(self.lambda > 0.0 && self.lambda.is_finite()) {
            return Err(Error::Parameter(format!(
                "lambda = {} (must be positive and finite)",
                self.lambda
            )));
        }
        if self.tol.is_nan()
            || self.tol < 0.0
            || self.energy_every == Some(0)
            || self.check_every == 0
        {
            return Err(Error::Parameter(format!(
                "tol = {}, energy_every = {:?}, check_every = {} (tol >= 0, energy_every >= 1, check_every >= 1)",
                self.tol, self.energy_every, self.check_every
            )));
        }
        self.stop.check()
    }

    /// These options for one run of a planned problem (weight, tolerance, iteration cap and
    /// stopping rule replaced), checked as [`Self::check_solver`] does.
    pub(crate) fn for_run(
        &self,
        lambda: f64,
        tol: f64,
        max_iter: usize,
        stop: StopRule,
    ) -> Result<Self>
    where
        T: Clone,
    {
        let opts = TvOptions {
            lambda,
            tol,
            max_iter,
            stop,
            ..self.clone()
        };
        opts.check_solver()?;
        Ok(opts)
    }
}

impl<T> Default for TvOptions<T> {
    fn default() -> Self {
        TvOptions {
            lambda: 1.0,
            tol: 1e-5,
            stop: StopRule::Change,
            max_iter: 1_000_000,
            check_every: 1,
            positivity: false,
            mask: None,
            lipschitz: Lipschitz::Auto,
            use_toeplitz: true,
            eps: 1e-6,
            init: None,
            energy_every: None,
            cancel: None,
        }
    }
}

/// State reported after each iteration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TvProgress {
    /// Iterations done so far (1 after the first).
    pub iteration: usize,
    /// Whether this iteration evaluated the stopping rule (every one unless
    /// [`TvOptions::check_every`] > 1). `relative_change` and `watched` are those of the last
    /// iteration that did (`∞` before the first).
    pub checked: bool,
    /// `‖u − u_old‖ / ‖u‖` of this iteration.
    pub relative_change: f64,
    /// The quantity the stopping rule compares with its threshold: the relative change
    /// ([`StopRule::Change`]), the relative primal–dual residual ([`StopRule::Gap`]; `∞` at the
    /// first iteration), or `‖A u − s‖² / (m σ²)` ([`StopRule::Discrepancy`], stops at `τ`).
    pub watched: f64,
    /// `E(u)` when this iteration is a multiple of `energy_every`.
    pub energy: Option<f64>,
    /// What this iteration asked of the device (launches, transfers, allocations) when the
    /// backend counts them (`EPRI_PROFILE=1` on a GPU backend), else `None`.
    pub profile: Option<backend_core::Profile>,
}

/// Output of [`tv_monosrc`].
#[derive(Clone, Debug)]
pub struct TvResult<T> {
    /// Reconstructed image, shape `image_shape`, axes `(Y, X[, Z])`.
    pub image: ArrayD<T>,
    /// Iterations performed.
    pub iterations: usize,
    /// Final energy `½‖A u − s‖² + λ_unrm TV(u)` (computed once, at the end).
    pub energy: f64,
    /// Lipschitz constant `L` used for the step sizes (safety margin included).
    pub lipschitz: f64,
    /// The TV weight actually used, `λ_unrm`.
    pub lambda_unrm: f64,
    /// What ended the iterations.
    pub stop: StopReason,
}

/// `λ_unrm` from PyEPRI's normalisation.
pub fn lambda_unrm<T: Real>(lambda: f64, geometry: &Geometry<T>, h: ArrayView1<'_, T>) -> f64 {
    let (lo, hi) = h
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(x.f64()), hi.max(x.f64()))
        });
    let d = geometry.dim() as i32;
    let cof2 = geometry.num_proj() as f64 / (2f64.powi(d - 1) * PI);
    let cof3 = geometry.nb() as f64 / geometry.sweep_width().f64();
    (hi - lo) * cof2 * cof3 * geometry.delta().f64().powi(d - 1) * lambda
}

/// The data term: projector `A`, measured sinogram `s`, `A* s`, and `A*A` either as a Toeplitz
/// convolution or as a projection followed by a backprojection.
pub(crate) struct LeastSquares<B: Backend, T: Real> {
    backend: B,
    projector: Projector<B, T>,
    toeplitz: Option<ToeplitzKernel<B, T>>,
    /// The measured sinogram `s`, shape `(P, Nb)`.
    proj: B::Buffer<T>,
    /// `A* s`, image shape.
    adj_proj: B::Buffer<T>,
    /// Sinogram scratch, shape `(P, Nb)`.
    sino: B::Buffer<T>,
}

impl<B: Backend, T: Real> LeastSquares<B, T> {
    /// The data term of the projections `proj` (shape `(P, Nb)`) for `projector`, with `A*A`
    /// applied by `toeplitz` if given; computes `A* s`.
    pub(crate) fn new(
        backend: &B,
        mut projector: Projector<B, T>,
        toeplitz: Option<ToeplitzKernel<B, T>>,
        proj: ArrayView2<'_, T>,
    ) -> Result<Self> {
        let proj = backend.upload(proj.into_dyn())?;
        let mut adj_proj = backend.zeros::<T>(projector.image_shape())?;
        projector.adjoint(&proj, &mut adj_proj)?;
        Ok(LeastSquares {
            backend: backend.clone(),
            projector,
            toeplitz,
            sino: backend.zeros(proj.shape())?,
            adj_proj,
            proj,
        })
    }

    /// `A* s`, image shape.
    pub(crate) fn adj_proj(&self) -> &B::Buffer<T> {
        &self.adj_proj
    }

    /// The measured sinogram `s`, shape `(P, Nb)`.
    pub(crate) fn projections(&self) -> &B::Buffer<T> {
        &self.proj
    }

    /// Replaces `s` (same shape) and `A* s`.
    pub(crate) fn set_projections(&mut self, proj: &B::Buffer<T>) -> Result<()> {
        self.backend.copy(proj, &mut self.proj)?;
        self.projector.adjoint(&self.proj, &mut self.adj_proj)
    }

    /// `out <- A u`, shape `(P, Nb)`.
    pub(crate) fn project(&mut self, u: &B::Buffer<T>, out: &mut B::Buffer<T>) -> Result<()> {
        self.projector.apply(u, out)
    }

    /// The backprojection scaled to fit the data best, `c A* s` with
    /// `c = ‖A* s‖² / ‖A A* s‖²` (the least-squares step along `A* s` from 0); `None` when
    /// `A A* s` vanishes or overflows.
    pub(crate) fn scaled_backprojection(&mut self) -> Result<Option<B::Buffer<T>>> {
        self.projector.apply(&self.adj_proj, &mut self.sino)?;
        let num = self.backend.reduce(Reduce::SumSq, &self.adj_proj)?.f64();
        let den = self.backend.reduce(Reduce::SumSq, &self.sino)?.f64();
        let c = num / den;
        if !(c.is_finite() && c > 0.0) {
            return Ok(None);
        }
        let mut u = self.backend.duplicate(&self.adj_proj)?;
        self.backend.scale(&mut u, T::of(c))?;
        Ok(Some(u))
    }

    /// The Lipschitz constant of `∇f` as `how` asks, power iterations started from `u0`
    /// stopping at the relative change `tol`.
    pub(crate) fn lipschitz(&mut self, how: Lipschitz, u0: &B::Buffer<T>, tol: f64) -> Result<f64> {
        Ok(match how {
            Lipschitz::Value(l) => l,
            Lipschitz::UpperBound => match &self.toeplitz {
                Some(k) => k.max_abs_fourier().f64(),
                None => {
                    return Err(Error::Parameter(
                        "the upper-bound Lipschitz constant needs the Toeplitz kernel".into(),
                    ))
                }
            },
            Lipschitz::Auto => {
                let backend = self.backend.clone();
                let l = power_iteration(&backend, u0, T::of(tol), 1000, |x, y| self.normal(x, y))?;
                1.05 * l.f64()
            }
        })
    }

    /// `out <- A*A u`.
    pub(crate) fn normal(&mut self, u: &B::Buffer<T>, out: &mut B::Buffer<T>) -> Result<()> {
        match &mut self.toeplitz {
            Some(k) => k.apply(u, out),
            None => {
                self.projector.apply(u, &mut self.sino)?;
                self.projector.adjoint(&self.sino, out)
            }
        }
    }

    /// `out <- ∇f(u) = A*A u − A* s`.
    fn gradient(&mut self, u: &B::Buffer<T>, out: &mut B::Buffer<T>) -> Result<()> {
        self.normal(u, out)?;
        Ok(self.backend.zip(Binary::Sub, out, &self.adj_proj)?)
    }

    /// `½‖A u − s‖²`.
    fn fidelity(&mut self, u: &B::Buffer<T>) -> Result<f64> {
        self.projector.apply(u, &mut self.sino)?;
        Ok(0.5 * self.backend.sq_dist(&self.sino, &self.proj)?.f64())
    }
}

impl<B: Backend, T: Real> DataTerm<B, T> for LeastSquares<B, T> {
    fn gradient(&mut self, u: &[B::Buffer<T>], out: &mut [B::Buffer<T>]) -> Result<()> {
        LeastSquares::gradient(self, &u[0], &mut out[0])
    }

    fn fidelity(&mut self, u: &[B::Buffer<T>]) -> Result<f64> {
        LeastSquares::fidelity(self, &u[0])
    }

    fn measurements(&self) -> usize {
        self.proj.len()
    }
}

fn check_image_array<T: Real>(what: &str, a: &ArrayD<T>, shape: &[usize]) -> Result<()> {
    if a.shape() != shape {
        return Err(Error::Shape(format!(
            "{what} of shape {:?} for an image of shape {shape:?}",
            a.shape()
        )));
    }
    if a.iter().any(|x| !x.is_finite()) {
        return Err(Error::NonFinite(what.into()));
    }
    Ok(())
}

/// A TV problem set up once and solved for as many weights `λ` and starting images as needed
/// (plan once, execute many): the projector, the Toeplitz kernel, `A* s`, the support and the
/// Lipschitz constant do not depend on `λ`. [`tv_monosrc`] is one [`TvProblem::solve`]; the
/// automatic choice of `λ` ([`super::lambda`]) solves the same problem for a sequence of `λ`,
/// each run warm-started from the previous image.
pub struct TvProblem<B: Backend, T: Real> {
    backend: B,
    data: LeastSquares<B, T>,
    support: Option<Support<B, T>>,
    /// The initial image (`opts.init`, or `A*s / (δ^d Σ A*s)`), on the device.
    init: B::Buffer<T>,
    /// `L`, safety margin included.
    lipschitz: f64,
    /// `λ_unrm / λ`: PyEPRI's normalisation of the weight.
    lambda_scale: f64,
    /// Image dimension `d`.
    dim: usize,
    image_shape: Vec<usize>,
    /// Solver options (`lambda`, `tol` and `max_iter` are overridden per solve).
    opts: TvOptions<T>,
}

/// A solution of a [`TvProblem`], kept on the device.
pub struct TvSolution<B: Backend, T: Real> {
    /// The image `u`, image shape.
    pub image: B::Buffer<T>,
    /// Iterations performed.
    pub iterations: usize,
    /// Final energy `½‖A u − s‖² + λ_unrm TV(u)`.
    pub energy: f64,
    /// What ended the iterations.
    pub stop: StopReason,
}

impl<B: Backend, T: Real> TvProblem<B, T> {
    /// Sets up the problem of [`tv_monosrc`] (same arguments; `opts.lambda` is only checked,
    /// [`solve`](Self::solve) takes the weight). Checks every input, builds the operators and
    /// computes the Lipschitz constant.
    pub fn new(
        backend: &B,
        proj: ArrayView2<'_, T>,
        geometry: &Geometry<T>,
        h: ArrayView1<'_, T>,
        image_shape: &[usize],
        opts: &TvOptions<T>,
    ) -> Result<Self> {
        let d = geometry.dim();
        geometry.check_image_shape(image_shape)?;
        geometry.check_sinogram_shape(proj.shape())?;
        geometry.check_spectrum("h", h)?;
        if proj.iter().any(|x| !x.is_finite()) {
            return Err(Error::NonFinite("the projections".into()));
        }
        opts.check_solver()?;
        if let Some(m) = &opts.mask {
            check_image_array("mask", m, image_shape)?;
        }
        if let Some(u0) = &opts.init {
            check_image_array("init", u0, image_shape)?;
        }

        let projector = Projector::new(
            backend,
            geometry,
            h,
            image_shape,
            ProjectorOptions {
                rfft_mode: true,
                eps: opts.eps,
            },
        )?;
        let toeplitz = if opts.use_toeplitz {
            Some(ToeplitzKernel::new(
                backend,
                geometry,
                h,
                h,
                image_shape,
                opts.eps,
            )?)
        } else {
            None
        };
        let mut data = LeastSquares::new(backend, projector, toeplitz, proj)?;
        let v = data.adj_proj();

        let support = match &opts.mask {
            Some(m) => Some(Support {
                mask: backend.upload(m.view())?,
                masks: gradient_masks(backend, m.view())?,
            }),
            None => None,
        };

        // Initial image.
        let init = match &opts.init {
            Some(u0) => backend.upload(u0.view())?,
            None => {
                let total = backend.reduce(Reduce::Sum, v)?.f64();
                let scale = 1.0 / (geometry.delta().f64().powi(d as i32) * total);
                if !scale.is_finite() {
                    return Err(Error::Parameter(format!(
                        "the backprojection A*s of the projections sums to {total:e}, so the default initial image A*s / (δ^d · ΣA*s) is undefined: check that the projections and the spectrum are not all zero and fit the working precision, or pass an initial image (TvOptions::init)"
                    )));
                }
                let mut u0 = backend.duplicate(v)?;
                backend.scale(&mut u0, T::of(scale))?;
                if opts.positivity {
                    backend.zip_scalar(Binary::Max, &mut u0, T::zero())?;
                }
                u0
            }
        };

        let lipschitz = data.lipschitz(opts.lipschitz, &init, opts.tol)?;
        Ok(TvProblem {
            backend: backend.clone(),
            data,
            support,
            init,
            lipschitz,
            lambda_scale: lambda_unrm(1.0, geometry, h),
            dim: d,
            image_shape: image_shape.to_vec(),
            opts: TvOptions {
                mask: None,
                init: None,
                ..opts.clone()
            },
        })
    }

    /// The backend the problem lives on.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The Lipschitz constant `L` of `∇f` used for the step sizes (safety margin included).
    pub fn lipschitz(&self) -> f64 {
        self.lipschitz
    }

    /// The TV weight `λ_unrm` that the normalised weight `lambda` stands for.
    pub fn lambda_unrm(&self, lambda: f64) -> f64 {
        self.lambda_scale * lambda
    }

    /// Checks that the normalised weight `lambda` gives step sizes the working precision can
    /// hold (see [`solve`](Self::solve)).
    pub fn check_lambda(&self, lambda: f64) -> Result<()> {
        Steps::new::<T>(
            self.lipschitz,
            grad_norm_bound(self.dim),
            self.lambda_unrm(lambda),
            lambda,
        )
        .map(|_| ())
    }

    /// Image shape `(Ny, Nx[, Nz])`.
    pub fn image_shape(&self) -> &[usize] {
        &self.image_shape
    }

    /// The number of measurements `m = P · Nb`.
    pub fn num_measurements(&self) -> usize {
        self.data.proj.len()
    }

    /// The initial image of [`solve`](Self::solve) when no starting image is given.
    pub fn initial_image(&self) -> &B::Buffer<T> {
        &self.init
    }

    /// Replaces the measured projections `s` (shape `(P, Nb)`, on the device) and `A* s`; the
    /// default initial image and the Lipschitz constant do not change.
    pub fn set_projections(&mut self, proj: &B::Buffer<T>) -> Result<()> {
        self.data.set_projections(proj)
    }

    /// The measured projections `s`, shape `(P, Nb)`, on the device.
    pub fn projections(&self) -> &B::Buffer<T> {
        &self.data.proj
    }

    /// `out <- A u`, shape `(P, Nb)`.
    pub fn project(&mut self, u: &B::Buffer<T>, out: &mut B::Buffer<T>) -> Result<()> {
        self.data.project(u, out)
    }

    /// The squared residual `‖A u − s‖²`.
    pub fn residual(&mut self, u: &B::Buffer<T>) -> Result<f64> {
        Ok(2.0 * self.data.fidelity(u)?)
    }

    /// Runs the iterations for the normalised weight `lambda` from `start` (default: the
    /// initial image), until the problem's stopping rule (`opts.stop` of [`new`](Self::new))
    /// fires with the tolerance `tol`, or `max_iter` iterations, calling `progress` after each
    /// iteration. [`solve_with`](Self::solve_with) takes the rule too.
    pub fn solve(
        &mut self,
        lambda: f64,
        start: Option<&B::Buffer<T>>,
        tol: f64,
        max_iter: usize,
        progress: &mut dyn FnMut(&TvProgress),
    ) -> Result<TvSolution<B, T>> {
        self.solve_with(lambda, start, tol, max_iter, self.opts.stop, progress)
    }

    /// [`solve`](Self::solve) with the stopping rule `stop`.
    pub fn solve_with(
        &mut self,
        lambda: f64,
        start: Option<&B::Buffer<T>>,
        tol: f64,
        max_iter: usize,
        stop: StopRule,
        progress: &mut dyn FnMut(&TvProgress),
    ) -> Result<TvSolution<B, T>> {
        let opts = self.opts.for_run(lambda, tol, max_iter, stop)?;
        let steps = Steps::new::<T>(
            self.lipschitz,
            grad_norm_bound(self.dim),
            self.lambda_unrm(lambda),
            lambda,
        )?;
        let be = &self.backend;
        let u = be.duplicate(start.unwrap_or(&self.init))?;
        // The solver takes the support's buffers: a copy per solve (image-sized, once).
        let support = match &self.support {
            Some(s) => Some(Support {
                mask: be.duplicate(&s.mask)?,
                masks: be.duplicate(&s.masks)?,
            }),
            None => None,
        };
        let solution = solve(
            be,
            vec![u],
            vec![support],
            &steps,
            &opts,
            &mut self.data,
            progress,
        )?;
        let image = solution
            .images
            .into_iter()
            .next()
            .ok_or_else(|| Error::Shape("the TV solver returned no image".into()))?;
        Ok(TvSolution {
            image,
            iterations: solution.iterations,
            energy: solution.energy,
            stop: solution.stop,
        })
    }

    /// Downloads an image of this problem, shape `(Ny, Nx[, Nz])`.
    pub fn download(&self, u: &B::Buffer<T>) -> Result<ArrayD<T>> {
        self.backend
            .download(u)?
            .into_shape_with_order(IxDyn(&self.image_shape))
            .map_err(|e| Error::Shape(format!("TV output: {e}")))
    }
}

/// TV-regularised reconstruction of one source from its projections.
///
/// * `proj`: measured projections `s`, shape `(P, Nb)`, sampled on the geometry's B grid;
/// * `geometry`: B grid, pixel size `δ` and field gradients `(d, P)`;
/// * `h`: reference spectrum `(Nb,)`;
/// * `image_shape`: `(Ny, Nx[, Nz])`, each at least 2;
/// * `progress`: called after every iteration (cheap; the energy is only filled in every
///   `opts.energy_every` iterations).
///
/// Returns the image `u` (not the extrapolated `ū`), axes `(Y, X[, Z])`, in the unit of
/// `proj / (h · [L]^d)`.
pub fn tv_monosrc<B: Backend, T: Real>(
    backend: &B,
    proj: ArrayView2<'_, T>,
    geometry: &Geometry<T>,
    h: ArrayView1<'_, T>,
    image_shape: &[usize],
    opts: &TvOptions<T>,
    progress: &mut dyn FnMut(&TvProgress),
) -> Result<TvResult<T>> {
    let mut problem = TvProblem::new(backend, proj, geometry, h, image_shape, opts)?;
    let solution = problem.solve(opts.lambda, None, opts.tol, opts.max_iter, progress)?;
    Ok(TvResult {
        image: problem.download(&solution.image)?,
        iterations: solution.iterations,
        energy: solution.energy,
        lipschitz: problem.lipschitz(),
        lambda_unrm: problem.lambda_unrm(opts.lambda),
        stop: solution.stop,
    })
}
