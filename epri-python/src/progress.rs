//! Progress and interruption of the iterative solvers: the solver's per-iteration callback
//! prints PyEPRI-style progress lines through Python's `print` (`verbose=True`) and checks for
//! Ctrl-C (Python's pending signals) at most every [`SIGNAL_PERIOD`]; a signal sets the
//! solver's cancellation flag and its exception (KeyboardInterrupt) is raised once the solver
//! has returned.

use crate::errors::to_pyerr;
use epri_ops::recon::TvProgress;
use pyo3::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the GIL is taken between iterations to look for a pending signal.
pub const SIGNAL_PERIOD: Duration = Duration::from_millis(50);

/// The callback state of one solver run.
pub struct Reporter {
    /// Name printed at the start of progress lines (`tv_monosrc`...).
    name: &'static str,
    verbose: bool,
    /// Print every that many iterations.
    every: usize,
    max_iter: usize,
    /// The solver's cancellation flag.
    pub cancel: Arc<AtomicBool>,
    /// The exception raised while the solver ran (KeyboardInterrupt, or a failed print).
    raised: Option<PyErr>,
    last_check: Instant,
}

impl Reporter {
    /// A reporter printing every `every` iterations when `verbose`.
    pub fn new(name: &'static str, verbose: bool, every: usize, max_iter: usize) -> Self {
        Reporter {
            name,
            verbose,
            every: every.max(1),
            max_iter,
            cancel: Arc::new(AtomicBool::new(false)),
            raised: None,
            last_check: Instant::now(),
        }
    }

    /// The solver's callback: after iteration `p.iteration`.
    pub fn report(&mut self, p: &TvProgress) {
        let show = self.verbose && (p.iteration % self.every == 0 || p.energy.is_some());
        if !show && self.last_check.elapsed() < SIGNAL_PERIOD {
            return;
        }
        self.last_check = Instant::now();
        let result = Python::attach(|py| -> PyResult<()> {
            if show {
                let energy = p.energy.map(|e| format!(", energy = {e:.6e}")).unwrap_or_default();
                let line = format!(
                    "{}: iteration {}/{}, relative change = {:.3e}{energy}",
                    self.name, p.iteration, self.max_iter, p.relative_change
                );
                py.import("builtins")?.getattr("print")?.call1((line,))?;
            }
            py.check_signals()
        });
        if let Err(e) = result {
            self.raised = Some(e);
            self.cancel.store(true, Ordering::Relaxed);
        }
    }

    /// The solver's result as a Python result: the exception raised during the run when the
    /// solver was cancelled by it, else epri's error.
    pub fn finish<X>(self, r: epri_demos::Result<X>) -> PyResult<X> {
        match (r, self.raised) {
            (Err(epri_demos::Error::Ops(epri_ops::Error::Cancelled(_))), Some(e)) => Err(e),
            (r, _) => r.map_err(to_pyerr),
        }
    }
}
