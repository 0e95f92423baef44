//! Reading and writing data: `.npy` arrays, Bruker BES3T files, dataset folders.

pub mod acquisition;
pub mod array;
pub mod bes3t;
pub mod npy;
pub mod output;

pub use acquisition::{Acquisition, Sources};
pub use array::HostArray;

use crate::error::{Error, Result};
use backend_core::Precision;
use std::io::Read;
use std::path::Path;

/// Most characters of file text echoed in an error message (the rest is cut, `...` marks it).
pub const MAX_ECHO_CHARS: usize = 80;

/// Reads one array from a `.npy` file or the data of a BES3T `.DSC`/`.DTA` file, in its stored
/// precision. Every value is finite: a file holding NaN or an infinity is an error naming it.
pub fn read_array(path: &Path) -> Result<HostArray> {
    read_array_as(path, None)
}

/// Reads one array as [`read_array`] does; a `.npy` file in `precision` when given (`None`: its
/// stored precision), converted while it is read, never held in both precisions (a value
/// beyond the range of `precision` is an error naming the file). BES3T data come as stored.
pub fn read_array_as(path: &Path, precision: Option<Precision>) -> Result<HostArray> {
    if bes3t::is_bes3t(path) {
        Ok(bes3t::read_bes3t(path)?.data_array())
    } else if has_extension(path, "npy") {
        let file = npy::open_npy(path)?;
        Ok(match precision.unwrap_or(file.precision()) {
            Precision::F32 => HostArray::F32(file.read()?),
            Precision::F64 => HostArray::F64(file.read()?),
        })
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

/// Text taken from a file, quoted for a one-line error message: control characters (and the
/// invisible Unicode format characters that reorder text) escaped as Rust does (`\n`,
/// `\u{1b}`), quotes and backslashes escaped, cut after [`MAX_ECHO_CHARS`] characters.
pub fn quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for (n, c) in text.chars().enumerate() {
        if n == MAX_ECHO_CHARS {
            out.push_str("...");
            break;
        }
        let invisible = matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}');
        if c.is_control() || invisible || c == '"' || c == '\\' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// Opens a file for reading and returns it with its length in bytes; anything but a regular
/// file (a folder, a pipe, a device) is an error naming the path.
pub(crate) fn open_regular(path: &Path) -> Result<(std::fs::File, u64)> {
    // Looked at before opening: opening a named pipe would wait for a writer.
    let meta = std::fs::metadata(path).map_err(|e| Error::file(path, npy::io_msg(&e)))?;
    if meta.is_dir() {
        return Err(Error::file(path, "is a directory, not a file"));
    }
    if !meta.is_file() {
        return Err(Error::file(path, "not a regular file"));
    }
    let file = std::fs::File::open(path).map_err(|e| Error::file(path, npy::io_msg(&e)))?;
    Ok((file, meta.len()))
}

/// Appends at most `limit` more bytes of `file` to `buf`, reserving the memory first (a failed
/// reservation is an error naming the file, not an abort).
pub(crate) fn read_up_to(
    path: &Path,
    file: &mut std::fs::File,
    limit: u64,
    buf: &mut Vec<u8>,
) -> Result<()> {
    let want = usize::try_from(limit).unwrap_or(usize::MAX);
    buf.try_reserve_exact(want).map_err(|_| {
        Error::file(
            path,
            format!("cannot allocate {limit} bytes to read the file"),
        )
    })?;
    file.take(limit)
        .read_to_end(buf)
        .map_err(|e| Error::file(path, npy::io_msg(&e)))?;
    Ok(())
}
