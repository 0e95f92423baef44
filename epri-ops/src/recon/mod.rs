//! Reconstructions: TV-regularised least squares and filtered backprojection ([`fbp`]).

pub mod fbp;

pub use fbp::{fbp, grid};
