//! Line plots: a row of panels, each with curves over one x axis (spectra against the field
//! B, say), linear axes with ticks, a caption per panel and one legend for the figure.

use super::canvas::{Canvas, Rgb, BLACK, WHITE};
use super::curve::{line, nice_step};
use super::figure::fmt_value;
use super::font::{text_height, text_width};
use crate::error::{Error, Result};
use std::path::Path;

/// Panel size and margins (left, right, top, bottom), px.
const PANEL: (usize, usize) = (380, 280);
const MARGIN: (usize, usize, usize, usize) = (80, 20, 40, 50);
const FS: usize = 2;
const GREY: Rgb = [215, 215, 215];

/// One curve: `y[i]` at the panel's `x[i]`.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend label (the same label names the same series in every panel).
    pub label: String,
    /// Colour.
    pub colour: Rgb,
    /// Values, the length of the panel's `x`.
    pub y: Vec<f64>,
}

/// One panel: curves over `x`.
#[derive(Clone, Debug)]
pub struct CurvePanel {
    /// Caption above the panel.
    pub caption: String,
    /// Abscissae, increasing.
    pub x: Vec<f64>,
    /// The curves.
    pub series: Vec<Series>,
}

/// Ticks `k·step` inside `[lo, hi]`, about five.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let step = nice_step((hi - lo) / 5.0);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// Draws `panels` side by side under `title`, the x axes named `x_label`, with a legend of
/// the series' labels, and writes the PNG atomically.
///
/// Errors: no panel, a series whose length differs from its panel's `x`, or a non-finite
/// value.
pub fn write_curves_png(
    path: &Path,
    title: &str,
    x_label: &str,
    panels: &[CurvePanel],
) -> Result<()> {
    if panels.is_empty() {
        return Err(Error::data("a line plot needs at least one panel"));
    }
    for p in panels {
        if p.x.len() < 2 || p.series.iter().any(|s| s.y.len() != p.x.len()) {
            return Err(Error::data(format!(
                "line plot '{}': every series needs one value per abscissa ({})",
                p.caption,
                p.x.len()
            )));
        }
        if p.x
            .iter()
            .chain(p.series.iter().flat_map(|s| &s.y))
            .any(|v| !v.is_finite())
        {
            return Err(Error::data(format!(
                "line plot '{}': NaN or infinite values",
                p.caption
            )));
        }
    }
    let (pw, ph) = PANEL;
    let (ml, mr, mt, mb) = MARGIN;
    let cell = ml + pw + mr;
    let (width, height) = (cell * panels.len(), 40 + mt + ph + mb + 30);
    let mut cv = Canvas::new(width, height, WHITE);
    cv.text(ml, 12, title, FS, BLACK);
    let top = 40 + mt;
    for (i, p) in panels.iter().enumerate() {
        let x0 = i * cell + ml;
        let (xlo, xhi) = (p.x[0], p.x[p.x.len() - 1]);
        let (mut ylo, mut yhi) = p
            .series
            .iter()
            .flat_map(|s| &s.y)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        if ylo >= yhi {
            (ylo, yhi) = (ylo.min(0.0) - 1.0, yhi.max(0.0) + 1.0);
        }
        let pad = 0.05 * (yhi - ylo);
        let (ylo, yhi) = (ylo - pad, yhi + pad);
        let px = |x: f64| x0 as f64 + (x - xlo) / (xhi - xlo) * pw as f64;
        let py = |y: f64| (top + ph) as f64 - (y - ylo) / (yhi - ylo) * ph as f64;
        for t in ticks(xlo, xhi) {
            let x = px(t);
            line(&mut cv, (x, top as f64), (x, (top + ph) as f64), GREY);
            let lab = fmt_value(t);
            let w = text_width(&lab, FS);
            cv.text(
                (x as usize).saturating_sub(w / 2),
                top + ph + 8,
                &lab,
                FS,
                BLACK,
            );
        }
        for t in ticks(ylo, yhi) {
            let y = py(t);
            line(&mut cv, (x0 as f64, y), ((x0 + pw) as f64, y), GREY);
            let lab = fmt_value(t);
            cv.text(
                x0.saturating_sub(text_width(&lab, FS) + 6),
                (y as usize).saturating_sub(text_height(FS) / 2),
                &lab,
                FS,
                BLACK,
            );
        }
        cv.frame(x0, top, pw, ph, BLACK);
        cv.text(x0, top - 24, &p.caption, FS, BLACK);
        let xl = x0 + pw - text_width(x_label, FS);
        cv.text(xl, top + ph + 30, x_label, FS, BLACK);
        for s in &p.series {
            for k in 1..p.x.len() {
                line(
                    &mut cv,
                    (px(p.x[k - 1]), py(s.y[k - 1])),
                    (px(p.x[k]), py(s.y[k])),
                    s.colour,
                );
            }
        }
    }
    let mut x = ml;
    let mut seen: Vec<&str> = Vec::new();
    for s in panels.iter().flat_map(|p| &p.series) {
        if seen.contains(&s.label.as_str()) {
            continue;
        }
        seen.push(&s.label);
        cv.fill_rect(x, height - 22, 14, 8, s.colour);
        cv.text(x + 20, height - 25, &s.label, FS, BLACK);
        x += 40 + text_width(&s.label, FS);
    }
    cv.write_png(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_panels_and_refuses_bad_series() {
        let dir = std::env::temp_dir().join(format!("epri-plot-{}", std::process::id()));
        let png = dir.join("curves.png");
        let x: Vec<f64> = (0..50).map(|i| i as f64 * 0.1).collect();
        let panel = |y: Vec<f64>| CurvePanel {
            caption: "a panel".into(),
            x: x.clone(),
            series: vec![Series {
                label: "sine".into(),
                colour: [31, 119, 180],
                y,
            }],
        };
        let sine: Vec<f64> = x.iter().map(|v| v.sin()).collect();
        write_curves_png(&png, "title", "B (G)", &[panel(sine.clone()), panel(sine)]).unwrap();
        let bytes = std::fs::read(&png).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"));
        assert!(write_curves_png(&png, "t", "x", &[panel(vec![0.0; 3])]).is_err());
        assert!(write_curves_png(&png, "t", "x", &[panel(vec![f64::NAN; 50])]).is_err());
        assert!(write_curves_png(&png, "t", "x", &[]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
