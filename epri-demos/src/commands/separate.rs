//! `epri separate`: TV-regularised source separation (PyEPRI's
//! `tv_multisrc`), one experimental setting, `K` sources each with its own spectrum.

use super::checks::{self, Workload};
use super::tv::{
    check_auto_args, noise_level, print_lambda_choice, progress_bar, report_trial, report_watching,
    resolve_lambda, stop_rule, why_stopped, LambdaReport,
};
use super::{check_dims, fmt_duration, open, save_image};
use crate::cli::{LambdaArg, SeparateArgs, StopArg};
use crate::dispatch::Job;
use crate::error::{one_line_text, Error, Result, MAX_MESSAGE_CHARS};
use crate::io::array::{dtype_name, fmt_shape};
use crate::io::{Acquisition, HostArray, Sources};
use backend_core::{Backend, Real};
use epri_ops::geometry::Geometry;
use epri_ops::recon::lambda::LambdaTrial;
use epri_ops::recon::stop::StopReason;
use epri_ops::recon::tv::{TvOptions, TvProgress};
use epri_ops::recon::tv_multisrc::MultiTvProblem;
use ndarray::{Array1, Ix1, Ix2};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One source: its name (the spectrum file stem without its leading `h`), its spectrum
/// `(Nb,)` sampled on B, and its image shape `(Y, X[, Z])`.
#[derive(Clone, Debug)]
pub struct Source {
    /// Name used in the output file names, e.g. `tam` for `htam.npy`.
    pub name: String,
    /// Reference spectrum `(Nb,)`.
    pub h: HostArray,
    /// Image shape in pixels.
    pub shape: Vec<usize>,
    /// The spectrum file, `DIR/<stem>.npy`.
    pub path: PathBuf,
}

/// A source separation of the projections of `acq`, reporting each iteration to `progress`.
pub struct SeparateJob<'a> {
    /// proj, B, fgrad (the spectra are in `sources`).
    pub acq: &'a Acquisition,
    /// The sources to separate.
    pub sources: &'a [Source],
    /// Pixel size, cm.
    pub delta: f64,
    /// Iterations, tolerance, positivity, NUFFT accuracy (the image-type fields and `lambda`
    /// are unused).
    pub opts: TvOptions<f64>,
    /// The weight, or the rule that chooses it.
    pub lambda: LambdaArg,
    /// The stopping rule, and the noise level given with `--sigma`.
    pub stop: StopArg,
    pub sigma: Option<f64>,
    /// Called after every iteration.
    pub progress: &'a mut dyn FnMut(&TvProgress),
    /// Called after every trial of an automatic λ.
    pub on_trial: &'a mut dyn FnMut(&LambdaTrial),
    /// Called with a warning for the user.
    pub on_warning: &'a mut dyn FnMut(&str),
}

/// What a separation returns besides the images.
pub struct SeparateStats {
    /// The weight used (given or chosen), and how it was chosen.
    pub lambda: f64,
    pub search: Option<LambdaReport>,
    /// Iterations done, and what ended them.
    pub iterations: usize,
    pub stop: StopReason,
}

impl Job for SeparateJob<'_> {
    /// The images (one per source, in the order of `sources`) and the run's figures.
    type Output = (Vec<HostArray>, SeparateStats);
    fn run<B: Backend, T: Real>(self, backend: &B) -> Result<Self::Output> {
        let real1 = |a: &HostArray| -> Array1<T> {
            a.to_real::<T>()
                .into_dimensionality::<Ix1>()
                .expect("checked 1-D")
        };
        let proj = self
            .acq
            .proj
            .as_ref()
            .expect("loaded with projections")
            .to_real::<T>()
            .into_dimensionality::<Ix2>()
            .expect("checked 2-D");
        let b = real1(&self.acq.b);
        let fgrad = self
            .acq
            .fgrad
            .to_real::<T>()
            .into_dimensionality::<Ix2>()
            .expect("checked 2-D");
        let geom = Geometry::new(b.view(), T::of(self.delta), fgrad.view())?;
        let spectra: Vec<Array1<T>> = self.sources.iter().map(|s| real1(&s.h)).collect();
        let h = vec![spectra.iter().map(|s| s.view()).collect::<Vec<_>>()];
        let shapes: Vec<Vec<usize>> = self.sources.iter().map(|s| s.shape.clone()).collect();
        let o = &self.opts;
        let noise = noise_level(
            proj.view(),
            self.sigma,
            self.lambda,
            self.stop,
            self.on_warning,
        )?;
        let opts = TvOptions::<T> {
            tol: o.tol,
            max_iter: o.max_iter,
            positivity: o.positivity,
            eps: o.eps,
            ..TvOptions::default()
        };
        let mut problem =
            MultiTvProblem::new(backend, &[proj.view()], &[geom], &h, &shapes, &opts, None)?;
        let (lambda, start, search) =
            resolve_lambda(&mut problem, self.lambda, noise, o.tol, self.on_trial)?;
        let r = problem.solve(
            lambda,
            start.as_deref(),
            o.tol,
            o.max_iter,
            stop_rule(self.stop, noise),
            self.progress,
        )?;
        let images = problem
            .download(&r.images)?
            .into_iter()
            .map(HostArray::from_real)
            .collect();
        let stats = SeparateStats {
            lambda,
            search,
            iterations: r.iterations,
            stop: r.stop,
        };
        Ok((images, stats))
    }
}

/// The spectrum stems of a folder: every `h<name>.npy` except `hmixt.npy` (the mixture) and a
/// plain `h.npy` (the spectrum of a single-source acquisition), sorted.
fn default_sources(dir: &Path) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::file(dir, format!("cannot list: {}", crate::io::npy::io_msg(&e))))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter_map(|n| n.strip_suffix(".npy").map(str::to_string))
        .filter(|n| n.starts_with('h') && n != "hmixt" && n != "h")
        .collect();
    names.sort();
    Ok(names)
}

/// Reads and checks the spectra `DIR/<stem>.npy` and pairs them with the shapes (one shape
/// for all sources, or one per source).
fn load_sources(acq: &Acquisition, a: &SeparateArgs) -> Result<Vec<Source>> {
    let dir = acq.dir.as_ref().expect("loaded from --data");
    let stems = if a.sources.is_empty() {
        default_sources(dir)?
    } else {
        a.sources.clone()
    };
    check_stems(&stems)?;
    if stems.is_empty() {
        return Err(Error::usage(format!(
            "no source spectra (h<name>.npy other than h.npy and hmixt.npy) in {}: a single-source acquisition is reconstructed with `epri tv`; name the spectra to separate with --sources",
            dir.display()
        )));
    }
    if a.shapes.len() != 1 && a.shapes.len() != stems.len() {
        return Err(Error::usage(format!(
            "--shapes gives {} shapes for {} sources ({}): give one shape for all or one per source",
            a.shapes.len(),
            stems.len(),
            stems.join(", ")
        )));
    }
    let nb = acq.nb();
    stems
        .iter()
        .enumerate()
        .map(|(j, stem)| {
            let path = dir.join(format!("{stem}.npy"));
            if !path.exists() {
                return Err(Error::file(
                    &path,
                    format!("no spectrum for source '{stem}' (--sources takes the h*.npy stems of the folder)"),
                ));
            }
            let h = crate::io::npy::read_npy(&path)?;
            if h.shape() != [nb] {
                return Err(Error::data(format!(
                    "{stem} has shape {} but B has {nb} samples: the spectrum must be sampled on B",
                    fmt_shape(h.shape())
                )));
            }
            if !h.all_finite() {
                return Err(Error::file(&path, "holds NaN or infinite values"));
            }
            if h.max_abs() == 0.0 {
                return Err(Error::file(
                    &path,
                    format!("the spectrum of source '{stem}' is all zero"),
                ));
            }
            let shape = a.shapes[if a.shapes.len() == 1 { 0 } else { j }].0.clone();
            check_dims(&shape, acq.dim(), "--shapes")?;
            let name = match stem.strip_prefix('h') {
                Some(rest) if !rest.is_empty() => rest.to_string(),
                _ => stem.clone(),
            };
            Ok(Source {
                name,
                h,
                shape,
                path,
            })
        })
        .collect()
}

/// Source stems name spectrum files inside the dataset folder: a plain file stem (letters,
/// digits, `_`, `-`, `.`; no path separator, not `.` or `..`), each given once.
fn check_stems(stems: &[String]) -> Result<()> {
    for (i, stem) in stems.iter().enumerate() {
        let plain = !stem.is_empty()
            && stem != "."
            && stem != ".."
            && stem
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !plain {
            return Err(Error::usage(format!(
                "--sources {stem:?}: a source is the stem of a spectrum file of the dataset folder (e.g. htam for htam.npy), letters, digits, '_', '-' and '.' only"
            )));
        }
        if stems[..i].contains(stem) {
            return Err(Error::usage(format!(
                "--sources names {stem} twice: give each source once"
            )));
        }
    }
    Ok(())
}

/// Runs `epri separate`.
pub fn run(a: &SeparateArgs) -> Result<()> {
    let src = Sources {
        data: Some(a.data.clone()),
        ..Sources::default()
    };
    let acq = Acquisition::load(&src, true, false)?;
    check_auto_args(a.lambda, &a.solver)?;
    let sources = load_sources(&acq, a)?;
    let outputs: Vec<(PathBuf, PathBuf)> = sources
        .iter()
        .map(|s| {
            (
                super::output_path(&a.out, &s.name, "npy"),
                super::output_path(&a.out, &s.name, "png"),
            )
        })
        .collect();
    let mut inputs = acq.files.clone();
    inputs.extend(sources.iter().map(|s| s.path.clone()));
    let named: Vec<(&str, &Path)> = outputs
        .iter()
        .flat_map(|(npy, png)| {
            let mut v = vec![("--out", npy.as_path())];
            v.extend(a.png.then_some(("--png", png.as_path())));
            v
        })
        .collect();
    let mut named = named;
    named.extend(
        a.solver
            .lambda_report
            .as_deref()
            .map(|p| ("--lambda-report", p)),
    );
    crate::io::output::check_outputs(&inputs, &named)?;
    let (device, precision) = open(&a.compute, acq.precision())?;
    let shapes: Vec<Vec<usize>> = sources.iter().map(|s| s.shape.clone()).collect();
    checks::before_compute(
        &acq,
        &device,
        precision,
        a.delta,
        Some(a.solver.eps),
        None,
        Workload::Tv(&shapes),
    )?;
    let opts = a.solver.tv_options();
    let bar = progress_bar(a.solver.iters, a.solver.tol, a.solver.quiet);
    let mut progress = report_watching(&bar, a.solver.stop);
    let mut on_trial = report_trial(&bar);
    let t0 = Instant::now();
    let result = device.run(
        precision,
        SeparateJob {
            acq: &acq,
            sources: &sources,
            delta: a.delta,
            opts,
            lambda: a.lambda,
            stop: a.solver.stop,
            sigma: a.solver.sigma,
            progress: &mut progress,
            on_trial: &mut on_trial,
            on_warning: &mut |w| {
                bar.suspend(|| eprintln!("warning: {}", one_line_text(w, MAX_MESSAGE_CHARS)))
            },
        },
    );
    bar.finish_and_clear();
    let (images, stats) = result?;
    let took = t0.elapsed();
    print_lambda_choice(stats.lambda, stats.search.as_ref(), &a.solver, &acq.label)?;
    let why = why_stopped(stats.stop, a.solver.tol);
    let iterations = stats.iterations;
    println!(
        "separated {} sources ({}): {iterations} iterations ({why}) in {} on {}",
        sources.len(),
        dtype_name(precision),
        fmt_duration(took),
        device.name()
    );
    let images = images
        .into_iter()
        .zip(&sources)
        .map(|(u, s)| {
            checks::check_result(u, &format!("image of source {}", s.name), precision, "")
        })
        .collect::<Result<Vec<_>>>()?;
    for ((s, image), (out, png)) in sources.iter().zip(&images).zip(&outputs) {
        let png = a.png.then_some(png.as_path());
        let title = format!(
            "{}: source {}, TV, λ = {}",
            acq.label,
            s.name,
            crate::render::fmt_value(stats.lambda)
        );
        save_image(image, out, png, a.delta, &title)?;
        println!(
            "  {} {} -> {}",
            s.name,
            fmt_shape(image.shape()),
            out.display()
        );
    }
    Ok(())
}
