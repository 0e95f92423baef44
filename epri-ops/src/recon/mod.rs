//! Reconstructions: TV-regularised least squares ([`tv`], [`tv_multisrc`], spectral-spatial
//! [`tv_spectral`]) with an automatic choice of its weight ([`lambda`]) and a choice of
//! stopping rules ([`stop`]), and filtered
//! backprojection ([`fbp`]).

mod cp2016;
pub mod fbp;
pub mod lambda;
pub mod stop;
pub mod tv;
pub mod tv_multisrc;
pub mod tv_spectral;

pub use fbp::{fbp, grid};
pub use lambda::{
    choose_lambda, LambdaChoice, LambdaProblem, LambdaRule, LambdaSearchOptions, LambdaTrial,
};
pub use stop::{StopReason, StopRule};
pub use tv::{tv_monosrc, Lipschitz, TvOptions, TvProblem, TvProgress, TvResult, TvSolution};
pub use tv_multisrc::{MultiTvProblem, MultiTvSolution};
pub use tv_spectral::{tv_spectral, SpectralTvOptions, SpectralTvProblem};
