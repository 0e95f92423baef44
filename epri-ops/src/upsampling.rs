//! The NUFFT upsampling factor of each plan, chosen from a cost model (FINUFFT picks it
//! automatically too; PyEPRI never sets it).

use backend_core::nufft::{fine_size, EsKernel, NufftType};
use backend_core::{Precision, Real};

/// Nanoseconds per `n log2 n` of a complex FFT and per kernel tap of spreading/interpolation, as
/// measured on the CPU backend (2-core x86-64, f32); only their ratio matters.
const FFT_NS: f64 = 0.3;
const TAP_NS: f64 = 0.5;

/// The two factors FINUFFT uses.
const CANDIDATES: [f64; 2] = [2.0, 1.25];

/// Smallest `eps` for which the low upsampling factor 1.25 is considered (FINUFFT's rule: its
/// kernel would get too wide below).
const LOW_SIGMA_MIN_EPS: f64 = 1e-9;

/// The upsampling factor (2.0 or 1.25) of a NUFFT of type `ty` in precision `T` with mode grid
/// `modes` and `m` points at accuracy `eps`, minimising `FFT_NS·n log2 n + TAP_NS·m·w^d` (`n`
/// fine-grid points, `w` kernel width). 1.25 wins when the grid is large and the points few
/// (the 2D operators, Toeplitz kernels on their doubled grid); 2.0 when points are dense (3D
/// projection of 900+ gradients). Deterministic: the same inputs always give the same plan.
///
/// 1.25 is only considered for `eps >= 1e-9`, and not for type 1 in `f32`: there its larger
/// deconvolution factors amplify single-precision rounding (measured on the phalanx
/// backprojection: relative error 4e-5 against PyEPRI instead of 2e-6 at 2.0).
pub fn choose_upsampfac<T: Real>(ty: NufftType, modes: &[usize], m: usize, eps: f64) -> f64 {
    let low_ok =
        eps >= LOW_SIGMA_MIN_EPS && !(ty == NufftType::Type1 && T::PRECISION == Precision::F32);
    let cost = |sigma: f64| -> Option<f64> {
        let kernel = EsKernel::for_eps(eps, sigma).ok()?;
        let n: f64 = modes
            .iter()
            .map(|&k| fine_size(k, &kernel) as f64)
            .product();
        let taps = (kernel.width as f64).powi(modes.len() as i32);
        Some(FFT_NS * n * n.log2() + TAP_NS * m as f64 * taps)
    };
    CANDIDATES
        .iter()
        .filter(|&&s| s == 2.0 || low_ok)
        .filter_map(|&s| cost(s).map(|c| (s, c)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(2.0, |(s, _)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_picks_the_measured_winner() {
        // phalanx, 256x256 image, 30284 nodes: 1.25 (measured 2.7 ms vs 5.3 ms for type 2).
        let t2 = NufftType::Type2;
        let t1 = NufftType::Type1;
        assert_eq!(choose_upsampfac::<f32>(t2, &[256, 256], 30284, 1e-6), 1.25);
        // fusillo, 64³ volume, 91295 nodes: 2.0 (measured 32 ms vs 35 ms for type 2).
        assert_eq!(choose_upsampfac::<f32>(t2, &[64, 64, 64], 91295, 1e-6), 2.0);
        // Toeplitz kernel of the latter on 128³: 1.25 in f64, never for f32 type 1.
        assert_eq!(
            choose_upsampfac::<f64>(t1, &[128, 128, 128], 91295, 1e-6),
            1.25
        );
        assert_eq!(
            choose_upsampfac::<f32>(t1, &[128, 128, 128], 91295, 1e-6),
            2.0
        );
        // High accuracy: always 2.0.
        assert_eq!(choose_upsampfac::<f64>(t2, &[256, 256], 10, 1e-12), 2.0);
    }
}
