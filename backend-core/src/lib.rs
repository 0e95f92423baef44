//! # backend-core
//!
//! The traits every epri backend implements, and the generic code written once on top of them.
//!
//! * [`Backend`]: device buffers ([`DeviceBuffer`], shape attached, host transfer only through
//!   [`Backend::upload`] / [`Backend::download`] of `ndarray` arrays), elementwise maps,
//!   reductions, gather/scatter, padding, gradient/divergence stencils and fused TV steps, FFT
//!   plans and the NUFFT stages.
//! * [`Real`] (`f32`, `f64`) with complex companion [`C<T>`](C) = `num_complex::Complex<T>`.
//! * [`nufft::NufftPlan`]: FINUFFT-style type-1/type-2 NUFFT over any backend.
//! * [`DeviceSpec`]: backend names (`cpu`, `opencl:0:0`, `cuda:1`) parsed at run time.
//! * [`Error`]: one error type; no backend function panics on user input.

mod backend;
pub mod check;
pub mod error;
pub mod fft;
pub mod host;
pub mod nufft;
pub mod ops;
pub mod profile;
pub mod scalar;
mod select;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use backend::{Backend, DeviceBuffer};
pub use error::{Error, Result};
pub use fft::{FftKind, FftSpec, Pruning};
pub use ops::{Binary, Direction, Part, PrimalStep, Reduce, StepSums, Unary};
pub use profile::Profile;
pub use scalar::{ElemKind, Element, Field, Precision, Real, C};
pub use select::DeviceSpec;
