//! Plumbing shared by the benchmark binaries `fft-bench` and `nufft-bench`: the command line
//! `[--backend NAME] [REPS [FILTER]]`, the backend choice, and median timings.

use crate::dispatch::{Device, Job};
use crate::error::{Error, Result};
use backend_core::{DeviceSpec, Precision};
use std::time::Instant;

/// Parsed benchmark arguments.
pub struct BenchArgs {
    /// The backend to time (`--backend`, default `cpu`).
    pub device: Device,
    /// Timed repetitions per case (after one warm-up).
    pub reps: usize,
    /// Only cases whose `"<name> <dtype>"` contains this run.
    pub filter: String,
}

impl BenchArgs {
    /// Reads `[--backend NAME] [REPS [FILTER]]` from the process arguments.
    pub fn from_env(default_reps: usize) -> Result<Self> {
        let mut args: Vec<String> = std::env::args().skip(1).collect();
        let mut spec = DeviceSpec::Cpu;
        if args.first().map(String::as_str) == Some("--backend") {
            let name = args
                .get(1)
                .ok_or_else(|| Error::usage("--backend needs a name"))?;
            spec = name.parse()?;
            args.drain(..2);
        }
        let reps = match args.first() {
            Some(s) => s
                .parse()
                .map_err(|_| Error::usage(format!("REPS must be a count, got '{s}'")))?,
            None => default_reps,
        };
        Ok(BenchArgs {
            device: Device::open(spec)?,
            reps,
            filter: args.get(1).cloned().unwrap_or_default(),
        })
    }

    /// Whether the case `name` in `dtype` passes the filter.
    pub fn wanted(&self, name: &str, dtype: &str) -> bool {
        format!("{name} {dtype}").contains(&self.filter)
    }

    /// Runs `job` (which times both precisions itself) on the chosen backend.
    pub fn run<J: Job<Output = ()>>(&self, job: J) -> Result<()> {
        println!("# backend {}", self.device.name());
        self.device.run(Precision::F32, job)
    }
}

/// Median and minimum (ms) of `reps` runs of `run` after one warm-up run; each run returns the
/// milliseconds of its timed part (see [`timed`]).
pub fn median_ms<E>(reps: usize, mut run: impl FnMut() -> Result<f64, E>) -> Result<(f64, f64)>
where
    Error: From<E>,
{
    run()?;
    let mut t = (0..reps.max(1))
        .map(|_| run())
        .collect::<Result<Vec<f64>, E>>()?;
    t.sort_by(f64::total_cmp);
    Ok((t[t.len() / 2], t[0]))
}

/// Milliseconds taken by `f`.
pub fn timed<E>(f: impl FnOnce() -> Result<(), E>) -> Result<f64, E> {
    let start = Instant::now();
    f()?;
    Ok(start.elapsed().as_secs_f64() * 1e3)
}

/// Runs a benchmark's body, printing `error: ...` and exiting non-zero on failure.
pub fn main_with(body: impl FnOnce() -> Result<()>) {
    if let Err(e) = body() {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
