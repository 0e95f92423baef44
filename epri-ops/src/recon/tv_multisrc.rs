//! TV-regularised source separation: `K` sources seen in `L` experimental settings (PyEPRI's
//! `processing.tv_multisrc` and `optimization.tvsolver_cp2016_multisrc`).
//!
//! Minimises `E(u) = ½ Σ_i ‖Σ_j A_{h[i][j]} u_j − s_i‖² + λ_unrm Σ_j TV(u_j)` [+ positivity]
//! with the scheme of [`super::tv::tv_monosrc`] run on every source with shared steps
//! `τ = 0.5 / L`, `σ = L / (L_grad λ_unrm)²`, `L` the Lipschitz constant of the block operator
//! `A*A`. The stopping test sums over the sources: `Σ_j ‖u_j − u_j^old‖² < tol² Σ_j ‖u_j‖²`.
//! Iterations run on the device; the host receives two scalars per source and iteration.

use super::cp2016::{solve, DataTerm, Steps};
use super::lambda::LambdaProblem;
use super::stop::{StopReason, StopRule};
use super::tv::{Lipschitz, TvOptions, TvProgress};
use crate::error::{Error, Result};
use crate::geometry::Geometry;
use crate::grad::grad_norm_bound;
use crate::multisrc::{power_iteration_multi, MultiProjector, MultiToeplitz, Settings};
use crate::proj::ProjectorOptions;
use backend_core::{Backend, Binary, DeviceBuffer, Real, Reduce};
use ndarray::{ArrayD, ArrayView1, ArrayView2, IxDyn};
use std::f64::consts::PI;

/// Output of [`tv_multisrc`].
#[derive(Clone, Debug)]
pub struct MultiTvResult<T> {
    /// Reconstructed source images, `images[j]` of shape `shapes[j]`, axes `(Y, X[, Z])`.
    pub images: Vec<ArrayD<T>>,
    /// Iterations performed.
    pub iterations: usize,
    /// Final energy `½ Σ_i ‖(A u)_i − s_i‖² + λ_unrm Σ_j TV(u_j)` (computed once, at the end).
    pub energy: f64,
    /// Lipschitz constant `L` used for the step sizes (safety margin included).
    pub lipschitz: f64,
    /// The TV weight actually used, `λ_unrm`.
    pub lambda_unrm: f64,
    /// What ended the iterations.
    pub stop: StopReason,
}

/// `λ_unrm` of PyEPRI's multi-source normalisation:
/// `max_{i,j}(max h[i][j] − min h[i][j]) · (P_tot / L) / (2^{d−1} π) · Nb / Bsw · δ^{d−1} · λ`,
/// `P_tot` the number of projections of all settings, `L` the number of settings.
pub fn lambda_unrm_multi<T: Real>(lambda: f64, settings: &Settings<'_, T>) -> f64 {
    let l = settings.num_settings();
    let range = (0..l)
        .flat_map(|i| (0..settings.num_sources()).map(move |j| (i, j)))
        .map(|(i, j)| {
            let (lo, hi) = settings
                .h(i, j)
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
                    (lo.min(x.f64()), hi.max(x.f64()))
                });
            hi - lo
        })
        .fold(f64::NEG_INFINITY, f64::max);
    let total: usize = (0..l).map(|i| settings.geometry(i).num_proj()).sum();
    let g = settings.geometry(0);
    let d = g.dim() as i32;
    let cof2 = total as f64 / (2f64.powi(d - 1) * PI * l as f64);
    let cof3 = g.nb() as f64 / g.sweep_width().f64();
    range * cof2 * cof3 * g.delta().f64().powi(d - 1) * lambda
}

/// The data term: block operator `A`, measured sinograms `s_i`, `v = A* s`, and `A*A` as
/// Toeplitz convolutions or as a projection followed by a backprojection.
struct MultiDataTerm<B: Backend, T: Real> {
    backend: B,
    projector: MultiProjector<B, T>,
    toeplitz: Option<MultiToeplitz<B, T>>,
    proj: Vec<B::Buffer<T>>,
    adj_proj: Vec<B::Buffer<T>>,
    sino: Vec<B::Buffer<T>>,
}

impl<B: Backend, T: Real> MultiDataTerm<B, T> {
    /// `out <- A*A u`.
    fn normal(&mut self, u: &[B::Buffer<T>], out: &mut [B::Buffer<T>]) -> Result<()> {
        match &mut self.toeplitz {
            Some(k) => k.apply(u, out),
            None => {
                self.projector.apply(u, &mut self.sino)?;
                self.projector.adjoint(&self.sino, out)
            }
        }
    }

    /// `out <- ∇f(u) = A*A u − A* s`.
    fn gradient(&mut self, u: &[B::Buffer<T>], out: &mut [B::Buffer<T>]) -> Result<()> {
        self.normal(u, out)?;
        for (o, v) in out.iter_mut().zip(&self.adj_proj) {
            self.backend.zip(Binary::Sub, o, v)?;
        }
        Ok(())
    }

    /// `½ Σ_i ‖(A u)_i − s_i‖²`.
    fn fidelity(&mut self, u: &[B::Buffer<T>]) -> Result<f64> {
        self.projector.apply(u, &mut self.sino)?;
        let mut s = 0.0;
        for (a, p) in self.sino.iter().zip(&self.proj) {
            s += self.backend.sq_dist(a, p)?.f64();
        }
        Ok(0.5 * s)
    }
}
impl<B: Backend, T: Real> DataTerm<B, T> for MultiDataTerm<B, T> {
    fn gradient(&mut self, u: &[B::Buffer<T>], out: &mut [B::Buffer<T>]) -> Result<()> {
        MultiDataTerm::gradient(self, u, out)
    }

    fn fidelity(&mut self, u: &[B::Buffer<T>]) -> Result<f64> {
        MultiDataTerm::fidelity(self, u)
    }

    fn measurements(&self) -> usize {
        self.proj.iter().map(|p| p.len()).sum()
    }
}

fn check_images<T: Real>(what: &str, a: &[ArrayD<T>], shapes: &[Vec<usize>]) -> Result<()> {
    if a.len() != shapes.len() {
        return Err(Error::Shape(format!(
            "{} {what} images for {} sources",
            a.len(),
            shapes.len()
        )));
    }
    for (j, (x, s)) in a.iter().zip(shapes).enumerate() {
        if x.shape() != s.as_slice() {
            return Err(Error::Shape(format!(
                "{what} image {j} has shape {:?}, source {j} has shape {s:?}",
                x.shape()
            )));
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite(format!("{what} image {j}")));
        }
    }
    Ok(())
}

/// A source separation set up once and solved for as many weights `λ` and starting images as
/// needed (plan once, execute many): the block projector, the Toeplitz kernels, `A* s`, the
/// initial images and the Lipschitz constant do not depend on `λ`. [`tv_multisrc`] is one
/// [`MultiTvProblem::solve`]; [`super::lambda::choose_lambda`] solves it for a sequence of `λ`.
pub struct MultiTvProblem<B: Backend, T: Real> {
    backend: B,
    data: MultiDataTerm<B, T>,
    /// The initial images (`init`, or `v_j / (δ^d Σ v_j)`), on the device.
    init: Vec<B::Buffer<T>>,
    /// `L`, safety margin included.
    lipschitz: f64,
    /// `λ_unrm / λ`.
    lambda_scale: f64,
    /// Image dimension `d`.
    dim: usize,
    shapes: Vec<Vec<usize>>,
    /// Solver options (`lambda`, `tol`, `max_iter` and `stop` are overridden per solve).
    opts: TvOptions<T>,
}

/// A solution of a [`MultiTvProblem`], kept on the device.
pub struct MultiTvSolution<B: Backend, T: Real> {
    /// The source images `u_j`.
    pub images: Vec<B::Buffer<T>>,
    /// Iterations performed.
    pub iterations: usize,
    /// Final energy.
    pub energy: f64,
    /// What ended the iterations.
    pub stop: StopReason,
}

impl<B: Backend, T: Real> MultiTvProblem<B, T> {
    /// Sets up the problem of [`tv_multisrc`] (same arguments; `opts.lambda` is only checked,
    /// [`solve`](Self::solve) takes the weight).
    pub fn new(
        backend: &B,
        projs: &[ArrayView2<'_, T>],
        geometries: &[Geometry<T>],
        h: &[Vec<ArrayView1<'_, T>>],
        shapes: &[Vec<usize>],
        opts: &TvOptions<T>,
        init: Option<&[ArrayD<T>]>,
    ) -> Result<Self> {
        let settings = Settings::new(geometries, h, shapes)?;
        let (k_src, l_set, d) = (
            settings.num_sources(),
            settings.num_settings(),
            settings.dim(),
        );
        if projs.len() != l_set {
            return Err(Error::Shape(format!(
                "{} sinograms for {l_set} settings",
                projs.len()
            )));
        }
        for (i, p) in projs.iter().enumerate() {
            settings.geometry(i).check_sinogram_shape(p.shape())?;
            if p.iter().any(|x| !x.is_finite()) {
                return Err(Error::NonFinite(format!("the projections of setting {i}")));
            }
        }
        opts.check_solver()?;
        if opts.mask.is_some() || opts.init.is_some() {
            return Err(Error::Parameter(
                "tv_multisrc takes no support mask, and its initial images through `init` (TvOptions::mask and TvOptions::init must be None)".into(),
            ));
        }
        if let Some(u0) = init {
            check_images("init", u0, shapes)?;
        }

        let popts = ProjectorOptions {
            rfft_mode: true,
            eps: opts.eps,
        };
        let projector = MultiProjector::new(backend, geometries, h, shapes, popts)?;
        let toeplitz = if opts.use_toeplitz {
            Some(MultiToeplitz::new(
                backend, geometries, h, shapes, opts.eps,
            )?)
        } else {
            None
        };
        let zeros = |s: &[usize]| backend.zeros::<T>(s);
        let proj = projs
            .iter()
            .map(|p| backend.upload(p.view().into_dyn()))
            .collect::<backend_core::Result<Vec<_>>>()?;
        let mut data = MultiDataTerm {
            backend: backend.clone(),
            sino: proj
                .iter()
                .map(|p| zeros(p.shape()))
                .collect::<backend_core::Result<Vec<_>>>()?,
            adj_proj: shapes
                .iter()
                .map(|s| zeros(s))
                .collect::<backend_core::Result<Vec<_>>>()?,
            proj,
            projector,
            toeplitz,
        };
        data.projector.adjoint(&data.proj, &mut data.adj_proj)?;
        let delta_d = settings.geometry(0).delta().f64().powi(d as i32);

        // Initial images.
        let mut u = Vec::with_capacity(k_src);
        for j in 0..k_src {
            let uj = match init {
                Some(u0) => backend.upload(u0[j].view())?,
                None => {
                    let v = &data.adj_proj[j];
                    let total = backend.reduce(Reduce::Sum, v)?.f64();
                    let scale = 1.0 / (delta_d * total);
                    if !scale.is_finite() {
                        return Err(Error::Parameter(format!(
                            "the backprojection (A* s)_{j} of source {j} sums to {total:e}, so its default initial image is undefined: check that the projections and the spectrum of source {j} are not all zero and fit the working precision, or pass initial images"
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
            u.push(uj);
        }

        // Lipschitz constant of ∇f.
        let lipschitz = match opts.lipschitz {
            Lipschitz::Value(l) => l,
            Lipschitz::UpperBound => match &data.toeplitz {
                Some(k) => k.upper_bound(),
                None => {
                    return Err(Error::Parameter(
                        "the upper-bound Lipschitz constant needs the Toeplitz kernels".into(),
                    ))
                }
            },
            Lipschitz::Auto => {
                let l = power_iteration_multi(backend, &u, T::of(opts.tol), 1000, |x, y| {
                    data.normal(x, y)
                })?;
                1.05 * l.f64()
            }
        };
        Ok(MultiTvProblem {
            backend: backend.clone(),
            data,
            init: u,
            lipschitz,
            lambda_scale: lambda_unrm_multi(1.0, &settings),
            dim: d,
            shapes: shapes.to_vec(),
            opts: opts.clone(),
        })
    }

    /// The Lipschitz constant `L` of `∇f` used for the step sizes (safety margin included).
    pub fn lipschitz(&self) -> f64 {
        self.lipschitz
    }

    /// The TV weight `λ_unrm` that the normalised weight `lambda` stands for.
    pub fn lambda_unrm(&self, lambda: f64) -> f64 {
        self.lambda_scale * lambda
    }

    fn steps(&self, lambda: f64) -> Result<Steps> {
        Steps::new::<T>(
            self.lipschitz,
            grad_norm_bound(self.dim),
            self.lambda_unrm(lambda),
            lambda,
        )
    }

    /// Runs the iterations for the normalised weight `lambda` from `start` (default: the
    /// initial images) until `stop` fires with the tolerance `tol`, or `max_iter` iterations,
    /// calling `progress` after each iteration.
    pub fn solve(
        &mut self,
        lambda: f64,
        start: Option<&[B::Buffer<T>]>,
        tol: f64,
        max_iter: usize,
        stop: StopRule,
        progress: &mut dyn FnMut(&TvProgress),
    ) -> Result<MultiTvSolution<B, T>> {
        let opts = self.opts.for_run(lambda, tol, max_iter, stop)?;
        let steps = self.steps(lambda)?;
        let be = &self.backend;
        let u = start
            .unwrap_or(&self.init)
            .iter()
            .map(|x| be.duplicate(x))
            .collect::<backend_core::Result<Vec<_>>>()?;
        let support = (0..u.len()).map(|_| None).collect();
        let s = solve(be, u, support, &steps, &opts, &mut self.data, progress)?;
        Ok(MultiTvSolution {
            images: s.images,
            iterations: s.iterations,
            energy: s.energy,
            stop: s.stop,
        })
    }

    /// Downloads the source images, `images[j]` of shape `shapes[j]`.
    pub fn download(&self, u: &[B::Buffer<T>]) -> Result<Vec<ArrayD<T>>> {
        u.iter()
            .zip(&self.shapes)
            .map(|(x, s)| {
                self.backend
                    .download(x)?
                    .into_shape_with_order(IxDyn(s))
                    .map_err(|e| Error::Shape(format!("TV output: {e}")))
            })
            .collect()
    }
}

impl<B: Backend, T: Real> LambdaProblem<B, T> for MultiTvProblem<B, T> {
    type Image = Vec<B::Buffer<T>>;
    fn backend(&self) -> &B {
        &self.backend
    }
    fn check_lambda(&self, lambda: f64) -> Result<()> {
        self.steps(lambda).map(|_| ())
    }
    fn sinograms(&self) -> &[B::Buffer<T>] {
        &self.data.proj
    }
    fn set_sinograms(&mut self, s: &[B::Buffer<T>]) -> Result<()> {
        for (d, x) in self.data.proj.iter_mut().zip(s) {
            self.backend.copy(x, d)?;
        }
        let data = &mut self.data;
        data.projector.adjoint(&data.proj, &mut data.adj_proj)
    }
    fn forward(&mut self, u: &Self::Image, out: &mut [B::Buffer<T>]) -> Result<()> {
        self.data.projector.apply(u, out)
    }
    fn solve_for(
        &mut self,
        lambda: f64,
        start: Option<&Self::Image>,
        tol: f64,
        max_iter: usize,
    ) -> Result<Self::Image> {
        let start = start.map(|v| v.as_slice());
        let mut quiet = |_: &TvProgress| {};
        Ok(self
            .solve(lambda, start, tol, max_iter, StopRule::Change, &mut quiet)?
            .images)
    }
    fn clone_image(&self, u: &Self::Image) -> Result<Self::Image> {
        Ok(u.iter()
            .map(|x| self.backend.duplicate(x))
            .collect::<backend_core::Result<_>>()?)
    }
}

/// TV-regularised separation of `K` sources from the projections of `L` settings.
///
/// * `projs[i]`: measured projections of setting `i`, shape `(P_i, Nb)`;
/// * `geometries`: one per setting (or one for all): shared B grid and pixel size `δ`, field
///   gradients `(d, P_i)`;
/// * `h[i][j]`: reference spectrum `(Nb,)` of source `j` in setting `i` (`L` rows, or one row for
///   all settings);
/// * `shapes[j]`: image shape `(Ny, Nx[, Nz])` of source `j`;
/// * `opts`: as for [`super::tv::tv_monosrc`]; `opts.mask` and `opts.init` must be `None`
///   (PyEPRI has no support mask for several sources; initial images go through `init`);
/// * `init`: `K` initial images, default `v_j / (δ^d Σ v_j)` with `v = A* s` (clipped at 0 with
///   `positivity`);
/// * `progress`: called after every iteration (`relative_change` over all sources).
///
/// Errors: shape, geometry and parameter errors as [`Settings::new`] and
/// [`super::tv::tv_monosrc`]; [`Error::NonFinite`] for non-finite inputs or a diverging iterate.
#[allow(clippy::too_many_arguments)]
pub fn tv_multisrc<B: Backend, T: Real>(
    backend: &B,
    projs: &[ArrayView2<'_, T>],
    geometries: &[Geometry<T>],
    h: &[Vec<ArrayView1<'_, T>>],
    shapes: &[Vec<usize>],
    opts: &TvOptions<T>,
    init: Option<&[ArrayD<T>]>,
    progress: &mut dyn FnMut(&TvProgress),
) -> Result<MultiTvResult<T>> {
    let mut problem = MultiTvProblem::new(backend, projs, geometries, h, shapes, opts, init)?;
    let s = problem.solve(
        opts.lambda,
        None,
        opts.tol,
        opts.max_iter,
        opts.stop,
        progress,
    )?;
    Ok(MultiTvResult {
        images: problem.download(&s.images)?,
        iterations: s.iterations,
        energy: s.energy,
        lipschitz: problem.lipschitz(),
        lambda_unrm: problem.lambda_unrm(opts.lambda),
        stop: s.stop,
    })
}
