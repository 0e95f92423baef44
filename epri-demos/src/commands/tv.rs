//! `epri tv`: TV-regularised least-squares reconstruction (PyEPRI's
//! `tv_monosrc`), with a progress bar.

use super::checks::{self, Workload};
use super::{check_dims, check_image_outputs, fmt_duration, open, save_image};
use crate::cli::TvArgs;
use crate::dispatch::Job;
use crate::error::Result;
use crate::io::array::{dtype_name, fmt_shape};
use crate::io::{Acquisition, HostArray};
use backend_core::{Backend, Real};
use epri_ops::geometry::Geometry;
use epri_ops::recon::tv::{tv_monosrc, TvOptions, TvProgress};
use indicatif::{ProgressBar, ProgressStyle};
use std::time::Instant;

/// Energy is evaluated every that many iterations with `--energy` (PyEPRI's examples use 20).
pub const ENERGY_EVERY: usize = 20;

/// The parameters of a TV reconstruction.
#[derive(Clone, Debug)]
pub struct TvParams {
    /// Image shape (Y, X[, Z]).
    pub shape: Vec<usize>,
    /// Pixel size, cm.
    pub delta: f64,
    /// Dimensionless regularisation weight.
    pub lambda: f64,
    /// Iteration cap.
    pub iters: usize,
    /// Stopping tolerance.
    pub tol: f64,
    /// Non-negativity constraint.
    pub positivity: bool,
    /// Evaluate the energy every [`ENERGY_EVERY`] iterations.
    pub energy: bool,
    /// NUFFT accuracy.
    pub eps: f64,
}

/// What a TV run reports besides the image.
#[derive(Clone, Debug)]
pub struct TvStats {
    /// Iterations done.
    pub iterations: usize,
    /// Final energy.
    pub energy: f64,
    /// Lipschitz constant used.
    pub lipschitz: f64,
    /// The TV weight actually used.
    pub lambda_unrm: f64,
}

/// A TV reconstruction of the projections of `acq`, reporting each iteration to `progress`.
pub struct TvJob<'a> {
    /// proj, B, h, fgrad.
    pub acq: &'a Acquisition,
    /// Parameters.
    pub params: &'a TvParams,
    /// Called after every iteration.
    pub progress: &'a mut dyn FnMut(&TvProgress),
}

impl Job for TvJob<'_> {
    type Output = (HostArray, TvStats);
    fn run<B: Backend, T: Real>(self, backend: &B) -> Result<Self::Output> {
        let p = self.params;
        let data = self.acq.host::<T>()?;
        let proj = data.proj.expect("loaded with projections");
        let geom = Geometry::new(data.b.view(), T::of(p.delta), data.fgrad.view())?;
        let opts = TvOptions {
            lambda: p.lambda,
            tol: p.tol,
            max_iter: p.iters,
            positivity: p.positivity,
            eps: p.eps,
            energy_every: p.energy.then_some(ENERGY_EVERY),
            ..TvOptions::default()
        };
        let r = tv_monosrc(
            backend,
            proj.view(),
            &geom,
            data.h.view(),
            &p.shape,
            &opts,
            self.progress,
        )?;
        let stats = TvStats {
            iterations: r.iterations,
            energy: r.energy,
            lipschitz: r.lipschitz,
            lambda_unrm: r.lambda_unrm,
        };
        Ok((HostArray::from_real(r.image), stats))
    }
}

/// A progress bar on stderr (hidden when stderr is not a terminal or with `quiet`).
pub fn progress_bar(max_iter: usize, tol: f64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = if max_iter <= 100_000 {
        ProgressBar::new(max_iter as u64).with_style(
            ProgressStyle::with_template(
                "{spinner} {elapsed_precise} [{bar:30}] {pos}/{len} {msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        )
    } else {
        ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {elapsed_precise} iteration {pos} {msg}")
                .expect("valid template"),
        )
    };
    bar.set_message(format!(
        "preparing (Toeplitz kernel, Lipschitz constant); stops at relative change < {tol:.0e}"
    ));
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// The progress callback: position and message of `bar`.
pub fn report(bar: &ProgressBar) -> impl FnMut(&TvProgress) + '_ {
    let mut last_energy = None;
    move |p: &TvProgress| {
        if p.energy.is_some() {
            last_energy = p.energy;
        }
        bar.set_position(p.iteration as u64);
        let energy = last_energy
            .map(|e| format!("  energy {e:.6e}"))
            .unwrap_or_default();
        bar.set_message(format!("rel. change {:.2e}{energy}", p.relative_change));
        if let Some(work) = p.profile {
            bar.suspend(|| eprintln!("profile: iteration {}: {work}", p.iteration));
        }
    }
}

/// Runs `epri tv`.
pub fn run(a: &TvArgs) -> Result<()> {
    let acq = Acquisition::load(&a.sources, true, true)?;
    check_dims(&a.shape.0, acq.dim(), "--shape")?;
    check_image_outputs(&acq.files, &a.out, a.png.as_deref())?;
    let (device, precision) = open(&a.compute, acq.precision())?;
    let shapes = [a.shape.0.clone()];
    checks::before_compute(
        &acq,
        &device,
        precision,
        a.delta,
        Some(a.eps),
        None,
        Workload::Tv(&shapes),
    )?;
    let params = TvParams {
        shape: a.shape.0.clone(),
        delta: a.delta,
        lambda: a.lambda,
        iters: a.iters,
        tol: a.tol,
        positivity: a.positivity,
        energy: a.energy,
        eps: a.eps,
    };
    let bar = progress_bar(a.iters, a.tol, a.quiet);
    let mut progress = report(&bar);
    let t0 = Instant::now();
    let result = device.run(
        precision,
        TvJob {
            acq: &acq,
            params: &params,
            progress: &mut progress,
        },
    );
    bar.finish_and_clear();
    let (image, stats) = result?;
    let took = t0.elapsed();
    let image = checks::check_result(image, "TV image", precision, "")?;
    let title = format!("{}: TV, λ = {}", acq.label, a.lambda);
    save_image(&image, &a.out, a.png.as_deref(), a.delta, &title)?;
    let why = if stats.iterations < a.iters {
        format!("relative change below {:e}", a.tol)
    } else {
        "iteration cap reached".into()
    };
    println!(
        "TV image {} ({}): {} iterations ({why}) in {} on {}",
        fmt_shape(image.shape()),
        dtype_name(precision),
        stats.iterations,
        fmt_duration(took),
        device.name()
    );
    println!(
        "  energy {:.6e}, TV weight {:.6e}, Lipschitz constant {:.6e} -> {}",
        stats.energy,
        stats.lambda_unrm,
        stats.lipschitz,
        a.out.display()
    );
    Ok(())
}
