//! Reconstructions: TV-regularised least squares ([`tv`]) and filtered backprojection ([`fbp`]).

mod cp2016;
pub mod fbp;
pub mod tv;
pub mod tv_multisrc;

pub use fbp::{fbp, grid};
pub use tv::{tv_monosrc, Lipschitz, TvOptions, TvProgress, TvResult};
