//! The error type shared by every backend.

use crate::scalar::Precision;

/// Result alias used throughout the backends.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong in a backend call. Every public backend function returns it; none panics on
/// user input.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A device, driver or runtime library is not there (no OpenCL platform, no CUDA driver...).
    #[error("device unavailable: {0}")]
    DeviceUnavailable(String),
    /// A backend name that epri does not know.
    #[error("unknown backend '{name}': expected one of cpu, opencl, opencl:<platform>:<device>, cuda, cuda:<index>")]
    UnknownBackend {
        /// The name as given.
        name: String,
    },
    /// A backend that this build was compiled without.
    #[error(
        "backend '{name}' is not compiled into this build: rebuild with `--features {feature}`"
    )]
    NotCompiled {
        /// The backend asked for.
        name: String,
        /// The Cargo feature that enables it.
        feature: &'static str,
    },
    /// Arrays whose shapes do not fit together.
    #[error("shape mismatch in {op}: expected {expected:?}, got {got:?}")]
    ShapeMismatch {
        /// The operation that checked the shapes.
        op: String,
        /// The shape it needed.
        expected: Vec<usize>,
        /// The shape it was given.
        got: Vec<usize>,
    },
    /// Inputs of one call given in different precisions, or a precision the device lacks.
    #[error("precision mismatch: {0}")]
    PrecisionMismatch(String),
    /// The device is out of memory.
    #[error("out of device memory: {0}")]
    OutOfMemory(String),
    /// A device kernel did not compile; carries the compiler's log.
    #[error("kernel build failed: {log}")]
    KernelBuild {
        /// The compiler's log.
        log: String,
    },
    /// A NaN or an infinity where finite values are needed.
    #[error("non-finite value in {0}")]
    NonFinite(String),
    /// An argument outside its valid range (a negative pixel size, an eps too small...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Any other failure reported by the device runtime.
    #[error("device error: {0}")]
    Device(String),
}

impl Error {
    /// Shape mismatch helper.
    pub fn shape(op: impl Into<String>, expected: &[usize], got: &[usize]) -> Self {
        Error::ShapeMismatch {
            op: op.into(),
            expected: expected.to_vec(),
            got: got.to_vec(),
        }
    }

    /// Precision-not-supported helper.
    pub fn precision_unsupported(device: &str, p: Precision) -> Self {
        Error::PrecisionMismatch(format!("device {device} does not support {p} arithmetic"))
    }
}

/// Fails with [`Error::ShapeMismatch`] unless `got == expected`.
pub fn check_shape(op: &str, expected: &[usize], got: &[usize]) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::shape(op, expected, got))
    }
}

/// Fails with [`Error::NonFinite`] when a value is NaN or infinite.
pub fn check_finite<'a, T: num_traits::Float + 'a>(
    what: &str,
    values: impl IntoIterator<Item = &'a T>,
) -> Result<()> {
    if values.into_iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(Error::NonFinite(what.to_string()))
    }
}
