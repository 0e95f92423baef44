//! Where the jobs run: on a worker of one rayon pool (`RAYON_NUM_THREADS` threads, default one
//! per core), so that the CPU backend's parallel loops start inside the pool rather than being
//! handed to it from the Python thread a dozen times per solver iteration. The Python thread
//! waits with the GIL released; for the solvers it wakes every [`SIGNAL_PERIOD`] to look for
//! Ctrl-C (Python handles signals on its main thread only).

use pyo3::prelude::*;
use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

/// How often a waiting solver call looks for a pending signal.
pub const SIGNAL_PERIOD: Duration = Duration::from_millis(50);

/// The pool every job runs on (rayon's global pool when a pool of its own cannot be built).
fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| rayon::ThreadPoolBuilder::new().build().ok())
        .as_ref()
}

/// Runs `f` on a worker of the pool, the GIL released meanwhile.
pub fn run<R: Send>(py: Python<'_>, f: impl FnOnce() -> R + Send) -> R {
    py.detach(|| match pool() {
        Some(p) => p.install(f),
        None => f(),
    })
}

/// The result slot a worker fills and the Python thread waits on.
struct Slot<R> {
    value: Mutex<Option<std::thread::Result<R>>>,
    ready: Condvar,
}

/// Runs `f` on a worker of the pool while this thread waits with the GIL released, checking
/// Python's signals every [`SIGNAL_PERIOD`]: on the first exception raised by a signal handler
/// (KeyboardInterrupt for Ctrl-C) `cancel` is set, so that `f` stops at its next check, and the
/// exception is returned with `f`'s result. A panic of `f` resumes here.
pub fn run_cancellable<R: Send>(
    py: Python<'_>,
    cancel: &AtomicBool,
    f: impl FnOnce() -> R + Send,
) -> (R, Option<PyErr>) {
    let slot = Slot {
        value: Mutex::new(None),
        ready: Condvar::new(),
    };
    let work = || {
        let r = catch_unwind(AssertUnwindSafe(f));
        *slot.value.lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
        slot.ready.notify_all();
    };
    let mut raised = None;
    let wait = |raised: &mut Option<PyErr>| loop {
        let done = py.detach(|| {
            let guard = slot.value.lock().unwrap_or_else(|p| p.into_inner());
            let (mut guard, _) = slot
                .ready
                .wait_timeout_while(guard, SIGNAL_PERIOD, |v| v.is_none())
                .unwrap_or_else(|p| p.into_inner());
            guard.take()
        });
        if let Some(r) = done {
            return r;
        }
        if raised.is_none() {
            if let Err(e) = py.check_signals() {
                *raised = Some(e);
                cancel.store(true, Ordering::Relaxed);
            }
        }
    };
    let result: std::thread::Result<R> = match pool() {
        Some(p) => p.in_place_scope(|s| {
            s.spawn(|_| work());
            wait(&mut raised)
        }),
        None => {
            work();
            wait(&mut raised)
        }
    };
    match result {
        Ok(r) => (r, raised),
        Err(payload) => resume_unwind(payload as Box<dyn Any + Send>),
    }
}
