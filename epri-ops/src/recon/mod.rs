//! Reconstructions: TV-regularised least squares ([`tv`], [`tv_multisrc`], spectral-spatial
//! [`tv_spectral`]) and filtered backprojection ([`fbp`]).

mod cp2016;
pub mod fbp;
pub mod tv;
pub mod tv_multisrc;
pub mod tv_spectral;

pub use fbp::{fbp, grid};
pub use tv::{tv_monosrc, Lipschitz, TvOptions, TvProgress, TvResult};
pub use tv_spectral::{tv_spectral, SpectralTvOptions};
