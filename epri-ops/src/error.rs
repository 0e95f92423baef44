//! The error type of the operator layer.

/// Result alias of the operator layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong in an operator or a reconstruction.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An error from the backend (device, shapes of buffers, FFT/NUFFT arguments).
    #[error(transparent)]
    Backend(#[from] backend_core::Error),
    /// Acquisition geometry that cannot be used (non-uniform B grid, zero pixel size, fgrad of the
    /// wrong dimension...).
    #[error("invalid geometry: {0}")]
    Geometry(String),
    /// Arrays whose shapes do not fit together.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// NaN or infinite values in an input.
    #[error("non-finite values in {0}")]
    NonFinite(String),
    /// A parameter outside its valid range.
    #[error("invalid parameter: {0}")]
    Parameter(String),
    /// An iterative solver stopped by its cancellation flag (`TvOptions::cancel`), after that
    /// many iterations.
    #[error("cancelled after {0} iterations")]
    Cancelled(usize),
}
