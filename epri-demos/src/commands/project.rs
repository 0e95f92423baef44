//! `epri project`: the projections `A u` of an image, 2D, 3D or spectral-spatial 4D.

use super::checks::{self, Workload};
use super::{check_dims, fmt_duration, open};
use crate::cli::ProjectArgs;
use crate::dispatch::Job;
use crate::error::{Error, Result};
use crate::io::acquisition::input_files;
use crate::io::array::{dtype_name, fmt_shape};
use crate::io::output::check_outputs;
use crate::io::{npy::write_npy, read_array_as, Acquisition, HostArray};
use backend_core::{Backend, Precision, Real};
use epri_ops::proj::{Projector, ProjectorOptions};
use std::time::Instant;

/// Plans the projection operator of `acq` for images of `shape` with pixels of `delta` cm:
/// (Y, X[, Z]) images with the reference spectrum h of `acq`, or spectral-spatial images
/// (Nb, Ny, Nx, Nz) (4 axes; no h; `absorption`: absorption profiles, projected as their
/// derivative along B).
pub fn plan_projector<B: Backend, T: Real>(
    backend: &B,
    acq: &Acquisition,
    shape: &[usize],
    delta: f64,
    absorption: bool,
    eps: f64,
) -> Result<Projector<B, T>> {
    let geom = acq.geometry::<T>(delta)?;
    let opts = ProjectorOptions {
        rfft_mode: true,
        eps,
    };
    Ok(if shape.len() == 4 {
        Projector::new_spectral(backend, &geom, shape, absorption, opts)?
    } else {
        Projector::new(backend, &geom, acq.h_as::<T>()?.view(), shape, opts)?
    })
}

/// Projects `image` with the geometry (and the spectrum, for a 2D/3D image) of `acq`.
pub struct ProjectJob<'a> {
    /// B, fgrad, and h for a 2D/3D image.
    pub acq: &'a Acquisition,
    /// Image (Y, X[, Z]), or spectral-spatial (Nb, Ny, Nx, Nz); uploaded without a copy when
    /// it is C-ordered in the precision the job runs in (on the CPU).
    pub image: HostArray,
    /// Pixel size, cm.
    pub delta: f64,
    /// Spectral-spatial images: the voxels hold absorption profiles.
    pub absorption: bool,
    /// NUFFT accuracy.
    pub eps: f64,
}

impl Job for ProjectJob<'_> {
    type Output = HostArray;
    fn run<B: Backend, T: Real>(self, backend: &B) -> Result<HostArray> {
        let shape = self.image.shape().to_vec();
        let mut op = plan_projector::<B, T>(
            backend,
            self.acq,
            &shape,
            self.delta,
            self.absorption,
            self.eps,
        )?;
        let (u, _) = self.image.into_real::<T>().into_raw_vec_and_offset();
        let ub = backend.upload_flat(&shape, u)?;
        let mut out = backend.zeros::<T>(&[self.acq.nproj(), self.acq.nb()])?;
        op.apply(&ub, &mut out)?;
        Ok(HostArray::from_real(backend.download_owned(out)?))
    }
}

/// Refuses `--h` (`h_given`) for a spectral-spatial image of `shape` given as `what`
/// (`--image F`, `--shape`): one spectrum per voxel, no reference spectrum.
pub fn refuse_h(h_given: bool, shape: &[usize], what: &str) -> Result<()> {
    if h_given && shape.len() == 4 {
        return Err(Error::usage(format!(
            "--h: {what} gives a spectral-spatial image {} (one spectrum per voxel), which takes no reference spectrum: drop --h",
            fmt_shape(shape)
        )));
    }
    Ok(())
}

/// The checks of a spectral-spatial image `(Nb, Ny, Nx, Nz)` given as `what` (`--image F`,
/// `--shape`) against `acq`: 3D gradients, `Nb` the length of B.
pub fn check_spectral_image(shape: &[usize], acq: &Acquisition, what: &str) -> Result<()> {
    if acq.dim() != 3 {
        return Err(Error::usage(format!(
            "{what} is a spectral-spatial image {} but the gradients are {}D (fgrad has {} rows): spectral-spatial imaging needs 3D gradients",
            fmt_shape(shape),
            acq.dim(),
            acq.dim()
        )));
    }
    if shape[0] != acq.nb() {
        return Err(Error::usage(format!(
            "{what} is a spectral-spatial image {}: its spectral axis NB (first) must be the length of B ({}), got {}",
            fmt_shape(shape),
            acq.nb(),
            shape[0]
        )));
    }
    Ok(())
}

/// Refuses `--absorption` for a 2D/3D image (`what`: where its shape comes from).
pub fn check_absorption(absorption: bool, shape: &[usize], what: &str) -> Result<()> {
    if absorption && shape.len() != 4 {
        return Err(Error::usage(format!(
            "--absorption applies to spectral-spatial images (NB, NY, NX, NZ); {what} is {}D {}",
            shape.len(),
            fmt_shape(shape)
        )));
    }
    Ok(())
}

/// Runs `epri project`.
pub fn run(a: &ProjectArgs) -> Result<()> {
    // Read in the precision the command runs in.
    let image = read_array_as(&a.image, a.compute.precision.map(Precision::from))?;
    let spectral = image.shape().len() == 4;
    let image_opt = format!("--image {}", a.image.display());
    refuse_h(a.sources.h.is_some(), image.shape(), &image_opt)?;
    let mut acq = Acquisition::load(&a.sources, false, !spectral)?;
    let mut inputs = acq.files.clone();
    inputs.extend(input_files(&a.image));
    check_outputs(&inputs, &[("--out", &a.out)])?;
    let what = format!("the image {}", a.image.display());
    check_absorption(a.absorption, image.shape(), &what)?;
    if spectral {
        check_spectral_image(image.shape(), &acq, &image_opt)?;
        // A dataset folder's h.npy plays no part.
        acq.h = None;
    } else {
        check_dims(image.shape(), acq.dim(), &what)?;
    }
    if image.shape().iter().any(|&n| n < 2) {
        return Err(Error::file(
            &a.image,
            format!(
                "image shape {}: every axis needs at least 2 pixels",
                fmt_shape(image.shape())
            ),
        ));
    }
    // Every value is finite: the readers refuse a file that holds NaN or an infinity.
    let (device, precision) = open(&a.compute, image.precision())?;
    let work = if spectral {
        Workload::SpectralOperator(image.shape())
    } else {
        Workload::Operator(image.shape())
    };
    checks::before_compute(
        &acq,
        &device,
        precision,
        a.delta,
        Some(a.eps),
        Some(&image),
        work,
    )?;
    let image_shape = image.shape().to_vec();
    let t0 = Instant::now();
    let proj = device.run(
        precision,
        ProjectJob {
            acq: &acq,
            image,
            delta: a.delta,
            absorption: a.absorption,
            eps: a.eps,
        },
    )?;
    let took = t0.elapsed();
    let proj = checks::check_result(proj, "projections", precision, "")?;
    write_npy(&a.out, &proj)?;
    println!(
        "projections {} ({}) of image {} in {} on {} -> {}",
        fmt_shape(proj.shape()),
        dtype_name(precision),
        fmt_shape(&image_shape),
        fmt_duration(took),
        device.name(),
        a.out.display()
    );
    Ok(())
}
