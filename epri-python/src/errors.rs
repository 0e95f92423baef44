//! epri's errors as Python exceptions: `ValueError` for inputs that cannot be used (shapes,
//! values, parameters, an unknown backend name), `RuntimeError` for the device (missing,
//! failing, out of memory, a backend this build lacks), `OSError` for files that cannot be read,
//! `KeyboardInterrupt` (Python's own) for a solver stopped by Ctrl-C. The message is epri's.

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::PyErr;

/// The Python exception of a backend error.
pub fn backend_error(e: backend_core::Error) -> PyErr {
    use backend_core::Error as E;
    let msg = e.to_string();
    match e {
        E::UnknownBackend { .. }
        | E::ShapeMismatch { .. }
        | E::NonFinite(_)
        | E::InvalidArgument(_) => PyValueError::new_err(msg),
        _ => PyRuntimeError::new_err(msg),
    }
}

/// The Python exception of an operator or reconstruction error.
pub fn ops_error(e: epri_ops::Error) -> PyErr {
    match e {
        epri_ops::Error::Backend(b) => backend_error(b),
        e => PyValueError::new_err(e.to_string()),
    }
}

/// The Python exception of an error of the `epri` crate layer (files, dispatch).
pub fn to_pyerr(e: epri_demos::Error) -> PyErr {
    use epri_demos::Error as E;
    match e {
        E::Backend(b) => backend_error(b),
        E::Ops(o) => ops_error(o),
        E::File { .. } => PyOSError::new_err(e.to_string()),
        E::Failed(_) => PyRuntimeError::new_err(e.to_string()),
        E::Usage(_) | E::Data(_) => PyValueError::new_err(e.to_string()),
    }
}
