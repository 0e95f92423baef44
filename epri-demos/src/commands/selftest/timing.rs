//! The timing half of `epri selftest`: the main operators on two small synthetic acquisitions,
//! median of [`REPS`] runs after a warm-up, each run ending with a device synchronisation.
//!
//! Cases (a Gaussian line of 256 or 128 field samples over 20 G, gradients of 10 G/cm spread
//! over the circle or the sphere, NUFFT accuracy 1e-6):
//! * 2D: a 128×128 image, 128 projections of 256 samples;
//! * 3D: a 32×32×32 image, 256 projections of 128 samples.
//!
//! Operators: the projection `A u`, the backprojection `A* p`, the Toeplitz apply `A*A u`, and
//! one TV iteration (Toeplitz apply, dual step, primal step measuring the two norms of the
//! stopping test, as in `tv_monosrc`).

use super::print_row;
use crate::bench::{median_ms, timed};
use crate::error::{Error, Result};
use backend_core::{Backend, PrimalStep, Real};
use epri_ops::geometry::Geometry;
use epri_ops::proj::{Projector, ProjectorOptions};
use epri_ops::toeplitz::ToeplitzKernel;
use ndarray::{Array1, Array2};

/// Timed runs per operator, after one warm-up run.
pub const REPS: usize = 5;

/// NUFFT accuracy of the timed operators.
const EPS: f64 = 1e-6;

/// A synthetic acquisition: image shape, projections and field samples.
struct Case {
    shape: &'static [usize],
    projections: usize,
    nb: usize,
}

const CASES: [Case; 2] = [
    Case {
        shape: &[128, 128],
        projections: 128,
        nb: 256,
    },
    Case {
        shape: &[32, 32, 32],
        projections: 256,
        nb: 128,
    },
];

/// The operators timed on each case.
const OPERATORS: [&str; 4] = ["projection", "backprojection", "toeplitz", "tv_iteration"];

impl Case {
    /// `2D 128x128, 128x256`: dimension, image shape, projections × field samples.
    fn label(&self) -> String {
        let shape: Vec<String> = self.shape.iter().map(usize::to_string).collect();
        format!(
            "{}D {}, {}x{}",
            self.shape.len(),
            shape.join("x"),
            self.projections,
            self.nb
        )
    }

    /// The field grid (20 G around 3500 G), a Gaussian line and gradients of 10 G/cm: evenly
    /// spread angles in 2D, a Fibonacci sphere in 3D. The pixel size makes the field of view
    /// 1.28 cm, whose projections span 12.8 G of the sweep.
    fn acquisition<T: Real>(&self) -> Result<(Geometry<T>, Array1<T>)> {
        let b = Array1::from_shape_fn(self.nb, |i| 3490.0 + 20.0 * i as f64 / self.nb as f64);
        let h = b.mapv(|x| T::of((-((x - 3500.0) / 1.5f64).powi(2)).exp()));
        let d = self.shape.len();
        let p = self.projections as f64;
        let golden = std::f64::consts::PI * (3.0 - 5f64.sqrt());
        let fgrad = Array2::from_shape_fn((d, self.projections), |(axis, k)| {
            let k = k as f64;
            let unit = if d == 2 {
                let angle = std::f64::consts::PI * k / p;
                [angle.cos(), angle.sin(), 0.0]
            } else {
                let z = 1.0 - 2.0 * (k + 0.5) / p;
                let r = (1.0 - z * z).sqrt();
                [r * (golden * k).cos(), r * (golden * k).sin(), z]
            };
            T::of(10.0 * unit[axis])
        });
        let delta = T::of(1.28 / self.shape[0] as f64);
        let geometry = Geometry::new(b.mapv(T::of).view(), delta, fgrad.view())?;
        Ok((geometry, h))
    }

    /// Median milliseconds of each of [`OPERATORS`] on `backend` in precision `T`.
    fn time<B: Backend, T: Real>(&self, backend: &B) -> Result<[f64; 4]> {
        let (geometry, h) = self.acquisition::<T>()?;
        let opts = ProjectorOptions {
            eps: EPS,
            ..ProjectorOptions::default()
        };
        let mut projector = Projector::new(backend, &geometry, h.view(), self.shape, opts)?;
        let mut kernel =
            ToeplitzKernel::new(backend, &geometry, h.view(), h.view(), self.shape, EPS)?;
        let mut u = backend.rand::<T>(self.shape, 1)?;
        let mut ubar = backend.rand::<T>(self.shape, 2)?;
        let mut image = backend.zeros::<T>(self.shape)?;
        let mut sino = backend.zeros::<T>(&projector.sino_shape())?;
        let mut dual_shape = vec![self.shape.len()];
        dual_shape.extend_from_slice(self.shape);
        let mut dual = backend.zeros::<T>(&dual_shape)?;
        let (tau, lambda) = (T::of(1e-3), T::of(0.1));
        let time = |op: &mut dyn FnMut() -> Result<()>| -> Result<f64> {
            let (median, _) = median_ms(REPS, || {
                timed(|| {
                    op()?;
                    Ok::<(), Error>(backend.synchronize()?)
                })
            })?;
            Ok(median)
        };
        Ok([
            time(&mut || Ok(projector.apply(&u, &mut sino)?))?,
            time(&mut || Ok(projector.adjoint(&sino, &mut image)?))?,
            time(&mut || Ok(kernel.apply(&u, &mut image)?))?,
            time(&mut || {
                kernel.apply(&u, &mut image)?;
                backend.tv_dual_step(&mut dual, &ubar, lambda, None)?;
                let step = PrimalStep {
                    tau,
                    lambda,
                    positivity: false,
                    sums: true,
                };
                backend.tv_primal_step(&mut u, &mut ubar, &dual, &image, &step, None, None)?;
                Ok(())
            })?,
        ])
    }
}

/// The row of `op` on `case`: `timing::projection (2D 128x128, 128x256)`.
fn row_name(case: &Case, op: &str) -> String {
    format!("timing::{op} ({})", case.label())
}

/// Times the operators on every case in precision `T`, one row per (case, operator); a case
/// that fails is one failed row per operator. Returns (rows ok, rows failed).
pub fn run<B: Backend, T: Real>(backend: &B) -> (usize, usize) {
    println!(
        "timings ({}, median of {REPS} runs after a warm-up):",
        T::PRECISION
    );
    let width = CASES
        .iter()
        .flat_map(|case| OPERATORS.iter().map(|op| row_name(case, op).len()))
        .max()
        .unwrap_or(0);
    let mut failed = 0;
    for case in &CASES {
        let outcome = case.time::<B, T>(backend);
        for (k, op) in OPERATORS.iter().enumerate() {
            let name = row_name(case, op);
            match &outcome {
                Ok(ms) => print_row(&name, width, &Ok(()), &format!("{:.3} ms", ms[k])),
                Err(e) => {
                    failed += 1;
                    print_row(&name, width, &Err(e.one_line()), "-");
                }
            }
        }
    }
    (CASES.len() * OPERATORS.len() - failed, failed)
}
