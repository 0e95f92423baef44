//! Parallel-loop helpers: when to split work over rayon's threads, a pointer that lets
//! disjoint parallel tasks write into one slice, and phased task loops.

use rayon::prelude::*;

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

/// Runs `work` on `min(threads, tasks)` rayon workers at once, on the caller alone when that is
/// one: workers that take `tasks` items one at a time from a shared counter, each with its own
/// working memory.
pub fn on_workers(tasks: usize, work: impl Fn() + Sync) {
    let workers = rayon::current_num_threads().min(tasks);
    if workers <= 1 {
        work();
    } else {
        rayon::scope(|s| {
            for _ in 0..workers {
                s.spawn(|_| work());
            }
        });
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
/// phase after every task of the phases before: one parallel region per phase, its tasks split
/// into one contiguous group per thread (group `g` of `G`: tasks `g·n/G..(g+1)·n/G`, each group
/// with its own `init` working memory). (Tasks claimed one at a time from a shared counter, in
/// one region for all the phases, were measured bimodal on 2 cores: in most runs of the 2D
/// separation the same work took 1.8x the CPU time, cause not found.)
pub fn phased<W>(
    phases: &[usize],
    init: impl Fn() -> W + Sync,
    run: impl Fn(usize, usize, &mut W) + Sync,
) {
    let threads = rayon::current_num_threads();
    for (phase, &n) in phases.iter().enumerate() {
        let groups = threads.min(n);
        (0..groups).into_par_iter().for_each(|g| {
            let mut work = init();
            for task in g * n / groups..(g + 1) * n / groups {
                run(phase, task, &mut work);
            }
        });
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
                        // Long enough for the other threads to run tasks meanwhile.
                        std::thread::sleep(std::time::Duration::from_micros(20));
                        runs[p][t].fetch_add(1, Ordering::SeqCst);
                    },
                )
            });
            assert_eq!(late.load(Ordering::SeqCst), 0, "{threads} threads");
            assert!(runs.iter().flatten().all(|r| r.load(Ordering::SeqCst) == 1));
        }
    }
}
