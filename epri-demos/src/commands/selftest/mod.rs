//! `epri selftest`: the conformance checks of the chosen backend (every primitive against plain
//! host computations, the list of [`backend_core::conformance::checks`]) as a pass/fail table,
//! then a short timing of the main operators ([`timing`]); exits with status 1 if anything
//! failed. It tells whether a GPU and its driver compute correctly.

pub mod timing;

use super::fmt_duration;
use crate::cli::SelftestArgs;
use crate::dispatch::{Device, Job};
use crate::error::{one_line_text, panic_message, Error, Result};
use backend_core::conformance::{checks, Check};
use backend_core::{Backend, Real};
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

/// The longest failure reason printed in a row, in characters.
const MAX_REASON_CHARS: usize = 300;

/// One row of the table: `name  ok|FAILED (reason)  time`, aligned on a name column of
/// `width` characters, printed and flushed at once (a slow device shows its progress).
pub fn print_row(name: &str, width: usize, outcome: &std::result::Result<(), String>, took: &str) {
    let status = match outcome {
        Ok(()) => "ok    ".to_string(),
        Err(reason) => format!("FAILED ({})", one_line_text(reason, MAX_REASON_CHARS)),
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{name:<width$}  {status}  {took:>9}");
    let _ = out.flush();
}

/// Runs every check on `backend`, each under `catch_unwind` with the panic hook silenced (the
/// panic message is the failure reason), printing one row per check; returns (passed, failed).
pub fn run_checks<B: Backend>(backend: &B) -> (usize, usize) {
    let list: Vec<Check<B>> = checks();
    let names: Vec<String> = list
        .iter()
        .map(|c| format!("{}::{}", c.group, c.name))
        .collect();
    let width = names.iter().map(String::len).max().unwrap_or(0);
    println!(
        "{} conformance checks (f32, then f64 where the device has it):",
        list.len()
    );
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failed = 0;
    for (check, name) in list.iter().zip(&names) {
        let start = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| (check.run)(backend)))
            .map_err(|payload| panic_message(payload.as_ref()));
        failed += usize::from(outcome.is_err());
        print_row(name, width, &outcome, &fmt_duration(start.elapsed()));
    }
    std::panic::set_hook(hook);
    (list.len() - failed, failed)
}

/// The checks, then the timings in precision `T`; returns (passed, failed) over both.
struct Selftest;

impl Job for Selftest {
    type Output = (usize, usize);
    fn run<B: Backend, T: Real>(self, backend: &B) -> Result<(usize, usize)> {
        let (passed, failed) = run_checks(backend);
        println!();
        let (timed, timing_failed) = timing::run::<B, T>(backend);
        Ok((passed + timed, failed + timing_failed))
    }
}

/// Runs `epri selftest`.
pub fn run(a: &SelftestArgs) -> Result<()> {
    let device = Device::open(a.backend)?;
    println!("epri selftest on {}", device.name());
    let start = Instant::now();
    let (passed, failed) = device.run(a.precision.into(), Selftest)?;
    println!("selftest took {}", fmt_duration(start.elapsed()));
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        return Err(Error::Failed(format!(
            "{failed} of {} checks failed on {}",
            passed + failed,
            device.name()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_one_cut_line() {
        assert_eq!(one_line_text("a\nb", MAX_REASON_CHARS), "a | b");
        let long = "x".repeat(MAX_REASON_CHARS + 5);
        assert!(one_line_text(&long, MAX_REASON_CHARS).ends_with(" [...]"));
    }
}
