//! `epri compare A.npy B.npy`: the relative l2 error `‖A − B‖ / ‖B‖` of two arrays of one shape
//! (`scripts/gpu-check.sh` compares each GPU image with the CPU's this way, without Python).

use crate::cli::CompareArgs;
use crate::error::{Error, Result};
use crate::io::array::fmt_shape;
use crate::io::npy::read_npy;
use backend_core::conformance::rel_err;

/// The relative l2 error of `a` against `b` (their elements as `f64`).
pub fn relative_error(a: &crate::io::HostArray, b: &crate::io::HostArray) -> Result<f64> {
    if a.shape() != b.shape() {
        return Err(Error::data(format!(
            "the arrays have different shapes: {} and {}",
            fmt_shape(a.shape()),
            fmt_shape(b.shape())
        )));
    }
    Ok(rel_err(a.to_f64().iter(), b.to_f64().iter()))
}

/// Runs `epri compare`.
pub fn run(a: &CompareArgs) -> Result<()> {
    let e = relative_error(&read_npy(&a.a)?, &read_npy(&a.b)?)?;
    println!("relative l2 error ‖A − B‖ / ‖B‖ = {e:.3e}");
    Ok(())
}
