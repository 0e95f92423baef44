//! `epri fbp`: filtered backprojection (PyEPRI's `eprfbp2d` / `eprfbp3d`).

use super::checks::{self, Workload};
use super::{check_dims, check_image_outputs, fmt_duration, open, save_image};
use crate::cli::FbpArgs;
use crate::dispatch::Job;
use crate::error::Result;
use crate::io::array::{dtype_name, fmt_shape};
use crate::io::{Acquisition, HostArray};
use backend_core::{Backend, Real};
use epri_ops::geometry::Geometry;
use epri_ops::recon::fbp::{fbp, grid};
use ndarray::ArrayView1;
use std::time::Instant;

/// Filtered backprojection of the projections of `acq` on the centred grid of `shape`.
pub struct FbpJob<'a> {
    /// proj, B, h, fgrad.
    pub acq: &'a Acquisition,
    /// Image shape (Y, X[, Z]).
    pub shape: &'a [usize],
    /// Pixel size, cm.
    pub delta: f64,
    /// Frequency cut-off in (0, 1].
    pub cutoff: f64,
}

impl Job for FbpJob<'_> {
    type Output = HostArray;
    fn run<B: Backend, T: Real>(self, backend: &B) -> Result<HostArray> {
        let data = self.acq.host::<T>()?;
        let proj = data.proj.expect("loaded with projections");
        let delta = T::of(self.delta);
        let geom = Geometry::new(data.b.view(), delta, data.fgrad.view())?;
        let grids: Vec<_> = self.shape.iter().map(|&n| grid(n, delta)).collect();
        let views: Vec<ArrayView1<'_, T>> = grids.iter().map(|g| g.view()).collect();
        let u = fbp(
            backend,
            proj.view(),
            &geom,
            data.h.view(),
            &views,
            self.cutoff,
        )?;
        Ok(HostArray::from_real(u))
    }
}

/// Runs `epri fbp`.
pub fn run(a: &FbpArgs) -> Result<()> {
    let acq = Acquisition::load(&a.sources, true, true)?;
    check_dims(&a.shape.0, acq.dim(), "--shape")?;
    check_image_outputs(&acq.files, &a.out, a.png.as_deref())?;
    let (device, precision) = open(&a.compute, acq.precision())?;
    let work = Workload::Fbp(&a.shape.0);
    checks::before_compute(&acq, &device, precision, a.delta, None, None, work)?;
    let bar = if a.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new_spinner()
    };
    bar.set_message(format!(
        "filtered backprojection of {} projections onto {}",
        acq.nproj(),
        fmt_shape(&a.shape.0)
    ));
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let t0 = Instant::now();
    let image = device.run(
        precision,
        FbpJob {
            acq: &acq,
            shape: &a.shape.0,
            delta: a.delta,
            cutoff: a.cutoff,
        },
    );
    bar.finish_and_clear();
    let image = image?;
    let took = t0.elapsed();
    let kept = (a.cutoff * acq.nb() as f64).round().max(1.0);
    let hint = format!(
        " (--cutoff {} keeps {kept} of the {} frequency samples of the filter: raise it)",
        a.cutoff,
        acq.nb()
    );
    let image = checks::check_result(image, "FBP image", precision, &hint)?;
    let title = format!("{}: FBP, cutoff {}", acq.label, a.cutoff);
    save_image(&image, &a.out, a.png.as_deref(), a.delta, &title)?;
    println!(
        "FBP image {} ({}) in {} on {} -> {}",
        fmt_shape(image.shape()),
        dtype_name(precision),
        fmt_duration(took),
        device.name(),
        a.out.display()
    );
    Ok(())
}
