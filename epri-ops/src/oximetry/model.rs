//! Line-shape models of one EPR line along the field axis, with analytic derivatives.
//!
//! A model is a unit-area profile `S(x; w)` (Lorentzian, Gaussian or pseudo-Voigt), used as
//! the absorption line itself or as its first derivative `dS/dx` (the usual field-modulated
//! CW-EPR spectrum), scaled and offset:
//!
//! ```text
//! f(B) = a · S(B − c; w) + b          (absorption)
//! f(B) = a · dS/dx(B − c; w) + b      (first derivative)
//! ```
//!
//! Parameters, in this order (see [`Param`]): centre `c` (G), peak-to-peak width `w` (G),
//! amplitude `a` (the area of the absorption line: intensity units × G, in both forms, so that
//! `a` is the double integral of a derivative spectrum), baseline offset `b` (intensity units)
//! and, for the pseudo-Voigt only, the Lorentzian fraction `η` in `[0, 1]`.
//!
//! The width is the **peak-to-peak width** `ΔB_pp` of the first-derivative line (the distance
//! between its maximum and minimum, equivalently between the inflection points of the
//! absorption line), the width EPR oximetry calibrations are quoted in. Conversions:
//!
//! * Lorentzian: half width at half maximum `γ = (√3/2)·w`, full width `FWHM = √3·w ≈ 1.732·w`;
//! * Gaussian: standard deviation `σ = w/2`, `HWHM = √(2 ln 2)·σ ≈ 0.5887·w`,
//!   `FWHM ≈ 1.1774·w`;
//! * pseudo-Voigt: `S = η·L(x; w) + (1 − η)·G(x; w)`, a Lorentzian and a Gaussian of the
//!   **same peak-to-peak width** `w` (both derivatives have their extrema at `x = ±w/2`, so the
//!   mixture's derivative does too: its peak-to-peak width is exactly `w` for every `η`). This is
//!   an empirical line shape, not the Voigt convolution; fitted to a true Voigt profile (the
//!   convolution of a Lorentzian and a Gaussian of equal peak-to-peak widths, computed by
//!   quadrature), it leaves a largest residual of 0.4 % of the spectrum's peak-to-peak in
//!   either form, and its `w` overestimates the Voigt's `ΔB_pp` by 2.7 % when fitted to the
//!   absorption, by 0.5 % when fitted to the first derivative (test
//!   `oximetry::fit::tests::pseudo_voigt_follows_a_true_voigt`, which bounds them at 1 % and
//!   3 %). For absolute widths of near-Voigt lines, prefer the derivative form.

use std::f64::consts::PI;

/// The line profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// `L(x) = γ / (π (x² + γ²))`, `γ = (√3/2)·w`: lifetime (homogeneous) broadening, the
    /// profile of oxygen-broadened trityl, LiPc and India ink lines.
    Lorentzian,
    /// `G(x) = exp(−x²/(2σ²)) / (σ√(2π))`, `σ = w/2`: inhomogeneous broadening.
    Gaussian,
    /// `η·L + (1 − η)·G` with both of peak-to-peak width `w`, `η` fitted in `[0, 1]`.
    PseudoVoigt,
}

/// Absorption line or its first derivative along the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// The absorption line `S(x)`.
    Absorption,
    /// The first derivative `dS/dx` (positive lobe at low field for a positive amplitude).
    Derivative,
}

/// One fitted parameter, in the order of the parameter vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param {
    /// Line centre `c`, G.
    Center = 0,
    /// Peak-to-peak width `w` of the first-derivative line, G.
    Width = 1,
    /// Area `a` of the absorption line (intensity units × G).
    Amplitude = 2,
    /// Baseline offset `b` (intensity units).
    Offset = 3,
    /// Lorentzian fraction `η` of the pseudo-Voigt, in `[0, 1]`.
    LorentzFraction = 4,
}

impl Param {
    /// Every parameter, in vector order.
    pub const ALL: [Param; 5] = [
        Param::Center,
        Param::Width,
        Param::Amplitude,
        Param::Offset,
        Param::LorentzFraction,
    ];

    /// Its index in a parameter vector.
    pub fn index(self) -> usize {
        self as usize
    }

    /// A short lower-case name (`center`, `width`, `amplitude`, `offset`, `eta`).
    pub fn name(self) -> &'static str {
        match self {
            Param::Center => "center",
            Param::Width => "width",
            Param::Amplitude => "amplitude",
            Param::Offset => "offset",
            Param::LorentzFraction => "eta",
        }
    }
}

/// A line-shape model: a profile in a form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineModel {
    /// The profile.
    pub profile: Profile,
    /// Absorption or first derivative.
    pub form: Form,
}

/// `√3/2`: Lorentzian half width at half maximum per unit of peak-to-peak width.
const LORENTZ_HWHM_PER_PP: f64 = 0.866_025_403_784_438_6;

/// A unit-area profile (or its derivative) at one point, with its partial derivatives with
/// respect to `x` and to the peak-to-peak width `w`.
#[derive(Clone, Copy, Debug, Default)]
struct Sample {
    v: f64,
    dx: f64,
    dw: f64,
}

// Both profiles divide once per sample at most (reciprocals, then products): the width-only
// factors are the same for every sample of a spectrum and are hoisted by the compiler.

fn lorentzian(x: f64, w: f64, form: Form) -> Sample {
    let g = LORENTZ_HWHM_PER_PP * w;
    let r = 1.0 / (x * x + g * g);
    let r2 = r * r / PI;
    match form {
        Form::Absorption => Sample {
            v: g * r / PI,
            dx: -2.0 * x * g * r2,
            dw: LORENTZ_HWHM_PER_PP * (x * x - g * g) * r2,
        },
        Form::Derivative => {
            let r3 = r2 * r;
            Sample {
                v: -2.0 * x * g * r2,
                dx: 2.0 * g * (3.0 * x * x - g * g) * r3,
                dw: LORENTZ_HWHM_PER_PP * (-2.0 * x * (x * x - 3.0 * g * g)) * r3,
            }
        }
    }
}

fn gaussian(x: f64, w: f64, form: Form) -> Sample {
    // σ = w/2.
    let inv_s = 2.0 / w;
    let inv_s2 = inv_s * inv_s;
    let u = x * x * inv_s2;
    let g = (-0.5 * u).exp() * inv_s * (0.5 / PI).sqrt();
    match form {
        Form::Absorption => Sample {
            v: g,
            dx: -x * g * inv_s2,
            dw: 0.5 * g * (u - 1.0) * inv_s,
        },
        Form::Derivative => Sample {
            v: -x * g * inv_s2,
            dx: g * (u - 1.0) * inv_s2,
            dw: -0.5 * x * g * (u - 3.0) * inv_s2 * inv_s,
        },
    }
}

impl LineModel {
    /// A model.
    pub fn new(profile: Profile, form: Form) -> Self {
        LineModel { profile, form }
    }

    /// The number of parameters: 4 (centre, width, amplitude, offset), 5 for the pseudo-Voigt
    /// (and its Lorentzian fraction).
    pub fn n_params(&self) -> usize {
        match self.profile {
            Profile::PseudoVoigt => 5,
            _ => 4,
        }
    }

    /// The parameters of this model, in vector order.
    pub fn params(&self) -> &'static [Param] {
        &Param::ALL[..self.n_params()]
    }

    /// The profile's value, `d/dx`, `d/dw` and (pseudo-Voigt) `d/dη` at `x` (G from the
    /// centre) for width `w` (G) and Lorentzian fraction `eta` (ignored by the pure profiles).
    fn unit(&self, x: f64, w: f64, eta: f64) -> (Sample, f64) {
        match self.profile {
            Profile::Lorentzian => (lorentzian(x, w, self.form), 0.0),
            Profile::Gaussian => (gaussian(x, w, self.form), 0.0),
            Profile::PseudoVoigt => {
                let l = lorentzian(x, w, self.form);
                let g = gaussian(x, w, self.form);
                let mix = |a: f64, b: f64| eta * a + (1.0 - eta) * b;
                let s = Sample {
                    v: mix(l.v, g.v),
                    dx: mix(l.dx, g.dx),
                    dw: mix(l.dw, g.dw),
                };
                (s, l.v - g.v)
            }
        }
    }

    /// The unit-area line (amplitude 1, offset 0) at `x` G from its centre, for width `w` (G)
    /// and Lorentzian fraction `eta` (used by the pseudo-Voigt only).
    pub fn unit_value(&self, x: f64, w: f64, eta: f64) -> f64 {
        self.unit(x, w, eta).0.v
    }

    /// The model `f(B)` for the parameter vector `p` (length [`n_params`](Self::n_params)).
    pub fn value(&self, b: f64, p: &[f64]) -> f64 {
        let eta = p
            .get(Param::LorentzFraction.index())
            .copied()
            .unwrap_or(1.0);
        p[2] * self.unit_value(b - p[0], p[1], eta) + p[3]
    }

    /// The model on a field grid and its Jacobian: `f[k] = f(field[k])` and
    /// `jac[i][k] = ∂f(field[k])/∂p_i` for the parameter vector `p` (length
    /// [`n_params`](Self::n_params)); `field`, `f` and every column have the same length, and
    /// the columns beyond `n_params` are filled with zeros. One loop per profile and form, so
    /// that the compiler can vectorise the Lorentzian's.
    pub fn evaluate(&self, field: &[f64], p: &[f64], f: &mut [f64], jac: &mut [Vec<f64>; 5]) {
        let w = p[1];
        let eta = p
            .get(Param::LorentzFraction.index())
            .copied()
            .unwrap_or(1.0);
        let form = self.form;
        match (self.profile, form) {
            (Profile::Lorentzian, Form::Absorption) => fill(field, p, f, jac, |x| {
                (lorentzian(x, w, Form::Absorption), 0.0)
            }),
            (Profile::Lorentzian, Form::Derivative) => fill(field, p, f, jac, |x| {
                (lorentzian(x, w, Form::Derivative), 0.0)
            }),
            (Profile::Gaussian, Form::Absorption) => fill(field, p, f, jac, |x| {
                (gaussian(x, w, Form::Absorption), 0.0)
            }),
            (Profile::Gaussian, Form::Derivative) => fill(field, p, f, jac, |x| {
                (gaussian(x, w, Form::Derivative), 0.0)
            }),
            (Profile::PseudoVoigt, _) => fill(field, p, f, jac, |x| self.unit(x, w, eta)),
        }
    }

    /// The full width at half maximum of the absorption line per unit of peak-to-peak width,
    /// for Lorentzian fraction `eta` (√3 for the Lorentzian, √(2 ln 2) for the Gaussian; found
    /// by bisection for the pseudo-Voigt).
    pub fn fwhm_per_width(&self, eta: f64) -> f64 {
        let absorption = LineModel::new(self.profile, Form::Absorption);
        let half = 0.5 * absorption.unit_value(0.0, 1.0, eta);
        // The absorption line decreases on x > 0: bisect S(x) = S(0)/2 on [0, 4] (beyond the
        // Lorentzian's half point √3/2 and the Gaussian's 0.589).
        let (mut lo, mut hi) = (0.0f64, 4.0f64);
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if absorption.unit_value(mid, 1.0, eta) > half {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo + hi
    }
}

/// The loop of [`LineModel::evaluate`] for one profile and form: `unit(x)` gives the unit
/// line at `x` G from the centre with its derivatives (and `d/dη`).
#[inline(always)]
fn fill(
    field: &[f64],
    p: &[f64],
    f: &mut [f64],
    jac: &mut [Vec<f64>; 5],
    unit: impl Fn(f64) -> (Sample, f64),
) {
    let (c, a, b) = (p[0], p[2], p[3]);
    let n = field.len();
    let [jc, jw, ja, jb, je] = jac;
    let (f, jc, jw, ja, jb, je) = (
        &mut f[..n],
        &mut jc[..n],
        &mut jw[..n],
        &mut ja[..n],
        &mut jb[..n],
        &mut je[..n],
    );
    for k in 0..n {
        let (s, d_eta) = unit(field[k] - c);
        f[k] = a * s.v + b;
        jc[k] = -a * s.dx;
        jw[k] = a * s.dw;
        ja[k] = s.v;
        jb[k] = 1.0;
        je[k] = a * d_eta;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODELS: [LineModel; 6] = [
        LineModel {
            profile: Profile::Lorentzian,
            form: Form::Absorption,
        },
        LineModel {
            profile: Profile::Lorentzian,
            form: Form::Derivative,
        },
        LineModel {
            profile: Profile::Gaussian,
            form: Form::Absorption,
        },
        LineModel {
            profile: Profile::Gaussian,
            form: Form::Derivative,
        },
        LineModel {
            profile: Profile::PseudoVoigt,
            form: Form::Absorption,
        },
        LineModel {
            profile: Profile::PseudoVoigt,
            form: Form::Derivative,
        },
    ];

    #[test]
    fn jacobians_match_finite_differences() {
        let p5 = [0.3, 1.7, 2.5, 0.1, 0.35];
        let field = [-6.0, -2.1, -0.9, -0.2, 0.31, 0.8, 1.5, 4.0];
        let n = field.len();
        for m in MODELS {
            let p = &p5[..m.n_params()];
            let mut f = vec![0.0; n];
            let mut jac: [Vec<f64>; 5] = std::array::from_fn(|_| vec![f64::NAN; n]);
            m.evaluate(&field, p, &mut f, &mut jac);
            for (k, &b) in field.iter().enumerate() {
                assert!((f[k] - m.value(b, p)).abs() <= 1e-15 * f[k].abs().max(1.0));
                let scale = (0..p.len()).fold(1e-3f64, |s, i| s.max(jac[i][k].abs()));
                for i in 0..p.len() {
                    let h = 1e-6 * p[i].abs().max(1.0);
                    let (mut up, mut down) = (p.to_vec(), p.to_vec());
                    up[i] += h;
                    down[i] -= h;
                    let fd = (m.value(b, &up) - m.value(b, &down)) / (2.0 * h);
                    assert!(
                        (fd - jac[i][k]).abs() <= 1e-7 * scale,
                        "{m:?} B={b} d/d{}: analytic {} vs finite difference {fd}",
                        Param::ALL[i].name(),
                        jac[i][k]
                    );
                }
                for column in &jac[p.len()..] {
                    assert_eq!(column[k], 0.0, "{m:?}: a column beyond the parameters");
                }
            }
        }
    }

    #[test]
    fn width_is_the_derivative_peak_to_peak_and_area_is_one() {
        for m in MODELS.iter().filter(|m| m.form == Form::Derivative) {
            let w = 0.8;
            // The derivative line's extrema lie at ±w/2: a finer scan finds them there.
            let xs: Vec<f64> = (0..=40000).map(|k| -2.0 + k as f64 * 1e-4).collect();
            let v = |x: f64| m.unit_value(x, w, 0.4);
            let xmax = xs
                .iter()
                .copied()
                .max_by(|a, b| v(*a).total_cmp(&v(*b)))
                .unwrap();
            let xmin = xs
                .iter()
                .copied()
                .min_by(|a, b| v(*a).total_cmp(&v(*b)))
                .unwrap();
            assert!(
                (xmax + w / 2.0).abs() < 2e-4 && (xmin - w / 2.0).abs() < 2e-4,
                "{m:?}"
            );
        }
        for profile in [Profile::Lorentzian, Profile::Gaussian, Profile::PseudoVoigt] {
            let m = LineModel::new(profile, Form::Absorption);
            // Area of the absorption line over ±2000 w (the Lorentzian tails beyond hold
            // 2γ/(π·2000w) ≈ 3e-4 of it).
            let (w, h) = (1.0, 1e-3);
            let area: f64 = (-2_000_000..=2_000_000)
                .map(|k| m.unit_value(k as f64 * h, w, 0.4) * h)
                .sum();
            assert!((area - 1.0).abs() < 5e-4, "{profile:?}: area {area}");
        }
    }

    #[test]
    fn half_widths_follow_the_stated_conversions() {
        let l = LineModel::new(Profile::Lorentzian, Form::Derivative);
        let g = LineModel::new(Profile::Gaussian, Form::Absorption);
        assert!((l.fwhm_per_width(1.0) - 3f64.sqrt()).abs() < 1e-12);
        assert!((g.fwhm_per_width(0.0) - (2.0 * 2f64.ln()).sqrt()).abs() < 1e-12);
        let pv = LineModel::new(Profile::PseudoVoigt, Form::Absorption);
        let r = pv.fwhm_per_width(0.5);
        assert!(r > (2.0 * 2f64.ln()).sqrt() && r < 3f64.sqrt(), "{r}");
    }
}
