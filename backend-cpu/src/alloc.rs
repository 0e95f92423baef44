//! Host allocation of buffers: sizes checked (an overflowing count or a refused allocation is
//! [`Error::OutOfMemory`], not an abort), zeroed buffers from the allocator's zeroed memory
//! (fresh pages are not written before their first use), and large buffers backed by
//! transparent huge pages where the kernel allows it (one page fault per 2 MiB instead of per
//! 4 KiB at the first touch).

use backend_core::{Element, Error, Result, C};
use std::alloc::Layout;
use std::any::TypeId;

/// Buffers of at least this many bytes are advised to use huge pages.
const HUGE_MIN_BYTES: usize = 4 << 20;

/// An empty vector with room for exactly the elements of `shape`.
pub(crate) fn reserve<E>(shape: &[usize]) -> Result<Vec<E>> {
    let n = count(shape)?;
    let mut v: Vec<E> = Vec::new();
    v.try_reserve_exact(n).map_err(|_| refused::<E>(shape, n))?;
    advise_huge_pages(v.as_ptr().cast(), n * std::mem::size_of::<E>());
    Ok(v)
}

/// The elements of `shape`, all zero (`E::default()`), from the allocator's zeroed memory
/// (`alloc_zeroed`: fresh pages are not written before their first use): also the buffer a
/// file is read into.
///
/// Errors: [`Error::OutOfMemory`] when the element count overflows or the allocation is refused.
pub fn zeroed<E: Element>(shape: &[usize]) -> Result<Vec<E>> {
    let n = count(shape)?;
    let layout = Layout::array::<E>(n).map_err(|_| refused::<E>(shape, n))?;
    if layout.size() == 0 || !zero_bits_are_default::<E>() {
        let mut v = reserve::<E>(shape)?;
        v.resize(n, E::default());
        return Ok(v);
    }
    // SAFETY: the layout has a non-zero size.
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<E>();
    if ptr.is_null() {
        return Err(refused::<E>(shape, n));
    }
    advise_huge_pages(ptr.cast(), layout.size());
    // SAFETY: `ptr` comes from the global allocator with `Layout::array::<E>(n)`, the layout
    // of a `Vec<E>` of capacity `n`; its `n` elements are all-zero bytes, a valid `E` equal to
    // `E::default()` for every type `zero_bits_are_default` accepts.
    Ok(unsafe { Vec::from_raw_parts(ptr, n, n) })
}

/// True for the element types whose all-zero bytes are their default value (0).
fn zero_bits_are_default<E: Element>() -> bool {
    let t = TypeId::of::<E>();
    [
        TypeId::of::<f32>(),
        TypeId::of::<f64>(),
        TypeId::of::<u32>(),
        TypeId::of::<C<f32>>(),
        TypeId::of::<C<f64>>(),
    ]
    .contains(&t)
}

/// The element count of `shape`, or the error of a count that overflows.
fn count(shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| {
            Error::OutOfMemory(format!(
                "a buffer of shape {shape:?} (element count overflows)"
            ))
        })
}

fn refused<E>(shape: &[usize], n: usize) -> Error {
    Error::OutOfMemory(format!(
        "a buffer of shape {shape:?} ({} bytes) could not be allocated",
        n as u128 * std::mem::size_of::<E>() as u128
    ))
}

/// Advises the kernel to back the whole 2 MiB pages inside `[ptr, ptr + bytes)` with
/// transparent huge pages (Linux `madvise(MADV_HUGEPAGE)`; only advice: a refusal is ignored).
#[cfg(target_os = "linux")]
fn advise_huge_pages(ptr: *const u8, bytes: usize) {
    const HUGE_PAGE: usize = 2 << 20;
    const MADV_HUGEPAGE: std::ffi::c_int = 14;
    extern "C" {
        fn madvise(
            addr: *mut std::ffi::c_void,
            len: usize,
            advice: std::ffi::c_int,
        ) -> std::ffi::c_int;
    }
    if bytes < HUGE_MIN_BYTES {
        return;
    }
    let start = (ptr as usize).next_multiple_of(HUGE_PAGE);
    let end = (ptr as usize + bytes) / HUGE_PAGE * HUGE_PAGE;
    if end > start {
        // SAFETY: the range lies inside one live allocation of ours; MADV_HUGEPAGE changes
        // neither its contents nor its mapping, only how later page faults are served.
        unsafe { madvise(start as *mut std::ffi::c_void, end - start, MADV_HUGEPAGE) };
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_ptr: *const u8, _bytes: usize) {}
