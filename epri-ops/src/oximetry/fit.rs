//! Per-voxel least-squares fit of a line-shape model to the spectra of a spectral-spatial
//! image: plan once ([`SpectrumFit::new`]: model, field grid, options), fit many
//! ([`SpectrumFit::fit`]: every voxel of an image, in parallel with rayon).
//!
//! # Method
//!
//! Each spectrum `y` (shape `(Nb,)`, on the field grid `B`) is first normalised,
//! `(y − mid)/pp` with `pp = max − min` and `mid = (max + min)/2`, so that tolerances and the
//! damping do not depend on the intensity scale; the fitted amplitude and offset (and their
//! errors) are scaled back. The parameters start from moment estimates:
//!
//! * first derivative: the centre halfway between the field of the maximum and that of the
//!   minimum, the width their distance (the peak-to-peak width by definition), the amplitude
//!   from the peak-to-peak height, the offset the mean of the outer 1/16 of the samples at
//!   each end;
//! * absorption: the offset as above, the centre at the largest deviation from it, the width
//!   from the full width at half maximum (crossings interpolated linearly) divided by the
//!   model's FWHM per unit peak-to-peak width, the amplitude from the peak height;
//! * the pseudo-Voigt's Lorentzian fraction starts at 0.5.
//!
//! Then Levenberg–Marquardt on the sum of squares `F(p) = ½‖f(p) − y‖²` with the analytic
//! Jacobian of [`LineModel`]: each step solves `(JᵀJ + λ·D) δ = −Jᵀr` by Cholesky, with `D`
//! the diagonal of `JᵀJ` (Marquardt's scaling, so that steps do not depend on the units of
//! the parameters). Damping (Nielsen's strategy, as in Madsen, Nielsen & Tingleff, *Methods
//! for non-linear least squares problems*, 2004): `λ` starts at 1e-3; a step that lowers `F`
//! is taken and `λ ← λ·max(1/3, 1 − (2ρ − 1)³)`, `ρ` the ratio of the actual to the predicted
//! decrease, `ν ← 2`; a step that does not (or leaves the domain: width ≤ 0) is refused and
//! `λ ← λ·ν`, `ν ← 2ν` (so does a damped matrix that Cholesky cannot factor). The Lorentzian
//! fraction of a trial point is clipped into `[0, 1]`. The model and its Jacobian are
//! evaluated column by column over the grid and `JᵀJ` is formed by dot products.
//!
//! Stopping rules: **converged** when a step (taken or not) changes every parameter by at
//! most `step_tolerance` times its scale (centre and width: the width; amplitude: its
//! magnitude; offset: the normalised peak-to-peak, 1; Lorentzian fraction: 1). A step refused
//! at a minimum makes `λ` grow until the step is that small, so a minimum reached to the
//! precision of the arithmetic also counts as converged. **Not converged** after
//! `max_iterations` steps (taken or refused) or if `λ` overflows.
//!
//! Standard errors: `σ_i = √(s²·[(JᵀJ)⁻¹]_ii)`, `s² = ‖r‖²/(Nb − n)`, at the solution (the
//! usual asymptotic estimate for independent noise of equal variance).
//!
//! # Validity
//!
//! A voxel's [`Status`] is [`Status::Fitted`] only if its spectrum stands above the intensity
//! threshold, the extrema the start uses are not at an end of the grid (else the line runs off
//! it), the fit converged, `JᵀJ` is invertible, the centre lies within the field grid, the
//! width lies between the mean field step and the sweep width (a narrower "line" is one or two
//! samples, not a resolved line), and every output is finite. Any other voxel is masked: every
//! value of its maps is 0 (never NaN), and its status says why.

use super::model::{Form, LineModel, Param};
use crate::error::{Error, Result};
use backend_core::Real;
use ndarray::{ArrayD, ArrayView1, ArrayViewD, IxDyn};
use rayon::prelude::*;

/// Options of the fit.
#[derive(Clone, Copy, Debug)]
pub struct FitOptions {
    /// Voxels whose spectrum's peak-to-peak (max − min over B) is at most `threshold` times
    /// the largest over the image are not fitted ([`Status::BelowThreshold`]). In `[0, 1)`.
    pub threshold: f64,
    /// Most Levenberg–Marquardt steps (taken or refused) per voxel. At least 1.
    pub max_iterations: usize,
    /// Relative step size below which a fit has converged (see the module's stopping rules).
    /// In `(0, 1)`.
    pub step_tolerance: f64,
}

impl Default for FitOptions {
    /// Threshold 0.1, at most 200 steps, step tolerance 1e-10.
    fn default() -> Self {
        FitOptions {
            threshold: 0.1,
            max_iterations: 200,
            step_tolerance: 1e-10,
        }
    }
}

/// Why a voxel is, or is not, valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
    /// A valid fit.
    Fitted = 0,
    /// Peak-to-peak of the spectrum at or below the threshold (all-zero and flat spectra too):
    /// not fitted.
    BelowThreshold = 1,
    /// The fit did not converge within the step limit.
    NotConverged = 2,
    /// `JᵀJ` is singular at the solution (no standard errors), or an output is not finite.
    Singular = 3,
    /// The spectrum's extremum lies at an end of the grid (not fitted), or the fitted centre
    /// outside the grid, or the width outside `[mean field step, sweep width]`: the line runs
    /// off the grid or is not resolved.
    OutOfRange = 4,
}

/// The fit of one spectrum. Parameters and errors are indexed by [`Param::index`]; entries
/// beyond the model's [`LineModel::n_params`] are 0, and so is every value of a voxel whose
/// status is not [`Status::Fitted`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VoxelFit {
    /// Centre (G), peak-to-peak width (G), amplitude (area, intensity × G), offset (intensity),
    /// Lorentzian fraction.
    pub params: [f64; 5],
    /// Their standard errors, same units.
    pub std_errors: [f64; 5],
    /// `‖y − f(p)‖₂` at the solution, intensity units.
    pub residual_norm: f64,
    /// Levenberg–Marquardt steps made (taken or refused).
    pub iterations: u32,
    /// Whether the iteration met its stopping rule (independently of the other checks).
    pub converged: bool,
    /// Whether, and why not, the voxel is valid.
    pub status: Status,
}

impl VoxelFit {
    fn masked(status: Status, iterations: u32, converged: bool) -> Self {
        VoxelFit {
            params: [0.0; 5],
            std_errors: [0.0; 5],
            residual_norm: 0.0,
            iterations,
            converged,
            status,
        }
    }
}

/// A fit plan: a line-shape model on a field grid, with its options, checked once.
#[derive(Clone, Debug)]
pub struct SpectrumFit {
    model: LineModel,
    field: Vec<f64>,
    options: FitOptions,
    /// FWHM of the absorption line per unit peak-to-peak width at the starting `η`.
    fwhm_per_width: f64,
    /// Samples averaged at each end for the starting offset.
    edge: usize,
}

/// Starting Lorentzian fraction of the pseudo-Voigt.
const ETA_START: f64 = 0.5;
/// Voxels gathered per parallel task (their spectra are copied into one contiguous block).
const CHUNK: usize = 64;

impl SpectrumFit {
    /// Plans the fit of `model` to spectra sampled on `field` (shape `(Nb,)`, G, strictly
    /// increasing, not necessarily uniform).
    ///
    /// Errors: a field grid with non-finite values, not strictly increasing, or with fewer
    /// than `n_params + 2` samples; options out of their ranges.
    pub fn new(model: LineModel, field: ArrayView1<'_, f64>, options: FitOptions) -> Result<Self> {
        let n = model.n_params();
        if field.len() < n + 2 {
            return Err(Error::Shape(format!(
                "the field grid B has {} samples: a {}-parameter line fit needs at least {}",
                field.len(),
                n,
                n + 2
            )));
        }
        if let Some(k) = field.iter().position(|b| !b.is_finite()) {
            return Err(Error::NonFinite(format!(
                "the field grid B (sample {k}: {})",
                field[k]
            )));
        }
        if let Some(k) = (1..field.len()).find(|&k| field[k] <= field[k - 1]) {
            return Err(Error::Geometry(format!(
                "the field grid B must be strictly increasing: B[{}] = {} is followed by B[{k}] = {}",
                k - 1,
                field[k - 1],
                field[k]
            )));
        }
        if !(0.0..1.0).contains(&options.threshold) {
            return Err(Error::Parameter(format!(
                "the intensity threshold must lie in [0, 1), got {}",
                options.threshold
            )));
        }
        if options.max_iterations == 0 || options.max_iterations > u32::MAX as usize {
            return Err(Error::Parameter(format!(
                "the iteration limit must lie in [1, {}], got {}",
                u32::MAX,
                options.max_iterations
            )));
        }
        if !(options.step_tolerance > 0.0 && options.step_tolerance < 1.0) {
            return Err(Error::Parameter(format!(
                "the step tolerance must lie in (0, 1), got {}",
                options.step_tolerance
            )));
        }
        Ok(SpectrumFit {
            model,
            fwhm_per_width: model.fwhm_per_width(ETA_START),
            edge: (field.len() / 16).max(1),
            field: field.to_vec(),
            options,
        })
    }

    /// The model fitted.
    pub fn model(&self) -> LineModel {
        self.model
    }

    /// The field grid `B`, G.
    pub fn field(&self) -> &[f64] {
        &self.field
    }

    /// The options.
    pub fn options(&self) -> &FitOptions {
        &self.options
    }

    /// Fits one spectrum `y` (shape `(Nb,)`, on [`field`](Self::field)). The threshold is
    /// relative to an image and does not apply: only a spectrum with zero peak-to-peak is
    /// [`Status::BelowThreshold`].
    ///
    /// Errors: `y` of the wrong length, or holding NaN or infinite values.
    pub fn fit_spectrum(&self, y: &[f64]) -> Result<VoxelFit> {
        if y.len() != self.field.len() {
            return Err(Error::Shape(format!(
                "the spectrum has {} samples but the field grid B has {}",
                y.len(),
                self.field.len()
            )));
        }
        if let Some(k) = y.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite(format!(
                "the spectrum (sample {k}: {})",
                y[k]
            )));
        }
        let mut buf = y.to_vec();
        let (lo, hi) = min_max(&buf);
        let mut work = Work::new(buf.len());
        Ok(self.fit_normalising(&mut buf, lo, hi, 0.0, &mut work))
    }

    /// Fits every voxel of `image`, shape `(Nb, ...)`: the spectral axis first (its length
    /// that of the field grid), then any number (≥ 1) of spatial axes, e.g. `(Nb, Ny, Nx)`
    /// or `(Nb, Ny, Nx, Nz)`. The maps have the spatial shape. Voxels are fitted in parallel
    /// on rayon's pool.
    ///
    /// Errors: an image with no spatial axis or no voxel, a spectral axis whose length is not
    /// that of B, NaN or infinite values (naming the first one found).
    pub fn fit<T: Real>(&self, image: ArrayViewD<'_, T>) -> Result<FitMaps> {
        let nb = self.field.len();
        let shape = image.shape();
        if shape.len() < 2 {
            return Err(Error::Shape(format!(
                "the image has {} axis(es) {:?}: expected the spectral axis then the spatial axes, (Nb, Ny, Nx[, Nz])",
                shape.len(),
                shape
            )));
        }
        if shape[0] != nb {
            return Err(Error::Shape(format!(
                "the image's first (spectral) axis has {} samples but B has {nb}: the image must be (Nb, Ny, Nx[, Nz]) with Nb = len(B)",
                shape[0]
            )));
        }
        let spatial = shape[1..].to_vec();
        let nvox: usize = spatial.iter().product();
        if nvox == 0 {
            return Err(Error::Shape(format!("the image {shape:?} has no voxel")));
        }
        let img = image.as_standard_layout();
        let flat = img
            .as_slice()
            .ok_or_else(|| Error::Shape("the image is not contiguous".into()))?;
        if let Some(i) = flat.par_iter().position_any(|x| !x.is_finite()) {
            let (k, v) = (i / nvox, i % nvox);
            return Err(Error::NonFinite(format!(
                "the image: {} at spectral sample {k} of voxel {:?}",
                flat[i],
                unravel(v, &spatial)
            )));
        }
        // Peak-to-peak of every spectrum, for the threshold.
        let mut extent = vec![(0.0f64, 0.0f64); nvox];
        extent
            .par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(c, out)| {
                let v0 = c * CHUNK;
                out.iter_mut()
                    .for_each(|e| *e = (f64::INFINITY, f64::NEG_INFINITY));
                for k in 0..nb {
                    let row = &flat[k * nvox + v0..k * nvox + v0 + out.len()];
                    for (e, x) in out.iter_mut().zip(row) {
                        let x = x.f64();
                        *e = (e.0.min(x), e.1.max(x));
                    }
                }
            });
        let largest = extent.iter().fold(0.0f64, |m, &(lo, hi)| m.max(hi - lo));
        let floor = self.options.threshold * largest;
        let mut voxels = vec![VoxelFit::masked(Status::BelowThreshold, 0, false); nvox];
        voxels
            .par_chunks_mut(CHUNK)
            .zip(extent.par_chunks(CHUNK))
            .enumerate()
            .for_each(|(c, (out, ext))| {
                let v0 = c * CHUNK;
                let m = out.len();
                let mut block = vec![0.0f64; m * nb];
                let mut work = Work::new(nb);
                for k in 0..nb {
                    let row = &flat[k * nvox + v0..k * nvox + v0 + m];
                    for (j, x) in row.iter().enumerate() {
                        block[j * nb + k] = x.f64();
                    }
                }
                for ((o, &(lo, hi)), y) in out.iter_mut().zip(ext).zip(block.chunks_mut(nb)) {
                    *o = self.fit_normalising(y, lo, hi, floor, &mut work);
                }
            });
        Ok(FitMaps {
            model: self.model,
            shape: spatial,
            voxels,
        })
    }

    /// Fits `y` (finite, overwritten) with range `[lo, hi]`; a peak-to-peak at most `floor`
    /// (or zero) is below the threshold.
    fn fit_normalising(
        &self,
        y: &mut [f64],
        lo: f64,
        hi: f64,
        floor: f64,
        work: &mut Work,
    ) -> VoxelFit {
        let pp = hi - lo;
        if !(pp > floor && pp > 0.0 && pp.is_finite()) {
            return VoxelFit::masked(Status::BelowThreshold, 0, false);
        }
        let mid = 0.5 * (hi + lo);
        y.iter_mut().for_each(|v| *v = (*v - mid) / pp);
        let mut fit = match self.model.n_params() {
            4 => self.fit_normalised::<4>(y, work),
            _ => self.fit_normalised::<5>(y, work),
        };
        if fit.status == Status::Fitted {
            let (a, b) = (Param::Amplitude.index(), Param::Offset.index());
            fit.params[a] *= pp;
            fit.std_errors[a] *= pp;
            fit.params[b] = fit.params[b] * pp + mid;
            fit.std_errors[b] *= pp;
            fit.residual_norm *= pp;
            if !(fit
                .params
                .iter()
                .chain(&fit.std_errors)
                .all(|x| x.is_finite())
                && fit.residual_norm.is_finite())
            {
                return VoxelFit::masked(Status::Singular, fit.iterations, fit.converged);
            }
        }
        fit
    }

    /// Moment estimates of the parameters of a normalised spectrum (see the module doc);
    /// `None` if an extremum the estimates use (derivative: maximum or minimum; absorption:
    /// largest deviation from the offset) is the first or the last sample: the line runs off
    /// the grid.
    fn start(&self, y: &[f64]) -> Option<[f64; 5]> {
        let b = &self.field;
        let nb = b.len();
        let m = self.edge;
        let offset =
            (y[..m].iter().sum::<f64>() + y[nb - m..].iter().sum::<f64>()) / (2 * m) as f64;
        let step = b
            .windows(2)
            .map(|w| w[1] - w[0])
            .fold(f64::INFINITY, f64::min);
        let argmax = |f: &dyn Fn(f64) -> f64| {
            Some((0..nb).fold(0, |best, k| if f(y[k]) > f(y[best]) { k } else { best }))
                .filter(|&k| k > 0 && k < nb - 1)
        };
        match self.model.form {
            Form::Derivative => {
                let (imax, imin) = (argmax(&|v| v)?, argmax(&|v| -v)?);
                let center = 0.5 * (b[imax] + b[imin]);
                let width = (b[imax] - b[imin]).abs().max(step);
                let unit = |k: usize| self.model.unit_value(b[k] - center, width, ETA_START);
                let den = unit(imax) - unit(imin);
                let amplitude = if den != 0.0 {
                    (y[imax] - y[imin]) / den
                } else {
                    0.0
                };
                Some([center, width, amplitude, offset, ETA_START])
            }
            Form::Absorption => {
                let ipk = argmax(&|v| (v - offset).abs())?;
                let height = y[ipk] - offset;
                let above = |k: usize| (y[k] - offset) * height.signum() > 0.5 * height.abs();
                // Field of the half-height crossing between samples k (above) and j (below).
                let crossing = |k: usize, j: usize| {
                    let (zk, zj) = (y[k] - offset, y[j] - offset);
                    let t = (zk - 0.5 * height) / (zk - zj);
                    b[k] + t.clamp(0.0, 1.0) * (b[j] - b[k])
                };
                let left = (0..ipk)
                    .rev()
                    .find(|&k| !above(k))
                    .map(|j| b[ipk] - crossing(j + 1, j));
                let right = (ipk + 1..nb)
                    .find(|&k| !above(k))
                    .map(|j| crossing(j - 1, j) - b[ipk]);
                let fwhm = match (left, right) {
                    (Some(l), Some(r)) => l + r,
                    (Some(h), None) | (None, Some(h)) => 2.0 * h,
                    (None, None) => b[nb - 1] - b[0],
                }
                .max(step);
                let width = fwhm / self.fwhm_per_width;
                let peak = self.model.unit_value(0.0, width, ETA_START);
                Some([b[ipk], width, height / peak, offset, ETA_START])
            }
        }
    }

    /// `JᵀJ`, `Jᵀr` and `½‖r‖²` at `p`, through the model and Jacobian columns of `work`.
    fn normal_equations<const N: usize>(
        &self,
        p: &[f64; N],
        y: &[f64],
        work: &mut Work,
    ) -> ([[f64; N]; N], [f64; N], f64) {
        let Work { residual, jac } = work;
        self.model.evaluate(&self.field, p, residual, jac);
        residual.iter_mut().zip(y).for_each(|(r, y)| *r -= y);
        let g = std::array::from_fn(|i| dot(&jac[i], residual));
        let mut a = [[0.0; N]; N];
        for i in 0..N {
            for j in 0..=i {
                a[i][j] = dot(&jac[i], &jac[j]);
                a[j][i] = a[i][j];
            }
        }
        (a, g, 0.5 * dot(residual, residual))
    }

    /// Levenberg–Marquardt from the moment estimates on a normalised spectrum; a
    /// [`Status::Fitted`] result is still in normalised units.
    fn fit_normalised<const N: usize>(&self, y: &[f64], work: &mut Work) -> VoxelFit {
        let Some(start) = self.start(y) else {
            return VoxelFit::masked(Status::OutOfRange, 0, false);
        };
        let mut p: [f64; N] = std::array::from_fn(|i| start[i]);
        let tol = self.options.step_tolerance;
        let (mut a, mut g, mut cost) = self.normal_equations(&p, y, work);
        let (mut lambda, mut nu) = (1e-3f64, 2.0f64);
        let mut converged = false;
        let mut iterations = 0u32;
        while (iterations as usize) < self.options.max_iterations
            && lambda.is_finite()
            && cost.is_finite()
        {
            iterations += 1;
            let largest = (0..N).fold(0.0f64, |m, i| m.max(a[i][i]));
            let damping: [f64; N] = std::array::from_fn(|i| a[i][i].max(1e-12 * largest));
            let mut m = a;
            for i in 0..N {
                m[i][i] += lambda * damping[i];
            }
            let Some(l) = cholesky(&m) else {
                lambda *= nu;
                nu *= 2.0;
                continue;
            };
            let delta = solve(&l, &g.map(|v| -v));
            let mut trial: [f64; N] = std::array::from_fn(|i| p[i] + delta[i]);
            if let Some(eta) = trial.get_mut(Param::LorentzFraction.index()) {
                *eta = eta.clamp(0.0, 1.0);
            }
            let scale = |i: usize| match i {
                0 | 1 => p[1].abs(),
                2 => p[2].abs(),
                _ => 1.0,
            };
            if (0..N).all(|i| (trial[i] - p[i]).abs() <= tol * scale(i)) {
                converged = true;
                break;
            }
            let (a2, g2, cost2) = if trial[1] > 0.0 && trial.iter().all(|v| v.is_finite()) {
                self.normal_equations(&trial, y, work)
            } else {
                ([[0.0; N]; N], [0.0; N], f64::INFINITY)
            };
            if cost2 < cost {
                let predicted: f64 = (0..N)
                    .map(|i| 0.5 * delta[i] * (lambda * damping[i] * delta[i] - g[i]))
                    .sum();
                let rho = (cost - cost2) / predicted;
                lambda *= (1.0 - (2.0 * rho - 1.0).powi(3)).max(1.0 / 3.0);
                nu = 2.0;
                (p, a, g, cost) = (trial, a2, g2, cost2);
            } else {
                lambda *= nu;
                nu *= 2.0;
            }
        }
        if !converged {
            return VoxelFit::masked(Status::NotConverged, iterations, false);
        }
        let (c, w) = (p[0], p[1]);
        let nb = self.field.len();
        let (b0, b1) = (self.field[0], self.field[nb - 1]);
        let step = (b1 - b0) / (nb - 1) as f64;
        if !(c >= b0 && c <= b1 && w >= step && w <= b1 - b0) {
            return VoxelFit::masked(Status::OutOfRange, iterations, true);
        }
        let dof = (self.field.len() - N) as f64;
        let s2 = 2.0 * cost / dof;
        let Some(var) = cholesky(&a).map(|l| inverse_diagonal(&l)) else {
            return VoxelFit::masked(Status::Singular, iterations, true);
        };
        let mut fit = VoxelFit::masked(Status::Fitted, iterations, true);
        for i in 0..N {
            fit.params[i] = p[i];
            fit.std_errors[i] = (s2 * var[i]).sqrt();
        }
        fit.residual_norm = (2.0 * cost).sqrt();
        fit
    }
}

/// The maps of a fitted image: one [`VoxelFit`] per voxel, in the image's spatial shape
/// (C order).
#[derive(Clone, Debug)]
pub struct FitMaps {
    model: LineModel,
    shape: Vec<usize>,
    voxels: Vec<VoxelFit>,
}

impl FitMaps {
    /// The model fitted.
    pub fn model(&self) -> LineModel {
        self.model
    }

    /// The spatial shape of every map, e.g. `(Ny, Nx, Nz)`.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Every voxel's fit, in C order of [`shape`](Self::shape).
    pub fn voxels(&self) -> &[VoxelFit] {
        &self.voxels
    }

    /// A map of any per-voxel quantity.
    pub fn map<U>(&self, f: impl Fn(&VoxelFit) -> U) -> ArrayD<U> {
        ArrayD::from_shape_vec(IxDyn(&self.shape), self.voxels.iter().map(f).collect())
            .expect("one value per voxel")
    }

    /// The map of parameter `p` (0 in masked voxels). Error: a parameter the model lacks (the
    /// Lorentzian fraction of a Lorentzian or Gaussian model).
    pub fn value(&self, p: Param) -> Result<ArrayD<f64>> {
        self.check_param(p)?;
        Ok(self.map(|v| v.params[p.index()]))
    }

    /// The map of the standard error of parameter `p` (0 in masked voxels).
    pub fn std_error(&self, p: Param) -> Result<ArrayD<f64>> {
        self.check_param(p)?;
        Ok(self.map(|v| v.std_errors[p.index()]))
    }

    /// The map of `‖y − f(p)‖₂` (0 in masked voxels).
    pub fn residual_norm(&self) -> ArrayD<f64> {
        self.map(|v| v.residual_norm)
    }

    /// Whether each voxel's iteration converged (false where it was not fitted).
    pub fn converged(&self) -> ArrayD<bool> {
        self.map(|v| v.converged)
    }

    /// Each voxel's [`Status`].
    pub fn status(&self) -> ArrayD<Status> {
        self.map(|v| v.status)
    }

    /// The validity mask: true where the status is [`Status::Fitted`].
    pub fn mask(&self) -> ArrayD<bool> {
        self.map(|v| v.status == Status::Fitted)
    }

    /// How many voxels have each status, indexed by `Status as usize`.
    pub fn status_counts(&self) -> [usize; 5] {
        let mut n = [0; 5];
        for v in &self.voxels {
            n[v.status as usize] += 1;
        }
        n
    }

    fn check_param(&self, p: Param) -> Result<()> {
        if self.model.params().contains(&p) {
            Ok(())
        } else {
            Err(Error::Parameter(format!(
                "the {:?} model has no parameter '{}'",
                self.model.profile,
                p.name()
            )))
        }
    }
}

/// Scratch of one fit: the residual and the Jacobian columns, each of shape `(Nb,)`.
struct Work {
    residual: Vec<f64>,
    jac: [Vec<f64>; 5],
}

impl Work {
    fn new(nb: usize) -> Self {
        Work {
            residual: vec![0.0; nb],
            jac: std::array::from_fn(|_| vec![0.0; nb]),
        }
    }
}

/// `Σ a_k b_k`, in four interleaved partial sums (which the compiler keeps in vector
/// registers: a single running sum would serialise the additions).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    let mut acc = [0.0; 4];
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `min` and `max` of a slice.
fn min_max(y: &[f64]) -> (f64, f64) {
    y.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}

/// The multi-index of flat index `i` in C order of `shape`.
fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for (d, &n) in shape.iter().enumerate().rev() {
        idx[d] = i % n;
        i /= n;
    }
    idx
}

/// The lower Cholesky factor of a symmetric positive definite matrix, `None` if it is not.
fn cholesky<const N: usize>(m: &[[f64; N]; N]) -> Option<[[f64; N]; N]> {
    let mut l = [[0.0; N]; N];
    for i in 0..N {
        for j in 0..=i {
            let s = m[i][j] - (0..j).map(|k| l[i][k] * l[j][k]).sum::<f64>();
            if i == j {
                if !(s > 0.0 && s.is_finite()) {
                    return None;
                }
                l[i][i] = s.sqrt();
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    Some(l)
}

/// Solves `L Lᵀ x = rhs`.
fn solve<const N: usize>(l: &[[f64; N]; N], rhs: &[f64; N]) -> [f64; N] {
    let mut z = [0.0; N];
    for i in 0..N {
        z[i] = (rhs[i] - (0..i).map(|k| l[i][k] * z[k]).sum::<f64>()) / l[i][i];
    }
    let mut x = [0.0; N];
    for i in (0..N).rev() {
        x[i] = (z[i] - (i + 1..N).map(|k| l[k][i] * x[k]).sum::<f64>()) / l[i][i];
    }
    x
}

/// The diagonal of `(L Lᵀ)⁻¹`.
fn inverse_diagonal<const N: usize>(l: &[[f64; N]; N]) -> [f64; N] {
    std::array::from_fn(|i| {
        let mut e = [0.0; N];
        e[i] = 1.0;
        solve(l, &e)[i]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oximetry::model::Profile;
    use ndarray::{Array1, Array2, Array4};
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};

    /// 128 field samples over 3394–3406 G (an X-band-like centre, so that the centre's
    /// relative accuracy is tested at a realistic magnitude).
    fn field() -> Array1<f64> {
        Array1::linspace(3394.0, 3406.0, 128)
    }

    /// The parameters of voxel `v` of a synthetic image: centres, widths, areas and offsets
    /// varying from voxel to voxel, Lorentzian fraction 0.35.
    fn truth(v: usize) -> [f64; 5] {
        let t = v as f64;
        [
            3399.2 + 0.13 * t,
            0.6 + 0.11 * t,
            2.0 + 0.3 * t,
            0.01 * t - 0.04,
            0.35,
        ]
    }

    /// An image `(Nb, 2, 3, 2)` of noise-free lines of `model`, voxel `v` with [`truth`]`(v)`.
    fn noise_free_image(model: LineModel) -> Array4<f64> {
        let b = field();
        let mut u = Array4::zeros((b.len(), 2, 3, 2));
        for (v, mut spectrum) in u
            .view_mut()
            .into_shape_with_order((b.len(), 12))
            .unwrap()
            .columns_mut()
            .into_iter()
            .enumerate()
        {
            let p = truth(v);
            for (k, y) in spectrum.iter_mut().enumerate() {
                *y = model.value(b[k], &p[..model.n_params()]);
            }
        }
        u
    }

    fn noise_free(profile: Profile, form: Form) {
        let model = LineModel::new(profile, form);
        let plan = SpectrumFit::new(model, field().view(), FitOptions::default()).unwrap();
        let u = noise_free_image(model);
        let maps = plan.fit(u.view().into_dyn()).unwrap();
        assert_eq!(maps.shape(), &[2, 3, 2]);
        assert!(maps.mask().iter().all(|&m| m), "{:?}", maps.status_counts());
        for (v, fit) in maps.voxels().iter().enumerate() {
            let p = truth(v);
            let pp = u.index_axis(ndarray::Axis(0), 0).len(); // keep the borrow checker happy
            let _ = pp;
            for &q in model.params() {
                let i = q.index();
                // The offset is compared with the line's scale (its area per unit width).
                let scale = match q {
                    Param::Offset => p[2] / p[1],
                    _ => p[i].abs(),
                };
                assert!(
                    (fit.params[i] - p[i]).abs() <= 1e-6 * scale,
                    "{model:?} voxel {v}: {} fitted {} vs true {}",
                    q.name(),
                    fit.params[i],
                    p[i]
                );
            }
            assert!(fit.converged && fit.residual_norm < 1e-9 * p[2]);
        }
    }

    #[test]
    fn lorentzian_absorption_noise_free() {
        noise_free(Profile::Lorentzian, Form::Absorption);
    }
    #[test]
    fn lorentzian_derivative_noise_free() {
        noise_free(Profile::Lorentzian, Form::Derivative);
    }
    #[test]
    fn gaussian_absorption_noise_free() {
        noise_free(Profile::Gaussian, Form::Absorption);
    }
    #[test]
    fn gaussian_derivative_noise_free() {
        noise_free(Profile::Gaussian, Form::Derivative);
    }
    #[test]
    fn voigt_absorption_noise_free() {
        noise_free(Profile::PseudoVoigt, Form::Absorption);
    }
    #[test]
    fn voigt_derivative_noise_free() {
        noise_free(Profile::PseudoVoigt, Form::Derivative);
    }

    /// 2000 voxels of one line (centre 3400.3 G, width 1.1 G, Lorentzian fraction 0.5) plus
    /// Gaussian noise of 2 % of the line's peak-to-peak, seeded. The fitted width must lie
    /// within its reported standard error for 68.3 % of the voxels and within twice it for
    /// 95.4 %: the fractions are asserted within ±5 binomial standard deviations (±0.052 and
    /// ±0.023), a band a correct estimator leaves with probability below 1e-6.
    fn noisy_coverage(profile: Profile, form: Form) {
        let model = LineModel::new(profile, form);
        let b = field();
        let n = 2000;
        let p = [3400.3, 1.1, 3.0, 0.02, 0.5];
        let clean: Vec<f64> = b
            .iter()
            .map(|&bk| model.value(bk, &p[..model.n_params()]))
            .collect();
        let (lo, hi) = min_max(&clean);
        let noise = Normal::new(0.0, 0.02 * (hi - lo)).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(14 + model.n_params() as u64 + form as u64);
        let u = Array2::from_shape_fn((b.len(), n), |(k, _)| clean[k] + noise.sample(&mut rng));
        let plan = SpectrumFit::new(model, b.view(), FitOptions::default()).unwrap();
        let maps = plan.fit(u.view().into_dyn()).unwrap();
        let fitted: Vec<&VoxelFit> = maps
            .voxels()
            .iter()
            .filter(|v| v.status == Status::Fitted)
            .collect();
        assert!(
            fitted.len() >= n * 99 / 100,
            "{model:?}: {:?}",
            maps.status_counts()
        );
        let within = |k: f64| {
            fitted
                .iter()
                .filter(|v| (v.params[1] - p[1]).abs() <= k * v.std_errors[1])
                .count() as f64
                / fitted.len() as f64
        };
        let (one, two) = (within(1.0), within(2.0));
        assert!(
            (one - 0.6827).abs() < 0.052,
            "{model:?}: {one} of the widths within 1σ"
        );
        assert!(
            (two - 0.9545).abs() < 0.023,
            "{model:?}: {two} of the widths within 2σ"
        );
    }

    #[test]
    fn lorentzian_absorption_noisy_errors_cover() {
        noisy_coverage(Profile::Lorentzian, Form::Absorption);
    }
    #[test]
    fn lorentzian_derivative_noisy_errors_cover() {
        noisy_coverage(Profile::Lorentzian, Form::Derivative);
    }
    #[test]
    fn gaussian_absorption_noisy_errors_cover() {
        noisy_coverage(Profile::Gaussian, Form::Absorption);
    }
    #[test]
    fn gaussian_derivative_noisy_errors_cover() {
        noisy_coverage(Profile::Gaussian, Form::Derivative);
    }
    #[test]
    fn voigt_absorption_noisy_errors_cover() {
        noisy_coverage(Profile::PseudoVoigt, Form::Absorption);
    }
    #[test]
    fn voigt_derivative_noisy_errors_cover() {
        noisy_coverage(Profile::PseudoVoigt, Form::Derivative);
    }

    /// All-zero, flat, and off-grid spectra next to a good line. With the threshold at 0, the
    /// lines whose centre lies 0.6 G (3/4 of a width) beyond either end of the grid are
    /// masked by the fit itself; lines 4 G beyond show only a tail of at most 1e-20 of the
    /// good line's height, masked by the default threshold.
    #[test]
    fn degenerate_voxels_are_masked_with_finite_zero_outputs() {
        let b = field();
        let (first, last) = (b[0], b[b.len() - 1]);
        for profile in [Profile::Lorentzian, Profile::Gaussian, Profile::PseudoVoigt] {
            for form in [Form::Absorption, Form::Derivative] {
                let model = LineModel::new(profile, form);
                let np = model.n_params();
                let line = |c: f64| -> Vec<f64> {
                    b.iter()
                        .map(|&x| model.value(x, &[c, 0.8, 2.0, 0.0, 0.5][..np]))
                        .collect()
                };
                let spectra = [
                    vec![0.0; b.len()],
                    vec![3.0; b.len()],
                    line(last + 0.6),
                    line(first - 0.6),
                    line(last + 4.0),
                    line(first - 4.0),
                    line(3400.0),
                ];
                let u = Array2::from_shape_fn((b.len(), spectra.len()), |(k, v)| spectra[v][k]);
                for (threshold, masked) in [(0.0, 0..4), (0.1, 0..6)] {
                    let options = FitOptions {
                        threshold,
                        ..FitOptions::default()
                    };
                    let plan = SpectrumFit::new(model, b.view(), options).unwrap();
                    let maps = plan.fit(u.view().into_dyn()).unwrap();
                    let st = maps.status();
                    assert_eq!(st[[0]], Status::BelowThreshold, "{model:?}");
                    assert_eq!(st[[1]], Status::BelowThreshold, "{model:?}");
                    for v in masked {
                        let fit = &maps.voxels()[v];
                        assert_ne!(fit.status, Status::Fitted, "{model:?} voxel {v}: {fit:?}");
                        assert!(fit.params.iter().chain(&fit.std_errors).all(|&x| x == 0.0));
                        assert_eq!(fit.residual_norm, 0.0);
                    }
                    assert_eq!(st[[6]], Status::Fitted, "{model:?}");
                    for q in model.params() {
                        assert!(maps.value(*q).unwrap().iter().all(|x| x.is_finite()));
                        assert!(maps.std_error(*q).unwrap().iter().all(|x| x.is_finite()));
                    }
                }
            }
        }
    }

    #[test]
    fn the_threshold_masks_weak_voxels() {
        let b = field();
        let model = LineModel::new(Profile::Lorentzian, Form::Derivative);
        let u = Array2::from_shape_fn((b.len(), 3), |(k, v)| {
            [1.0, 0.15, 0.05][v] * model.value(b[k], &[3400.0, 1.0, 2.0, 0.0])
        });
        let plan = SpectrumFit::new(
            model,
            b.view(),
            FitOptions {
                threshold: 0.1,
                ..Default::default()
            },
        )
        .unwrap();
        let mask = plan.fit(u.view().into_dyn()).unwrap().mask();
        assert_eq!(mask.as_slice().unwrap(), &[true, true, false]);
    }

    #[test]
    fn bad_inputs_are_errors_naming_what_is_wrong() {
        let b = field();
        let model = LineModel::new(Profile::Gaussian, Form::Absorption);
        let plan = SpectrumFit::new(model, b.view(), FitOptions::default()).unwrap();
        let err = |r: Result<FitMaps>| r.unwrap_err().to_string();
        let mut u = Array2::<f64>::ones((b.len(), 4));
        u[[7, 2]] = f64::NAN;
        let e = err(plan.fit(u.view().into_dyn()));
        assert!(
            e.contains("non-finite") && e.contains("sample 7") && e.contains("[2]"),
            "{e}"
        );
        let e = err(plan.fit(Array2::<f32>::zeros((b.len() - 1, 4)).view().into_dyn()));
        assert!(e.contains("127") && e.contains("128"), "{e}");
        let e = err(plan.fit(Array1::<f64>::zeros(b.len()).view().into_dyn()));
        assert!(e.contains("spectral axis"), "{e}");
        let e = err(plan.fit(Array2::<f64>::zeros((b.len(), 0)).view().into_dyn()));
        assert!(e.contains("no voxel"), "{e}");
        let new = |b: &[f64], o: FitOptions| {
            SpectrumFit::new(model, ndarray::aview1(b), o)
                .unwrap_err()
                .to_string()
        };
        let d = FitOptions::default();
        let mut unsorted = b.to_vec();
        unsorted.swap(10, 11);
        assert!(new(&unsorted, d).contains("strictly increasing"));
        let mut nan = b.to_vec();
        nan[3] = f64::NAN;
        assert!(new(&nan, d).contains("field grid B (sample 3"));
        assert!(new(&b.as_slice().unwrap()[..5], d).contains("at least 6"));
        assert!(new(
            b.as_slice().unwrap(),
            FitOptions {
                threshold: 1.0,
                ..d
            }
        )
        .contains("threshold"));
        assert!(new(
            b.as_slice().unwrap(),
            FitOptions {
                max_iterations: 0,
                ..d
            }
        )
        .contains("iteration"));
        let e = plan.fit_spectrum(&[1.0; 3]).unwrap_err().to_string();
        assert!(e.contains("3 samples"), "{e}");
        let maps = plan
            .fit(Array2::<f64>::zeros((b.len(), 1)).view().into_dyn())
            .unwrap();
        assert!(maps
            .value(Param::LorentzFraction)
            .unwrap_err()
            .to_string()
            .contains("eta"));
    }

    /// The Voigt profile (convolution of a Lorentzian and a Gaussian, both of peak-to-peak
    /// width 1 G) by the trapezoidal rule, and its first derivative, at `x` (G).
    fn voigt(x: f64) -> (f64, f64) {
        let l = LineModel::new(Profile::Lorentzian, Form::Absorption);
        let ld = LineModel::new(Profile::Lorentzian, Form::Derivative);
        let g = LineModel::new(Profile::Gaussian, Form::Absorption);
        let h = 2e-3;
        (-2000..=2000).fold((0.0, 0.0), |(v, d), k| {
            let t = k as f64 * h;
            let gt = g.unit_value(t, 1.0, 0.0) * h;
            (
                v + gt * l.unit_value(x - t, 1.0, 1.0),
                d + gt * ld.unit_value(x - t, 1.0, 1.0),
            )
        })
    }

    #[test]
    fn pseudo_voigt_follows_a_true_voigt() {
        let b = Array1::linspace(-8.0, 8.0, 256);
        let samples: Vec<(f64, f64)> = b.iter().map(|&x| voigt(x)).collect();
        // The Voigt's peak-to-peak width: twice the position of its derivative's minimum.
        let xs: Vec<f64> = (0..=2000).map(|k| k as f64 * 1e-3).collect();
        let xmin = xs
            .iter()
            .copied()
            .min_by(|a, c| voigt(*a).1.total_cmp(&voigt(*c).1))
            .unwrap();
        let pp = 2.0 * xmin;
        for form in [Form::Absorption, Form::Derivative] {
            let y: Vec<f64> = samples
                .iter()
                .map(|s| if form == Form::Absorption { s.0 } else { s.1 })
                .collect();
            let model = LineModel::new(Profile::PseudoVoigt, form);
            let plan = SpectrumFit::new(model, b.view(), FitOptions::default()).unwrap();
            let fit = plan.fit_spectrum(&y).unwrap();
            assert_eq!(fit.status, Status::Fitted);
            let (lo, hi) = min_max(&y);
            let worst = b
                .iter()
                .zip(&y)
                .map(|(&x, &v)| (model.value(x, &fit.params) - v).abs())
                .fold(0.0, f64::max);
            let width_err = (fit.params[1] - pp) / pp;
            eprintln!(
                "pseudo-Voigt vs Voigt, {form:?}: largest residual {:.2e} of the peak-to-peak, width error {:+.2e}, eta {:.3}",
                worst / (hi - lo),
                width_err,
                fit.params[4]
            );
            assert!(
                worst < 0.01 * (hi - lo),
                "{form:?}: largest residual {:.3e}",
                worst / (hi - lo)
            );
            assert!(
                width_err.abs() < 0.03,
                "{form:?}: width {} vs the Voigt's {pp}",
                fit.params[1]
            );
        }
    }
}
