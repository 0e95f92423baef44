//! A simulated spectral-spatial (4D) acquisition: balls in a 3D volume, each holding a
//! Lorentzian first-derivative spectrum of its own peak-to-peak width, projected by the
//! project's own 4D operator (`Projector::new_spectral`, PyEPRI's `proj4d`) plus seeded white
//! Gaussian noise. The ground truth of the gallery's spectral-spatial and oximetry examples
//! and of their end-to-end test; nothing is read from disk.
//!
//! Conventions are those of `epri spectral`: the image is `(Nb, Ny, Nx, Nz)`, spectral axis
//! first on the field grid B (G); voxel `(iy, ix, iz)` is centred at
//! `(x, y, z) = ((ix − Nx/2)·δ, (iy − Ny/2)·δ, (iz − Nz/2)·δ)` cm; fgrad is `(3, P)`, rows
//! `(x, y, z)`, G/cm.

use crate::error::{Error, Result};
use crate::io::npy::write_npy;
use crate::io::HostArray;
use backend_core::Backend;
use backend_cpu::CpuBackend;
use epri_ops::oximetry::{Form, LineModel, Profile};
use epri_ops::{Geometry, Projector, ProjectorOptions};
use ndarray::{Array1, Array2, Array3, Array4, Ix2};
use std::f64::consts::PI;
use std::path::Path;

/// The spatial TV weight λ (dimensionless, as `epri spectral --lambda`) of the gallery's and
/// the tests' reconstructions of [`Phantom4d::standard`] (no spectral TV).
pub const RECON_LAMBDA: f64 = 1e-4;
/// Their iteration count, a cap: the energy still decreases slowly after it (by 14 % from 500
/// to 1500 iterations).
pub const RECON_ITERS: usize = 500;
/// Their oximetry threshold (`epri oximetry --threshold`): voxels below a quarter of the
/// largest peak-to-peak are not fitted.
pub const FIT_THRESHOLD: f64 = 0.25;

/// One ball of the phantom.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ball {
    /// Centre `(x, y, z)`, cm.
    pub center: [f64; 3],
    /// Radius, cm.
    pub radius: f64,
    /// Peak-to-peak width of its first-derivative Lorentzian line, G.
    pub width: f64,
    /// Area of its absorption line (projection units · cm⁻³ · G).
    pub area: f64,
}

/// The phantom and its acquisition.
#[derive(Clone, Debug, PartialEq)]
pub struct Phantom4d {
    /// Field samples Nb.
    pub nb: usize,
    /// First and last field sample, G (`B = linspace(first, last, Nb)`).
    pub field: (f64, f64),
    /// Centre of every ball's line, G.
    pub line_center: f64,
    /// Spatial shape `(Ny, Nx, Nz)`.
    pub shape: [usize; 3],
    /// Voxel size δ, cm.
    pub delta: f64,
    /// The balls (disjoint), label `k + 1` for ball `k`.
    pub balls: Vec<Ball>,
    /// Number of gradients P.
    pub num_proj: usize,
    /// Largest gradient magnitude, G/cm.
    pub max_gradient: f64,
    /// Standard deviation of the noise, as a fraction of the largest |clean projection|.
    pub noise: f64,
    /// Seed of the noise.
    pub seed: u64,
}

/// A simulated acquisition of a [`Phantom4d`].
#[derive(Clone, Debug)]
pub struct Acquisition4d {
    /// Noisy projections `(P, Nb)`.
    pub proj: Array2<f64>,
    /// The field grid `(Nb,)`, G.
    pub field: Array1<f64>,
    /// Gradients `(3, P)`, rows `(x, y, z)`, G/cm.
    pub fgrad: Array2<f64>,
    /// The standard deviation of the noise added, projection units.
    pub sigma: f64,
}

impl Phantom4d {
    /// The phantom of the gallery and of the tests: 12×12×12 voxels of 0.06 cm, three balls
    /// of radius 0.14 cm (about 55 voxels each, about 0.05 cm apart, centred near the plane
    /// z = 0) holding lines of peak-to-peak widths 0.6, 0.8 and 1.05 G centred at 3500 G (areas
    /// 0.6, 1.07, 1.84 ∝ width²: equal peak-to-peak heights), 64 field samples over 20 G, 300
    /// gradients up to 12 G/cm (a line moves by 4.3 G at most, inside the ±10 G sweep), noise
    /// 1 % of the largest projection value (seed 4).
    ///
    /// The sizes are a compromise of the single sweep: the widest line needs strong gradients
    /// for the balls to be told apart at its spectral frequencies, the narrowest needs weak
    /// ones (a gradient `|γ|` keeps the spectral frequencies below `π / (δ |γ|)` rad/G only).
    pub fn standard() -> Self {
        let ball = |center, width, area| Ball {
            center,
            radius: 0.14,
            width,
            area,
        };
        Phantom4d {
            nb: 64,
            field: (3490.0, 3510.0),
            line_center: 3500.0,
            shape: [12, 12, 12],
            delta: 0.06,
            balls: vec![
                ball([0.15, 0.03, 0.03], 0.6, 0.6),
                ball([-0.15, 0.15, -0.03], 0.8, 1.07),
                ball([-0.12, -0.18, 0.0], 1.05, 1.84),
            ],
            num_proj: 300,
            max_gradient: 12.0,
            noise: 0.01,
            seed: 4,
        }
    }

    /// The field grid B `(Nb,)`, G.
    pub fn field_grid(&self) -> Array1<f64> {
        Array1::linspace(self.field.0, self.field.1, self.nb)
    }

    /// The image shape `(Nb, Ny, Nx, Nz)`.
    pub fn image_shape(&self) -> [usize; 4] {
        [self.nb, self.shape[0], self.shape[1], self.shape[2]]
    }

    /// The centre `(x, y, z)` (cm) of voxel `(iy, ix, iz)`.
    pub fn voxel_center(&self, (iy, ix, iz): (usize, usize, usize)) -> [f64; 3] {
        let c = |i: usize, n: usize| (i as f64 - (n / 2) as f64) * self.delta;
        [
            c(ix, self.shape[1]),
            c(iy, self.shape[0]),
            c(iz, self.shape[2]),
        ]
    }

    /// The label of every voxel `(Ny, Nx, Nz)`: `k + 1` where the voxel's centre lies in ball
    /// `k`, 0 elsewhere.
    pub fn labels(&self) -> Array3<u8> {
        let [ny, nx, nz] = self.shape;
        Array3::from_shape_fn((ny, nx, nz), |ix| {
            let r = self.voxel_center(ix);
            self.balls
                .iter()
                .position(|b| {
                    (0..3).map(|a| (r[a] - b.center[a]).powi(2)).sum::<f64>() <= b.radius * b.radius
                })
                .map_or(0, |k| k as u8 + 1)
        })
    }

    /// The line of ball `k` on the field grid, `(Nb,)`.
    pub fn spectrum(&self, k: usize) -> Array1<f64> {
        let model = LineModel::new(Profile::Lorentzian, Form::Derivative);
        let b = &self.balls[k];
        self.field_grid()
            .mapv(|f| model.value(f, &[self.line_center, b.width, b.area, 0.0]))
    }

    /// The phantom image `(Nb, Ny, Nx, Nz)`: each voxel of ball `k` holds [`spectrum`](Self::spectrum)`(k)`,
    /// the others 0.
    pub fn image(&self) -> Array4<f64> {
        let labels = self.labels();
        let spectra: Vec<Array1<f64>> = (0..self.balls.len()).map(|k| self.spectrum(k)).collect();
        Array4::from_shape_fn(self.image_shape(), |(l, iy, ix, iz)| {
            match labels[[iy, ix, iz]] {
                0 => 0.0,
                k => spectra[k as usize - 1][l],
            }
        })
    }

    /// The gradients `(3, P)`, G/cm: directions on a Fibonacci sphere, magnitudes spread
    /// evenly over `(0, max_gradient]` in a golden-ratio order (weak gradients carry the fine
    /// spectral detail, strong ones the spatial detail).
    pub fn fgrad(&self) -> Array2<f64> {
        let p = self.num_proj;
        let golden = PI * (3.0 - 5f64.sqrt());
        let phi = (5f64.sqrt() - 1.0) / 2.0;
        Array2::from_shape_fn((3, p), |(a, k)| {
            let z = 1.0 - (2 * k + 1) as f64 / p as f64;
            let r = (1.0 - z * z).sqrt();
            let t = golden * k as f64;
            let mu = self.max_gradient * (1.0 - (k as f64 * phi).fract());
            mu * [r * t.cos(), r * t.sin(), z][a]
        })
    }

    /// Simulates the acquisition: the projections of [`image`](Self::image) by the 4D
    /// projector (CPU, float64, NUFFT accuracy 1e-12, so that the data do not depend on the
    /// device that reconstructs them) plus white Gaussian noise of standard deviation
    /// `noise · max|clean|` (seed `seed`).
    ///
    /// Errors: a phantom that the projector refuses (shapes, sizes).
    pub fn simulate(&self) -> Result<Acquisition4d> {
        let field = self.field_grid();
        let fgrad = self.fgrad();
        let geometry = Geometry::new(field.view(), self.delta, fgrad.view())?;
        let cpu = CpuBackend::new()?;
        let shape = self.image_shape();
        let opts = ProjectorOptions {
            rfft_mode: true,
            eps: 1e-12,
        };
        let mut a = Projector::new_spectral(&cpu, &geometry, &shape, false, opts)?;
        let u = cpu.upload(self.image().into_dyn().view())?;
        let mut out = cpu.zeros::<f64>(&a.sino_shape())?;
        a.apply(&u, &mut out)?;
        let clean = cpu
            .download(&out)?
            .into_dimensionality::<Ix2>()
            .map_err(|e| Error::data(format!("simulated projections: {e}")))?;
        let peak = clean.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let sigma = self.noise * peak;
        let noise = backend_core::host::randn::<f64>(clean.shape(), 0.0, sigma, self.seed)?;
        let proj = clean + noise.into_dimensionality::<Ix2>().expect("2-D noise");
        Ok(Acquisition4d {
            proj,
            field,
            fgrad,
            sigma,
        })
    }
}

impl Acquisition4d {
    /// Writes `proj.npy`, `B.npy` and `fgrad.npy` (float32, as the embedded datasets) into
    /// `dir` (created if missing): a data folder for `epri spectral --data DIR`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::file(dir, format!("cannot create folder: {e}")))?;
        let f32 = |a: ndarray::ArrayD<f64>| HostArray::F32(a.mapv(|v| v as f32));
        write_npy(&dir.join("proj.npy"), &f32(self.proj.clone().into_dyn()))?;
        write_npy(&dir.join("B.npy"), &f32(self.field.clone().into_dyn()))?;
        write_npy(&dir.join("fgrad.npy"), &f32(self.fgrad.clone().into_dyn()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The standard phantom: disjoint balls of the stated sizes inside the volume, lines inside
    /// the sweep at every gradient, gradient magnitudes up to the stated largest.
    #[test]
    fn standard_phantom_is_consistent() {
        let p = Phantom4d::standard();
        let labels = p.labels();
        for k in 0..p.balls.len() {
            let n = labels.iter().filter(|&&l| l as usize == k + 1).count();
            // A ball of radius 0.14 cm holds about 4/3 π (0.14/0.06)³ ≈ 53 voxels.
            assert!((40..=90).contains(&n), "ball {k}: {n} voxels");
        }
        let fgrad = p.fgrad();
        let mags: Vec<f64> = fgrad
            .columns()
            .into_iter()
            .map(|c| c.dot(&c).sqrt())
            .collect();
        let max = mags.iter().fold(0.0f64, |m, &v| m.max(v));
        assert!(max <= p.max_gradient + 1e-12 && max > 0.99 * p.max_gradient);
        // Largest shift of a line: |γ| times the farthest ball edge.
        let reach = p
            .balls
            .iter()
            .map(|b| b.center.iter().map(|c| c * c).sum::<f64>().sqrt() + b.radius)
            .fold(0.0f64, f64::max);
        let half_sweep = (p.field.1 - p.field.0) / 2.0;
        let widest = p.balls.iter().map(|b| b.width).fold(0.0f64, f64::max);
        assert!(max * reach + 3.0 * widest < half_sweep, "{}", max * reach);
        // The lines' extremes lie about the centre, the stated width apart (to the grid's
        // sampling: each extreme is a sample, up to 0.75 dB from the true one).
        for k in 0..p.balls.len() {
            let s = p.spectrum(k);
            let b = p.field_grid();
            let (imax, imin) = (argmax(&s), argmax(&-&s));
            let pp = b[imin] - b[imax];
            let db = b[1] - b[0];
            assert!((pp - p.balls[k].width).abs() <= 1.5 * db, "ball {k}: {pp}");
            assert!((0.5 * (b[imin] + b[imax]) - p.line_center).abs() <= 0.75 * db);
        }
    }

    fn argmax(s: &Array1<f64>) -> usize {
        s.iter()
            .enumerate()
            .fold(
                (0, f64::NEG_INFINITY),
                |(i, m), (j, &v)| if v > m { (j, v) } else { (i, m) },
            )
            .0
    }

    /// The noise is the stated fraction of the largest clean value and reproducible.
    #[test]
    fn simulation_adds_the_stated_noise() {
        let p = Phantom4d {
            shape: [6, 6, 6],
            delta: 0.12,
            num_proj: 40,
            ..Phantom4d::standard()
        };
        let a = p.simulate().unwrap();
        let clean = Phantom4d {
            noise: 0.0,
            ..p.clone()
        }
        .simulate()
        .unwrap();
        let peak = clean.proj.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!((a.sigma / peak - p.noise).abs() < 1e-12);
        let n = (&a.proj - &clean.proj)
            .mapv(|v| v * v)
            .mean()
            .unwrap()
            .sqrt();
        assert!((n / a.sigma - 1.0).abs() < 0.05, "{n} vs {}", a.sigma);
        assert_eq!(p.simulate().unwrap().proj, a.proj);
    }
}
