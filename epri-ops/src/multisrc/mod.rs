//! Several sources, several experimental settings (PyEPRI's `multisrc` module).
//!
//! `K` sources (index `j`) with images `u_j` of possibly different shapes (Y, X[, Z]) are imaged
//! in `L` experimental settings (index `i`, e.g. different microwave powers). Source `j` has the
//! reference spectrum `h[i][j]` in setting `i`, whose field gradients are `fgrad[i]` (shape
//! `(d, P_i)`) and sinogram `proj[i]` (shape `(P_i, Nb)`):
//!
//! * forward: `proj[i] = Σ_j A_{h[i][j], fgrad[i]} u_j` ([`MultiProjector::apply`]);
//! * adjoint: `out[j] = Σ_i A*_{h[i][j], fgrad[i]} proj[i]` ([`MultiProjector::adjoint`]);
//! * `A*A` is block-Toeplitz: `(A*A u)_k = Σ_j u_j ⊛ ψ_{k,j}` ([`MultiToeplitz`]).
//!
//! Every setting shares the field grid `B` and the pixel size `δ` (one
//! [`Geometry`](crate::geometry::Geometry) per setting,
//! differing only by `fgrad`). Lists of length 1 (of geometries, or of spectrum rows `h[i]`)
//! are broadcast over the settings, `L = max(len(geometries), len(h))`, as PyEPRI documents.

mod proj;
mod settings;
mod toeplitz;

pub use crate::power::power_iteration_multi;
pub use proj::MultiProjector;
pub use settings::Settings;
pub use toeplitz::MultiToeplitz;
