//! `epri gallery`: PyEPRI's filtered-backprojection and TV examples (SPEC §4.2) with their exact
//! parameters on the embedded datasets, one PNG each and an `index.html`.

use super::fbp::FbpJob;
use super::fmt_duration;
use super::tv::{progress_bar, report, TvJob, TvParams};
use crate::cli::GalleryArgs;
use crate::dispatch::Device;
use crate::error::{Error, Result};
use crate::io::array::dtype_name;
use crate::io::{Acquisition, HostArray, Sources};
use backend_core::Precision;
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
    /// Image shape (Y, X[, Z]).
    pub shape: &'static [usize],
    /// Method and parameters.
    pub method: Method,
}

const fn fbp(
    name: &'static str,
    dataset: &'static str,
    delta: f64,
    shape: &'static [usize],
    cutoff: f64,
) -> Example {
    Example {
        name,
        dataset,
        delta,
        shape,
        method: Method::Fbp { cutoff },
    }
}

#[allow(clippy::too_many_arguments)]
const fn tv(
    name: &'static str,
    dataset: &'static str,
    delta: f64,
    shape: &'static [usize],
    lambda: f64,
    iters: usize,
    tol: f64,
) -> Example {
    Example {
        name,
        dataset,
        delta,
        shape,
        method: Method::Tv { lambda, iters, tol },
    }
}

/// The 9 FBP and 9 TV examples of PyEPRI's gallery (numpy backend, float32, eps 1e-6).
pub const EXAMPLES: &[Example] = &[
    fbp(
        "fbp_2d_bacteria_inkjet",
        "bacteria-inkjet-20100709",
        0.01,
        &[100, 250],
        0.25,
    ),
    fbp(
        "fbp_2d_beads_phantom",
        "beads-phantom-20080313",
        0.01,
        &[60, 180],
        0.07,
    ),
    fbp(
        "fbp_2d_beads_thintubes",
        "beads-thintubes-20081017",
        0.00325,
        &[60, 300],
        0.2,
    ),
    fbp(
        "fbp_2d_cnrs_inkjet",
        "cnrs-inkjet-20110614",
        0.01,
        &[70, 100],
        0.1,
    ),
    fbp(
        "fbp_2d_dpph_logo",
        "dpph-logo-20080402",
        0.01,
        &[250, 300],
        0.1,
    ),
    fbp(
        "fbp_2d_phalanx",
        "phalanx-20220203",
        0.008,
        &[400, 200],
        0.1,
    ),
    fbp(
        "fbp_2d_scd_inkjet",
        "scd-inkjet-20141204",
        0.01,
        &[150, 300],
        0.1,
    ),
    fbp(
        "fbp_3d_fusillo",
        "fusillo-20091002",
        0.05,
        &[100, 50, 50],
        0.1,
    ),
    fbp(
        "fbp_3d_tamtubes",
        "tamtubes-20211201",
        0.02,
        &[55, 55, 75],
        0.1,
    ),
    tv(
        "tv_2d_bacteria_inkjet",
        "bacteria-inkjet-20100709",
        0.01,
        &[100, 250],
        5.0,
        1000,
        1e-5,
    ),
    tv(
        "tv_2d_beads_phantom",
        "beads-phantom-20080313",
        0.01,
        &[60, 180],
        5.0,
        1000,
        1e-5,
    ),
    tv(
        "tv_2d_beads_thintubes",
        "beads-thintubes-20081017",
        0.00325,
        &[60, 300],
        1.0,
        5000,
        1e-5,
    ),
    tv(
        "tv_2d_cnrs_inkjet",
        "cnrs-inkjet-20110614",
        0.01,
        &[70, 100],
        1.0,
        1000,
        1e-5,
    ),
    tv(
        "tv_2d_dpph_logo",
        "dpph-logo-20080402",
        0.01,
        &[250, 300],
        50.0,
        1000,
        1e-5,
    ),
    tv(
        "tv_2d_phalanx",
        "phalanx-20220203",
        0.008,
        &[400, 200],
        1.0,
        1000,
        1e-5,
    ),
    tv(
        "tv_2d_scd_inkjet",
        "scd-inkjet-20141204",
        0.01,
        &[150, 300],
        50.0,
        1000,
        1e-5,
    ),
    tv(
        "tv_3d_fusillo",
        "fusillo-20091002",
        0.05,
        &[100, 50, 50],
        500.0,
        500,
        1e-4,
    ),
    tv(
        "tv_3d_tamtubes",
        "tamtubes-20211201",
        0.02,
        &[55, 55, 75],
        5.0,
        1000,
        1e-4,
    ),
];

impl Example {
    /// The parameters in words, e.g. `delta 0.008 cm, 400×200, λ = 1, ≤ 1000 iterations, tol 1e-5`.
    pub fn parameters(&self) -> String {
        let shape: Vec<String> = self.shape.iter().map(|n| n.to_string()).collect();
        let common = format!("δ = {} cm, {} pixels", self.delta, shape.join("×"));
        match self.method {
            Method::Fbp { cutoff } => format!("{common}, cutoff {cutoff}"),
            Method::Tv { lambda, iters, tol } => {
                format!("{common}, λ = {lambda}, at most {iters} iterations, tol {tol:e}")
            }
        }
    }

    /// The figure title.
    pub fn title(&self) -> String {
        match self.method {
            Method::Fbp { cutoff } => format!("{}: FBP, cutoff {cutoff}", self.dataset),
            Method::Tv { lambda, .. } => format!("{}: TV, λ = {lambda}", self.dataset),
        }
    }
}

/// What running one example gave.
struct Outcome {
    example: Example,
    result: std::result::Result<(Duration, Option<usize>), String>,
}

/// Runs the gallery.
pub fn run(a: &GalleryArgs) -> Result<()> {
    let selected: Vec<Example> = EXAMPLES
        .iter()
        .filter(|e| a.only.is_empty() || a.only.iter().any(|o| e.name.contains(o.as_str())))
        .copied()
        .collect();
    if selected.is_empty() {
        let names: Vec<&str> = EXAMPLES.iter().map(|e| e.name).collect();
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
    let total = selected.len();
    let mut outcomes = Vec::new();
    for (i, e) in selected.into_iter().enumerate() {
        eprintln!("[{}/{total}] {} ({})", i + 1, e.name, e.parameters());
        let result = run_example(&e, &device, precision, out).map_err(|err| err.one_line());
        match &result {
            Ok((t, Some(n))) => eprintln!("        {n} iterations in {}", fmt_duration(*t)),
            Ok((t, None)) => eprintln!("        done in {}", fmt_duration(*t)),
            Err(msg) => eprintln!("        failed: {msg}"),
        }
        outcomes.push(Outcome { example: e, result });
    }
    let index = out.join("index.html");
    let html = index_html(&outcomes, &device.name(), precision);
    crate::io::output::write_atomic(&index, |w| {
        std::io::Write::write_all(w, html.as_bytes()).map_err(|e| e.to_string())
    })?;
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
    println!(
        "gallery: {} example(s) -> {}",
        outcomes.len(),
        index.display()
    );
    if failed > 0 {
        return Err(Error::data(format!(
            "{failed} of {} examples failed (see {})",
            outcomes.len(),
            index.display()
        )));
    }
    Ok(())
}

/// Runs one example and writes `<out>/<name>.png`; returns the computing time and, for TV, the
/// iterations done.
fn run_example(
    e: &Example,
    device: &Device,
    precision: Precision,
    out: &Path,
) -> Result<(Duration, Option<usize>)> {
    let sources = Sources {
        data: Some(e.dataset.to_string()),
        ..Sources::default()
    };
    let acq = Acquisition::load(&sources, true, true)?;
    let t0 = Instant::now();
    let (image, iterations): (HostArray, Option<usize>) = match e.method {
        Method::Fbp { cutoff } => {
            let job = FbpJob {
                acq: &acq,
                shape: e.shape,
                delta: e.delta,
                cutoff,
            };
            (device.run(precision, job)?, None)
        }
        Method::Tv { lambda, iters, tol } => {
            let params = TvParams {
                shape: e.shape.to_vec(),
                delta: e.delta,
                lambda,
                iters,
                tol,
                positivity: false,
                energy: false,
                eps: 1e-6,
            };
            let bar = progress_bar(iters, tol, false);
            let mut progress = report(&bar);
            let job = TvJob {
                acq: &acq,
                params: &params,
                progress: &mut progress,
            };
            let r = device.run(precision, job);
            bar.finish_and_clear();
            let (image, stats) = r?;
            (image, Some(stats.iterations))
        }
    };
    let took = t0.elapsed();
    let png = out.join(format!("{}.png", e.name));
    crate::render::write_image_png(&png, image.to_f64().view(), e.delta, &e.title())?;
    Ok((took, iterations))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn index_html(outcomes: &[Outcome], device: &str, precision: Precision) -> String {
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
         </style></head><body>\n<h1>epri gallery</h1>\n\
         <p>PyEPRI's filtered-backprojection and TV-regularised examples, with their parameters, \
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
        match &o.result {
            Ok((t, it)) => {
                if let Some(n) = it {
                    let _ = write!(h, "<tr><td>iterations</td><td>{n}</td></tr>");
                }
                let _ = write!(
                    h,
                    "<tr><td>run time</td><td>{}</td></tr></table>\n\
                     <img src=\"{}.png\" alt=\"{}\"></div>\n",
                    fmt_duration(*t),
                    e.name,
                    escape(&e.title())
                );
            }
            Err(msg) => {
                let _ = write!(
                    h,
                    "</table>\n<p class=\"err\">failed: {}</p></div>\n",
                    escape(msg)
                );
            }
        }
    }
    h.push_str("</div>\n</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nine_fbp_and_nine_tv_examples_on_existing_datasets() {
        let fbp = EXAMPLES
            .iter()
            .filter(|e| matches!(e.method, Method::Fbp { .. }));
        assert_eq!(fbp.count(), 9);
        assert_eq!(EXAMPLES.len(), 18);
        let root = crate::datasets::datasets_root();
        for e in EXAMPLES {
            assert!(
                root.join(e.dataset).join("proj.npy").exists(),
                "{}",
                e.dataset
            );
            let three_d = e.name.contains("_3d_");
            assert_eq!(e.shape.len(), if three_d { 3 } else { 2 }, "{}", e.name);
        }
    }
}
