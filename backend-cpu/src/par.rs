//! Parallel-loop helpers: when to split work over rayon's threads, and a pointer that lets
//! disjoint parallel tasks write into one slice.

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
