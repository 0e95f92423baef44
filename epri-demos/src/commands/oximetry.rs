//! `epri oximetry`: per-voxel line-shape fits of a spectral-spatial image `(Nb, Ny, Nx[, Nz])`
//! (spectral axis first, on the field grid B) into maps of peak-to-peak linewidth, its
//! standard error, amplitude, centre, a validity mask and, with a calibration, pO2.
//!
//! [`Job::plan`] and [`fit_and_write`] do the work on arrays already in memory, so that a
//! command producing the image (a spectral-spatial reconstruction) can chain the fit:
//! `fit_and_write(&image, &job.plan(&field)?, job.calibration, prefix, ...)`.

use super::output_path;
use crate::cli::{LineShapeArg, OximetryArgs, OximetryFitArgs, ProbeArg};
use crate::error::{Error, Result};
use crate::io::array::fmt_shape;
use crate::io::npy::{write_bool_npy, write_npy};
use crate::io::{read_array, HostArray};
use crate::render::figure::{map_figure, AxisUnit};
use backend_core::Precision;
use epri_ops::oximetry::{
    Calibration, FitMaps, FitOptions, Form, LineModel, Param, Probe, Profile, SpectrumFit, Status,
};
use ndarray::{ArrayD, Ix1};
use std::path::{Path, PathBuf};

/// What to fit and how to calibrate it.
#[derive(Clone, Copy, Debug)]
pub struct Job {
    /// The line-shape model.
    pub model: LineModel,
    /// Fit options (the threshold).
    pub options: FitOptions,
    /// Width → pO2, if given.
    pub calibration: Option<Calibration>,
}

impl Job {
    /// The job of the command-line options.
    pub fn from_args(a: &OximetryFitArgs) -> Result<Self> {
        let profile = match a.model {
            LineShapeArg::Lorentzian => Profile::Lorentzian,
            LineShapeArg::Gaussian => Profile::Gaussian,
            LineShapeArg::Voigt => Profile::PseudoVoigt,
        };
        let form = if a.derivative {
            Form::Derivative
        } else {
            Form::Absorption
        };
        let probe = a.probe.map(|p| match p {
            ProbeArg::Linc => Probe::LiNc,
        });
        let calibration = match (a.width0, a.slope, probe) {
            (Some(w0), Some(s), None) => Some(
                Calibration::new(w0, s)
                    .map_err(|e| Error::usage(format!("--width0/--slope: {e}")))?,
            ),
            (Some(w0), None, Some(p)) => Some(
                Calibration::preset(p, w0).map_err(|e| Error::usage(format!("--width0: {e}")))?,
            ),
            (None, None, Some(p)) => {
                return Err(Error::usage(format!(
                    "--probe sets the slope only ({} G/mmHg): give the anoxic width of your batch with --width0",
                    p.slope()
                )))
            }
            (None, None, None) => None,
            _ => {
                return Err(Error::usage(
                    "a calibration is --width0 with one of --slope, --probe",
                ))
            }
        };
        Ok(Job {
            model: LineModel::new(profile, form),
            options: FitOptions {
                threshold: a.threshold,
                ..FitOptions::default()
            },
            calibration,
        })
    }

    /// The fit plan of this job on the field grid `field` (G, shape `(Nb,)`, strictly
    /// increasing).
    pub fn plan(&self, field: &[f64]) -> Result<SpectrumFit> {
        Ok(SpectrumFit::new(
            self.model,
            ndarray::aview1(field),
            self.options,
        )?)
    }
}

/// One output map: its name in `PREFIX_<name>.npy`.
const MAPS: [&str; 5] = ["width", "width_err", "amplitude", "center", "mask"];

/// The files [`fit_and_write`] writes for `prefix`, with the option that names them.
pub fn output_files(prefix: &Path, calibrated: bool, png: bool) -> Vec<(&'static str, PathBuf)> {
    let mut files: Vec<(&str, PathBuf)> = MAPS
        .iter()
        .map(|m| ("--out", output_path(prefix, m, "npy")))
        .collect();
    if calibrated {
        files.push(("--out", output_path(prefix, "po2", "npy")));
    }
    if png {
        files.push(("--png", output_path(prefix, "width", "png")));
        if calibrated {
            files.push(("--png", output_path(prefix, "po2", "png")));
        }
    }
    files
}

/// Refuses outputs of [`output_files`] that would replace one of `inputs` or each other.
pub fn check_output_files(
    prefix: &Path,
    calibrated: bool,
    png: bool,
    inputs: &[PathBuf],
) -> Result<()> {
    let files = output_files(prefix, calibrated, png);
    let named: Vec<(&str, &Path)> = files.iter().map(|(o, p)| (*o, p.as_path())).collect();
    crate::io::output::check_outputs(inputs, &named)
}

/// Fits every voxel of `image` (`(Nb, Ny, Nx[, Nz])`, spectral axis first, on the field grid
/// of `plan`) and writes the maps of [`output_files`] with `prefix`, in the image's precision
/// (the mask as numpy `bool`; masked voxels hold 0 in every map), and pO2 if `calibration` is
/// given. The outputs are checked against `inputs` (never overwritten) before anything is
/// computed, and each is written atomically. `axes`: the unit of the figures' axes. Returns
/// the fit.
pub fn fit_and_write(
    image: &HostArray,
    plan: &SpectrumFit,
    calibration: Option<Calibration>,
    prefix: &Path,
    png: bool,
    axes: AxisUnit,
    inputs: &[PathBuf],
) -> Result<FitMaps> {
    check_output_files(prefix, calibration.is_some(), png, inputs)?;
    let maps = match image {
        HostArray::F32(u) => plan.fit(u.view())?,
        HostArray::F64(u) => plan.fit(u.view())?,
    };
    let precision = image.precision();
    let store = |a: ArrayD<f64>| match precision {
        Precision::F32 => HostArray::F32(a.mapv(|x| x as f32)),
        Precision::F64 => HostArray::F64(a),
    };
    let width = maps.value(Param::Width)?;
    let mask = maps.mask();
    write_npy(&output_path(prefix, "width", "npy"), &store(width.clone()))?;
    write_npy(
        &output_path(prefix, "width_err", "npy"),
        &store(maps.std_error(Param::Width)?),
    )?;
    write_npy(
        &output_path(prefix, "amplitude", "npy"),
        &store(maps.value(Param::Amplitude)?),
    )?;
    write_npy(
        &output_path(prefix, "center", "npy"),
        &store(maps.value(Param::Center)?),
    )?;
    write_bool_npy(&output_path(prefix, "mask", "npy"), &mask)?;
    let po2 = calibration.map(|c| c.po2_map(&maps));
    if let Some(po2) = &po2 {
        write_npy(&output_path(prefix, "po2", "npy"), &store(po2.clone()))?;
    }
    if png {
        let title = format!("peak-to-peak linewidth, {}", model_name(plan.model()));
        map_figure(width.view(), mask.view(), axes, &title, "G")?
            .write_png(&output_path(prefix, "width", "png"))?;
        if let Some(po2) = &po2 {
            map_figure(po2.view(), mask.view(), axes, "pO2", "mmHg")?
                .write_png(&output_path(prefix, "po2", "png"))?;
        }
    }
    Ok(maps)
}

/// `Lorentzian first derivative`, `pseudo-Voigt absorption`...
fn model_name(m: LineModel) -> String {
    let p = match m.profile {
        Profile::Lorentzian => "Lorentzian",
        Profile::Gaussian => "Gaussian",
        Profile::PseudoVoigt => "pseudo-Voigt",
    };
    let f = match m.form {
        Form::Absorption => "absorption",
        Form::Derivative => "first derivative",
    };
    format!("{p} {f}")
}

/// One line on the fit: how many voxels have each status, and the range of the valid widths.
pub fn summary(maps: &FitMaps) -> String {
    let n = maps.status_counts();
    let total = maps.voxels().len();
    let mut widths: Vec<f64> = maps
        .voxels()
        .iter()
        .filter(|v| v.status == Status::Fitted)
        .map(|v| v.params[Param::Width.index()])
        .collect();
    widths.sort_by(f64::total_cmp);
    let counts = format!(
        "fitted {} of {total} voxels (below the threshold {}, off the grid {}, not converged {}, singular {})",
        n[Status::Fitted as usize],
        n[Status::BelowThreshold as usize],
        n[Status::OutOfRange as usize],
        n[Status::NotConverged as usize],
        n[Status::Singular as usize]
    );
    match (widths.first(), widths.last()) {
        (Some(lo), Some(hi)) => format!(
            "{counts}; peak-to-peak width median {:.4} G, range [{lo:.4}, {hi:.4}] G",
            widths[widths.len() / 2]
        ),
        _ => counts,
    }
}

/// Reads the image and the field grid, checking them against each other (naming the files),
/// and plans the fit of `job` on the grid.
fn read_inputs(a: &OximetryArgs, job: &Job) -> Result<(HostArray, SpectrumFit)> {
    let image = read_array(&a.image)?;
    let b = read_array(&a.field)?;
    let shape = image.shape().to_vec();
    if !(shape.len() == 3 || shape.len() == 4) {
        return Err(Error::file(
            &a.image,
            format!(
                "is {}-D {}: expected a spectral-spatial image (Nb, Ny, Nx) or (Nb, Ny, Nx, Nz), the spectral axis first",
                shape.len(),
                fmt_shape(&shape)
            ),
        ));
    }
    if shape.contains(&0) {
        return Err(Error::file(
            &a.image,
            format!("is empty {}", fmt_shape(&shape)),
        ));
    }
    let b = b.to_f64().into_dimensionality::<Ix1>().map_err(|_| {
        Error::file(
            &a.field,
            format!("is {}: expected the field grid (Nb,)", fmt_shape(b.shape())),
        )
    })?;
    if b.len() != shape[0] {
        return Err(Error::data(format!(
            "{} has {} field samples but the first (spectral) axis of {} {} has {}: the image must be (Nb, Ny, Nx[, Nz]) with Nb = len(B)",
            a.field.display(),
            b.len(),
            a.image.display(),
            fmt_shape(&shape),
            shape[0]
        )));
    }
    if !image.all_finite() {
        return Err(Error::file(&a.image, "holds NaN or infinite values"));
    }
    let plan = job
        .plan(&b.to_vec())
        .map_err(|e| Error::file(&a.field, e.to_string()))?;
    Ok((image, plan))
}

/// Runs `epri oximetry`.
pub fn run(a: &OximetryArgs) -> Result<()> {
    let job = Job::from_args(&a.fit)?;
    let inputs = [a.image.clone(), a.field.clone()];
    check_output_files(&a.out, job.calibration.is_some(), a.png, &inputs)?;
    let (image, plan) = read_inputs(a, &job)?;
    let t0 = std::time::Instant::now();
    let axes = a.delta.map_or(AxisUnit::Pixel, AxisUnit::Cm);
    let maps = fit_and_write(&image, &plan, job.calibration, &a.out, a.png, axes, &inputs)?;
    if maps.status_counts()[Status::Fitted as usize] == 0 {
        eprintln!("warning: no voxel was fitted: every map is 0 (lower --threshold, or check the model, --derivative and B)");
    }
    println!("{} ({})", summary(&maps), super::fmt_duration(t0.elapsed()));
    let files = output_files(&a.out, job.calibration.is_some(), a.png);
    println!(
        "wrote {}",
        files
            .iter()
            .map(|(_, p)| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
