//! Reading and writing data: `.npy` arrays, Bruker BES3T files, dataset folders.

pub mod acquisition;
pub mod array;
pub mod bes3t;
pub mod npy;
pub mod output;

pub use acquisition::{Acquisition, Sources};
pub use array::HostArray;

use crate::error::{Error, Result};
use std::path::Path;

/// Reads one array from a `.npy` file or the data of a BES3T `.DSC`/`.DTA` file.
pub fn read_array(path: &Path) -> Result<HostArray> {
    if bes3t::is_bes3t(path) {
        Ok(bes3t::read_bes3t(path)?.data_array())
    } else if has_extension(path, "npy") {
        npy::read_npy(path)
    } else {
        Err(Error::file(
            path,
            "unknown file type: expected .npy, or a Bruker BES3T .DSC/.DTA",
        ))
    }
}

/// Case-insensitive extension test.
pub fn has_extension(path: &Path, ext: &str) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}
