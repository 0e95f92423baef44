//! `epri project`: the projections `A u` of an image.

use super::checks::{self, Workload};
use super::{check_dims, fmt_duration, open};
use crate::cli::ProjectArgs;
use crate::dispatch::Job;
use crate::error::{Error, Result};
use crate::io::acquisition::input_files;
use crate::io::array::{dtype_name, fmt_shape};
use crate::io::output::check_outputs;
use crate::io::{npy::write_npy, read_array, Acquisition, HostArray};
use backend_core::{Backend, Real};
use epri_ops::geometry::Geometry;
use epri_ops::proj::{Projector, ProjectorOptions};
use std::time::Instant;

/// Projects `image` with the geometry and spectrum of `acq`.
pub struct ProjectJob<'a> {
    /// B, h, fgrad.
    pub acq: &'a Acquisition,
    /// Image (Y, X[, Z]).
    pub image: &'a HostArray,
    /// Pixel size, cm.
    pub delta: f64,
    /// NUFFT accuracy.
    pub eps: f64,
}

impl Job for ProjectJob<'_> {
    type Output = HostArray;
    fn run<B: Backend, T: Real>(self, backend: &B) -> Result<HostArray> {
        let data = self.acq.host::<T>()?;
        let geom = Geometry::new(data.b.view(), T::of(self.delta), data.fgrad.view())?;
        let u = self.image.to_real::<T>();
        let opts = ProjectorOptions {
            rfft_mode: true,
            eps: self.eps,
        };
        let mut op = Projector::new(backend, &geom, data.h.view(), u.shape(), opts)?;
        let ub = backend.upload(u.view())?;
        let mut out = backend.zeros::<T>(&geom.sino_shape())?;
        op.apply(&ub, &mut out)?;
        Ok(HostArray::from_real(backend.download(&out)?))
    }
}

/// Runs `epri project`.
pub fn run(a: &ProjectArgs) -> Result<()> {
    let acq = Acquisition::load(&a.sources, false, true)?;
    let image = read_array(&a.image)?;
    let mut inputs = acq.files.clone();
    inputs.extend(input_files(&a.image));
    check_outputs(&inputs, &[("--out", &a.out)])?;
    let what = format!("the image {}", a.image.display());
    check_dims(image.shape(), acq.dim(), &what)?;
    if image.shape().iter().any(|&n| n < 2) {
        return Err(Error::file(
            &a.image,
            format!(
                "image shape {}: every axis needs at least 2 pixels",
                fmt_shape(image.shape())
            ),
        ));
    }
    if !image.all_finite() {
        return Err(Error::file(
            &a.image,
            "the image holds NaN or infinite values",
        ));
    }
    let (device, precision) = open(&a.compute, image.precision())?;
    let work = Workload::Operator(image.shape());
    checks::before_compute(
        &acq,
        &device,
        precision,
        a.delta,
        Some(a.eps),
        Some(&image),
        work,
    )?;
    let t0 = Instant::now();
    let proj = device.run(
        precision,
        ProjectJob {
            acq: &acq,
            image: &image,
            delta: a.delta,
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
        fmt_shape(image.shape()),
        fmt_duration(took),
        device.name(),
        a.out.display()
    );
    Ok(())
}
