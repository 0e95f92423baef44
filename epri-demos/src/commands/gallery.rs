//! `epri gallery`: PyEPRI's gallery examples (filtered backprojection, TV reconstruction, source
//! separation) with their exact parameters on the embedded datasets, then the simulated
//! spectral-spatial examples of [`super::gallery_phantom`], one PNG per image and an
//! `index.html`. Every TV example (reconstruction or separation) is also run with λ chosen
//! automatically (SURE, noise level estimated from the data: what `epri tv --lambda auto` and
//! `epri separate --lambda auto` do), drawn beside PyEPRI's hand-tuned image.

use super::fbp::FbpJob;
use super::fmt_duration;
use super::gallery_phantom::{self, Card};
use super::project::ProjectJob;
use super::separate::{SeparateJob, Source};
use super::tv::{
    nearest_trial, noise_origin, progress_bar, report, rule_words, LambdaReport, TvJob, TvParams,
};
use crate::cli::{GalleryArgs, LambdaArg, SolverArgs, StopArg};
use crate::dispatch::Device;
use crate::error::{Error, Result};
use crate::io::array::dtype_name;
use crate::io::{Acquisition, HostArray, Sources};
use crate::render::fmt_value;
use backend_core::Precision;
use epri_ops::recon::lambda::LambdaRule;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// The reconstruction method of an example and its parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// Filtered backprojection with this frequency cut-off.
    Fbp {
        /// Fraction of the B-frequencies kept.
        cutoff: f64,
    },
    /// TV-regularised least squares.
    Tv {
        /// Dimensionless regularisation weight.
        lambda: f64,
        /// Iteration cap (PyEPRI's `nitermax`).
        iters: usize,
        /// Stopping tolerance.
        tol: f64,
    },
    /// TV-regularised source separation (PyEPRI's `tv_multisrc`), one image per spectrum file
    /// stem of [`Example::sources`], in that order.
    Separate {
        /// Dimensionless regularisation weight.
        lambda: f64,
        /// Iteration cap (PyEPRI's `nitermax`).
        iters: usize,
        /// Stopping tolerance.
        tol: f64,
        /// Whether the projections are simulated ([`synthetic_mixture`]) from the dataset's
        /// field grid and spectra instead of read from it.
        synthetic: bool,
    },
}

/// One gallery example.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Example {
    /// PyEPRI's example name, e.g. `tv_2d_phalanx`.
    pub name: &'static str,
    /// Embedded dataset.
    pub dataset: &'static str,
    /// Pixel size, cm.
    pub delta: f64,
    /// Image shapes (Y, X[, Z]): one, or one per source for a separation.
    pub shapes: &'static [&'static [usize]],
    /// The spectrum file stems of the sources of a separation (empty otherwise).
    pub sources: &'static [&'static str],
    /// Method and parameters.
    pub method: Method,
}

const fn fbp(
    name: &'static str,
    dataset: &'static str,
    delta: f64,
    shapes: &'static [&'static [usize]],
    cutoff: f64,
) -> Example {
    Example {
        name,
        dataset,
        delta,
        shapes,
        sources: &[],
        method: Method::Fbp { cutoff },
    }
}

#[allow(clippy::too_many_arguments)]
const fn tv(
    name: &'static str,
    dataset: &'static str,
    delta: f64,
    shapes: &'static [&'static [usize]],
    lambda: f64,
    iters: usize,
    tol: f64,
) -> Example {
    Example {
        name,
        dataset,
        delta,
        shapes,
        sources: &[],
        method: Method::Tv { lambda, iters, tol },
    }
}

/// A separation of the TAM and TEMPO spectra (`htam`, `htempo`) of a dataset.
#[allow(clippy::too_many_arguments)]
const fn separate(
    name: &'static str,
    dataset: &'static str,
    delta: f64,
    shapes: &'static [&'static [usize]],
    lambda: f64,
    iters: usize,
    tol: f64,
    synthetic: bool,
) -> Example {
    Example {
        name,
        dataset,
        delta,
        shapes,
        sources: &["htam", "htempo"],
        method: Method::Separate {
            lambda,
            iters,
            tol,
            synthetic,
        },
    }
}

/// The 9 FBP, 9 TV and 4 source-separation examples of PyEPRI's gallery (numpy backend,
/// float32, eps 1e-6).
pub const EXAMPLES: &[Example] = &[
    fbp(
        "fbp_2d_bacteria_inkjet",
        "bacteria-inkjet-20100709",
        0.01,
        &[&[100, 250]],
        0.25,
    ),
    fbp(
        "fbp_2d_beads_phantom",
        "beads-phantom-20080313",
        0.01,
        &[&[60, 180]],
        0.07,
    ),
    fbp(
        "fbp_2d_beads_thintubes",
        "beads-thintubes-20081017",
        0.00325,
        &[&[60, 300]],
        0.2,
    ),
    fbp(
        "fbp_2d_cnrs_inkjet",
        "cnrs-inkjet-20110614",
        0.01,
        &[&[70, 100]],
        0.1,
    ),
    fbp(
        "fbp_2d_dpph_logo",
        "dpph-logo-20080402",
        0.01,
        &[&[250, 300]],
        0.1,
    ),
    fbp(
        "fbp_2d_phalanx",
        "phalanx-20220203",
        0.008,
        &[&[400, 200]],
        0.1,
    ),
    fbp(
        "fbp_2d_scd_inkjet",
        "scd-inkjet-20141204",
        0.01,
        &[&[150, 300]],
        0.1,
    ),
    fbp(
        "fbp_3d_fusillo",
        "fusillo-20091002",
        0.05,
        &[&[100, 50, 50]],
        0.1,
    ),
    fbp(
        "fbp_3d_tamtubes",
        "tamtubes-20211201",
        0.02,
        &[&[55, 55, 75]],
        0.1,
    ),
    tv(
        "tv_2d_bacteria_inkjet",
        "bacteria-inkjet-20100709",
        0.01,
        &[&[100, 250]],
        5.0,
        1000,
        1e-5,
    ),
    tv(
        "tv_2d_beads_phantom",
        "beads-phantom-20080313",
        0.01,
        &[&[60, 180]],
        5.0,
        1000,
        1e-5,
    ),
    tv(
        "tv_2d_beads_thintubes",
        "beads-thintubes-20081017",
        0.00325,
        &[&[60, 300]],
        1.0,
        5000,
        1e-5,
    ),
    tv(
        "tv_2d_cnrs_inkjet",
        "cnrs-inkjet-20110614",
        0.01,
        &[&[70, 100]],
        1.0,
        1000,
        1e-5,
    ),
    tv(
        "tv_2d_dpph_logo",
        "dpph-logo-20080402",
        0.01,
        &[&[250, 300]],
        50.0,
        1000,
        1e-5,
    ),
    tv(
        "tv_2d_phalanx",
        "phalanx-20220203",
        0.008,
        &[&[400, 200]],
        1.0,
        1000,
        1e-5,
    ),
    tv(
        "tv_2d_scd_inkjet",
        "scd-inkjet-20141204",
        0.01,
        &[&[150, 300]],
        50.0,
        1000,
        1e-5,
    ),
    tv(
        "tv_3d_fusillo",
        "fusillo-20091002",
        0.05,
        &[&[100, 50, 50]],
        500.0,
        500,
        1e-4,
    ),
    tv(
        "tv_3d_tamtubes",
        "tamtubes-20211201",
        0.02,
        &[&[55, 55, 75]],
        5.0,
        1000,
        1e-4,
    ),
    separate(
        "tv_multisrc_synthetic_shapes_2d",
        "tam-and-tempo-tubes-2d-20210609",
        0.03,
        &[&[100, 100], &[100, 100]],
        10.0,
        5000,
        1e-5,
        true,
    ),
    separate(
        "tv_multisrc_tam_and_tempo_tubes_2d",
        "tam-and-tempo-tubes-2d-20210609",
        0.03,
        &[&[100, 100], &[100, 100]],
        5.0,
        5000,
        1e-5,
        false,
    ),
    separate(
        "tv_multisrc_tam_and_tempo_tubes_3d",
        "tam-and-tempo-tubes-3d-20210609",
        0.1,
        &[&[25, 25, 25], &[25, 25, 25]],
        170.0,
        1000,
        1e-5,
        false,
    ),
    separate(
        "tv_multisrc_tam_insert_in_tempo_3d",
        "tam-insert-in-tempo-20230929",
        0.1,
        &[&[30, 15, 15], &[50, 20, 20]],
        2e-5,
        1000,
        1e-5,
        false,
    ),
];

impl Example {
    /// The parameters in words, e.g. `δ = 0.008 cm, 400×200 pixels, λ = 1, at most 1000
    /// iterations, tol 1e-5`.
    pub fn parameters(&self) -> String {
        let shape = |sh: &[usize]| {
            sh.iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join("×")
        };
        let pixels = if self.sources.is_empty() {
            self.shapes
                .iter()
                .map(|sh| shape(sh))
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            self.sources
                .iter()
                .zip(self.shapes)
                .map(|(src, sh)| format!("{src} {}", shape(sh)))
                .collect::<Vec<_>>()
                .join(" + ")
        };
        let common = format!("δ = {} cm, {pixels} pixels", self.delta);
        match self.method {
            Method::Fbp { cutoff } => format!("{common}, cutoff {cutoff}"),
            Method::Tv { lambda, iters, tol }
            | Method::Separate {
                lambda, iters, tol, ..
            } => {
                let simulated = match self.method {
                    Method::Separate {
                        synthetic: true, ..
                    } => ", projections simulated (disk of TAM, rectangle of TEMPO)",
                    _ => "",
                };
                format!(
                    "{common}, λ = {lambda}, at most {iters} iterations, tol {tol:e}{simulated}; again with λ chosen automatically ({})",
                    rule_words(AUTO_RULE)
                )
            }
        }
    }

    /// The hand-tuned weight of a TV example (reconstruction or separation).
    pub fn lambda(&self) -> Option<f64> {
        match self.method {
            Method::Fbp { .. } => None,
            Method::Tv { lambda, .. } | Method::Separate { lambda, .. } => Some(lambda),
        }
    }

    /// The figure title of image `k` (the source's, for a separation), at the example's λ.
    pub fn title(&self, k: usize) -> String {
        self.title_at(k, &self.lambda().map(fmt_value).unwrap_or_default())
    }

    /// The figure title of image `k` of the automatic-λ run, which chose `lambda`.
    pub fn title_auto(&self, k: usize, lambda: f64) -> String {
        self.title_at(k, &format!("{} (automatic)", fmt_value(lambda)))
    }

    /// The figure title of image `k`, with `lambda` the weight in words (TV examples).
    fn title_at(&self, k: usize, lambda: &str) -> String {
        match self.method {
            Method::Fbp { cutoff } => format!("{}: FBP, cutoff {cutoff}", self.dataset),
            Method::Tv { .. } => format!("{}: TV, λ = {lambda}", self.dataset),
            Method::Separate { synthetic, .. } => format!(
                "{}: source {}, TV separation, λ = {lambda}",
                if synthetic {
                    "synthetic mixture"
                } else {
                    self.dataset
                },
                self.source_name(k)
            ),
        }
    }

    /// The name of source `k`: its spectrum stem without the leading `h` (`htam` → `tam`).
    fn source_name(&self, k: usize) -> &'static str {
        let stem = self.sources[k];
        stem.strip_prefix('h').unwrap_or(stem)
    }

    /// The file name of figure `k`: `<name>.png`, or `<name>_<source>.png` for a separation.
    pub fn figure(&self, k: usize) -> String {
        format!("{}.png", self.figure_stem(k))
    }

    /// The file name of figure `k` of the automatic-λ run: `<name>_auto.png`, or
    /// `<name>_<source>_auto.png` for a separation.
    pub fn figure_auto(&self, k: usize) -> String {
        format!("{}_auto.png", self.figure_stem(k))
    }

    fn figure_stem(&self, k: usize) -> String {
        if self.sources.is_empty() {
            self.name.to_string()
        } else {
            format!("{}_{}", self.name, self.source_name(k))
        }
    }
}

/// PyEPRI's synthetic separation experiment on the field grid `B` and the spectra `htam`,
/// `htempo` of `acq`: a disk of TAM (diameter 0.8 cm, centre (x, y) = (−0.1, 0.25) cm) and a
/// filled rectangle of TEMPO (1.5 cm along X, 0.75 cm along Y, centred), each 300×300 pixels of
/// 0.01 cm, projected along 40 gradients of 10 G/cm (orientations `linspace(0, π, 40)`); the
/// two sinograms summed, plus Gaussian noise of standard deviation 5e3 (seeded, reproducible).
/// Returns the acquisition of the mixture (projections `(40, Nb)`, B, the gradients).
fn synthetic_mixture(
    acq: &Acquisition,
    device: &Device,
    precision: Precision,
) -> Result<Acquisition> {
    use rand::SeedableRng;
    use rand_distr::Distribution;
    const N: usize = 300;
    const DELTA: f64 = 0.01;
    const NPROJ: usize = 40;
    let coord = |i: usize| (i as f64 - (N / 2) as f64) * DELTA;
    let disk = ndarray::Array2::from_shape_fn((N, N), |(iy, ix)| {
        let (x, y) = (coord(ix) + 0.1, coord(iy) - 0.25);
        f64::from(u8::from(x * x + y * y <= 0.4 * 0.4))
    });
    let rectangle = ndarray::Array2::from_shape_fn((N, N), |(iy, ix)| {
        f64::from(u8::from(
            coord(ix).abs() <= 0.75 && coord(iy).abs() <= 0.375,
        ))
    });
    let fgrad = ndarray::Array2::from_shape_fn((2, NPROJ), |(a, k)| {
        let theta = std::f64::consts::PI * k as f64 / (NPROJ - 1) as f64;
        10.0 * if a == 0 { theta.cos() } else { theta.sin() }
    });
    let spectrum = |stem: &str| {
        acq.spectra
            .iter()
            .find(|(n, _)| n == stem)
            .map(|(_, h)| h.clone())
            .ok_or_else(|| Error::data(format!("{}: no {stem}.npy", acq.label)))
    };
    let mut mixture: Option<ndarray::ArrayD<f64>> = None;
    for (stem, phantom) in [("htam", disk), ("htempo", rectangle)] {
        let single = Acquisition {
            h: Some(spectrum(stem)?),
            fgrad: HostArray::F64(fgrad.clone().into_dyn()),
            proj: None,
            spectra: Vec::new(),
            ..acq.clone()
        };
        let job = ProjectJob {
            acq: &single,
            image: HostArray::F64(phantom.into_dyn()),
            delta: DELTA,
            absorption: false,
            eps: 1e-6,
        };
        let p = device.run(precision, job)?.to_f64();
        mixture = Some(match mixture {
            Some(m) => m + p,
            None => p,
        });
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(20_210_609);
    let noise = rand_distr::Normal::new(0.0, 5e3).expect("a positive standard deviation");
    let proj = mixture
        .expect("two sources")
        .mapv(|v| v + noise.sample(&mut rng));
    Ok(Acquisition {
        label: format!("{} (synthetic)", acq.label),
        proj: Some(HostArray::F64(proj)),
        fgrad: HostArray::F64(fgrad.into_dyn()),
        ..acq.clone()
    })
}

/// The rule of the gallery's automatic λ (the default of `--lambda auto`).
pub const AUTO_RULE: LambdaRule = LambdaRule::Sure;

/// One reconstruction of an example: its images (one, or one per source), the weight used
/// and how it was chosen (automatic λ), the iteration count (iterative methods), the run time.
struct Run {
    images: Vec<HostArray>,
    lambda: Option<f64>,
    search: Option<LambdaReport>,
    iterations: Option<usize>,
    took: Duration,
}

/// What running one example gave: the example's own run and, for a TV example, the
/// automatic-λ run (or why either failed); the images are already written.
struct Outcome {
    example: Example,
    result: std::result::Result<Run, String>,
    auto: Option<std::result::Result<Run, String>>,
}

/// Runs the gallery.
pub fn run(a: &GalleryArgs) -> Result<()> {
    let matches =
        |name: &str| a.only.is_empty() || a.only.iter().any(|o| name.contains(o.as_str()));
    let selected: Vec<Example> = EXAMPLES
        .iter()
        .filter(|e| matches(e.name))
        .copied()
        .collect();
    let phantom: Vec<&'static str> = gallery_phantom::NAMES
        .into_iter()
        .filter(|n| matches(n))
        .collect();
    if selected.is_empty() && phantom.is_empty() {
        let names: Vec<&str> = EXAMPLES
            .iter()
            .map(|e| e.name)
            .chain(gallery_phantom::NAMES)
            .collect();
        return Err(Error::usage(format!(
            "--only {}: no example matches; examples: {}",
            a.only.join(","),
            names.join(", ")
        )));
    }
    if a.list {
        for e in &selected {
            println!("{:<24} {:<26} {}", e.name, e.dataset, e.parameters());
        }
        for n in &phantom {
            let what = gallery_phantom::parameters(n);
            println!("{n:<24} {:<26} {what}", "(simulated 4D phantom)");
        }
        return Ok(());
    }
    let out = a
        .out
        .as_deref()
        .ok_or_else(|| Error::usage("--out DIR: the folder for the figures is required"))?;
    let device = Device::open(a.compute.backend)?;
    let precision = a
        .compute
        .precision
        .map(Precision::from)
        .unwrap_or(Precision::F32);
    std::fs::create_dir_all(out)
        .map_err(|e| Error::file(out, format!("cannot create folder: {e}")))?;
    let total = selected.len() + phantom.len();
    let mut outcomes = Vec::new();
    for (i, e) in selected.into_iter().enumerate() {
        eprintln!("[{}/{total}] {} ({})", i + 1, e.name, e.parameters());
        let outcome = run_example(&e, &device, precision, out);
        for (what, r) in [
            ("", Some(&outcome.result)),
            ("automatic λ: ", outcome.auto.as_ref()),
        ] {
            match r {
                Some(Ok(run)) => {
                    let chosen = match &run.search {
                        Some(s) => format!(
                            "λ = {} chosen from {} trials, ",
                            fmt_value(run.lambda.unwrap_or(f64::NAN)),
                            s.trials.len()
                        ),
                        None => String::new(),
                    };
                    match run.iterations {
                        Some(n) => eprintln!(
                            "        {what}{chosen}{n} iterations in {}",
                            fmt_duration(run.took)
                        ),
                        None => eprintln!("        {what}done in {}", fmt_duration(run.took)),
                    }
                }
                Some(Err(msg)) => eprintln!("        {what}failed: {msg}"),
                None => {}
            }
        }
        outcomes.push(outcome);
    }
    let cards = gallery_phantom::run(&phantom, (outcomes.len(), total), &device, precision, out);
    let index = out.join("index.html");
    let html = index_html(&outcomes, &cards, &device.name(), precision);
    crate::io::output::write_atomic(&index, Some(html.len() as u64), |w| {
        std::io::Write::write_all(w, html.as_bytes()).map_err(|e| e.to_string())
    })?;
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count()
        + cards.iter().filter(|c| c.failed()).count();
    println!("gallery: {total} example(s) -> {}", index.display());
    if failed > 0 {
        return Err(Error::data(format!(
            "{failed} of {total} examples failed (see {})",
            index.display()
        )));
    }
    Ok(())
}

/// Runs example `e` (and, for a TV example, its automatic-λ counterpart) and writes the
/// figures into `out`: `<name>.png` and `<name>_auto.png`, or one per source.
fn run_example(e: &Example, device: &Device, precision: Precision, out: &Path) -> Outcome {
    let acq = match acquisition(e, device, precision) {
        Ok(acq) => acq,
        Err(err) => {
            return Outcome {
                example: *e,
                result: Err(err.one_line()),
                auto: None,
            }
        }
    };
    let draw = |run: &Run, auto: bool| -> Result<()> {
        for (k, image) in run.images.iter().enumerate() {
            let (file, title) = match (auto, run.lambda) {
                (true, Some(l)) => (e.figure_auto(k), e.title_auto(k, l)),
                _ => (e.figure(k), e.title(k)),
            };
            let png = out.join(file);
            crate::render::write_image_png(&png, image.to_f64().view(), e.delta, &title)?;
        }
        Ok(())
    };
    let attempt = |lambda: Option<LambdaArg>| {
        reconstruct(e, &acq, device, precision, lambda)
            .and_then(|run| draw(&run, run.search.is_some()).map(|()| run))
            .map_err(|err| err.one_line())
    };
    let result = attempt(e.lambda().map(LambdaArg::Value));
    let auto = e
        .lambda()
        .map(|_| attempt(Some(LambdaArg::Auto(AUTO_RULE))));
    Outcome {
        example: *e,
        result,
        auto,
    }
}

/// The acquisition of example `e`: its dataset, or the simulated mixture of the synthetic
/// separation.
fn acquisition(e: &Example, device: &Device, precision: Precision) -> Result<Acquisition> {
    let sources = Sources {
        data: Some(e.dataset.to_string()),
        ..Sources::default()
    };
    let separation = matches!(e.method, Method::Separate { .. });
    let synthetic = matches!(
        e.method,
        Method::Separate {
            synthetic: true,
            ..
        }
    );
    let acq = Acquisition::load(&sources, !synthetic, !separation)?;
    if synthetic {
        synthetic_mixture(&acq, device, precision)
    } else {
        Ok(acq)
    }
}

/// Reconstructs example `e` from `acq` (see [`acquisition`]); `lambda`: the weight of a TV
/// example (its own, or [`LambdaArg::Auto`]), `None` for FBP.
fn reconstruct(
    e: &Example,
    acq: &Acquisition,
    device: &Device,
    precision: Precision,
    lambda: Option<LambdaArg>,
) -> Result<Run> {
    let t0 = Instant::now();
    let weight = |l: Option<LambdaArg>| {
        l.ok_or_else(|| Error::usage(format!("{}: a TV example needs a weight", e.name)))
    };
    let (images, search, iterations, used) = match e.method {
        Method::Fbp { cutoff } => {
            let job = FbpJob {
                acq,
                shape: e.shapes[0],
                delta: e.delta,
                cutoff,
            };
            (vec![device.run(precision, job)?], None, None, None)
        }
        Method::Tv { iters, tol, .. } => {
            let params = TvParams {
                shape: e.shapes[0].to_vec(),
                delta: e.delta,
                lambda: weight(lambda)?,
                energy: false,
                solver: SolverArgs::new(iters, tol),
            };
            let bar = progress_bar(iters, tol, false);
            let mut progress = report(&bar);
            let job = TvJob {
                acq,
                params: &params,
                progress: &mut progress,
                on_trial: &mut |_| {},
                on_warning: &mut |_| {},
            };
            let r = device.run(precision, job);
            bar.finish_and_clear();
            let (image, stats) = r?;
            (
                vec![image],
                stats.search,
                Some(stats.iterations),
                Some(stats.lambda),
            )
        }
        Method::Separate { iters, tol, .. } => {
            let dir = acq.dir.clone().unwrap_or_default();
            let sources = e
                .sources
                .iter()
                .zip(e.shapes)
                .enumerate()
                .map(|(k, (stem, shape))| {
                    let h = acq
                        .spectra
                        .iter()
                        .find(|(n, _)| n == stem)
                        .map(|(_, h)| h.clone())
                        .ok_or_else(|| Error::data(format!("{}: no {stem}.npy", e.dataset)))?;
                    Ok(Source {
                        name: e.source_name(k).to_string(),
                        h,
                        shape: shape.to_vec(),
                        path: dir.join(format!("{stem}.npy")),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let opts = SolverArgs::new(iters, tol).tv_options();
            let bar = progress_bar(iters, tol, false);
            let mut progress = report(&bar);
            let job = SeparateJob {
                acq,
                sources: &sources,
                delta: e.delta,
                opts,
                lambda: weight(lambda)?,
                stop: StopArg::Change,
                sigma: None,
                progress: &mut progress,
                on_trial: &mut |_| {},
                on_warning: &mut |_| {},
            };
            let r = device.run(precision, job);
            bar.finish_and_clear();
            let (images, stats) = r?;
            (
                images,
                stats.search,
                Some(stats.iterations),
                Some(stats.lambda),
            )
        }
    };
    Ok(Run {
        images,
        lambda: used,
        search,
        iterations,
        took: t0.elapsed(),
    })
}

/// `s` with the HTML special characters escaped.
pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One column of a TV card: the images of the hand-tuned run, or of the automatic-λ run (which
/// chose `lambda`), over `caption`.
fn figure(h: &mut String, e: &Example, auto: bool, lambda: Option<f64>, caption: &str) {
    h.push_str("<figure>");
    for k in 0..e.shapes.len() {
        let (file, title) = match lambda {
            Some(l) if auto => (e.figure_auto(k), e.title_auto(k, l)),
            _ => (e.figure(k), e.title(k)),
        };
        let _ = write!(h, "<img src=\"{file}\" alt=\"{}\">", escape(&title));
    }
    let _ = writeln!(h, "<figcaption>{}</figcaption></figure>", escape(caption));
}

/// The caption of an automatic-λ image: both weights, the rule, the noise level and the
/// residual of the trial nearest to the chosen λ.
fn auto_caption(e: &Example, a: &Run) -> String {
    let l = a.lambda.unwrap_or(f64::NAN);
    let hand = e.lambda().unwrap_or(f64::NAN);
    let mut c = format!(
        "automatic λ = {} ({}× PyEPRI's λ = {}), chosen by {}",
        fmt_value(l),
        fmt_value(l / hand),
        fmt_value(hand),
        a.search.as_ref().map_or("?", |s| rule_words(s.rule))
    );
    if let Some(s) = &a.search {
        let _ = write!(
            c,
            " from {} trials; noise σ = {:.4e} ({})",
            s.trials.len(),
            s.noise.sigma,
            noise_origin(&s.noise)
        );
        if let Some(t) = nearest_trial(&s.trials, l) {
            let _ = write!(c, "; residual {:.3} m σ²", t.residual);
        }
        if let Some(w) = &s.warning {
            let _ = write!(c, "; warning: {w}");
        }
    }
    let _ = write!(
        c,
        "; {} iterations, {} (search and final solve)",
        a.iterations.unwrap_or(0),
        fmt_duration(a.took)
    );
    c
}

fn index_html(outcomes: &[Outcome], cards: &[Card], device: &str, precision: Precision) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>epri gallery</title>\n<style>\
         body{{font-family:sans-serif;margin:2em;color:#222}}\
         .grid{{display:flex;flex-wrap:wrap;gap:1.5em}}\
         .card{{border:1px solid #ccc;border-radius:6px;padding:1em;max-width:100%}}\
         .card img{{max-width:100%;height:auto;display:block;margin:.5em 0}}\
         table{{border-collapse:collapse}}td{{padding:.1em .8em .1em 0;vertical-align:top}}\
         .err{{color:#b00}}\
         .pair{{display:flex;flex-wrap:wrap;gap:1em}}.pair figure{{margin:0;max-width:32em}}\
         figcaption{{font-size:90%}}\
         </style></head><body>\n<h1>epri gallery</h1>\n\
         <p>PyEPRI's filtered-backprojection, TV-regularised and source-separation examples, with their parameters, \
         each TV example beside the same reconstruction with λ chosen automatically (as by <code>--lambda auto</code>), \
         and two examples on a simulated spectral-spatial phantom (no PyEPRI counterpart), \
         computed by <code>epri gallery</code> on <b>{}</b> in <b>{}</b>. Run times cover \
         the reconstruction (upload, planning, iterations, download), not the loading of the data \
         or the drawing. Datasets: PyEPRI (MIT licence, Rémy Abergel), see datasets/README.md.</p>\n\
         <div class=\"grid\">\n",
        escape(device),
        dtype_name(precision)
    );
    for o in outcomes {
        let e = &o.example;
        let method = match e.method {
            Method::Fbp { .. } => "filtered backprojection",
            Method::Tv { .. } => "TV-regularised least squares",
            Method::Separate { .. } => "source separation (TV-regularised least squares)",
        };
        let _ = write!(
            h,
            "<div class=\"card\"><h2>{}</h2>\n<table>\
             <tr><td>dataset</td><td>{}</td></tr>\
             <tr><td>method</td><td>{method}</td></tr>\
             <tr><td>parameters</td><td>{}</td></tr>\
             <tr><td>backend</td><td>{} ({})</td></tr>",
            e.name,
            e.dataset,
            escape(&e.parameters()),
            escape(device),
            dtype_name(precision)
        );
        match (&o.result, &o.auto) {
            (Ok(run), None) => {
                if let Some(n) = run.iterations {
                    let _ = write!(h, "<tr><td>iterations</td><td>{n}</td></tr>");
                }
                let _ = writeln!(
                    h,
                    "<tr><td>run time</td><td>{}</td></tr></table>",
                    fmt_duration(run.took)
                );
                for k in 0..e.shapes.len() {
                    let _ = writeln!(
                        h,
                        "<img src=\"{}\" alt=\"{}\">",
                        e.figure(k),
                        escape(&e.title(k))
                    );
                }
                h.push_str("</div>\n");
            }
            (Ok(run), Some(auto)) => {
                h.push_str("</table>\n<div class=\"pair\">");
                let caption = format!(
                    "PyEPRI's hand-tuned λ = {}; {} iterations, {}",
                    fmt_value(e.lambda().unwrap_or(f64::NAN)),
                    run.iterations.unwrap_or(0),
                    fmt_duration(run.took)
                );
                figure(&mut h, e, false, None, &caption);
                match auto {
                    Ok(a) => {
                        let l = a.lambda.unwrap_or(f64::NAN);
                        figure(&mut h, e, true, Some(l), &auto_caption(e, a));
                    }
                    Err(msg) => {
                        let _ = write!(
                            h,
                            "<figure><p class=\"err\">automatic λ ({}) failed: {}</p></figure>",
                            rule_words(AUTO_RULE),
                            escape(msg)
                        );
                    }
                }
                h.push_str("</div></div>\n");
            }
            (Err(msg), _) => {
                let _ = write!(
                    h,
                    "</table>\n<p class=\"err\">failed: {}</p></div>\n",
                    escape(msg)
                );
            }
        }
    }
    for c in cards {
        h.push_str(&c.html(device, dtype_name(precision)));
    }
    h.push_str("</div>\n</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyepri_gallery_examples_on_existing_datasets() {
        let count = |f: fn(&Method) -> bool| EXAMPLES.iter().filter(|e| f(&e.method)).count();
        assert_eq!(count(|m| matches!(m, Method::Fbp { .. })), 9);
        assert_eq!(count(|m| matches!(m, Method::Tv { .. })), 9);
        assert_eq!(count(|m| matches!(m, Method::Separate { .. })), 4);
        let root = crate::datasets::datasets_root();
        for e in EXAMPLES {
            let dir = root.join(e.dataset);
            assert!(dir.join("B.npy").exists(), "{}", e.dataset);
            let three_d = e.name.contains("_3d");
            for shape in e.shapes {
                assert_eq!(shape.len(), if three_d { 3 } else { 2 }, "{}", e.name);
            }
            match e.method {
                Method::Separate { synthetic, .. } => {
                    assert_eq!(e.shapes.len(), e.sources.len(), "{}", e.name);
                    for stem in e.sources {
                        assert!(dir.join(format!("{stem}.npy")).exists(), "{}", e.name);
                    }
                    assert_eq!(
                        synthetic,
                        !dir.join("proj.npy").exists() || e.name.contains("synthetic")
                    );
                }
                _ => {
                    assert_eq!(e.shapes.len(), 1, "{}", e.name);
                    assert!(dir.join("proj.npy").exists(), "{}", e.dataset);
                }
            }
        }
        let names: Vec<String> = (0..2).map(|k| EXAMPLES[19].figure(k)).collect();
        assert_eq!(
            names,
            [
                "tv_multisrc_tam_and_tempo_tubes_2d_tam.png",
                "tv_multisrc_tam_and_tempo_tubes_2d_tempo.png"
            ]
        );
    }

    /// The synthetic experiment separates what it simulated: the TAM image is the disk, the
    /// TEMPO image the rectangle (means inside and outside each shape, 100×100 pixels of 0.03 cm).
    #[test]
    fn synthetic_separation_recovers_the_disk_and_the_rectangle() {
        let e = EXAMPLES
            .iter()
            .find(|e| e.name == "tv_multisrc_synthetic_shapes_2d")
            .unwrap();
        let device = Device::open(backend_core::DeviceSpec::Cpu).unwrap();
        let acq = acquisition(e, &device, Precision::F32).unwrap();
        let lambda = e.lambda().map(LambdaArg::Value);
        let run = reconstruct(e, &acq, &device, Precision::F32, lambda).unwrap();
        let (images, iterations) = (run.images, run.iterations);
        assert!(iterations.unwrap() < 5000, "stopped by the tolerance");
        let coord = |i: usize| (i as f64 - 50.0) * 0.03;
        let in_disk = |y: f64, x: f64| (x + 0.1).powi(2) + (y - 0.25).powi(2) <= 0.4f64.powi(2);
        let in_rect = |y: f64, x: f64| x.abs() <= 0.75 && y.abs() <= 0.375;
        // Pixels away from the edges of both shapes.
        let margin = |y: f64, x: f64, inside: &dyn Fn(f64, f64) -> bool| {
            [
                (0.0, 0.0),
                (0.06, 0.0),
                (-0.06, 0.0),
                (0.0, 0.06),
                (0.0, -0.06),
            ]
            .iter()
            .all(|(dy, dx)| inside(y + dy, x + dx) == inside(y, x))
        };
        for (image, shape) in images
            .iter()
            .zip([&in_disk as &dyn Fn(f64, f64) -> bool, &in_rect])
        {
            let u = image.to_f64();
            let (mut inside, mut outside) = (vec![], vec![]);
            for ((iy, ix), &v) in u
                .view()
                .into_dimensionality::<ndarray::Ix2>()
                .unwrap()
                .indexed_iter()
            {
                let (y, x) = (coord(iy), coord(ix));
                if margin(y, x, shape) {
                    if shape(y, x) {
                        inside.push(v)
                    } else {
                        outside.push(v)
                    }
                }
            }
            let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
            assert!(
                (mean(&inside) - 1.0).abs() < 0.15,
                "inside {}",
                mean(&inside)
            );
            assert!(mean(&outside).abs() < 0.1, "outside {}", mean(&outside));
        }
    }
}
