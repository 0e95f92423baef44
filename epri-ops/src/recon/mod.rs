//! Reconstructions: TV-regularised least squares ([`tv`]) with an automatic choice of its weight
//! ([`lambda`]), and filtered backprojection ([`fbp`]).

mod cp2016;
pub mod fbp;
pub mod lambda;
pub mod tv;
pub mod tv_multisrc;

pub use fbp::{fbp, grid};
pub use lambda::{choose_lambda, LambdaChoice, LambdaRule, LambdaSearchOptions, LambdaTrial};
pub use tv::{tv_monosrc, Lipschitz, TvOptions, TvProblem, TvProgress, TvResult, TvSolution};
