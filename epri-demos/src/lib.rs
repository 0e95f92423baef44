//! # epri-demos
//!
//! The `epri` command: EPR image reconstruction from the terminal, on the CPU, OpenCL or CUDA.
//!
//! * [`io`]: dataset folders of `.npy` arrays (C or Fortran order, `float32`/`float64`) and
//!   Bruker BES3T `.DSC`/`.DTA` files;
//! * [`render`]: PNG figures (viridis, colour bar, axes in cm) without a plotting library;
//! * [`dispatch`]: the backend chosen at run time, one generic function per command;
//! * [`commands`]: `devices`, `info`, `project`, `backproject`, `tv`, `fbp`, `separate`,
//!   `oximetry`, `gallery`, `selftest`, `compare`;
//! * [`phantom4d`]: a simulated spectral-spatial acquisition (the gallery's 4D examples and
//!   their end-to-end test).

pub mod bench;
pub mod cli;
pub mod commands;
pub mod datasets;
pub mod dispatch;
pub mod error;
pub mod io;
pub mod phantom4d;
pub mod render;

pub use error::{Error, Result};
