//! Non-uniform FFT of types 1 and 2 in 1, 2 and 3 dimensions, FINUFFT's method and conventions
//! (Barnett, Magland & af Klinteberg 2019), written once over the [`crate::Backend`] stages.
//!
//! * `kernel`: the "exponential of semicircle" kernel, its width and shape from `eps`, and its
//!   Fourier transform (deconvolution factors).
//! * `plan`: [`NufftPlan`] — make a plan (type, mode grid, `n_trans`, `eps`), set the points
//!   once, execute many times (FINUFFT's makeplan / setpts / execute); plans of real modes
//!   ([`NufftPlan::new_real`]: type 2 of real modes, the real part of type 1) run on the half
//!   spectrum of the fine grid where the backend has those stages.
//! * `upsampling`: the upsampling factor from a cost model ([`choose_upsampfac`]).
//!
//! Conventions: modes in centred order (array index `k + N/2`), points in radians
//! (any real value, folded modulo 2π), type 1 `f[k] = Σ_m c_m e^{+i<k, x_m>}`, type 2
//! `c_m = Σ_k f[k] e^{-i<k, x_m>}`; coordinate array `a` pairs with array axis `a`.

mod kernel;
mod plan;
mod upsampling;

pub use kernel::{fine_size, EsKernel};
pub use plan::{eps_range, NufftPlan, NufftType};
pub use upsampling::choose_upsampfac;

/// Everything the spreading / interpolation / deconvolution stages need to know about a plan.
#[derive(Clone, Debug, PartialEq)]
pub struct SpreadParams {
    /// Mode grid shape, axis 0 first (1 to 3 axes).
    pub modes: Vec<usize>,
    /// Fine (upsampled) grid shape, same rank as `modes`, each even and 2·3·5-smooth.
    pub fine: Vec<usize>,
    /// Number of vectors transformed together (leading axis of every buffer).
    pub n_trans: usize,
    /// The spreading kernel.
    pub kernel: EsKernel,
}

impl SpreadParams {
    /// Spatial dimension (number of grid axes).
    pub fn dim(&self) -> usize {
        self.modes.len()
    }
    /// Number of fine-grid points of one vector.
    pub fn fine_len(&self) -> usize {
        self.fine.iter().product()
    }
    /// Number of modes of one vector.
    pub fn modes_len(&self) -> usize {
        self.modes.iter().product()
    }
}
