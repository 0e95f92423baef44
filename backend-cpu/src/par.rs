//! Parallel-loop helpers: when to split work over rayon's threads, a pointer that lets
//! disjoint parallel tasks write into one slice, and phased task loops in one parallel region.

use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Below this many elements an elementwise loop runs on the calling thread: splitting costs more
/// than it saves.
pub const PAR_MIN: usize = 1 << 15;

/// Elements per parallel task of an elementwise loop.
pub const PAR_CHUNK: usize = 1 << 13;

/// `f(&mut x[i])` over every element, in parallel above [`PAR_MIN`] elements.
pub fn for_each<E: Send>(x: &mut [E], f: impl Fn(&mut E) + Sync) {
    if x.len() < PAR_MIN {
        x.iter_mut().for_each(f);
    } else {
        x.par_chunks_mut(PAR_CHUNK)
            .for_each(|chunk| chunk.iter_mut().for_each(&f));
    }
}

/// `f(&mut x[i], &y[i])` over two slices of equal length, in parallel above [`PAR_MIN`].
pub fn zip_each<E: Send, F: Sync>(x: &mut [E], y: &[F], f: impl Fn(&mut E, &F) + Sync) {
    debug_assert_eq!(x.len(), y.len());
    if x.len() < PAR_MIN {
        x.iter_mut().zip(y).for_each(|(a, b)| f(a, b));
    } else {
        x.par_chunks_mut(PAR_CHUNK)
            .zip(y.par_chunks(PAR_CHUNK))
            .for_each(|(a, b)| a.iter_mut().zip(b).for_each(|(a, b)| f(a, b)));
    }
}

/// A raw pointer to a slice's elements, shared by parallel tasks that each write a disjoint set
/// of positions (rows of one block, columns of another...).
#[derive(Clone, Copy)]
pub struct SharedMut<E> {
    ptr: *mut E,
    len: usize,
}

// SAFETY: the pointer is only dereferenced through `slice`, whose callers guarantee that
// concurrent tasks touch disjoint ranges.
unsafe impl<E: Send> Send for SharedMut<E> {}
unsafe impl<E: Send> Sync for SharedMut<E> {}

impl<E> SharedMut<E> {
    /// Shares `x`; it must outlive every use of the returned pointer (a scoped parallel loop).
    pub fn new(x: &mut [E]) -> Self {
        SharedMut {
            ptr: x.as_mut_ptr(),
            len: x.len(),
        }
    }

    /// The sub-slice `start .. start + len`.
    ///
    /// # Safety
    /// No other live reference (from this or another task) may overlap that range, and the
    /// slice given to [`SharedMut::new`] must still be borrowed by the caller.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn slice(&self, start: usize, len: usize) -> &mut [E] {
        assert!(start + len <= self.len, "SharedMut range out of bounds");
        std::slice::from_raw_parts_mut(self.ptr.add(start), len)
    }
}

/// Runs `phases[p]` tasks for each phase `p` in order (`run(p, task, work)`), every task of a
/// phase after every task of the phases before, in one parallel region on the threads of the
/// rayon pool: instead of one region per phase (where a sleeping thread must be woken at each),
/// the threads claim tasks in order from a shared counter, and a thread that claims the first
/// task of a phase it has not entered yet waits until the earlier phases are complete (the
/// tasks it waits for are claimed, hence running on other threads: no deadlock, whether or
/// not the other threads join in). Tasks are claimed one at a time, so the threads stay
/// balanced to one task. `init` makes a thread's working memory, once, when it claims its first
/// task. `run` must not itself wait for other rayon work.
pub fn phased<W>(
    phases: &[usize],
    init: impl Fn() -> W + Sync,
    run: impl Fn(usize, usize, &mut W) + Sync,
) {
    let total: usize = phases.iter().sum();
    let next = AtomicUsize::new(0);
    let progress = Progress::default();
    let worker = || {
        let mut work = None;
        // The phase of the last claimed task, the number of tasks before it, and whether the
        // phases before it are known to be complete.
        let (mut phase, mut before, mut entered) = (0, 0, false);
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= total {
                return;
            }
            while i >= before + phases[phase] {
                before += phases[phase];
                phase += 1;
                entered = false;
            }
            if !entered {
                if !progress.wait_for(before) {
                    return;
                }
                entered = true;
            }
            let guard = PanicFlag(&progress);
            run(phase, i - before, work.get_or_insert_with(&init));
            std::mem::forget(guard);
            progress.complete();
        }
    };
    let threads = rayon::current_num_threads().min(total);
    if threads <= 1 {
        worker();
    } else {
        rayon::scope(|s| {
            for _ in 1..threads {
                s.spawn(|_| worker());
            }
            worker();
        });
    }
}

/// How long a thread of [`phased`] spins waiting for the other threads to complete a phase
/// before it sleeps: waking a sleeping thread costs tens of microseconds, but
/// a spinning one takes a core that, on a loaded machine, another process could use.
const SPIN: Duration = Duration::from_micros(20);

/// The tasks of a [`phased`] run completed so far, and the means of sleeping until enough are.
#[derive(Default)]
struct Progress {
    done: AtomicUsize,
    /// Set when a task panicked: nothing more completes.
    failed: AtomicBool,
    /// Threads asleep (or about to be) in [`Progress::wait_for`].
    sleepers: AtomicUsize,
    lock: Mutex<()>,
    wake: Condvar,
}

impl Progress {
    /// One more task done (its writes published to the threads that see the count).
    fn complete(&self) {
        self.done.fetch_add(1, Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            self.notify();
        }
    }

    fn notify(&self) {
        drop(self.lock.lock().unwrap_or_else(|e| e.into_inner()));
        self.wake.notify_all();
    }

    fn reached(&self, target: usize) -> bool {
        self.done.load(Ordering::SeqCst) >= target
    }

    /// Waits until `target` tasks are done: spins for [`SPIN`], then sleeps. `false` when a
    /// task panicked meanwhile.
    fn wait_for(&self, target: usize) -> bool {
        let start = Instant::now();
        let mut spins = 0u32;
        while !self.reached(target) {
            if self.failed.load(Ordering::SeqCst) {
                return false;
            }
            spins += 1;
            if spins.is_multiple_of(64) && start.elapsed() > SPIN {
                self.sleepers.fetch_add(1, Ordering::SeqCst);
                let mut guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
                while !self.reached(target) && !self.failed.load(Ordering::SeqCst) {
                    guard = self.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
                }
                drop(guard);
                self.sleepers.fetch_sub(1, Ordering::SeqCst);
            } else {
                std::hint::spin_loop();
            }
        }
        !self.failed.load(Ordering::SeqCst)
    }
}

/// Marks the run failed and wakes the sleepers when dropped during a panic (it is forgotten
/// otherwise): the threads waiting in [`phased`] then give up instead of waiting for a task
/// that will never complete.
struct PanicFlag<'a>(&'a Progress);

impl Drop for PanicFlag<'_> {
    fn drop(&mut self) {
        self.0.failed.store(true, Ordering::SeqCst);
        self.0.notify();
    }
}

#[cfg(test)]
mod tests {
    use super::phased;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Every task of a phase finds every task of the earlier phases done, whatever the pool
    /// size, and each task runs once.
    #[test]
    fn phased_orders_phases() {
        let phases = [37, 0, 5, 64, 1];
        for threads in [1, 2, 3, 8] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let runs: Vec<Vec<AtomicUsize>> = phases
                .iter()
                .map(|&n| (0..n).map(|_| AtomicUsize::new(0)).collect())
                .collect();
            let late = AtomicUsize::new(0);
            pool.install(|| {
                phased(
                    &phases,
                    || (),
                    |p, t, _| {
                        let earlier_done = runs[..p]
                            .iter()
                            .flatten()
                            .all(|r| r.load(Ordering::SeqCst) == 1);
                        if !earlier_done {
                            late.fetch_add(1, Ordering::SeqCst);
                        }
                        // Long enough for the other threads to claim tasks meanwhile.
                        std::thread::sleep(std::time::Duration::from_micros(20));
                        runs[p][t].fetch_add(1, Ordering::SeqCst);
                    },
                )
            });
            assert_eq!(late.load(Ordering::SeqCst), 0, "{threads} threads");
            assert!(runs.iter().flatten().all(|r| r.load(Ordering::SeqCst) == 1));
        }
    }

    /// A panicking task reaches the caller instead of leaving the other threads waiting.
    #[test]
    fn phased_propagates_panics() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.install(|| {
                phased(
                    &[4, 4],
                    || (),
                    |p, t, _| {
                        if p == 0 && t == 1 {
                            panic!("task failed");
                        }
                    },
                )
            })
        }));
        assert!(result.is_err());
    }
}
