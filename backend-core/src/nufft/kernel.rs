//! The "exponential of semicircle" (ES) spreading kernel and its Fourier transform.

use crate::error::{Error, Result};

/// The ES kernel `φ(z) = exp(β (√(1 − c z²) − 1))` for `|z| ≤ w/2`, 0 elsewhere, with `z` in
/// fine-grid cells and `c = 4 / w²`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EsKernel {
    /// Width `w` in fine-grid cells (2 to 16).
    pub width: usize,
    /// Shape parameter `β`.
    pub beta: f64,
    /// `c = 4 / w²`.
    pub c: f64,
    /// Upsampling factor `σ` of the fine grid.
    pub upsampfac: f64,
}

impl EsKernel {
    /// The kernel for a requested relative accuracy `eps` at upsampling factor `upsampfac`
    /// (2.0 or 1.25), following FINUFFT's choices: `w = ⌈log10(10/eps)⌉` and `β = 2.30 w` at
    /// σ = 2; `w = ⌈−ln(eps) / (π √(1 − 1/σ))⌉` and `β = 0.97 π (1 − 1/(2σ)) w` otherwise.
    pub fn for_eps(eps: f64, upsampfac: f64) -> Result<Self> {
        if !(eps.is_finite() && eps > 0.0 && eps < 1.0) {
            return Err(Error::InvalidArgument(format!(
                "NUFFT accuracy eps = {eps} must lie in (0, 1)"
            )));
        }
        if !(upsampfac > 1.0 && upsampfac <= 4.0) {
            return Err(Error::InvalidArgument(format!(
                "NUFFT upsampling factor {upsampfac} must lie in (1, 4]"
            )));
        }
        let w = if upsampfac == 2.0 {
            (10.0 / eps).log10().ceil()
        } else {
            (-eps.ln() / (std::f64::consts::PI * (1.0 - 1.0 / upsampfac).sqrt())).ceil()
        };
        let width = (w as usize).clamp(2, 16);
        let beta = if upsampfac == 2.0 {
            let betaoverw = match width {
                2 => 2.20,
                3 => 2.26,
                4 => 2.38,
                _ => 2.30,
            };
            betaoverw * width as f64
        } else {
            0.97 * std::f64::consts::PI * (1.0 - 1.0 / (2.0 * upsampfac)) * width as f64
        };
        Ok(EsKernel {
            width,
            beta,
            c: 4.0 / (width * width) as f64,
            upsampfac,
        })
    }

    /// `φ(z)`, `z` in fine-grid cells.
    pub fn eval(&self, z: f64) -> f64 {
        let s = 1.0 - self.c * z * z;
        if s < 0.0 {
            0.0
        } else {
            (self.beta * (s.sqrt() - 1.0)).exp()
        }
    }

    /// Fourier transform `φ̂(k) = ∫ φ(z) cos(2π k z / nf) dz` at the centred modes
    /// `k = −⌊n/2⌋ … ⌈n/2⌉ − 1`, by Gauss–Legendre quadrature on `[−w/2, w/2]`.
    pub fn fourier_series(&self, n: usize, nf: usize) -> Vec<f64> {
        let half = self.width as f64 / 2.0;
        let (nodes, weights) = gauss_legendre(4 * self.width + 16);
        let zs: Vec<(f64, f64)> = nodes
            .iter()
            .zip(&weights)
            .map(|(&x, &w)| (half * x, half * w * self.eval(half * x)))
            .collect();
        let n2 = (n / 2) as i64;
        (0..n as i64)
            .map(|i| {
                let k = (i - n2) as f64;
                let om = 2.0 * std::f64::consts::PI * k / nf as f64;
                zs.iter().map(|&(z, wf)| wf * (om * z).cos()).sum()
            })
            .collect()
    }
}

/// Fine-grid size for `n` modes: `σ n` (at least `2 w`), rounded up to the next even
/// 2·3·5-smooth integer.
pub fn fine_size(n: usize, kernel: &EsKernel) -> usize {
    let target = ((kernel.upsampfac * n as f64).ceil() as usize).max(2 * kernel.width);
    let mut m = target + (target % 2);
    loop {
        let mut r = m;
        for p in [2, 3, 5] {
            while r.is_multiple_of(p) {
                r /= p;
            }
        }
        if r == 1 {
            return m;
        }
        m += 2;
    }
}

/// Gauss–Legendre nodes and weights on `[−1, 1]` (Newton iteration on `P_n`).
fn gauss_legendre(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut x = vec![0.0; n];
    let mut w = vec![0.0; n];
    for i in 0..n.div_ceil(2) {
        let mut z = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut dp = 1.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, z);
            for k in 2..=n {
                let p2 = ((2 * k - 1) as f64 * z * p1 - (k - 1) as f64 * p0) / k as f64;
                p0 = p1;
                p1 = p2;
            }
            dp = n as f64 * (z * p1 - p0) / (z * z - 1.0);
            let dz = p1 / dp;
            z -= dz;
            if dz.abs() < 1e-16 {
                break;
            }
        }
        x[i] = -z;
        x[n - 1 - i] = z;
        w[i] = 2.0 / ((1.0 - z * z) * dp * dp);
        w[n - 1 - i] = w[i];
    }
    (x, w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_follows_finufft() {
        assert_eq!(EsKernel::for_eps(1e-6, 2.0).unwrap().width, 7);
        assert_eq!(EsKernel::for_eps(1e-12, 2.0).unwrap().width, 13);
        assert_eq!(EsKernel::for_eps(1e-15, 2.0).unwrap().width, 16);
        assert!(EsKernel::for_eps(0.0, 2.0).is_err());
        assert!(EsKernel::for_eps(f64::NAN, 2.0).is_err());
    }

    #[test]
    fn fine_sizes_are_even_and_smooth() {
        let k = EsKernel::for_eps(1e-6, 2.0).unwrap();
        assert_eq!(fine_size(256, &k), 512);
        assert_eq!(fine_size(1, &k), 14 + 2); // 2w = 14 -> 16 (14 = 2·7 is not smooth)
        assert_eq!(fine_size(100, &k), 200);
        assert_eq!(fine_size(401, &k), 810);
    }

    #[test]
    fn fourier_series_matches_a_riemann_sum() {
        let k = EsKernel::for_eps(1e-6, 2.0).unwrap();
        let (n, nf) = (8, 16);
        let fs = k.fourier_series(n, nf);
        let h = 1e-4;
        for (i, &v) in fs.iter().enumerate() {
            let kk = i as f64 - 4.0;
            let mut s = 0.0;
            let mut z = -3.5;
            while z <= 3.5 {
                s += h * k.eval(z) * (2.0 * std::f64::consts::PI * kk * z / nf as f64).cos();
                z += h;
            }
            assert!((s - v).abs() < 1e-6 * v.abs().max(1.0), "{kk}: {s} vs {v}");
        }
    }
}
