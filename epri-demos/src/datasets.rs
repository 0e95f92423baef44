//! Finding the embedded PyEPRI datasets: `--data phalanx-20220203` means the folder of that name
//! under `$EPRI_DATASETS`, else under the `datasets/` folder of the source tree.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The folder holding the embedded datasets: `$EPRI_DATASETS` if set, else
/// `<CARGO_MANIFEST_DIR>/../datasets` (the repository's `datasets/`).
pub fn datasets_root() -> PathBuf {
    match std::env::var_os("EPRI_DATASETS") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../datasets"),
    }
}

/// Names of the datasets found in [`datasets_root`], sorted.
pub fn dataset_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(datasets_root())
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().is_dir())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// `--data` value → folder: an existing folder as given, else a dataset name in
/// [`datasets_root`].
pub fn resolve_data_dir(arg: &str) -> Result<PathBuf> {
    let given = PathBuf::from(arg);
    if given.is_dir() {
        return Ok(given);
    }
    if given.exists() {
        return Err(Error::file(
            &given,
            "--data expects a dataset folder (proj.npy, B.npy, h.npy, fgrad.npy), not a file; use --proj/--B/--h/--fgrad for single files",
        ));
    }
    let is_name = given.components().count() == 1;
    let root = datasets_root();
    let candidate = root.join(arg);
    if is_name && candidate.is_dir() {
        return Ok(candidate);
    }
    let names = dataset_names();
    let known = if names.is_empty() {
        format!(
            "no embedded datasets found in {} (set EPRI_DATASETS)",
            root.display()
        )
    } else {
        format!("embedded datasets: {}", names.join(", "))
    };
    Err(Error::usage(format!(
        "--data {arg}: no such folder and no embedded dataset of that name; {known}"
    )))
}
