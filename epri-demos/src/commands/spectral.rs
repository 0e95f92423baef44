//! `epri spectral`: spectral-spatial (4D) reconstruction by least squares with spatial and
//! spectral TV, with a progress bar.

use super::checks::{self, Workload};
use super::tv::{
    check_auto_args, noise_level, print_lambda_choice, progress_bar, report_trial, report_watching,
    resolve_lambda, stop_rule, why_stopped, LambdaReport, ENERGY_EVERY,
};
use super::{check_image_outputs, fmt_duration, open};
use crate::cli::SpectralArgs;
use crate::dispatch::Job;
use crate::error::{one_line_text, Error, Result, MAX_MESSAGE_CHARS};
use crate::io::array::{dtype_name, fmt_shape};
use crate::io::{Acquisition, HostArray};
use backend_core::{Backend, Real};
use epri_ops::geometry::Geometry;
use epri_ops::recon::lambda::LambdaTrial;
use epri_ops::recon::{SpectralTvOptions, SpectralTvProblem, TvOptions, TvProgress, TvResult};
use ndarray::Ix2;
use std::time::Instant;

/// A spectral-spatial TV reconstruction of the projections of `acq`.
struct SpectralJob<'a> {
    acq: &'a Acquisition,
    args: &'a SpectralArgs,
    progress: &'a mut dyn FnMut(&TvProgress),
    on_trial: &'a mut dyn FnMut(&LambdaTrial),
    on_warning: &'a mut dyn FnMut(&str),
}

impl Job for SpectralJob<'_> {
    /// The result (`lambda_unrm` the spatial weight), the spatial λ used and how it was chosen.
    type Output = (TvResult<f64>, f64, Option<LambdaReport>);
    fn run<B: Backend, T: Real>(self, backend: &B) -> Result<Self::Output> {
        let a = self.args;
        let acq = self.acq;
        let proj = acq
            .proj
            .as_ref()
            .expect("loaded with projections")
            .to_real::<T>()
            .into_dimensionality::<Ix2>()
            .map_err(|e| Error::data(format!("proj: {e}")))?;
        let b = acq
            .b
            .to_real::<T>()
            .into_shape_with_order(acq.nb())
            .map_err(|e| Error::data(format!("B: {e}")))?;
        let fgrad = acq
            .fgrad
            .to_real::<T>()
            .into_dimensionality::<Ix2>()
            .map_err(|e| Error::data(format!("fgrad: {e}")))?;
        let geom = Geometry::new(b.view(), T::of(a.delta), fgrad.view())?;
        let noise = noise_level(
            proj.view(),
            a.solver.sigma,
            a.lambda,
            a.solver.stop,
            self.on_warning,
        )?;
        let opts = SpectralTvOptions {
            tv: TvOptions {
                energy_every: a.energy.then_some(ENERGY_EVERY),
                ..a.solver.tv_options()
            },
            lambda_spectral: a.lambda_spectral,
            absorption: a.absorption,
        };
        let mut problem = SpectralTvProblem::new(backend, proj.view(), &geom, &a.shape.0, &opts)?;
        let (lambda, start, search) =
            resolve_lambda(&mut problem, a.lambda, noise, a.solver.tol, self.on_trial)?;
        let (image, iterations, energy, stop) = problem.solve(
            lambda,
            start.as_ref(),
            a.solver.tol,
            a.solver.iters,
            stop_rule(a.solver.stop, noise),
            self.progress,
        )?;
        let r = TvResult {
            image: problem.download(&image)?.mapv(|v| v.f64()),
            iterations,
            energy,
            lipschitz: problem.lipschitz(),
            lambda_unrm: problem.lambda_unrm(lambda),
            stop,
        };
        Ok((r, lambda, search))
    }
}

/// Runs `epri spectral`.
pub fn run(a: &SpectralArgs) -> Result<()> {
    let shape = &a.shape.0;
    super::project::refuse_h(a.sources.h.is_some(), shape, "--shape")?;
    let mut acq = Acquisition::load(&a.sources, true, false)?;
    // A dataset folder's h.npy plays no part.
    acq.h = None;
    if acq.dim() != 3 {
        return Err(Error::usage(format!(
            "spectral-spatial imaging needs 3D gradients (fgrad with 3 rows), got {} rows",
            acq.dim()
        )));
    }
    if shape[0] != acq.nb() {
        return Err(Error::usage(format!(
            "--shape {}: the spectral axis NB must be the length of B ({}), got {}",
            fmt_shape(shape),
            acq.nb(),
            shape[0]
        )));
    }
    check_auto_args(a.lambda, &a.solver)?;
    check_image_outputs(&acq.files, &a.out, a.png.as_deref())?;
    if let Some(report) = &a.solver.lambda_report {
        let mut outputs = vec![
            ("--out", a.out.as_path()),
            ("--lambda-report", report.as_path()),
        ];
        outputs.extend(a.png.as_deref().map(|p| ("--png", p)));
        crate::io::output::check_outputs(&acq.files, &outputs)?;
    }
    let (device, precision) = open(&a.compute, acq.precision())?;
    checks::before_compute(
        &acq,
        &device,
        precision,
        a.delta,
        Some(a.solver.eps),
        None,
        Workload::Spectral(shape),
    )?;
    let bar = progress_bar(a.solver.iters, a.solver.tol, a.solver.quiet);
    let mut progress = report_watching(&bar, a.solver.stop);
    let mut on_trial = report_trial(&bar);
    let t0 = Instant::now();
    let result = device.run(
        precision,
        SpectralJob {
            acq: &acq,
            args: a,
            progress: &mut progress,
            on_trial: &mut on_trial,
            on_warning: &mut |w| {
                bar.suspend(|| eprintln!("warning: {}", one_line_text(w, MAX_MESSAGE_CHARS)))
            },
        },
    );
    bar.finish_and_clear();
    let (r, lambda, search) = result?;
    let took = t0.elapsed();
    print_lambda_choice(lambda, search.as_ref(), &a.solver, &acq.label)?;
    let image = match precision {
        backend_core::Precision::F32 => HostArray::from_real(r.image.mapv(|v| v as f32)),
        backend_core::Precision::F64 => HostArray::from_real(r.image.clone()),
    };
    finish(a, &acq, image, &r, lambda, took, &device.name(), precision)
}

/// Checks and writes the image (and its figure), then reports the run.
#[allow(clippy::too_many_arguments)]
fn finish(
    a: &SpectralArgs,
    acq: &Acquisition,
    image: HostArray,
    r: &TvResult<f64>,
    lambda: f64,
    took: std::time::Duration,
    device: &str,
    precision: backend_core::Precision,
) -> Result<()> {
    let image = checks::check_result(image, "spectral-spatial image", precision, "")?;
    crate::io::npy::write_npy(&a.out, &image)?;
    if let Some(png) = &a.png {
        let u = image.to_f64();
        let title = format!(
            "{}: integrated intensity, spectral TV, λ = {}, λ_B = {}",
            acq.label,
            crate::render::fmt_value(lambda),
            a.lambda_spectral
        );
        let b: Vec<f64> = acq.b.to_f64().iter().copied().collect();
        crate::render::write_spectral_png(png, u.view(), &b, a.absorption, a.delta, &title)?;
    }
    let why = why_stopped(r.stop, a.solver.tol);
    println!(
        "spectral-spatial image {} ({}): {} iterations ({why}) in {} on {device}",
        fmt_shape(image.shape()),
        dtype_name(precision),
        r.iterations,
        fmt_duration(took),
    );
    println!(
        "  energy {:.6e}, spatial TV weight {:.6e}, Lipschitz constant {:.6e} -> {}",
        r.energy,
        r.lambda_unrm,
        r.lipschitz,
        a.out.display()
    );
    Ok(())
}
