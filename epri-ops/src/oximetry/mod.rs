//! EPR oximetry: per-voxel line-shape fits of spectral-spatial images, `(Nb, Ny, Nx[, Nz])`
//! with the spectral axis first, into maps of linewidth (and centre, amplitude, offset) with
//! standard errors, a validity mask, and pO2 through a linear calibration.
//!
//! * [`model`]: the line shapes (Lorentzian, Gaussian, pseudo-Voigt; absorption or first
//!   derivative) with analytic Jacobians, parametrised by the peak-to-peak width;
//! * [`fit`]: the fit plan [`SpectrumFit`] (Levenberg–Marquardt from moment estimates,
//!   parallel over voxels) and its result [`FitMaps`];
//! * [`calibration`]: `pO2 = (width − width_0) / slope`, with published slopes ([`Probe`]).
//!
//! Runs on host arrays (rayon): the fit of one voxel is a few hundred flops per field sample
//! and iteration, with nothing to share between voxels.

pub mod calibration;
pub mod fit;
pub mod model;

pub use calibration::{Calibration, Probe};
pub use fit::{FitMaps, FitOptions, SpectrumFit, Status, VoxelFit};
pub use model::{Form, LineModel, Param, Profile};
