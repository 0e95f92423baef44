//! The error type of the `epri` command: every failure becomes one line `error: <message>`.

use std::path::{Path, PathBuf};

/// The longest message [`Error::one_line`] prints, in characters.
pub const MAX_MESSAGE_CHARS: usize = 600;

/// Result alias of the command.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, phrased for the person at the terminal.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A command-line value that cannot be used (negative pixel size, bad shape...). Exit code 2.
    #[error("{0}")]
    Usage(String),
    /// A file that cannot be read, parsed or written.
    #[error("{}: {msg}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        msg: String,
    },
    /// Input arrays that do not fit together or hold unusable values.
    #[error("{0}")]
    Data(String),
    /// A backend failure (device, memory, kernel build...).
    #[error(transparent)]
    Backend(#[from] backend_core::Error),
    /// An operator or reconstruction failure.
    #[error(transparent)]
    Ops(#[from] epri_ops::Error),
    /// Checks that found the device computing wrongly (`epri selftest`).
    #[error("{0}")]
    Failed(String),
}

/// The message of a panic's payload (a `&str` or a `String`, as `panic!` makes them).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

impl Error {
    /// A file error.
    pub fn file(path: &Path, msg: impl Into<String>) -> Self {
        Error::File {
            path: path.to_path_buf(),
            msg: msg.into(),
        }
    }

    /// A usage error.
    pub fn usage(msg: impl Into<String>) -> Self {
        Error::Usage(msg.into())
    }

    /// A data error.
    pub fn data(msg: impl Into<String>) -> Self {
        Error::Data(msg.into())
    }

    /// The process exit code: 2 for bad command-line values (as clap does), 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            _ => 1,
        }
    }

    /// The message on one line, safe for a terminal: device logs spanning several lines are
    /// joined with ` | `, control characters (which may come from a hostile file) are escaped,
    /// and a message longer than [`MAX_MESSAGE_CHARS`] is cut.
    pub fn one_line(&self) -> String {
        one_line_text(&self.to_string(), MAX_MESSAGE_CHARS)
    }
}

/// `text` on one terminal line: its lines joined with ` | ` (blank ones dropped), control
/// characters escaped, cut after `max_chars` characters (` [...]` marks the cut).
pub fn one_line_text(text: &str, max_chars: usize) -> String {
    let joined = text
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" | ");
    let mut out = String::new();
    for (n, c) in joined.chars().enumerate() {
        if n == max_chars {
            out.push_str(" [...]");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}
