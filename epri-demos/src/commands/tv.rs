//! `epri tv`: TV-regularised least-squares reconstruction (PyEPRI's
//! `tv_monosrc`), with a progress bar.

use super::checks::{self, Workload};
use super::{check_dims, fmt_duration, open, save_image};
use crate::cli::{LambdaArg, SolverArgs, StopArg, TvArgs};
use crate::dispatch::Job;
use crate::error::Result;
use crate::error::{one_line_text, Error, MAX_MESSAGE_CHARS};
use crate::io::array::{dtype_name, fmt_shape};
use crate::io::output::check_outputs;
use crate::io::{Acquisition, HostArray};
use crate::render::{fmt_value, write_lambda_report};
use backend_core::{Backend, Real};
use epri_ops::geometry::Geometry;
use epri_ops::noise::{estimate_noise, CORRELATION_LAGS};
use epri_ops::recon::lambda::{
    choose_lambda, LambdaProblem, LambdaRule, LambdaSearchOptions, LambdaTrial,
};
use epri_ops::recon::stop::{StopReason, StopRule};
use epri_ops::recon::tv::{TvOptions, TvProblem, TvProgress};
use indicatif::{ProgressBar, ProgressStyle};
use ndarray::ArrayView2;
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
    /// Evaluate the energy every [`ENERGY_EVERY`] iterations.
    pub energy: bool,
    /// Noise level, iterations, stopping rule, positivity, NUFFT accuracy.
    pub solver: SolverArgs,
}

/// How an automatic λ was chosen.
#[derive(Clone, Debug)]
pub struct LambdaReport {
    /// The rule.
    pub rule: LambdaRule,
    /// The noise level used.
    pub noise: NoiseLevel,
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
    /// What ended the iterations.
    pub stop: StopReason,
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

/// Above this autocorrelation of the noise at lag 1 along B, the noise is reported as
/// correlated (white noise gives ±0.02 on a few thousand samples).
pub const CORRELATED_LAG1: f64 = 0.1;

/// The noise level of the projections, for an automatic λ or the discrepancy stop.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoiseLevel {
    /// Standard deviation `σ` of the noise of one sample, in the unit of the projections.
    pub sigma: f64,
    /// Autocorrelation of the noise along B at lags 1 and 2 (zeros when `σ` is given).
    pub correlation: [f64; CORRELATION_LAGS],
    /// `true` when estimated from the data (`false`: given with `--sigma`, then assumed white).
    pub estimated: bool,
}

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
        let s = &p.solver;
        let noise = noise_level(proj.view(), s.sigma, p.lambda, s.stop, self.on_warning)?;
        let opts = TvOptions {
            lambda: fixed,
            energy_every: p.energy.then_some(ENERGY_EVERY),
            stop: stop_rule(s.stop, noise),
            ..s.tv_options()
        };
        let mut problem =
            TvProblem::new(backend, proj.view(), &geom, data.h.view(), &p.shape, &opts)?;
        let (lambda, start, search) =
            resolve_lambda(&mut problem, p.lambda, noise, s.tol, self.on_trial)?;
        let r = problem.solve(lambda, start.as_ref(), s.tol, s.iters, self.progress)?;
        let stats = TvStats {
            lambda,
            search,
            iterations: r.iterations,
            stop: r.stop,
            energy: r.energy,
            lipschitz: problem.lipschitz(),
            lambda_unrm: problem.lambda_unrm(lambda),
        };
        Ok((HostArray::from_real(problem.download(&r.image)?), stats))
    }
}

/// The noise level when an automatic λ or the discrepancy stop needs it: `given` (white
/// noise), or estimated from the projections `proj` (with a note through `on_warning` when the
/// noise is correlated along B); `None` when neither needs it.
pub fn noise_level<T: Real>(
    proj: ArrayView2<'_, T>,
    given: Option<f64>,
    lambda: LambdaArg,
    stop: StopArg,
    on_warning: &mut dyn FnMut(&str),
) -> Result<Option<NoiseLevel>> {
    if matches!(lambda, LambdaArg::Value(_)) && stop != StopArg::Discrepancy {
        return Ok(None);
    }
    if let Some(s) = given {
        return Ok(Some(NoiseLevel {
            sigma: s,
            correlation: [0.0; CORRELATION_LAGS],
            estimated: false,
        }));
    }
    let e = estimate_noise(proj)?;
    if e.correlation[0] > CORRELATED_LAG1 {
        on_warning(&format!(
            "the noise is correlated along B (autocorrelation {:.2} at lag 1, {:.2} at lag 2): σ = {:.4e} is corrected for it (white-noise estimate {:.4e}); the correction assumes no correlation beyond 2 samples",
            e.correlation[0], e.correlation[1], e.corrected_sigma, e.sigma
        ));
    }
    Ok(Some(NoiseLevel {
        sigma: e.corrected_sigma,
        correlation: e.correlation,
        estimated: true,
    }))
}

/// The library's stopping rule for `--stop` (`noise` is `Some` for the discrepancy rule, see
/// [`noise_level`]).
pub fn stop_rule(stop: StopArg, noise: Option<NoiseLevel>) -> StopRule {
    match (stop, noise) {
        (StopArg::Discrepancy, Some(n)) => StopRule::Discrepancy {
            sigma: n.sigma,
            tau: 1.0,
        },
        (StopArg::Gap, _) => StopRule::Gap,
        _ => StopRule::Change,
    }
}

/// The weight of `lambda`: as given, or chosen for `problem` by its rule from the noise level
/// `noise` (trials of `tol`, reported to `on_trial`). Returns the weight, the warm start of the
/// final solve and how it was chosen.
pub fn resolve_lambda<B: Backend, T: Real, P: LambdaProblem<B, T>>(
    problem: &mut P,
    lambda: LambdaArg,
    noise: Option<NoiseLevel>,
    tol: f64,
    on_trial: &mut dyn FnMut(&LambdaTrial),
) -> Result<(f64, Option<P::Image>, Option<LambdaReport>)> {
    let (rule, noise) = match (lambda, noise) {
        (LambdaArg::Value(l), _) => return Ok((l, None, None)),
        (LambdaArg::Auto(rule), Some(n)) => (rule, n),
        (LambdaArg::Auto(_), None) => {
            return Err(Error::usage("an automatic λ needs the noise level"))
        }
    };
    let search = LambdaSearchOptions {
        rule,
        sigma: noise.sigma,
        correlation: noise.correlation,
        trial_tol: tol,
        ..LambdaSearchOptions::default()
    };
    let choice = choose_lambda(problem, &search, on_trial)?;
    let report = LambdaReport {
        rule,
        noise,
        trials: choice.trials,
        warning: choice.warning,
    };
    Ok((choice.lambda, Some(choice.start), Some(report)))
}

/// Refuses `--sigma` without an automatic λ or the discrepancy stop, and `--lambda-report`
/// without an automatic λ.
pub fn check_auto_args(lambda: LambdaArg, solver: &SolverArgs) -> Result<()> {
    let auto = matches!(lambda, LambdaArg::Auto(_));
    if !auto && solver.lambda_report.is_some() {
        return Err(Error::usage(
            "--lambda-report goes with --lambda auto (or auto:discrepancy)",
        ));
    }
    if !auto && solver.stop != StopArg::Discrepancy && solver.sigma.is_some() {
        return Err(Error::usage(
            "--sigma goes with --lambda auto (or auto:discrepancy) or --stop discrepancy",
        ));
    }
    Ok(())
}

/// When λ was chosen automatically (`search` is its record), prints how (and its warning) and
/// draws the trials into the solver options' `--lambda-report` file, if one is named.
pub fn print_lambda_choice(
    lambda: f64,
    search: Option<&LambdaReport>,
    solver: &SolverArgs,
    label: &str,
) -> Result<()> {
    let Some(search) = search else {
        return Ok(());
    };
    if let Some(w) = &search.warning {
        eprintln!("warning: {}", one_line_text(w, MAX_MESSAGE_CHARS));
    }
    let last = nearest_trial(&search.trials, lambda);
    println!(
        "λ = {lambda:.4e} chosen by {} from {} trials (noise σ = {:.4e}, {}); residual of the nearest trial {:.4} m σ²",
        rule_words(search.rule),
        search.trials.len(),
        search.noise.sigma,
        noise_origin(&search.noise),
        last.map_or(f64::NAN, |t| t.residual)
    );
    if let Some(path) = &solver.lambda_report {
        write_lambda_report(path, &search.trials, lambda, search.rule, label)?;
    }
    Ok(())
}

/// The rule that chose λ, in words.
pub fn rule_words(rule: LambdaRule) -> &'static str {
    match rule {
        LambdaRule::Sure => "SURE (minimum of the estimated prediction error)",
        LambdaRule::Discrepancy => {
            "the discrepancy principle (half the λ whose residual reaches m σ²)"
        }
    }
}

/// The trial whose λ is nearest to `lambda` (in `log λ`).
pub fn nearest_trial(trials: &[LambdaTrial], lambda: f64) -> Option<&LambdaTrial> {
    trials.iter().min_by(|a, b| {
        (a.lambda / lambda)
            .ln()
            .abs()
            .total_cmp(&(b.lambda / lambda).ln().abs())
    })
}

/// Where the noise level came from, in words (with its correlation along B when estimated).
pub fn noise_origin(n: &NoiseLevel) -> String {
    if n.estimated {
        format!(
            "estimated from the data, autocorrelation along B {:.2} (lag 1), {:.2} (lag 2)",
            n.correlation[0], n.correlation[1]
        )
    } else {
        "given, white noise assumed".into()
    }
}

/// Why a run stopped, for its summary line.
pub fn why_stopped(stop: StopReason, tol: f64) -> String {
    match stop {
        StopReason::Change | StopReason::Gap => format!("{stop} = {tol:e}"),
        _ => stop.to_string(),
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

/// The progress callback: position and message of `bar` (the relative change).
pub fn report(bar: &ProgressBar) -> impl FnMut(&TvProgress) + '_ {
    report_watching(bar, StopArg::Change)
}

/// The progress callback: position and message of `bar`, showing what the rule `stop`
/// watches.
pub fn report_watching(bar: &ProgressBar, stop: StopArg) -> impl FnMut(&TvProgress) + '_ {
    let what = match stop {
        StopArg::Change => "rel. change",
        StopArg::Gap => "primal-dual residual",
        StopArg::Discrepancy => "residual/(mσ²)",
    };
    let mut last_energy = None;
    move |p: &TvProgress| {
        if p.energy.is_some() {
            last_energy = p.energy;
        }
        bar.set_position(p.iteration as u64);
        let energy = last_energy
            .map(|e| format!("  energy {e:.6e}"))
            .unwrap_or_default();
        bar.set_message(format!("{what} {:.3e}{energy}", p.watched));
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
    check_auto_args(a.lambda, &a.solver)?;
    let mut outputs = vec![("--out", a.out.as_path())];
    outputs.extend(a.png.as_deref().map(|p| ("--png", p)));
    outputs.extend(
        a.solver
            .lambda_report
            .as_deref()
            .map(|p| ("--lambda-report", p)),
    );
    check_outputs(&acq.files, &outputs)?;
    let (device, precision) = open(&a.compute, acq.precision())?;
    let shapes = [a.shape.0.clone()];
    checks::before_compute(
        &acq,
        &device,
        precision,
        a.delta,
        Some(a.solver.eps),
        None,
        Workload::Tv(&shapes),
    )?;
    let params = TvParams {
        shape: a.shape.0.clone(),
        delta: a.delta,
        lambda: a.lambda,
        energy: a.energy,
        solver: a.solver.clone(),
    };
    let bar = progress_bar(a.solver.iters, a.solver.tol, a.solver.quiet);
    let mut progress = report_watching(&bar, a.solver.stop);
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
    print_lambda_choice(stats.lambda, stats.search.as_ref(), &a.solver, &acq.label)?;
    let why = why_stopped(stats.stop, a.solver.tol);
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
