//! The `--lambda-report` figure: the residual (and SURE) of every λ tried against λ on a
//! logarithmic axis, with the chosen λ marked.

use super::canvas::{Canvas, Rgb, BLACK, WHITE};
use super::figure::fmt_value;
use super::font::{text_height, text_width};
use crate::error::{Error, Result};
use epri_ops::recon::{LambdaRule, LambdaTrial};
use std::path::Path;

const W: usize = 720;
const H: usize = 480;
/// Plot area margins: left, right, top, bottom.
const MARGIN: (usize, usize, usize, usize) = (90, 30, 50, 60);
const FS: usize = 2;
const GREY: Rgb = [200, 200, 200];
const BLUE: Rgb = [31, 119, 180];
const ORANGE: Rgb = [255, 127, 14];
const RED: Rgb = [214, 39, 40];

/// A data-to-pixel map of one axis.
struct Axis {
    lo: f64,
    hi: f64,
    /// Pixel of `lo` and of `hi`.
    from: f64,
    to: f64,
}

impl Axis {
    fn px(&self, v: f64) -> f64 {
        self.from + (v - self.lo) / (self.hi - self.lo) * (self.to - self.from)
    }
}

/// A segment drawn by sampling (the figures need no anti-aliasing).
pub(super) fn line(cv: &mut Canvas, (x0, y0): (f64, f64), (x1, y1): (f64, f64), c: Rgb) {
    let n = (x1 - x0).abs().max((y1 - y0).abs()).ceil().max(1.0) as usize;
    for k in 0..=n {
        let t = k as f64 / n as f64;
        let (x, y) = (x0 + t * (x1 - x0), y0 + t * (y1 - y0));
        if x >= 0.0 && y >= 0.0 {
            cv.fill_rect(x as usize, y as usize, 2, 2, c);
        }
    }
}

/// The curve of `trials` sorted by λ, one series per value.
fn series(trials: &[LambdaTrial], value: impl Fn(&LambdaTrial) -> Option<f64>) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = trials
        .iter()
        .filter_map(|t| value(t).map(|v| (t.lambda.log10(), v)))
        .filter(|(x, v)| x.is_finite() && v.is_finite())
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    pts
}

/// Draws the residual `‖A u_λ − s‖² / (m σ²)` (and SURE, for the SURE rule) of `trials`
/// against λ, with the chosen λ as a vertical line, and writes the PNG atomically.
pub fn write_lambda_report(
    path: &Path,
    trials: &[LambdaTrial],
    chosen: f64,
    rule: LambdaRule,
    label: &str,
) -> Result<()> {
    let residual = series(trials, |t| Some(t.residual));
    let sure = series(trials, |t| t.sure);
    if residual.is_empty() || !(chosen > 0.0 && chosen.is_finite()) {
        return Err(Error::data("no λ trial to draw"));
    }
    let all = residual.iter().chain(&sure);
    let (mut xlo, mut xhi) = all
        .clone()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.0), b.max(p.0))
        });
    xlo = xlo.min(chosen.log10()).floor();
    xhi = xhi.max(chosen.log10()).ceil().max(xlo + 1.0);
    let (mut ylo, mut yhi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
        (a.min(p.1), b.max(p.1))
    });
    ylo = ylo.min(0.0);
    yhi = yhi.max(1.0);
    let pad = 0.05 * (yhi - ylo);
    let (ml, mr, mt, mb) = MARGIN;
    let xa = Axis {
        lo: xlo,
        hi: xhi,
        from: ml as f64,
        to: (W - mr) as f64,
    };
    let ya = Axis {
        lo: ylo - pad,
        hi: yhi + pad,
        from: (H - mb) as f64,
        to: mt as f64,
    };
    let mut cv = Canvas::new(W, H, WHITE);
    // Frame, decade ticks and a grid.
    for d in (xlo as i64)..=(xhi as i64) {
        let x = xa.px(d as f64);
        line(&mut cv, (x, mt as f64), (x, (H - mb) as f64), GREY);
        let lab = if (-2..=3).contains(&d) {
            fmt_value(10f64.powi(d as i32))
        } else {
            format!("1e{d}")
        };
        cv.text(
            (x as usize).saturating_sub(text_width(&lab, FS) / 2),
            H - mb + 8,
            &lab,
            FS,
            BLACK,
        );
    }
    let ystep = nice_step((ya.hi - ya.lo) / 5.0);
    let mut v = (ya.lo / ystep).ceil() * ystep;
    while v <= ya.hi {
        let y = ya.px(v);
        line(&mut cv, (ml as f64, y), ((W - mr) as f64, y), GREY);
        let lab = fmt_value(v);
        cv.text(
            ml.saturating_sub(text_width(&lab, FS) + 8),
            (y as usize).saturating_sub(text_height(FS) / 2),
            &lab,
            FS,
            BLACK,
        );
        v += ystep;
    }
    cv.frame(ml, mt, W - ml - mr, H - mt - mb, BLACK);
    // The noise level: residual = m σ².
    let y1 = ya.px(1.0);
    line(&mut cv, (ml as f64, y1), ((W - mr) as f64, y1), BLACK);
    // Chosen λ.
    let xc = xa.px(chosen.log10());
    line(&mut cv, (xc, mt as f64), (xc, (H - mb) as f64), RED);
    for (pts, colour) in [(&residual, BLUE), (&sure, ORANGE)] {
        for w in pts.windows(2) {
            line(
                &mut cv,
                (xa.px(w[0].0), ya.px(w[0].1)),
                (xa.px(w[1].0), ya.px(w[1].1)),
                colour,
            );
        }
        for p in pts.iter() {
            let (x, y) = (xa.px(p.0) as usize, ya.px(p.1) as usize);
            cv.fill_rect(x.saturating_sub(3), y.saturating_sub(3), 7, 7, colour);
        }
    }
    let rule_name = match rule {
        LambdaRule::Sure => "SURE",
        LambdaRule::Discrepancy => "discrepancy",
    };
    let title = format!("{label}: λ = {} ({rule_name})", fmt_value(chosen));
    cv.text(ml, 12, &title, FS, BLACK);
    let legend = [
        ("residual / (m σ²)", BLUE),
        ("SURE / (m σ²)", ORANGE),
        ("chosen λ", RED),
    ];
    let mut x = ml;
    for (name, colour) in legend {
        if name.starts_with("SURE") && sure.is_empty() {
            continue;
        }
        cv.fill_rect(x, H - 24, 14, 8, colour);
        cv.text(x + 20, H - 27, name, FS, BLACK);
        x += 40 + text_width(name, FS);
    }
    cv.text(W - mr - text_width("λ", FS), H - 27, "λ", FS, BLACK);
    cv.write_png(path)
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
pub(super) fn nice_step(raw: f64) -> f64 {
    let e = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * e)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * e)
}
