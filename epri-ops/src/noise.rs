//! The noise level of measured projections, estimated from the data alone.
//!
//! An EPR projection is a smooth signal (the spectrum convolved with the object's profile along
//! the gradient) plus noise. Finite differences of order `k` along B nearly cancel the smooth
//! part and turn white noise of standard deviation `σ` into a stationary Gaussian sequence of
//! standard deviation `σ · √(Σ_i C(k, i)²)` (`√20` for `k = 3`). The median of the absolute
//! differences, divided by `0.6745 · √20`, estimates `σ` for white noise and ignores the few
//! large differences where the signal is sharp (the median is robust; the mean of squares would
//! not be). Third differences are used: on simulated projections of a real spectrum (500 field
//! samples, peak SNR 100) first differences overestimate `σ` by 25 %, second differences by
//! 3.4 %, third differences by 0.4 %.
//!
//! Real spectrometer noise is correlated along B (the lock-in amplifier filters it): on the
//! embedded datasets the autocorrelation of the noise is 0.34–0.57 at lag 1 and 0.04–0.15 at
//! lag 2. Differences remove the low frequencies, where such noise has most of its power, so the
//! white-noise estimate is then too low (by a factor 1.4–1.8 on those datasets, against the
//! plain standard deviation of the signal-free ends of the sweeps). [`estimate_noise`] corrects
//! it: with `γ_j` the autocovariance of the noise at lag `j`, assumed zero beyond
//! [`CORRELATION_LAGS`] samples, and `R_m = (−1)^m C(6, 3 + m)` the autocorrelation of the
//! third-difference filter, the autocovariance of the third differences `d` is
//! `Γ_l = Σ_m R_m γ_{l−m}`. The normalised autocovariances `Γ_l / Γ_0` (`l = 1..=L`,
//! `L` = [`CORRELATION_LAGS`]) are measured in windows of [`WINDOW`] differences along B and
//! their interquartile means over the windows taken, the linear system solved for `γ`, and the robust white-noise
//! estimate multiplied by `√(20 γ_0 / Γ_0)`. On simulated noise (60 × 500 samples, 20 draws)
//! this gives `σ` within −0.4 % ± 2.3 % for white noise and +0.4 % ± 1.6 % for a moving
//! average of two samples; noise correlated over more samples than `L` is still
//! underestimated (an AR(1) sequence of coefficient 0.45: by 10 %, against 35 % uncorrected).
//! Lines sharp at the sampling step at a high SNR correlate the differences too and would
//! bias it upwards (by a factor 2 at peak SNR 300 on the simulated acquisition of
//! `epri-ops/tests/lambda.rs`); the noise model fitted on third differences is then checked on
//! second differences (which the signal affects differently): when it does not predict their
//! variance within [`CONSISTENCY_TOL`], no correction is made
//! ([`NoiseEstimate::correlation_measured`]).
//!
//! The corrected estimate is [`NoiseEstimate::corrected_sigma`]; [`NoiseEstimate::sigma`] stays
//! the white-noise one, because the check does not catch every signal-dominated case (at peak SNR
//! 100 on the simulated acquisition, one draw of three passes it with `σ` 28 % high). `epri`'s
//! `--lambda auto` and `--stop discrepancy` use the corrected one: the measured datasets are
//! sampled finely enough along B for the check (it holds within 3 % on all of them).

use crate::error::{Error, Result};
use backend_core::Real;
use ndarray::ArrayView2;

/// Order of the finite differences along B used by [`estimate_noise`].
pub const DIFFERENCE_ORDER: usize = 3;

/// Number of lags along B over which [`estimate_noise`] measures and corrects the correlation
/// of the noise.
pub const CORRELATION_LAGS: usize = 2;

/// Length (differences along B) of the windows in which [`estimate_noise`] measures the
/// autocorrelation of the differences (a shorter row is one window).
pub const WINDOW: usize = 64;

/// Largest relative gap between the measured variance of the second differences and the one
/// the fitted noise predicts, for [`estimate_noise`] to correct for the correlation (noise
/// alone, white, moving-average or AR(1), 30 000 samples: within 3 %; the embedded datasets:
/// within 3 %; signal-dominated differences at peak SNR 100–300: 10–50 %).
pub const CONSISTENCY_TOL: f64 = 0.05;

/// `Φ⁻¹(3/4)`: the median of `|X|` for a standard Gaussian `X`.
const MEDIAN_ABS_GAUSSIAN: f64 = 0.674_489_750_196_081_7;

/// The noise level of a sinogram.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoiseEstimate {
    /// Estimated standard deviation `σ` of the noise of one sample for white noise (third
    /// differences, no correction), in the unit of the projections.
    pub sigma: f64,
    /// Standard error of `sigma`: the spread of the per-projection estimates divided by `√P`
    /// (with fewer than 4 projections, the asymptotic standard error of a median-based estimate
    /// of `n` samples, `1.17 σ / √n`).
    pub stderr: f64,
    /// `σ` corrected for the correlation of the noise along B when it was measured
    /// (`correlation_measured`), else `sigma`; in the unit of the projections. Not the default:
    /// at a high SNR the signal can pass the consistency check and bias it (+28 % at peak SNR
    /// 100 on one draw of the simulated acquisition of `epri-ops/tests/lambda.rs`).
    pub corrected_sigma: f64,
    /// Autocorrelation of the noise along B at lags 1 and 2 (samples): close to 0 for white
    /// noise.
    pub correlation: [f64; CORRELATION_LAGS],
    /// Whether the correlation was measured: `false` when the fitted noise does not predict the
    /// variance of the second differences within [`CONSISTENCY_TOL`] (signal in the
    /// differences: sharp lines at a high SNR) or when the fit would lower σ (a negative
    /// correlation: signal, not the acquisition's filtering); `corrected_sigma` is then `sigma`
    /// and `correlation` zeros.
    pub correlation_measured: bool,
    /// Robust variance of the second differences along B divided by the variance the fitted
    /// noise model predicts for them (1 for noise alone).
    pub consistency: f64,
    /// Number of differences the estimate is built on.
    pub samples: usize,
}

/// `C(n, k)` as a float.
fn binomial(n: usize, k: usize) -> f64 {
    (1..=k).fold(1.0, |c, i| c * (n + 1 - i) as f64 / i as f64)
}

/// `k`-th order differences of one row, appended to `out`.
fn differences(row: impl Iterator<Item = f64>, order: usize, out: &mut Vec<f64>) {
    let mut d: Vec<f64> = row.collect();
    for _ in 0..order {
        for i in 0..d.len().saturating_sub(1) {
            d[i] = d[i + 1] - d[i];
        }
        d.pop();
    }
    out.extend(d);
}

/// Median of `v` (reordered in place); `v` must not be empty.
fn median(v: &mut [f64]) -> f64 {
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    *m
}

/// Mean of the central half of `v` (reordered in place): nearly as precise as the mean on
/// Gaussian values, and robust to a quarter of outliers on each side; NaN when `v` is empty.
fn interquartile_mean(v: &mut [f64]) -> f64 {
    v.sort_unstable_by(f64::total_cmp);
    let (a, b) = (v.len() / 4, v.len() - v.len() / 4);
    v[a..b].iter().sum::<f64>() / (b - a) as f64
}

/// Solves the small dense system `m x = y` by Gaussian elimination with partial pivoting;
/// `None` when it is singular.
fn solve<const N: usize>(mut m: [[f64; N]; N], mut y: [f64; N]) -> Option<[f64; N]> {
    for c in 0..N {
        let p = (c..N).max_by(|&a, &b| m[a][c].abs().total_cmp(&m[b][c].abs()))?;
        if m[p][c].abs() < 1e-12 {
            return None;
        }
        m.swap(c, p);
        y.swap(c, p);
        for r in c + 1..N {
            let f = m[r][c] / m[c][c];
            let pivot = m[c];
            for (x, p) in m[r][c..].iter_mut().zip(&pivot[c..]) {
                *x -= f * p;
            }
            y[r] -= f * y[c];
        }
    }
    let mut x = [0.0; N];
    for r in (0..N).rev() {
        let s: f64 = (r + 1..N).map(|k| m[r][k] * x[k]).sum();
        x[r] = (y[r] - s) / m[r][r];
    }
    Some(x)
}

/// Autocorrelation at lag `m` of the `k`-th difference filter: `(−1)^m C(2k, k + |m|)`.
fn filter_autocorrelation(k: usize, m: isize) -> f64 {
    let sign = if m % 2 == 0 { 1.0 } else { -1.0 };
    sign * binomial(2 * k, k + m.unsigned_abs())
}

/// The autocovariances `γ_0..=γ_L` (`L` = [`CORRELATION_LAGS`]) of noise whose `k`-th
/// differences have the autocovariances `gamma_d` (lags `0..=L`), assuming `γ_j = 0` for
/// `j > L`.
fn noise_autocovariance(
    gamma_d: [f64; CORRELATION_LAGS + 1],
) -> Option<[f64; CORRELATION_LAGS + 1]> {
    const L: usize = CORRELATION_LAGS;
    let k = DIFFERENCE_ORDER as isize;
    let r = |m: isize| filter_autocorrelation(DIFFERENCE_ORDER, m);
    let mut m = [[0.0; L + 1]; L + 1];
    for (l, row) in m.iter_mut().enumerate() {
        for s in -k..=k {
            let j = (l as isize - s).unsigned_abs();
            if j <= L {
                row[j] += r(s);
            }
        }
    }
    solve(m, gamma_d)
}

/// Estimates the noise level of projections `proj`, shape `(P, Nb)` (one projection per row,
/// sampled along B), from their third differences along B, corrected for the correlation of the
/// noise along B (see the module documentation).
///
/// Errors: fewer than 8 field samples, NaN or infinite values, projections whose differences
/// are mostly exactly zero (all-zero, constant or heavily quantised data: no noise to measure),
/// or differences whose autocovariances fit no noise correlated over at most
/// [`CORRELATION_LAGS`] samples.
pub fn estimate_noise<T: Real>(proj: ArrayView2<'_, T>) -> Result<NoiseEstimate> {
    let (p, nb) = proj.dim();
    if nb < 8 || p == 0 {
        return Err(Error::Shape(format!(
            "projections of shape ({p}, {nb}): the noise estimate needs at least one projection of at least 8 field samples"
        )));
    }
    if proj.iter().any(|x| !x.is_finite()) {
        return Err(Error::NonFinite("the projections".into()));
    }
    let gain = MEDIAN_ABS_GAUSSIAN * binomial(2 * DIFFERENCE_ORDER, DIFFERENCE_ORDER).sqrt();
    let len = nb - DIFFERENCE_ORDER;
    let mut diffs = Vec::with_capacity(p * len);
    for row in proj.rows() {
        differences(row.iter().map(|x| x.f64()), DIFFERENCE_ORDER, &mut diffs);
    }
    let mut abs: Vec<f64> = diffs.iter().map(|d| d.abs()).collect();
    let per_row: Vec<f64> = abs.chunks_mut(len).map(|r| median(r) / gain).collect();
    let samples = abs.len();
    let white = median(&mut abs) / gain;
    if white.is_nan() || white <= 0.0 {
        return Err(Error::Parameter(
            "the projections' differences along B are mostly exactly zero (all-zero, constant or heavily quantised data): there is no noise to measure".into(),
        ));
    }
    // Normalised autocovariances of the differences along B, the interquartile means over windows.
    let w = WINDOW.min(len);
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); CORRELATION_LAGS];
    for window in diffs.chunks(len).flat_map(|row| row.chunks_exact(w)) {
        let g0 = window.iter().map(|d| d * d).sum::<f64>() / w as f64;
        if g0 > 0.0 {
            for (l, r) in ratios.iter_mut().enumerate().map(|(l, r)| (l + 1, r)) {
                let gl = window
                    .iter()
                    .zip(&window[l..])
                    .map(|(a, b)| a * b)
                    .sum::<f64>();
                r.push(gl / (w - l) as f64 / g0);
            }
        }
    }
    let mut gamma_d = [1.0; CORRELATION_LAGS + 1];
    for (g, r) in gamma_d[1..].iter_mut().zip(&mut ratios) {
        *g = interquartile_mean(r);
    }
    let gamma = noise_autocovariance(gamma_d)
        .filter(|g| g[0] > 0.0 && g[0].is_finite())
        .ok_or_else(|| {
            Error::Parameter(format!(
                "the autocorrelations of the projections' differences along B ({:?}) fit no noise correlated over at most {CORRELATION_LAGS} samples: the noise level cannot be estimated",
                &gamma_d[1..]
            ))
        })?;
    // The check: the variance of the second differences the fitted noise predicts, against
    // their robust variance.
    let gamma_abs =
        gamma.map(|g| g * white * white * binomial(2 * DIFFERENCE_ORDER, DIFFERENCE_ORDER));
    let predicted: f64 = (-2isize..=2)
        .map(|m| filter_autocorrelation(2, m) * gamma_abs[m.unsigned_abs()])
        .sum();
    let mut abs2 = Vec::with_capacity(p * (nb - 2));
    for row in proj.rows() {
        differences(row.iter().map(|x| x.f64()), 2, &mut abs2);
    }
    abs2.iter_mut().for_each(|d| *d = d.abs());
    let observed = (median(&mut abs2) / MEDIAN_ABS_GAUSSIAN).powi(2);
    let consistency = observed / predicted;
    // Only a correction that raises σ is taken: the acquisition's filtering along B correlates
    // the noise positively, which hides part of it from the differences; a fitted factor below 1
    // means the differences carry signal, not that the noise is smaller than they say.
    let raised = (gamma[0] * binomial(2 * DIFFERENCE_ORDER, DIFFERENCE_ORDER)).sqrt();
    let measured = (consistency - 1.0).abs() <= CONSISTENCY_TOL && raised > 1.0;
    let mut correlation = [0.0; CORRELATION_LAGS];
    let factor = if measured {
        for (c, g) in correlation.iter_mut().zip(&gamma[1..]) {
            *c = g / gamma[0];
        }
        raised
    } else {
        1.0
    };
    let stderr = if p >= 4 {
        let mean = per_row.iter().sum::<f64>() / p as f64;
        let var = per_row.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (p - 1) as f64;
        (var / p as f64).sqrt()
    } else {
        1.17 * white / (samples as f64).sqrt()
    };
    Ok(NoiseEstimate {
        sigma: white,
        stderr,
        corrected_sigma: white * factor,
        correlation,
        correlation_measured: measured,
        consistency,
        samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, Ix2};

    /// White noise of unit variance, shape `(p, nb)`.
    fn white(p: usize, nb: usize, seed: u64) -> Array2<f64> {
        backend_core::host::randn(&[p, nb], 0.0, 1.0, seed)
            .unwrap()
            .into_dimensionality::<Ix2>()
            .unwrap()
    }

    /// Smooth Gaussian-derivative lines (peak 100, one per row, shifted by a sample per row)
    /// plus `noise`.
    fn with_noise(noise: &Array2<f64>) -> Array2<f64> {
        let (p, nb) = noise.dim();
        Array2::from_shape_fn((p, nb), |(i, j)| {
            let x = (j as f64 - nb as f64 / 2.0 - i as f64) / (nb as f64 / 20.0);
            -x * (-0.5 * x * x).exp() * 100.0 + noise[[i, j]]
        })
    }

    /// The lines plus white noise of standard deviation `sigma`.
    fn noisy(p: usize, nb: usize, sigma: f64, seed: u64) -> Array2<f64> {
        with_noise(&(white(p, nb, seed) * sigma))
    }

    #[test]
    fn binomials() {
        assert_eq!(binomial(2, 1), 2.0);
        assert_eq!(binomial(6, 3), 20.0);
        assert_eq!(binomial(6, 6), 1.0);
    }

    #[test]
    fn recovers_white_noise_at_several_levels() {
        for (k, sigma) in [0.3, 1.0, 5.0, 20.0].into_iter().enumerate() {
            let s = noisy(100, 1000, sigma, k as u64);
            let e = estimate_noise(s.view()).unwrap();
            // The correction for correlated noise spreads the estimate (±1 % here).
            assert!(
                (e.corrected_sigma / sigma - 1.0).abs() < 0.05,
                "σ = {sigma}: estimated {e:?}"
            );
            assert!((e.sigma / sigma - 1.0).abs() < 0.03, "{e:?}");
            assert!(e.stderr > 0.0 && e.stderr < 0.03 * sigma, "{e:?}");
            assert!(e.correlation.iter().all(|c| c.abs() < 0.05), "{e:?}");
        }
    }

    /// A moving average of two samples (correlation 0.5 at lag 1, none beyond): corrected to
    /// within 3 %, where the white-noise estimate is half the truth.
    #[test]
    fn corrects_noise_correlated_over_one_sample() {
        let w = white(100, 1001, 7);
        let ma = Array2::from_shape_fn((100, 1000), |(i, j)| {
            (w[[i, j]] + w[[i, j + 1]]) / 2f64.sqrt()
        });
        let e = estimate_noise(with_noise(&ma).view()).unwrap();
        assert!((e.corrected_sigma - 1.0).abs() < 0.03, "{e:?}");
        assert!(e.sigma < 0.55, "{e:?}");
        assert!((e.correlation[0] - 0.5).abs() < 0.05, "{e:?}");
        assert!(e.correlation[1].abs() < 0.05, "{e:?}");
    }

    /// AR(1) noise of coefficient 0.5 along B (correlated over more than two samples): within
    /// 20 %, where the white-noise estimate is 38 % low.
    #[test]
    fn ar1_noise_within_twenty_percent() {
        let w = white(100, 1100, 8);
        let mut ar = Array2::zeros((100, 1100));
        for i in 0..100 {
            for j in 1..1100 {
                ar[[i, j]] = 0.5 * ar[[i, j - 1]] + 0.75f64.sqrt() * w[[i, j]];
            }
        }
        let ar = ar.slice(ndarray::s![.., 100..]).to_owned();
        let e = estimate_noise(with_noise(&ar).view()).unwrap();
        assert!((e.corrected_sigma - 1.0).abs() < 0.2, "{e:?}");
        assert!(e.sigma < 0.7, "{e:?}");
        assert!(e.correlation[0] > 0.25, "{e:?}");
    }

    #[test]
    fn no_noise_or_bad_input_is_an_error() {
        let zero = Array2::<f32>::zeros((5, 100));
        assert!(matches!(
            estimate_noise(zero.view()),
            Err(Error::Parameter(_))
        ));
        let short = Array2::<f32>::ones((5, 7));
        assert!(matches!(estimate_noise(short.view()), Err(Error::Shape(_))));
        let mut nan = noisy(5, 100, 1.0, 1);
        nan[[2, 3]] = f64::NAN;
        assert!(matches!(
            estimate_noise(nan.view()),
            Err(Error::NonFinite(_))
        ));
    }
}
