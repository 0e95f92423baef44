//! # epri-ops
//!
//! The physics of EPR imaging, written once over [`backend_core::Backend`]: frequency nodes,
//! projection and backprojection (2D, 3D), Toeplitz `A*A`, gradient and divergence, power
//! iteration, and the reconstructions built on them (TV-regularised least squares, filtered
//! backprojection), and the per-voxel line-shape fits of spectral-spatial images (oximetry).

pub mod error;
pub mod geometry;
pub mod grad;
pub mod multisrc;
pub mod nodes;
pub mod noise;
pub mod oximetry;
pub mod power;
pub mod proj;
pub mod recon;
pub mod spectral;
pub mod spectrum;
pub mod toeplitz;

pub use error::{Error, Result};
pub use geometry::Geometry;
pub use nodes::FrequencyNodes;
pub use power::power_iteration;
pub use proj::{Projector, ProjectorOptions};
pub use toeplitz::ToeplitzKernel;
