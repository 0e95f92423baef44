//! The figure of a spectral-spatial image `(Nb, Ny, Nx, Nz)`: the integrated intensity of each
//! voxel as central slices and maximum-intensity projections, with a few voxels outlined, and
//! below it the spectra of those voxels against B.

use super::canvas::{Canvas, Rgb, BLACK, WHITE};
use super::curve::{line, nice_step, Axis as PlotAxis};
use super::figure::{fmt_value, marked_image_figure, VoxelMark};
use super::font::{text_height, text_width};
use crate::error::{Error, Result};
use ndarray::{Array3, ArrayView3, ArrayView4, ArrayViewD, Axis, Ix4};
use std::path::Path;

/// How many voxels the figure picks at most.
const VOXELS: usize = 3;
/// Their colours (red, orange, pink), outlined in white on the maps.
const COLOURS: [Rgb; VOXELS] = [[214, 39, 40], [255, 127, 14], [227, 119, 194]];
const FS: usize = 2;
const GREY: Rgb = [200, 200, 200];
/// Height of the spectra plot, px.
const PLOT_H: usize = 340;
/// Plot area margins: right, top (title and one legend line per voxel), bottom (the left one
/// fits the value labels).
const MARGIN: (usize, usize, usize) = (30, 40 + 22 * VOXELS, 64);

/// The integrated intensity of each voxel of `u` `(Nb, Ny, Nx, Nz)`, shape `(Ny, Nx, Nz)`:
/// the sum of its spectrum times the field step `db` (G) for absorption profiles, else the
/// double integral of its first-derivative spectrum (sum of the running sum, times `db²`).
pub fn integrated_intensity(u: ArrayView4<'_, f64>, db: f64, absorption: bool) -> Array3<f64> {
    if absorption {
        return u.sum_axis(Axis(0)) * db;
    }
    let mut running = u.index_axis(Axis(0), 0).to_owned() * db;
    let mut total = running.clone();
    for l in 1..u.shape()[0] {
        running.scaled_add(db, &u.index_axis(Axis(0), l));
        total += &running;
    }
    total * db
}

/// Up to [`VOXELS`] voxels of `intensity` `(Ny, Nx, Nz)` to show the spectra of: the
/// brightest, then each time the brightest voxel at least a quarter of the longest axis away
/// from those already picked (so that they show different regions).
pub fn pick_voxels(intensity: ArrayView3<'_, f64>) -> Vec<[usize; 3]> {
    let gap = (intensity.shape().iter().copied().max().unwrap_or(1) as f64 / 4.0).max(1.0);
    let mut picked: Vec<[usize; 3]> = Vec::new();
    while picked.len() < VOXELS {
        let far = |(i, j, k): (usize, usize, usize)| {
            picked.iter().all(|p| {
                let d2 = [i, j, k]
                    .iter()
                    .zip(p)
                    .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
                    .sum::<f64>();
                d2 >= gap * gap
            })
        };
        let best = intensity
            .indexed_iter()
            .filter(|&(ix, v)| v.is_finite() && far(ix))
            .max_by(|a, b| a.1.total_cmp(b.1));
        match best {
            Some(((i, j, k), _)) => picked.push([i, j, k]),
            None => break,
        }
    }
    picked
}

/// The figure of a spectral-spatial image `u` `(Nb, Ny, Nx, Nz)` on the field grid `b` (G,
/// `Nb` values), voxels of `delta` cm: the integrated intensity (see
/// [`integrated_intensity`]) as central slices and maximum-intensity projections with the
/// voxels of [`pick_voxels`] outlined, and their spectra below.
pub fn spectral_figure(
    u: ArrayViewD<'_, f64>,
    b: &[f64],
    absorption: bool,
    delta: f64,
    title: &str,
) -> Result<Canvas> {
    let ndim = u.ndim();
    let u = u.into_dimensionality::<Ix4>().map_err(|_| {
        Error::data(format!(
            "cannot draw a {ndim}-D array as a spectral-spatial image (NB, NY, NX, NZ)"
        ))
    })?;
    if b.len() != u.shape()[0] || b.len() < 2 {
        return Err(Error::data(format!(
            "the field grid has {} values for a spectral axis of {}",
            b.len(),
            u.shape()[0]
        )));
    }
    if u.iter().any(|v| !v.is_finite()) {
        return Err(Error::data("the image holds NaN or infinite values"));
    }
    let intensity = integrated_intensity(u.view(), b[1] - b[0], absorption);
    let voxels = pick_voxels(intensity.view());
    let marks: Vec<VoxelMark> = voxels
        .iter()
        .zip(COLOURS)
        .map(|(v, colour)| VoxelMark {
            index: v.to_vec(),
            colour,
        })
        .collect();
    let maps = marked_image_figure(intensity.view().into_dyn(), delta, title, &marks)?;
    let curves: Vec<(Vec<f64>, Rgb, String)> = voxels
        .iter()
        .zip(COLOURS)
        .map(|(&[i, j, k], colour)| {
            let (ny, nx, nz) = intensity.dim();
            let at = |n: usize, m: usize| fmt_value((n as f64 - (m / 2) as f64) * delta);
            let label = format!(
                "(y, x, z) = ({}, {}, {}) cm, integrated intensity {}",
                at(i, ny),
                at(j, nx),
                at(k, nz),
                fmt_value(intensity[[i, j, k]])
            );
            (u.slice(ndarray::s![.., i, j, k]).to_vec(), colour, label)
        })
        .collect();
    let plot = spectra_plot(b, &curves, maps.width().max(640));
    let mut cv = Canvas::new(
        maps.width().max(plot.width()),
        maps.height() + plot.height(),
        WHITE,
    );
    cv.paste(&maps, 0, 0);
    cv.paste(&plot, 0, maps.height());
    Ok(cv)
}

/// Draws the figure of [`spectral_figure`] into a PNG file.
pub fn write_spectral_png(
    path: &Path,
    u: ArrayViewD<'_, f64>,
    b: &[f64],
    absorption: bool,
    delta: f64,
    title: &str,
) -> Result<()> {
    spectral_figure(u, b, absorption, delta, title)?.write_png(path)
}

/// A plot `width` px wide of `curves` (values on `b`, colour, legend) against B, G.
fn spectra_plot(b: &[f64], curves: &[(Vec<f64>, Rgb, String)], width: usize) -> Canvas {
    let (mr, mt, mb) = MARGIN;
    let (w, h) = (width, PLOT_H);
    let mut cv = Canvas::new(w, h, WHITE);
    let (mut ylo, mut yhi) = curves
        .iter()
        .flat_map(|c| c.0.iter().copied())
        .fold((0.0f64, 0.0f64), |(a, z), v| (a.min(v), z.max(v)));
    if yhi <= ylo {
        (ylo, yhi) = (-1.0, 1.0);
    }
    let pad = 0.05 * (yhi - ylo);
    let (vlo, vhi) = (ylo - pad, yhi + pad);
    let ystep = nice_step((vhi - vlo) / 5.0);
    let yticks: Vec<(f64, String)> = (((vlo / ystep).ceil() as i64)
        ..=((vhi / ystep).floor() as i64))
        .map(|n| n as f64 * ystep)
        .map(|v| (v, fmt_value(v)))
        .collect();
    let ml = 24
        + yticks
            .iter()
            .map(|(_, l)| text_width(l, FS))
            .max()
            .unwrap_or(0);
    let xa = PlotAxis {
        lo: b[0],
        hi: b[b.len() - 1],
        from: ml as f64,
        to: (w - mr) as f64,
    };
    let ya = PlotAxis {
        lo: vlo,
        hi: vhi,
        from: (h - mb) as f64,
        to: mt as f64,
    };
    let (top, bottom) = (mt as f64, (h - mb) as f64);
    let xstep = nice_step((xa.hi - xa.lo) / 6.0);
    let mut v = (xa.lo / xstep).ceil() * xstep;
    while v <= xa.hi {
        let x = xa.px(v);
        line(&mut cv, (x, top), (x, bottom), GREY);
        let lab = fmt_value(v);
        let lx = (x as usize).saturating_sub(text_width(&lab, FS) / 2);
        cv.text(lx, h - mb + 8, &lab, FS, BLACK);
        v += xstep;
    }
    for (v, lab) in &yticks {
        let y = ya.px(*v);
        line(&mut cv, (ml as f64, y), ((w - mr) as f64, y), GREY);
        let (lx, ly) = (
            ml.saturating_sub(text_width(lab, FS) + 8),
            (y as usize).saturating_sub(text_height(FS) / 2),
        );
        cv.text(lx, ly, lab, FS, BLACK);
    }
    cv.frame(ml, mt, w - ml - mr, h - mt - mb, BLACK);
    let y0 = ya.px(0.0);
    line(&mut cv, (ml as f64, y0), ((w - mr) as f64, y0), BLACK);
    for (values, colour, _) in curves {
        for (l, pair) in values.windows(2).enumerate() {
            let p0 = (xa.px(b[l]), ya.px(pair[0]));
            let p1 = (xa.px(b[l + 1]), ya.px(pair[1]));
            line(&mut cv, p0, p1, *colour);
        }
    }
    cv.text(ml, 10, "spectra of the outlined voxels", FS, BLACK);
    for (n, (_, colour, label)) in curves.iter().enumerate() {
        let y = 36 + 22 * n;
        cv.fill_rect(ml, y + 3, 14, 8, *colour);
        cv.text(ml + 20, y, label, FS, BLACK);
    }
    let lx = (ml + (w - ml - mr) / 2).saturating_sub(text_width("B (G)", FS) / 2);
    cv.text(lx, h - 26, "B (G)", FS, BLACK);
    cv
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array4};

    /// A derivative-of-Lorentzian line centred at `c`, peak-to-peak width about `w`.
    fn dlorentz(b: f64, c: f64, w: f64) -> f64 {
        let x = (b - c) / w;
        -2.0 * x / (1.0 + x * x).powi(2)
    }

    #[test]
    fn intensity_integrates_the_lines_and_the_brightest_voxel_comes_first() {
        // Nb = 64 over 63 G; voxel (1, 2, 0) holds the line at amplitude 3, voxel (3, 0, 3)
        // at amplitude 1, the rest nothing.
        let b = Array1::from_shape_fn(64, |l| 3400.0 + l as f64);
        let mut u = Array4::<f64>::zeros((64, 4, 4, 4));
        for l in 0..64 {
            u[[l, 1, 2, 0]] = 3.0 * dlorentz(b[l], 3431.5, 2.0);
            u[[l, 3, 0, 3]] = dlorentz(b[l], 3431.5, 2.0);
        }
        let i = integrated_intensity(u.view(), 1.0, false);
        assert!(i[[1, 2, 0]] > 0.0);
        assert!((i[[1, 2, 0]] / i[[3, 0, 3]] - 3.0).abs() < 1e-12);
        assert_eq!(i[[0, 0, 0]], 0.0);
        let picked = pick_voxels(i.view());
        assert_eq!(picked[0], [1, 2, 0]);
        assert_eq!(picked[1], [3, 0, 3]);
        assert_eq!(picked.len(), 3);
        // Absorption profiles: the plain sum.
        let a = integrated_intensity(u.mapv(f64::abs).view(), 0.5, true);
        let want: f64 = u
            .slice(ndarray::s![.., 1, 2, 0])
            .iter()
            .map(|v| v.abs())
            .sum();
        assert!((a[[1, 2, 0]] - 0.5 * want).abs() < 1e-12);
        // The picks are far apart: a quarter of the longest axis (1 voxel here) at least.
        assert!(picked[2] != picked[0] && picked[2] != picked[1]);
    }

    #[test]
    fn the_figure_draws_the_maps_the_outlines_and_the_spectra() {
        let b: Vec<f64> = (0..32).map(|l| 3400.0 + 0.5 * l as f64).collect();
        let u = Array4::from_shape_fn((32, 6, 5, 4), |(l, i, j, k)| {
            (1.0 + (i + j + k) as f64) * dlorentz(b[l], 3407.75, 1.5)
        });
        let cv = spectral_figure(u.view().into_dyn(), &b, false, 0.1, "t").unwrap();
        let count = |c: Rgb| {
            (0..cv.height())
                .flat_map(|y| (0..cv.width()).map(move |x| (x, y)))
                .filter(|&(x, y)| cv.get(x, y) == c)
                .count()
        };
        // The three outlines (maps) and the three curves (plot) in their colours.
        for c in COLOURS {
            assert!(count(c) > 100, "{c:?}: {}", count(c));
        }
        let wrong = spectral_figure(u.view().into_dyn(), &b[1..], false, 0.1, "t");
        assert!(wrong.is_err());
        let three_d = Array3::<f64>::zeros((2, 2, 2));
        assert!(spectral_figure(three_d.view().into_dyn(), &b[..2], false, 0.1, "t").is_err());
    }
}
