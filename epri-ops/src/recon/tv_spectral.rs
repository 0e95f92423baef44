//! TV-regularised least squares for spectral-spatial (4D) images (no PyEPRI counterpart).
//!
//! Minimises `E(u) = ½‖A u − s‖² + λ_unrm TV_xyz(u) + λ_B,unrm TV_B(u)` [+ positivity]
//! [+ support] over images `u` of shape `(Nb, Ny, Nx, Nz)` (spectral axis first, on the B grid),
//! `A` the spectral-spatial projector ([`crate::Projector::new_spectral`]):
//!
//! * `TV_xyz(u) = Σ_{l,r} ‖∇_xyz u(l, r)‖₂`, the isotropic spatial TV of every spectral slice
//!   (edges in space, shared by nothing across B);
//! * `TV_B(u) = Σ_{l,r} |u(l+1, r) − u(l, r)|`, the total variation of each voxel's spectrum
//!   (`λ_B = 0` leaves the spectra free).
//!
//! Both weights are given dimensionless and normalised like PyEPRI's mono-source `λ`, the
//! reference spectrum's amplitude replaced by that of the scaled backprojection `u_bp`:
//! `λ_unrm = (max u_bp − min u_bp) · P / (4π) · Nb / Bsw · δ² · λ` (same for `λ_B`), so that
//! they do not depend on the unit of the projections. The scheme is the Condat–Vũ iteration of
//! the mono-source reconstruction (two dual fields: the spatial gradient and the spectral
//! difference), `τ = 1/(2L)`, `σ = L / ((√12 λ_unrm)² + (2 λ_B,unrm)²)`.

use super::cp2016::{solve_regularised, Regulariser, Steps, TvTerm};
use super::lambda::LambdaProblem;
use super::stop::{StopReason, StopRule};
use super::tv::{LeastSquares, TvOptions, TvProgress, TvResult};
use crate::error::{Error, Result};
use crate::geometry::Geometry;
use crate::grad::{axis_masks_host, grad_norm_bound};
use crate::proj::{Projector, ProjectorOptions};
use crate::spectral;
use crate::toeplitz::ToeplitzKernel;
use backend_core::{Backend, Binary, Real, Reduce};
use ndarray::{ArrayD, ArrayView2, Axis, IxDyn};
use std::f64::consts::PI;

/// Options of [`tv_spectral`].
#[derive(Clone, Debug, Default)]
pub struct SpectralTvOptions<T> {
    /// The options shared with the mono-source reconstruction: `lambda` is the spatial TV weight
    /// (> 0); `mask` may be spatial `(Ny, Nx, Nz)` (the same support for every spectral sample)
    /// or the image's shape; `init` defaults to the scaled backprojection `u_bp` (clipped at 0
    /// with `positivity`).
    pub tv: TvOptions<T>,
    /// The spectral TV weight `λ_B` (≥ 0, dimensionless, normalised as `lambda`).
    pub lambda_spectral: f64,
    /// The voxels hold absorption profiles (projected as their derivative along B).
    pub absorption: bool,
}

/// A spectral-spatial TV problem set up once and solved for as many spatial weights `λ` and
/// starting images as needed (plan once, execute many): the projector, the Toeplitz kernel,
/// `A* s`, the normalisation, the terms' masks and the Lipschitz constant do not depend on `λ`;
/// the spectral weight `λ_B` is fixed at set-up. [`tv_spectral`] is one
/// [`SpectralTvProblem::solve`]; [`super::lambda::choose_lambda`] chooses the spatial `λ`.
pub struct SpectralTvProblem<B: Backend, T: Real> {
    backend: B,
    data: LeastSquares<B, T>,
    /// The initial image, on the device.
    init: B::Buffer<T>,
    /// The support mask (image shape), if any.
    mask: Option<B::Buffer<T>>,
    /// The spatial and spectral terms' masks, shape `(4, Nb, Ny, Nx, Nz)`.
    spatial_masks: B::Buffer<T>,
    /// (`None` when `λ_B = 0`.)
    spectral_masks: Option<B::Buffer<T>>,
    lipschitz: f64,
    /// `λ_unrm / λ`.
    norm: f64,
    /// The spectral weight `λ_B` (normalised).
    lambda_spectral: f64,
    image_shape: Vec<usize>,
    /// Solver options (`lambda`, `tol`, `max_iter` and `stop` are overridden per solve).
    opts: TvOptions<T>,
}

impl<B: Backend, T: Real> SpectralTvProblem<B, T> {
    /// Sets up the problem of [`tv_spectral`] (same arguments; `opts.tv.lambda` is only
    /// checked, [`solve`](Self::solve) takes the spatial weight).
    pub fn new(
        backend: &B,
        proj: ArrayView2<'_, T>,
        geometry: &Geometry<T>,
        image_shape: &[usize],
        opts: &SpectralTvOptions<T>,
    ) -> Result<Self> {
        let tv = &opts.tv;
        spectral::check_image_shape(geometry, image_shape)?;
        geometry.check_sinogram_shape(proj.shape())?;
        if proj.iter().any(|x| !x.is_finite()) {
            return Err(Error::NonFinite("the projections".into()));
        }
        tv.check_solver()?;
        if !(opts.lambda_spectral >= 0.0 && opts.lambda_spectral.is_finite()) {
            return Err(Error::Parameter(format!(
                "lambda_spectral = {} (must be finite and >= 0)",
                opts.lambda_spectral
            )));
        }
        let mask = tv
            .mask
            .as_ref()
            .map(|m| support_mask(m, image_shape))
            .transpose()?;
        if let Some(u0) = &tv.init {
            check_finite_shape("init", u0, image_shape)?;
        }

        let popts = ProjectorOptions {
            rfft_mode: true,
            eps: tv.eps,
        };
        let projector =
            Projector::new_spectral(backend, geometry, image_shape, opts.absorption, popts)?;
        let toeplitz = if tv.use_toeplitz {
            Some(ToeplitzKernel::new_spectral(
                backend,
                geometry,
                image_shape,
                opts.absorption,
                tv.eps,
            )?)
        } else {
            None
        };
        let mut data = LeastSquares::new(backend, projector, toeplitz, proj)?;
        let Some(u_bp) = data.scaled_backprojection()? else {
            return Err(Error::Parameter(
                "the backprojection of the projections vanishes (or overflows the working precision): check that the projections are not all zero and that the gradients fit the image".into(),
            ));
        };
        let amplitude =
            backend.reduce(Reduce::Max, &u_bp)?.f64() - backend.reduce(Reduce::Min, &u_bp)?.f64();
        let norm = amplitude * geometry.num_proj() as f64 / (4.0 * PI) * geometry.nb() as f64
            / geometry.sweep_width().f64()
            * geometry.delta().f64().powi(2);

        let init = match &tv.init {
            Some(u0) => backend.upload(u0.view())?,
            None => {
                let mut u = u_bp;
                if tv.positivity {
                    backend.zip_scalar(Binary::Max, &mut u, T::zero())?;
                }
                u
            }
        };
        let lipschitz = data.lipschitz(tv.lipschitz, &init, tv.tol)?;

        // The terms' masks select the axes of the 4D gradient: (B, Y, X, Z).
        let term_masks = |w: [T; 4]| -> Result<B::Buffer<T>> {
            let m = axis_masks_host(
                image_shape,
                &[0, 1, 2, 3],
                &w,
                mask.as_ref().map(|m| m.view()),
            )?;
            Ok(backend.upload(m.view())?)
        };
        let (o, z) = (T::one(), T::zero());
        let problem = SpectralTvProblem {
            backend: backend.clone(),
            data,
            init,
            spatial_masks: term_masks([z, o, o, o])?,
            spectral_masks: if opts.lambda_spectral > 0.0 {
                Some(term_masks([o, z, z, z])?)
            } else {
                None
            },
            mask: mask
                .as_ref()
                .map(|m| backend.upload(m.view()))
                .transpose()?,
            lipschitz,
            norm,
            lambda_spectral: opts.lambda_spectral,
            image_shape: image_shape.to_vec(),
            opts: TvOptions {
                mask: None,
                init: None,
                ..tv.clone()
            },
        };
        problem.steps(tv.lambda)?;
        Ok(problem)
    }

    /// The Lipschitz constant `L` of `∇f` used for the step sizes (safety margin included).
    pub fn lipschitz(&self) -> f64 {
        self.lipschitz
    }

    /// The spatial TV weight `λ_unrm` that the normalised weight `lambda` stands for.
    pub fn lambda_unrm(&self, lambda: f64) -> f64 {
        self.norm * lambda
    }

    /// The terms' `(‖∇_t‖ bound, λ_t unnormalised, λ_t)`: spatial, then spectral if `λ_B > 0`.
    fn bounds(&self, lambda: f64) -> Vec<(f64, f64, f64)> {
        let mut bounds = vec![(grad_norm_bound(3), self.norm * lambda, lambda)];
        if self.lambda_spectral > 0.0 {
            let l = self.lambda_spectral;
            bounds.push((grad_norm_bound(1), self.norm * l, l));
        }
        bounds
    }

    fn steps(&self, lambda: f64) -> Result<Steps> {
        Steps::for_terms::<T>(self.lipschitz, &self.bounds(lambda))
    }

    /// Runs the iterations for the spatial weight `lambda` from `start` (default: the initial
    /// image) until `stop` fires with the tolerance `tol`, or `max_iter` iterations, calling
    /// `progress` after each iteration. Returns the image on the device, the iterations, the
    /// final energy and what stopped the run.
    pub fn solve(
        &mut self,
        lambda: f64,
        start: Option<&B::Buffer<T>>,
        tol: f64,
        max_iter: usize,
        stop: StopRule,
        progress: &mut dyn FnMut(&TvProgress),
    ) -> Result<(B::Buffer<T>, usize, f64, StopReason)> {
        let opts = self.opts.for_run(lambda, tol, max_iter, stop)?;
        let steps = self.steps(lambda)?;
        let be = &self.backend;
        let bounds = self.bounds(lambda);
        let mut terms = vec![TvTerm {
            weight: bounds[0].1,
            masks: Some(be.duplicate(&self.spatial_masks)?),
        }];
        if let (Some(&(_, weight, _)), Some(m)) = (bounds.get(1), &self.spectral_masks) {
            terms.push(TvTerm {
                weight,
                masks: Some(be.duplicate(m)?),
            });
        }
        let reg = Regulariser {
            mask: self.mask.as_ref().map(|m| be.duplicate(m)).transpose()?,
            terms,
        };
        let u = be.duplicate(start.unwrap_or(&self.init))?;
        let s = solve_regularised(
            be,
            vec![u],
            vec![reg],
            &steps,
            &opts,
            &mut self.data,
            progress,
        )?;
        let image = s
            .images
            .into_iter()
            .next()
            .ok_or_else(|| Error::Shape("the TV solver returned no image".into()))?;
        Ok((image, s.iterations, s.energy, s.stop))
    }

    /// Downloads an image of this problem, shape `(Nb, Ny, Nx, Nz)`.
    pub fn download(&self, u: &B::Buffer<T>) -> Result<ArrayD<T>> {
        self.backend
            .download(u)?
            .into_shape_with_order(IxDyn(&self.image_shape))
            .map_err(|e| Error::Shape(format!("spectral TV output: {e}")))
    }
}

impl<B: Backend, T: Real> LambdaProblem<B, T> for SpectralTvProblem<B, T> {
    type Image = B::Buffer<T>;
    fn backend(&self) -> &B {
        &self.backend
    }
    fn check_lambda(&self, lambda: f64) -> Result<()> {
        self.steps(lambda).map(|_| ())
    }
    fn sinograms(&self) -> &[B::Buffer<T>] {
        std::slice::from_ref(self.data.projections())
    }
    fn set_sinograms(&mut self, s: &[B::Buffer<T>]) -> Result<()> {
        self.data.set_projections(&s[0])
    }
    fn forward(&mut self, u: &Self::Image, out: &mut [B::Buffer<T>]) -> Result<()> {
        self.data.project(u, &mut out[0])
    }
    fn solve_for(
        &mut self,
        lambda: f64,
        start: Option<&Self::Image>,
        tol: f64,
        max_iter: usize,
    ) -> Result<Self::Image> {
        let mut quiet = |_: &TvProgress| {};
        Ok(self
            .solve(lambda, start, tol, max_iter, StopRule::Change, &mut quiet)?
            .0)
    }
    fn clone_image(&self, u: &Self::Image) -> Result<Self::Image> {
        Ok(self.backend.duplicate(u)?)
    }
}

/// Spectral-spatial TV reconstruction from projections `proj` (shape `(P, Nb)`, sampled on the
/// 3D `geometry`'s B grid) of an image of shape `image_shape = (Nb, Ny, Nx, Nz)`. `progress` is
/// called after every iteration. Returns the image `u` (axes (B, Y, X, Z), in the unit of
/// `proj / cm³`); `lambda_unrm` in the result is the spatial weight.
///
/// Errors: [`Error::Shape`] (image shape, projections, mask or init of the wrong shape, a 2D
/// geometry), [`Error::NonFinite`] (NaN in the projections, mask or init), [`Error::Parameter`]
/// (weights out of range, projections whose backprojection vanishes), backend errors.
pub fn tv_spectral<B: Backend, T: Real>(
    backend: &B,
    proj: ArrayView2<'_, T>,
    geometry: &Geometry<T>,
    image_shape: &[usize],
    opts: &SpectralTvOptions<T>,
    progress: &mut dyn FnMut(&TvProgress),
) -> Result<TvResult<T>> {
    let tv = &opts.tv;
    let mut problem = SpectralTvProblem::new(backend, proj, geometry, image_shape, opts)?;
    let (image, iterations, energy, stop) =
        problem.solve(tv.lambda, None, tv.tol, tv.max_iter, tv.stop, progress)?;
    Ok(TvResult {
        image: problem.download(&image)?,
        iterations,
        energy,
        lipschitz: problem.lipschitz(),
        lambda_unrm: problem.lambda_unrm(tv.lambda),
        stop,
    })
}

/// The support mask on the image's shape: a spatial mask `(Ny, Nx, Nz)` repeated along B, or a
/// mask of the image's shape as it is.
fn support_mask<T: Real>(m: &ArrayD<T>, image_shape: &[usize]) -> Result<ArrayD<T>> {
    if m.shape() == &image_shape[1..] {
        check_finite_shape("mask", m, &image_shape[1..])?;
        let spatial = m.view().insert_axis(Axis(0));
        Ok(spatial
            .broadcast(IxDyn(image_shape))
            .map(|b| b.to_owned())
            .ok_or_else(|| Error::Shape("mask broadcast".into()))?)
    } else {
        check_finite_shape("mask", m, image_shape)?;
        Ok(m.clone())
    }
}

fn check_finite_shape<T: Real>(what: &str, a: &ArrayD<T>, shape: &[usize]) -> Result<()> {
    if a.shape() != shape {
        return Err(Error::Shape(format!(
            "{what} of shape {:?} for a spectral-spatial image of shape {shape:?} (or its spatial shape for a mask)",
            a.shape()
        )));
    }
    if a.iter().any(|x| !x.is_finite()) {
        return Err(Error::NonFinite(what.into()));
    }
    Ok(())
}
