//! Progress of the iterative solvers: with `verbose=True` the solver's per-iteration callback
//! prints a line through Python's `print` (so that notebooks show it) every `Ndisplay`
//! iterations and whenever the energy is evaluated.

use epri_ops::recon::TvProgress;
use pyo3::prelude::*;

/// The callback state of one solver run.
pub struct Reporter {
    /// Name printed at the start of progress lines (`tv_monosrc`...).
    name: &'static str,
    verbose: bool,
    /// Print every that many iterations.
    every: usize,
    max_iter: usize,
    /// The first exception raised by `print` (a closed stdout...), reported after the run.
    pub failed: Option<PyErr>,
}

impl Reporter {
    /// A reporter printing every `every` iterations when `verbose`.
    pub fn new(name: &'static str, verbose: bool, every: usize, max_iter: usize) -> Self {
        Reporter {
            name,
            verbose,
            every: every.max(1),
            max_iter,
            failed: None,
        }
    }

    /// The solver's callback: after iteration `p.iteration`.
    pub fn report(&mut self, p: &TvProgress) {
        let show = self.verbose && (p.iteration.is_multiple_of(self.every) || p.energy.is_some());
        if !show || self.failed.is_some() {
            return;
        }
        let energy = p
            .energy
            .map(|e| format!(", energy = {e:.6e}"))
            .unwrap_or_default();
        let line = format!(
            "{}: iteration {}/{}, relative change = {:.3e}{energy}",
            self.name, p.iteration, self.max_iter, p.relative_change
        );
        let printed = Python::attach(|py| -> PyResult<()> {
            py.import("builtins")?.getattr("print")?.call1((line,))?;
            Ok(())
        });
        self.failed = printed.err();
    }
}
