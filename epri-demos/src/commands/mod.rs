//! The subcommands of `epri`, one module each.

pub mod backproject;
pub mod checks;
pub mod compare;
pub mod devices;
pub mod fbp;
pub mod gallery;
pub mod gallery_phantom;
pub mod info;
pub mod oximetry;
pub mod project;
pub mod selftest;
pub mod separate;
pub mod spectral;
pub mod tv;

use crate::cli::{Cli, Command, ComputeArgs};
use crate::dispatch::Device;
use crate::error::Result;
use backend_core::Precision;

/// Runs the command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Devices => devices::run(),
        Command::Info(a) => info::run(&a),
        Command::Project(a) => project::run(&a),
        Command::Backproject(a) => backproject::run(&a),
        Command::Tv(a) => tv::run(&a),
        Command::Spectral(a) => spectral::run(&a),
        Command::Fbp(a) => fbp::run(&a),
        Command::Separate(a) => separate::run(&a),
        Command::Oximetry(a) => oximetry::run(&a),
        Command::Gallery(a) => gallery::run(&a),
        Command::Selftest(a) => selftest::run(&a),
        Command::Compare(a) => compare::run(&a),
    }
}

/// Opens the device of `--backend` and resolves `--precision` (default: `data`).
pub fn open(compute: &ComputeArgs, data: Precision) -> Result<(Device, Precision)> {
    let device = Device::open(compute.backend)?;
    let precision = compute.precision.map(Precision::from).unwrap_or(data);
    Ok((device, precision))
}

/// `"2D"` / `"3D"`.
pub fn dim_name(d: usize) -> String {
    format!("{d}D")
}

/// Writes a reconstructed image to `.npy` (in its precision) and, if asked, to a PNG figure.
pub fn save_image(
    image: &crate::io::HostArray,
    out: &std::path::Path,
    png: Option<&std::path::Path>,
    delta: f64,
    title: &str,
) -> Result<()> {
    crate::io::npy::write_npy(out, image)?;
    if let Some(png) = png {
        crate::render::write_image_png(png, image.to_f64().view(), delta, title)?;
    }
    Ok(())
}

/// Checks that an image shape has the acquisition's dimension; `what` names the option or file
/// that gave it.
pub fn check_dims(shape: &[usize], d: usize, what: &str) -> Result<()> {
    if shape.len() == d {
        Ok(())
    } else {
        Err(crate::error::Error::usage(format!(
            "{what} is {}D {} but the gradients are {d}D (fgrad has {d} rows): {}",
            shape.len(),
            crate::io::array::fmt_shape(shape),
            match (what.starts_with("--"), d) {
                (true, 2) => "give NY,NX",
                (true, _) => "give NY,NX,NZ",
                (false, 2) => "the image must be (NY, NX)",
                (false, _) => "the image must be (NY, NX, NZ)",
            }
        )))
    }
}

/// Refuses an image output (`--out`, and `--png` if given) that would replace one of the
/// command's `inputs`.
pub fn check_image_outputs(
    inputs: &[std::path::PathBuf],
    out: &std::path::Path,
    png: Option<&std::path::Path>,
) -> Result<()> {
    let mut outputs = vec![("--out", out)];
    outputs.extend(png.map(|p| ("--png", p)));
    crate::io::output::check_outputs(inputs, &outputs)
}

/// `PREFIX_<name>.<ext>`: the outputs of the commands that write several files.
pub fn output_path(prefix: &std::path::Path, name: &str, ext: &str) -> std::path::PathBuf {
    let mut p = std::ffi::OsString::from(prefix.as_os_str());
    p.push(format!("_{name}.{ext}"));
    std::path::PathBuf::from(p)
}

/// A duration as `4.2 ms`, `1.23 s` or `2 min 3.4 s`.
pub fn fmt_duration(d: std::time::Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{:.1} ms", s * 1e3)
    } else if s < 60.0 {
        format!("{s:.2} s")
    } else {
        format!("{} min {:.1} s", (s / 60.0).floor(), s % 60.0)
    }
}
