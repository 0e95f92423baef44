//! The upsampling factor of a NUFFT plan, chosen from a cost model when the points are set
//! (FINUFFT picks it automatically too; PyEPRI never sets it).

use super::kernel::{fine_size, EsKernel};
use super::NufftType;
use crate::scalar::Precision;

/// Nanoseconds per `n log2 n` of a complex FFT and per kernel tap of spreading/interpolation, as
/// measured on the CPU backend (2-core x86-64, f32); only their ratio matters.
const FFT_NS: f64 = 0.3;
const TAP_NS: f64 = 0.5;

/// FINUFFT's two factors, and 1.5 between them (a 96³ instead of 128³ fine grid for 64³
/// modes, with a kernel of 8 instead of 7 taps: one vector per row either way on AVX-512).
const CANDIDATES: [f64; 3] = [2.0, 1.5, 1.25];

/// Smallest `eps` for which the factors below 2 are considered (FINUFFT's rule for 1.25: the
/// kernel would get too wide below), in `f64` and in `f32`.
const LOW_SIGMA_MIN_EPS: [f64; 2] = [1e-9, 1e-6];

/// The upsampling factor (2.0, 1.5 or 1.25) of a NUFFT of type `ty` in `precision` with mode
/// grid `modes` and `m` points at accuracy `eps`, minimising `FFT_NS·n log2 n + TAP_NS·m·w^d`
/// (`n` fine-grid points, `w` kernel width). The low factors win when the grid is large and the
/// points few (the EPR operators: 2D images, 64³ volumes, the Toeplitz kernels on their doubled
/// grids); 2.0 when the points are dense or `eps` small. Deterministic: the same inputs always
/// give the same plan.
///
/// Factors below 2 are only considered for `eps >= 1e-9` (`1e-6` in `f32`), and 1.25 not for
/// type 1 in `f32`: there its larger deconvolution factors amplify single-precision rounding
/// (phalanx backprojection against PyEPRI: relative error 4e-5 at 1.25, 2.1e-6 at 1.5, 1.8e-6
/// at 2.0).
pub fn choose_upsampfac(
    ty: NufftType,
    modes: &[usize],
    m: usize,
    eps: f64,
    precision: Precision,
) -> f64 {
    let (min_eps, f32_type1) = match precision {
        Precision::F64 => (LOW_SIGMA_MIN_EPS[0], false),
        Precision::F32 => (LOW_SIGMA_MIN_EPS[1], ty == NufftType::Type1),
    };
    let allowed = |sigma: f64| sigma == 2.0 || (eps >= min_eps && !(sigma == 1.25 && f32_type1));
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
        .filter(|&&s| allowed(s))
        .filter_map(|&s| cost(s).map(|c| (s, c)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(2.0, |(s, _)| s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Precision::{F32, F64};

    #[test]
    fn model_picks_the_measured_winner() {
        // CPU backend, 2 threads, f32, eps 1e-6 (ops-bench with the factor forced, ms at
        // 2.0 / 1.5 / 1.25).
        let t2 = NufftType::Type2;
        let t1 = NufftType::Type1;
        // phalanx, 256x256 image, 30284 nodes: proj 2.43 / 1.62 / 1.64, backproj (type 1)
        // 2.51 / 1.57 / (1.25 not allowed), Toeplitz kernel on 512x512 8.9 / 6.1 / -.
        assert_eq!(choose_upsampfac(t2, &[256, 256], 30284, 1e-6, F32), 1.5);
        assert_eq!(choose_upsampfac(t1, &[256, 256], 30284, 1e-6, F32), 1.5);
        assert_eq!(choose_upsampfac(t1, &[512, 512], 30284, 1e-6, F32), 1.5);
        // fusillo, 64³ volume, 91295 nodes: proj 13.1 / 7.8 / 10.9, backproj 14.8 / 9.8 / -,
        // Toeplitz kernel on 128³ 153 / 85 / -.
        assert_eq!(choose_upsampfac(t2, &[64, 64, 64], 91295, 1e-6, F32), 1.5);
        assert_eq!(choose_upsampfac(t1, &[64, 64, 64], 91295, 1e-6, F32), 1.5);
        assert_eq!(
            choose_upsampfac(t1, &[128, 128, 128], 91295, 1e-6, F32),
            1.5
        );
        // f64 Toeplitz kernel: the 256³ fine grid of 2.0 dominates, a low factor wins.
        assert_ne!(
            choose_upsampfac(t1, &[128, 128, 128], 91295, 1e-6, F64),
            2.0
        );
        // Dense points: 2.0 (a million points on 64³).
        assert_eq!(
            choose_upsampfac(t2, &[64, 64, 64], 1_000_000, 1e-6, F32),
            2.0
        );
        // High accuracy: always 2.0.
        assert_eq!(choose_upsampfac(t2, &[256, 256], 10, 1e-12, F64), 2.0);
    }
}
