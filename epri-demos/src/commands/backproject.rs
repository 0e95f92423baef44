//! `epri backproject`: the adjoint `A* p` of the projection operator.

use super::checks::{self, Workload};
use super::{check_dims, check_image_outputs, fmt_duration, open, save_image};
use crate::cli::BackprojectArgs;
use crate::dispatch::Job;
use crate::error::Result;
use crate::io::array::{dtype_name, fmt_shape};
use crate::io::{Acquisition, HostArray};
use backend_core::{Backend, Real};
use epri_ops::geometry::Geometry;
use epri_ops::proj::{Projector, ProjectorOptions};
use std::time::Instant;

/// Backprojects the projections of `acq` onto an image of shape `shape`.
pub struct BackprojectJob<'a> {
    /// proj, B, h, fgrad.
    pub acq: &'a Acquisition,
    /// Image shape (Y, X[, Z]).
    pub shape: &'a [usize],
    /// Pixel size, cm.
    pub delta: f64,
    /// NUFFT accuracy.
    pub eps: f64,
}

impl Job for BackprojectJob<'_> {
    type Output = HostArray;
    fn run<B: Backend, T: Real>(self, backend: &B) -> Result<HostArray> {
        let data = self.acq.host::<T>()?;
        let proj = data.proj.expect("loaded with projections");
        let geom = Geometry::new(data.b.view(), T::of(self.delta), data.fgrad.view())?;
        let opts = ProjectorOptions {
            rfft_mode: true,
            eps: self.eps,
        };
        let mut op = Projector::new(backend, &geom, data.h.view(), self.shape, opts)?;
        let pb = backend.upload(proj.view().into_dyn())?;
        let mut out = backend.zeros::<T>(self.shape)?;
        op.adjoint(&pb, &mut out)?;
        Ok(HostArray::from_real(backend.download(&out)?))
    }
}

/// Runs `epri backproject`.
pub fn run(a: &BackprojectArgs) -> Result<()> {
    let acq = Acquisition::load(&a.sources, true, true)?;
    check_dims(&a.shape.0, acq.dim(), "--shape")?;
    check_image_outputs(&acq.files, &a.out, a.png.as_deref())?;
    let (device, precision) = open(&a.compute, acq.precision())?;
    let work = Workload::Operator(&a.shape.0);
    checks::before_compute(&acq, &device, precision, a.delta, Some(a.eps), None, work)?;
    let t0 = Instant::now();
    let image = device.run(
        precision,
        BackprojectJob {
            acq: &acq,
            shape: &a.shape.0,
            delta: a.delta,
            eps: a.eps,
        },
    )?;
    let took = t0.elapsed();
    let image = checks::check_result(image, "backprojection", precision, "")?;
    let title = format!("{}: backprojection", acq.label);
    save_image(&image, &a.out, a.png.as_deref(), a.delta, &title)?;
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
