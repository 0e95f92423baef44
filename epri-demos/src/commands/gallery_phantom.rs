//! The gallery's simulated spectral-spatial examples (no PyEPRI counterpart), on the phantom of
//! [`crate::phantom4d`] (three balls holding Lorentzian-derivative lines of known widths):
//!
//! * `spectral_4d_phantom`: the spectral-spatial TV reconstruction (what `epri spectral` runs),
//!   drawn as the integrated intensity of the truth and of the reconstruction, and the spectrum
//!   of the voxel at each ball's centre, true against reconstructed;
//! * `oximetry_4d_phantom`: that reconstruction fitted voxel by voxel (what `epri oximetry
//!   --derivative` runs), the true and fitted width maps and a table, per ball, of the true
//!   width against the median fitted one (in `index.html` and printed).
//!
//! Both share one simulation and one reconstruction.

use super::fmt_duration;
use super::gallery::escape;
use super::tv::{progress_bar, report};
use crate::dispatch::{Device, Job};
use crate::error::Result;
use crate::phantom4d::{Acquisition4d, Phantom4d, FIT_THRESHOLD, RECON_ITERS, RECON_LAMBDA};
use crate::render::figure::{map_figure, AxisUnit};
use crate::render::spectra::integrated_intensity;
use crate::render::{write_curves_png, write_image_png, CurvePanel, Series};
use backend_core::{Backend, Precision, Real};
use epri_ops::oximetry::{FitOptions, Form, LineModel, Param, Profile, SpectrumFit};
use epri_ops::recon::{tv_spectral, SpectralTvOptions, TvOptions, TvProgress};
use epri_ops::Geometry;
use ndarray::{Array3, Array4, Ix3, Ix4};
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// The reconstruction example.
pub const SPECTRAL: &str = "spectral_4d_phantom";
/// The oximetry example.
pub const OXIMETRY: &str = "oximetry_4d_phantom";
/// Both, in gallery order.
pub const NAMES: [&str; 2] = [SPECTRAL, OXIMETRY];
/// Stopping tolerance of the reconstruction (`epri spectral`'s default).
const TOL: f64 = 1e-5;

/// The parameters of example `name` in words.
pub fn parameters(name: &str) -> String {
    let p = Phantom4d::standard();
    let widths: Vec<String> = p.balls.iter().map(|b| b.width.to_string()).collect();
    let common = format!(
        "simulated: {}×{}×{} voxels of δ = {} cm, balls of widths {} G, Nb = {} over {} G, {} gradients up to {} G/cm, noise {} % of the largest projection; spectral TV λ = {RECON_LAMBDA}, {RECON_ITERS} iterations",
        p.shape[0],
        p.shape[1],
        p.shape[2],
        p.delta,
        widths.join(", "),
        p.nb,
        p.field.1 - p.field.0,
        p.num_proj,
        p.max_gradient,
        100.0 * p.noise
    );
    if name == OXIMETRY {
        format!("{common}; Lorentzian first-derivative fit, threshold {FIT_THRESHOLD}")
    } else {
        common
    }
}

/// One example's card for `index.html`.
pub struct Card {
    name: &'static str,
    result: std::result::Result<Shown, String>,
}

/// What a successful example shows.
struct Shown {
    /// Reconstruction time (and, for oximetry, the fit's), without the simulation and the
    /// drawing.
    took: Duration,
    iterations: usize,
    /// Figure files and their descriptions.
    figures: Vec<(String, String)>,
    /// An HTML table, or empty.
    table: String,
}

impl Card {
    /// Whether the example failed.
    pub fn failed(&self) -> bool {
        self.result.is_err()
    }

    /// The card's HTML (`device`, `precision`: what computed it).
    pub fn html(&self, device: &str, precision: &str) -> String {
        let method = if self.name == OXIMETRY {
            "spectral-spatial TV reconstruction, then per-voxel line fits (oximetry)"
        } else {
            "spectral-spatial TV reconstruction"
        };
        let mut h = format!(
            "<div class=\"card\"><h2>{}</h2>\n<table>\
             <tr><td>data</td><td>simulated 4D phantom (epri's own proj4d + noise)</td></tr>\
             <tr><td>method</td><td>{method}</td></tr>\
             <tr><td>parameters</td><td>{}</td></tr>\
             <tr><td>backend</td><td>{} ({precision})</td></tr>",
            self.name,
            escape(&parameters(self.name)),
            escape(device),
        );
        match &self.result {
            Ok(s) => {
                let _ = writeln!(
                    h,
                    "<tr><td>iterations</td><td>{}</td></tr><tr><td>run time</td><td>{}</td></tr></table>",
                    s.iterations,
                    fmt_duration(s.took)
                );
                h.push_str(&s.table);
                for (file, alt) in &s.figures {
                    let _ = writeln!(h, "<img src=\"{file}\" alt=\"{}\">", escape(alt));
                }
                h.push_str("</div>\n");
            }
            Err(msg) => {
                let _ = write!(
                    h,
                    "</table>\n<p class=\"err\">failed: {}</p></div>\n",
                    escape(msg)
                );
            }
        }
        h
    }
}

/// The spectral-spatial TV reconstruction of the simulated acquisition.
struct ReconJob<'a> {
    phantom: &'a Phantom4d,
    acq: &'a Acquisition4d,
    progress: &'a mut dyn FnMut(&TvProgress),
}

impl Job for ReconJob<'_> {
    type Output = (Array4<f64>, usize);
    fn run<B: Backend, T: Real>(self, backend: &B) -> Result<Self::Output> {
        let field = self.acq.field.mapv(T::of);
        let fgrad = self.acq.fgrad.mapv(T::of);
        let proj = self.acq.proj.mapv(T::of);
        let geometry = Geometry::new(field.view(), T::of(self.phantom.delta), fgrad.view())?;
        let opts = SpectralTvOptions {
            tv: TvOptions {
                lambda: RECON_LAMBDA,
                tol: TOL,
                max_iter: RECON_ITERS,
                eps: 1e-6,
                ..TvOptions::default()
            },
            lambda_spectral: 0.0,
            absorption: false,
        };
        let shape = self.phantom.image_shape();
        let r = tv_spectral(
            backend,
            proj.view(),
            &geometry,
            &shape,
            &opts,
            self.progress,
        )?;
        let image = r
            .image
            .mapv(|v| v.f64())
            .into_dimensionality::<Ix4>()
            .expect("a 4D image");
        Ok((image, r.iterations))
    }
}

/// Runs the examples `names` (among [`NAMES`]) on `device` in `precision`, writing their
/// figures into `out`; reports progress on stderr (as examples `first + 1`... of `total`) and
/// the width table on stdout. Nothing is computed when `names` is empty.
pub fn run(
    names: &[&'static str],
    (first, total): (usize, usize),
    device: &Device,
    precision: Precision,
    out: &Path,
) -> Vec<Card> {
    if names.is_empty() {
        return Vec::new();
    }
    let heading = |i: usize, name: &str| {
        eprintln!("[{}/{total}] {name} ({})", first + i + 1, parameters(name));
    };
    heading(0, names[0]);
    let recon = (|| {
        let phantom = Phantom4d::standard();
        let acq = phantom.simulate()?;
        let t0 = Instant::now();
        let bar = progress_bar(RECON_ITERS, TOL, false);
        let mut progress = report(&bar);
        let job = ReconJob {
            phantom: &phantom,
            acq: &acq,
            progress: &mut progress,
        };
        let r = device.run(precision, job);
        bar.finish_and_clear();
        let (image, iterations) = r?;
        Ok::<_, crate::Error>((phantom, image, iterations, t0.elapsed()))
    })();
    names
        .iter()
        .enumerate()
        .map(|(i, &name)| {
            if i > 0 {
                heading(i, name);
            }
            let result = match &recon {
                Ok((phantom, image, iterations, took)) => {
                    let shown = if name == OXIMETRY {
                        oximetry(phantom, image, out)
                    } else {
                        spectral(phantom, image, out)
                    };
                    shown.map(|d| Shown {
                        took: *took + d.fit,
                        iterations: *iterations,
                        figures: d.figures,
                        table: d.table,
                    })
                }
                Err(e) => Err(e.one_line()),
            };
            match &result {
                Ok(s) => eprintln!(
                    "        {} iterations in {}",
                    s.iterations,
                    fmt_duration(s.took)
                ),
                Err(msg) => eprintln!("        failed: {msg}"),
            }
            Card { name, result }
        })
        .collect()
}

/// What one example drew.
struct Drawn {
    /// Figure files and their descriptions.
    figures: Vec<(String, String)>,
    /// An HTML table, or empty.
    table: String,
    /// The time of the fit (oximetry), zero otherwise.
    fit: Duration,
}

/// What one example drew, or why it failed (one line).
type Figures = std::result::Result<Drawn, String>;

/// The voxel `(iy, ix, iz)` nearest the centre of ball `k`.
fn ball_voxel(p: &Phantom4d, k: usize) -> (usize, usize, usize) {
    let c = p.balls[k].center;
    let index = |v: f64, n: usize| {
        ((v / p.delta).round() as i64 + (n / 2) as i64).clamp(0, n as i64 - 1) as usize
    };
    (
        index(c[1], p.shape[0]),
        index(c[0], p.shape[1]),
        index(c[2], p.shape[2]),
    )
}

/// `spectral_4d_phantom`: intensity figures of the truth and the reconstruction, and the
/// spectra of the voxel at each ball's centre.
fn spectral(p: &Phantom4d, u: &Array4<f64>, out: &Path) -> Figures {
    let run = || -> Result<Vec<(String, String)>> {
        let field = p.field_grid();
        let db = field[1] - field[0];
        let mut figures = Vec::new();
        for (suffix, image, what) in [
            ("truth", &p.image(), "simulated phantom"),
            ("", u, "spectral TV reconstruction"),
        ] {
            let file = if suffix.is_empty() {
                format!("{SPECTRAL}.png")
            } else {
                format!("{SPECTRAL}_{suffix}.png")
            };
            let title = format!("4D phantom, {what}: integrated intensity");
            let i = integrated_intensity(image.view(), db, false);
            write_image_png(&out.join(&file), i.view().into_dyn(), p.delta, &title)?;
            figures.push((file, title));
        }
        let panels: Vec<CurvePanel> = (0..p.balls.len())
            .map(|k| {
                let (iy, ix, iz) = ball_voxel(p, k);
                let truth = p.spectrum(k).to_vec();
                let rec = u.slice(ndarray::s![.., iy, ix, iz]).to_vec();
                let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
                let c = dot(&rec, &truth) / dot(&rec, &rec).max(f64::MIN_POSITIVE);
                CurvePanel {
                    caption: format!(
                        "ball {}: {} G, voxel ({iy}, {ix}, {iz})",
                        k + 1,
                        p.balls[k].width
                    ),
                    x: field.to_vec(),
                    series: vec![
                        Series {
                            label: "true".into(),
                            colour: [0, 0, 0],
                            y: truth,
                        },
                        Series {
                            label: "reconstructed".into(),
                            colour: [31, 119, 180],
                            y: rec.clone(),
                        },
                        Series {
                            label: "reconstructed, least-squares scaled".into(),
                            colour: [255, 127, 14],
                            y: rec.iter().map(|v| v * c).collect(),
                        },
                    ],
                }
            })
            .collect();
        let file = format!("{SPECTRAL}_spectra.png");
        let title = "4D phantom: spectrum of the voxel at each ball's centre";
        write_curves_png(&out.join(&file), title, "B (G)", &panels)?;
        figures.push((file, title.to_string()));
        Ok(figures)
    };
    run()
        .map(|figures| Drawn {
            figures,
            table: String::new(),
            fit: Duration::ZERO,
        })
        .map_err(|e| e.one_line())
}

/// `oximetry_4d_phantom`: the fitted and true width maps and the per-ball table (printed too).
fn oximetry(p: &Phantom4d, u: &Array4<f64>, out: &Path) -> Figures {
    let run = || -> Result<Drawn> {
        let field = p.field_grid();
        let plan = SpectrumFit::new(
            LineModel::new(Profile::Lorentzian, Form::Derivative),
            field.view(),
            FitOptions {
                threshold: FIT_THRESHOLD,
                ..FitOptions::default()
            },
        )?;
        let t0 = Instant::now();
        let maps = plan.fit(u.view().into_dyn())?;
        let fit = t0.elapsed();
        let width = maps.value(Param::Width)?;
        let mask = maps.mask();
        let labels = p.labels();
        let truth = labels.mapv(|l| {
            if l == 0 {
                0.0
            } else {
                p.balls[l as usize - 1].width
            }
        });
        let axes = AxisUnit::Cm(p.delta);
        let mut figures = Vec::new();
        for (suffix, map, m, what) in [
            ("", width.clone(), mask.clone(), "fitted peak-to-peak width"),
            (
                "_truth",
                truth.into_dyn(),
                labels.mapv(|l| l > 0).into_dyn(),
                "true peak-to-peak width",
            ),
        ] {
            let file = format!("{OXIMETRY}{suffix}.png");
            let title = format!("4D phantom: {what}");
            map_figure(map.view(), m.view(), axes, &title, "G")?.write_png(&out.join(&file))?;
            figures.push((file, title));
        }
        let width = width.into_dimensionality::<Ix3>().expect("a 3D map");
        let mask = mask.into_dimensionality::<Ix3>().expect("a 3D mask");
        Ok(Drawn {
            table: width_table(p, &labels, &width, &mask),
            figures,
            fit,
        })
    };
    run().map_err(|e| e.one_line())
}

/// The per-ball table (HTML), printed as text too: true width, voxels fitted, median fitted
/// width, its relative error and the interquartile range, over the voxels whose centre lies
/// in the ball.
fn width_table(
    p: &Phantom4d,
    labels: &Array3<u8>,
    width: &Array3<f64>,
    mask: &Array3<bool>,
) -> String {
    let mut h = String::from(
        "<table><tr><td>ball</td><td>true width (G)</td><td>voxels fitted</td>\
         <td>median fitted width (G)</td><td>error</td><td>interquartile range (G)</td></tr>\n",
    );
    println!("{OXIMETRY}: ball, true width (G), voxels fitted, median fitted width (G), error, interquartile range (G)");
    for (k, ball) in p.balls.iter().enumerate() {
        let label = k as u8 + 1;
        let voxels = labels.iter().filter(|&&l| l == label).count();
        let mut w: Vec<f64> = labels
            .indexed_iter()
            .filter(|(ix, &l)| l == label && mask[*ix])
            .map(|(ix, _)| width[ix])
            .collect();
        w.sort_by(f64::total_cmp);
        let row = if w.is_empty() {
            [format!("0 of {voxels}"), "-".into(), "-".into(), "-".into()]
        } else {
            let q = |f: f64| w[((w.len() - 1) as f64 * f).round() as usize];
            let median = q(0.5);
            [
                format!("{} of {voxels}", w.len()),
                format!("{median:.3}"),
                format!("{:+.1} %", 100.0 * (median / ball.width - 1.0)),
                format!("{:.3}–{:.3}", q(0.25), q(0.75)),
            ]
        };
        println!("  {}  {}  {}", k + 1, ball.width, row.join("  "));
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            k + 1,
            ball.width,
            row.join("</td><td>")
        );
    }
    h.push_str("</table>\n");
    h
}
