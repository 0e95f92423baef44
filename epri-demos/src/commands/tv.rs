//! `epri tv`: TV-regularised least-squares reconstruction (PyEPRI's
//! `tv_monosrc`), with a progress bar.

use super::checks::{self, Workload};
use super::{check_dims, fmt_duration, open, save_image};
use crate::cli::{LambdaArg, TvArgs};
use crate::dispatch::Job;
use crate::error::Result;
use crate::error::{one_line_text, Error, MAX_MESSAGE_CHARS};
use crate::io::array::{dtype_name, fmt_shape};
use crate::io::output::check_outputs;
use crate::io::{Acquisition, HostArray};
use crate::render::{fmt_value, write_lambda_report};
use backend_core::{Backend, Real};
use epri_ops::geometry::Geometry;
use epri_ops::noise::estimate_noise;
use epri_ops::recon::lambda::{choose_lambda, LambdaRule, LambdaSearchOptions, LambdaTrial};
use epri_ops::recon::tv::{TvOptions, TvProblem, TvProgress};
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
    /// Dimensionless regularisation weight, or the rule that chooses it.
    pub lambda: LambdaArg,
    /// Noise standard deviation for an automatic λ (default: estimated from the data).
    pub sigma: Option<f64>,
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

/// How an automatic λ was chosen.
#[derive(Clone, Debug)]
pub struct LambdaReport {
    /// The rule.
    pub rule: LambdaRule,
    /// The noise level used, and whether it was estimated from the data.
    pub sigma: f64,
    /// `true` when `sigma` was estimated from the data (`false`: given with `--sigma`).
    pub estimated: bool,
    /// Every trial, in the order solved.
    pub trials: Vec<LambdaTrial>,
    /// What the user should know (noise-only data, end of the λ range).
    pub warning: Option<String>,
}

/// What a TV run reports besides the image.
#[derive(Clone, Debug)]
pub struct TvStats {
    /// The weight used (given, or chosen).
    pub lambda: f64,
    /// How it was chosen, for an automatic λ.
    pub search: Option<LambdaReport>,
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
    /// Called after every trial of an automatic λ.
    pub on_trial: &'a mut dyn FnMut(&LambdaTrial),
    /// Called with a warning for the user (correlated noise before an automatic λ).
    pub on_warning: &'a mut dyn FnMut(&str),
}

/// Above this ratio of the first-difference to the third-difference noise estimates, the
/// noise is reported as correlated along B (white noise on a smooth signal gives 1.0–1.1).
pub const CORRELATED_RATIO: f64 = 1.1;

impl Job for TvJob<'_> {
    type Output = (HostArray, TvStats);
    fn run<B: Backend, T: Real>(self, backend: &B) -> Result<Self::Output> {
        let p = self.params;
        let data = self.acq.host::<T>()?;
        let proj = data.proj.expect("loaded with projections");
        let geom = Geometry::new(data.b.view(), T::of(p.delta), data.fgrad.view())?;
        let fixed = match p.lambda {
            LambdaArg::Value(l) => l,
            LambdaArg::Auto(_) => 1.0,
        };
        let opts = TvOptions {
            lambda: fixed,
            tol: p.tol,
            max_iter: p.iters,
            positivity: p.positivity,
            eps: p.eps,
            energy_every: p.energy.then_some(ENERGY_EVERY),
            ..TvOptions::default()
        };
        let mut problem =
            TvProblem::new(backend, proj.view(), &geom, data.h.view(), &p.shape, &opts)?;
        let (lambda, start, search) = match p.lambda {
            LambdaArg::Value(l) => (l, None, None),
            LambdaArg::Auto(rule) => {
                let (sigma, estimated) = match p.sigma {
                    Some(s) => (s, false),
                    None => {
                        let e = estimate_noise(proj.view())?;
                        if e.first_order_ratio > CORRELATED_RATIO {
                            (self.on_warning)(&format!(
                                "the noise looks correlated along B (σ from first differences is {:.2} times σ from third differences, {:.4e}): the automatic λ assumes white noise; if it fails, give --lambda, or --sigma",
                                e.first_order_ratio, e.sigma
                            ));
                        }
                        (e.sigma, true)
                    }
                };
                let search = LambdaSearchOptions {
                    rule,
                    sigma,
                    trial_tol: p.tol,
                    ..LambdaSearchOptions::default()
                };
                let choice = choose_lambda(&mut problem, &search, self.on_trial)?;
                let report = LambdaReport {
                    rule,
                    sigma,
                    estimated,
                    trials: choice.trials,
                    warning: choice.warning,
                };
                (choice.lambda, Some(choice.start), Some(report))
            }
        };
        let r = problem.solve(lambda, start.as_ref(), p.tol, p.iters, self.progress)?;
        let stats = TvStats {
            lambda,
            search,
            iterations: r.iterations,
            energy: r.energy,
            lipschitz: problem.lipschitz(),
            lambda_unrm: problem.lambda_unrm(lambda),
        };
        Ok((HostArray::from_real(problem.download(&r.image)?), stats))
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

/// The progress-bar message of a λ trial.
pub fn report_trial(bar: &ProgressBar) -> impl FnMut(&LambdaTrial) + '_ {
    let mut k = 0;
    move |t: &LambdaTrial| {
        k += 1;
        let sure = t.sure.map(|v| format!(", SURE {v:.4}")).unwrap_or_default();
        bar.set_message(format!(
            "choosing λ: trial {k}, λ = {:.4e}: residual {:.4} mσ²{sure}",
            t.lambda, t.residual
        ));
    }
}

/// Runs `epri tv`.
pub fn run(a: &TvArgs) -> Result<()> {
    let acq = Acquisition::load(&a.sources, true, true)?;
    check_dims(&a.shape.0, acq.dim(), "--shape")?;
    let auto = matches!(a.lambda, LambdaArg::Auto(_));
    if !auto && (a.lambda_report.is_some() || a.sigma.is_some()) {
        return Err(Error::usage(
            "--lambda-report and --sigma go with --lambda auto (or auto:discrepancy)",
        ));
    }
    let mut outputs = vec![("--out", a.out.as_path())];
    outputs.extend(a.png.as_deref().map(|p| ("--png", p)));
    outputs.extend(a.lambda_report.as_deref().map(|p| ("--lambda-report", p)));
    check_outputs(&acq.files, &outputs)?;
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
        sigma: a.sigma,
        iters: a.iters,
        tol: a.tol,
        positivity: a.positivity,
        energy: a.energy,
        eps: a.eps,
    };
    let bar = progress_bar(a.iters, a.tol, a.quiet);
    let mut progress = report(&bar);
    let mut on_trial = report_trial(&bar);
    let t0 = Instant::now();
    let result = device.run(
        precision,
        TvJob {
            acq: &acq,
            params: &params,
            progress: &mut progress,
            on_trial: &mut on_trial,
            on_warning: &mut |w| {
                bar.suspend(|| eprintln!("warning: {}", one_line_text(w, MAX_MESSAGE_CHARS)))
            },
        },
    );
    bar.finish_and_clear();
    let (image, stats) = result?;
    let took = t0.elapsed();
    let image = checks::check_result(image, "TV image", precision, "")?;
    let title = format!("{}: TV, λ = {}", acq.label, fmt_value(stats.lambda));
    save_image(&image, &a.out, a.png.as_deref(), a.delta, &title)?;
    if let Some(search) = &stats.search {
        if let Some(w) = &search.warning {
            eprintln!("warning: {}", one_line_text(w, MAX_MESSAGE_CHARS));
        }
        println!(
            "λ = {:.4e} chosen by {} from {} trials (noise σ = {:.4e}, {})",
            stats.lambda,
            match search.rule {
                LambdaRule::Sure => "SURE (minimum of the estimated prediction error)",
                LambdaRule::Discrepancy =>
                    "the discrepancy principle (half the λ whose residual reaches m σ²)",
            },
            search.trials.len(),
            search.sigma,
            if search.estimated {
                "estimated from the data"
            } else {
                "given"
            }
        );
        if let Some(path) = &a.lambda_report {
            write_lambda_report(path, &search.trials, stats.lambda, search.rule, &acq.label)?;
        }
    }
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
