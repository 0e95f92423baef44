//! Piecewise-polynomial form of the ES kernel, evaluated by Horner's rule on all `w` cells of a
//! point's stencil at once (FINUFFT's `ker_horner`).
//!
//! For a point at fine-grid coordinate `u`, the stencil starts at `i0 = ⌈u − w/2⌉` and cell `j`
//! (`0 ≤ j < w`) sees the kernel at `z_j = i0 − u + j ∈ [−w/2 + j, −w/2 + j + 1)`. With the local
//! variable `y = 2 (i0 − u + w/2) − 1 ∈ [−1, 1)`, every `φ(z_j)` is a polynomial of `y` of
//! degree `nc − 1`, fitted per cell by Chebyshev interpolation in `f64`.

use backend_core::nufft::EsKernel;
use backend_core::Real;

/// Largest number of polynomial coefficients tried per cell.
const MAX_NC: usize = 24;

/// The kernel's Horner coefficients laid out for SIMD evaluation: `nc` rows (highest degree
/// first) of `lanes` values, lane `2j` and `2j + 1` both holding cell `j`'s coefficient (the
/// layout of interleaved complex numbers); lanes `≥ 2w` are zero.
#[derive(Clone, Debug)]
pub struct Horner<T> {
    coef: Vec<T>,
    nc: usize,
    lanes: usize,
}

impl<T: Real> Horner<T> {
    /// Fits the kernel: the degree grows until the fit's maximum error on each cell is below
    /// `max(e^{−β} / 10, 4 ε_T)` (`e^{−β}` is the kernel's own truncation level, `ε_T` the
    /// precision's machine epsilon).
    pub fn fit(kernel: &EsKernel) -> Self {
        let w = kernel.width;
        let lanes = (2 * w).div_ceil(8) * 8;
        let tol = ((-kernel.beta).exp() / 10.0).max(4.0 * T::EPS.f64());
        let mut best = None;
        for nc in (w + 1).max(4)..=MAX_NC {
            let cells: Vec<Vec<f64>> = (0..w).map(|j| fit_cell(kernel, j, nc)).collect();
            let err = cells
                .iter()
                .enumerate()
                .map(|(j, p)| cell_error(kernel, j, p))
                .fold(0.0, f64::max);
            best = Some((nc, cells));
            if err < tol {
                break;
            }
        }
        let (nc, cells) = best.expect("MAX_NC > w + 1");
        let mut coef = vec![T::zero(); nc * lanes];
        for (j, p) in cells.iter().enumerate() {
            // p[k] is the coefficient of y^k; row r holds degree nc - 1 - r.
            for (r, row) in coef.chunks_mut(lanes).enumerate() {
                let v = T::of(p[nc - 1 - r]);
                row[2 * j] = v;
                row[2 * j + 1] = v;
            }
        }
        Horner { coef, nc, lanes }
    }

    /// Number of lanes (`2 × ` the kernel width, rounded up to a multiple of 8): 8 to 32.
    pub fn lanes(&self) -> usize {
        self.lanes
    }

    /// The coefficient rows as fixed-width arrays; `L` must equal [`Horner::lanes`].
    pub fn rows<const L: usize>(&self) -> &[[T; L]] {
        assert_eq!(L, self.lanes, "Horner lanes");
        let (rows, rest) = self.coef.as_chunks::<L>();
        debug_assert!(rest.is_empty() && rows.len() == self.nc);
        rows
    }
}

/// Kernel values of the `w` stencil cells at local variable `y`, duplicated per complex lane.
#[inline(always)]
pub fn eval<T: Real, const L: usize, const FMA: bool>(rows: &[[T; L]], y: T) -> [T; L] {
    let mut acc = rows[0];
    for row in &rows[1..] {
        for j in 0..L {
            acc[j] = madd::<T, FMA>(acc[j], y, row[j]);
        }
    }
    acc
}

/// `a b + c`, fused when the caller was compiled with FMA.
#[inline(always)]
pub fn madd<T: Real, const FMA: bool>(a: T, b: T, c: T) -> T {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// Monomial coefficients (`p[k]` of `y^k`) of the degree `nc − 1` Chebyshev interpolant of the
/// kernel on cell `j`.
fn fit_cell(kernel: &EsKernel, j: usize, nc: usize) -> Vec<f64> {
    let n = nc as f64;
    let nodes: Vec<f64> = (0..nc)
        .map(|i| (std::f64::consts::PI * (i as f64 + 0.5) / n).cos())
        .collect();
    let vals: Vec<f64> = nodes.iter().map(|&y| cell_value(kernel, j, y)).collect();
    // Chebyshev coefficients a_k = (2 − δ_k0)/n Σ_i f(y_i) T_k(y_i).
    let cheb: Vec<f64> = (0..nc)
        .map(|k| {
            let s: f64 = (0..nc)
                .map(|i| vals[i] * (std::f64::consts::PI * k as f64 * (i as f64 + 0.5) / n).cos())
                .sum();
            if k == 0 {
                s / n
            } else {
                2.0 * s / n
            }
        })
        .collect();
    // Monomial form through the recurrence T_{k+1} = 2 y T_k − T_{k−1}.
    let mut p = vec![0.0; nc];
    let mut t_prev = vec![0.0; nc];
    let mut t_cur = vec![0.0; nc];
    t_prev[0] = 1.0;
    if nc > 1 {
        t_cur[1] = 1.0;
    }
    for (k, &a) in cheb.iter().enumerate() {
        let tk = match k {
            0 => &t_prev,
            _ => &t_cur,
        };
        for (pi, ti) in p.iter_mut().zip(tk) {
            *pi += a * ti;
        }
        if k >= 1 && k + 1 < nc {
            let mut next = vec![0.0; nc];
            for i in 0..nc {
                let up = if i > 0 { 2.0 * t_cur[i - 1] } else { 0.0 };
                next[i] = up - t_prev[i];
            }
            t_prev = std::mem::replace(&mut t_cur, next);
        }
    }
    p
}

/// `φ` on cell `j` at local variable `y ∈ [−1, 1]`.
fn cell_value(kernel: &EsKernel, j: usize, y: f64) -> f64 {
    kernel.eval(-(kernel.width as f64) / 2.0 + j as f64 + (y + 1.0) / 2.0)
}

/// Largest error of the monomial fit `p` on cell `j`, on a fine sample of `[−1, 1]`.
fn cell_error(kernel: &EsKernel, j: usize, p: &[f64]) -> f64 {
    (0..=64)
        .map(|i| {
            let y = -1.0 + i as f64 / 32.0;
            let v = p.iter().rev().fold(0.0, |acc, &c| acc * y + c);
            (v - cell_value(kernel, j, y)).abs()
        })
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The f32 and f64 evaluations agree with the closed-form kernel on every cell.
    #[test]
    fn horner_matches_the_kernel() {
        for eps in [1e-2, 1e-6, 1e-12] {
            let k = EsKernel::for_eps(eps, 2.0).unwrap();
            let h = Horner::<f64>::fit(&k);
            let tol = ((-k.beta).exp()).max(1e-14);
            for s in 0..50 {
                let y = -1.0 + s as f64 / 25.0;
                let v = match h.lanes() {
                    8 => eval::<f64, 8, false>(h.rows::<8>(), y).to_vec(),
                    16 => eval::<f64, 16, false>(h.rows::<16>(), y).to_vec(),
                    24 => eval::<f64, 24, false>(h.rows::<24>(), y).to_vec(),
                    _ => eval::<f64, 32, false>(h.rows::<32>(), y).to_vec(),
                };
                for j in 0..k.width {
                    let want = cell_value(&k, j, y);
                    assert!((v[2 * j] - want).abs() < tol, "eps {eps} cell {j} y {y}");
                    assert_eq!(v[2 * j], v[2 * j + 1]);
                }
                assert!(v[2 * k.width..].iter().all(|&x| x == 0.0));
            }
        }
    }
}
