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
    let lambda_unrm = norm * tv.lambda;
    let lambda_b_unrm = norm * opts.lambda_spectral;

    let u = match &tv.init {
        Some(u0) => backend.upload(u0.view())?,
        None => {
            let mut u = u_bp;
            if tv.positivity {
                backend.zip_scalar(Binary::Max, &mut u, T::zero())?;
            }
            u
        }
    };
    let lipschitz = data.lipschitz(tv.lipschitz, &u, tv.tol)?;

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
    let mut terms = vec![TvTerm {
        weight: lambda_unrm,
        masks: Some(term_masks([z, o, o, o])?),
    }];
    let mut bounds = vec![(grad_norm_bound(3), lambda_unrm, tv.lambda)];
    if opts.lambda_spectral > 0.0 {
        terms.push(TvTerm {
            weight: lambda_b_unrm,
            masks: Some(term_masks([o, z, z, z])?),
        });
        bounds.push((grad_norm_bound(1), lambda_b_unrm, opts.lambda_spectral));
    }
    let steps = Steps::for_terms::<T>(lipschitz, &bounds)?;
    let reg = Regulariser {
        mask: mask
            .as_ref()
            .map(|m| backend.upload(m.view()))
            .transpose()?,
        terms,
    };
    let solution = solve_regularised(backend, vec![u], vec![reg], &steps, tv, &mut data, progress)?;
    let image = backend.download(&solution.images[0])?;
    Ok(TvResult {
        image: image
            .into_shape_with_order(IxDyn(image_shape))
            .map_err(|e| Error::Shape(format!("spectral TV output: {e}")))?,
        iterations: solution.iterations,
        energy: solution.energy,
        lipschitz,
        lambda_unrm,
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
