//! `epri backproject`: the adjoint `A* p` of the projection operator, onto a 2D, 3D or
//! spectral-spatial 4D image.

use super::checks::{self, Workload};
use super::project::{check_absorption, check_spectral_image, plan_projector, refuse_h};
use super::{check_dims, check_image_outputs, fmt_duration, open, save_image};
use crate::cli::BackprojectArgs;
use crate::dispatch::Job;
use crate::error::Result;
use crate::io::array::{dtype_name, fmt_shape};
use crate::io::{Acquisition, HostArray};
use backend_core::{Backend, Real};
use std::time::Instant;

/// Backprojects the projections of `acq` onto an image of shape `shape`.
pub struct BackprojectJob<'a> {
    /// proj, B, fgrad, and h for a 2D/3D image.
    pub acq: &'a Acquisition,
    /// Image shape (Y, X[, Z]), or spectral-spatial (Nb, Ny, Nx, Nz).
    pub shape: &'a [usize],
    /// Pixel size, cm.
    pub delta: f64,
    /// Spectral-spatial images: the voxels hold absorption profiles.
    pub absorption: bool,
    /// NUFFT accuracy.
    pub eps: f64,
}

impl Job for BackprojectJob<'_> {
    type Output = HostArray;
    fn run<B: Backend, T: Real>(self, backend: &B) -> Result<HostArray> {
        let proj = self.acq.proj_as::<T>().expect("loaded with projections");
        let mut op = plan_projector::<B, T>(
            backend,
            self.acq,
            self.shape,
            self.delta,
            self.absorption,
            self.eps,
        )?;
        let pb = backend.upload(proj.view().into_dyn())?;
        let mut out = backend.zeros::<T>(self.shape)?;
        op.adjoint(&pb, &mut out)?;
        Ok(HostArray::from_real(backend.download(&out)?))
    }
}

/// Runs `epri backproject`.
pub fn run(a: &BackprojectArgs) -> Result<()> {
    let shape = &a.shape.0;
    let spectral = shape.len() == 4;
    check_absorption(a.absorption, shape, "--shape")?;
    refuse_h(a.sources.h.is_some(), shape, "--shape")?;
    let mut acq = Acquisition::load(&a.sources, true, !spectral)?;
    if spectral {
        check_spectral_image(shape, &acq, "--shape")?;
        // A dataset folder's h.npy plays no part.
        acq.h = None;
    } else {
        check_dims(shape, acq.dim(), "--shape")?;
    }
    check_image_outputs(&acq.files, &a.out, a.png.as_deref())?;
    let (device, precision) = open(&a.compute, acq.precision())?;
    let work = if spectral {
        Workload::SpectralOperator(shape)
    } else {
        Workload::Operator(shape)
    };
    checks::before_compute(&acq, &device, precision, a.delta, Some(a.eps), None, work)?;
    let t0 = Instant::now();
    let image = device.run(
        precision,
        BackprojectJob {
            acq: &acq,
            shape,
            delta: a.delta,
            absorption: a.absorption,
            eps: a.eps,
        },
    )?;
    let took = t0.elapsed();
    let image = checks::check_result(image, "backprojection", precision, "")?;
    let title = format!("{}: backprojection", acq.label);
    if spectral {
        crate::io::npy::write_npy(&a.out, &image)?;
        if let Some(png) = &a.png {
            let title = format!("{title}, integrated intensity");
            let b: Vec<f64> = acq.b.to_f64().iter().copied().collect();
            let u = image.to_f64();
            crate::render::write_spectral_png(png, u.view(), &b, a.absorption, a.delta, &title)?;
        }
    } else {
        save_image(&image, &a.out, a.png.as_deref(), a.delta, &title)?;
    }
    println!(
        "backprojection {} ({}) in {} on {} -> {}",
        fmt_shape(image.shape()),
        dtype_name(precision),
        fmt_duration(took),
        device.name(),
        a.out.display()
    );
    Ok(())
}
