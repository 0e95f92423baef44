//! `oximetry-bench [--threads N] [--reps N] [--shape NY,NX,NZ] [--nb NB]`: throughput of the
//! per-voxel line-shape fit ([`epri_ops::oximetry::SpectrumFit`]) on a synthetic
//! spectral-spatial image, for each model and form.
//!
//! The image `(NB, NY, NX, NZ)` (default 128 × 64³, float32) holds in every voxel a line of
//! the model being fitted, centred 0.4 G around the middle of a 12 G sweep with peak-to-peak
//! widths 0.6–1.6 G varying across the volume and Lorentzian fraction 0.5, plus Gaussian noise
//! of 2 % of the line's peak-to-peak (seeded); the threshold is 0, so every voxel is fitted.
//! Prints, per model, the median of `reps` timed fits (after one warm-up fit), voxels/s, and
//! the CPU time of the process per fit (user + system over the `reps + 1` fits, from
//! `/proc/self/stat`; on a machine shared with other jobs it shows what a quiet machine's wall
//! time would be). `--threads` sets the rayon pool (default 2).

#[allow(dead_code)]
mod common;

use common::{median_ms, Res};
use epri_ops::oximetry::{FitOptions, Form, LineModel, Profile, SpectrumFit};
use ndarray::{Array1, Array4};
use std::process::ExitCode;

/// A seeded standard normal sample (splitmix64 and Box–Muller): noise without a dependency.
struct Noise(u64);

impl Noise {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * self.uniform()).cos()
    }
}

/// User + system CPU time of this process so far, s (Linux; `None` elsewhere).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at its closing parenthesis;
    // utime and stime are fields 14 and 15 of the line, in clock ticks of 1/100 s.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// The synthetic image of `model` (see the module doc).
fn image(model: LineModel, field: &Array1<f64>, shape: [usize; 3]) -> Array4<f32> {
    let [ny, nx, nz] = shape;
    let mut noise = Noise(14);
    let mid = 0.5 * (field[0] + field[field.len() - 1]);
    let mut u = Array4::<f32>::zeros((field.len(), ny, nx, nz));
    for iy in 0..ny {
        for ix in 0..nx {
            for iz in 0..nz {
                let t = (iy * nx * nz + ix * nz + iz) as f64 / (ny * nx * nz) as f64;
                let p = [
                    mid - 0.4 + 0.8 * t,
                    0.6 + (iy + ix + iz) as f64 / (ny + nx + nz) as f64,
                    1.0,
                    0.0,
                    0.5,
                ];
                let clean: Vec<f64> = field
                    .iter()
                    .map(|&b| model.value(b, &p[..model.n_params()]))
                    .collect();
                let (lo, hi) = clean
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
                        (l.min(v), h.max(v))
                    });
                for (k, v) in clean.iter().enumerate() {
                    u[[k, iy, ix, iz]] = (v + 0.02 * (hi - lo) * noise.normal()) as f32;
                }
            }
        }
    }
    u
}

fn main_res() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opt = |name: &str| -> Option<&str> {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(String::as_str)
    };
    let threads: usize = opt("--threads").unwrap_or("2").parse()?;
    let reps: usize = opt("--reps").unwrap_or("3").parse()?;
    let nb: usize = opt("--nb").unwrap_or("128").parse()?;
    let dims: Vec<usize> = opt("--shape")
        .unwrap_or("64,64,64")
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let [ny, nx, nz]: [usize; 3] = dims.try_into().map_err(|_| "--shape takes NY,NX,NZ")?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let field = Array1::linspace(3394.0, 3406.0, nb);
    let nvox = ny * nx * nz;
    println!("oximetry fit, {nb} field samples x {ny}x{nx}x{nz} voxels (float32), {threads} threads, median of {reps}");
    println!("| model | form | time (ms) | voxels/s | CPU s per fit | fitted | mean LM steps |");
    println!("|---|---|---|---|---|---|---|");
    for profile in [Profile::Lorentzian, Profile::Gaussian, Profile::PseudoVoigt] {
        for form in [Form::Derivative, Form::Absorption] {
            let model = LineModel::new(profile, form);
            let u = image(model, &field, [ny, nx, nz]);
            let options = FitOptions {
                threshold: 0.0,
                ..FitOptions::default()
            };
            let plan = SpectrumFit::new(model, field.view(), options)?;
            let mut maps = None;
            let cpu0 = cpu_seconds();
            let ms = pool.install(|| {
                median_ms(reps, || {
                    maps = Some(plan.fit(u.view().into_dyn())?);
                    Ok(())
                })
            })?;
            let cpu = match (cpu0, cpu_seconds()) {
                (Some(a), Some(b)) => format!("{:.2}", (b - a) / (reps + 1) as f64),
                _ => "n/a".into(),
            };
            let maps = maps.ok_or("no fit ran")?;
            let fitted = maps.status_counts()[0];
            let steps = maps
                .voxels()
                .iter()
                .map(|v| v.iterations as f64)
                .sum::<f64>()
                / nvox as f64;
            println!(
                "| {profile:?} | {form:?} | {ms:.0} | {:.0} | {cpu} | {fitted}/{nvox} | {steps:.1} |",
                nvox as f64 / (ms * 1e-3)
            );
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match main_res() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
