//! Figures of reconstructed images: a 2D image, or the central slices and maximum-intensity
//! projections of a 3D volume, with axes in cm (Y up, `origin='lower'`) and a colour bar.

use super::canvas::{Canvas, Rgb, BLACK, WHITE};
use super::colormap::viridis;
use super::font::{text_height, text_width};
use crate::error::{Error, Result};
use ndarray::{s, Array2, ArrayView3, ArrayViewD, Axis, Ix2, Ix3};
use std::path::Path;

/// Font scale of every label.
const FS: usize = 2;
/// Tick length, px.
const TICK: usize = 5;
/// Gap between elements, px.
const PAD: usize = 6;
/// Width of the colour bar, px.
const BAR_W: usize = 20;
const GREY: Rgb = [90, 90, 90];
/// Colour of masked pixels.
pub const MASKED: Rgb = [175, 175, 175];
/// Half the height of digits and capitals (7 font rows), to centre labels on ticks.
const CAP_MID: usize = 7 * FS / 2;

/// One image panel: `data[(row, col)]` with row 0 drawn at the bottom; pixel `i` of an axis of
/// length `n` is centred at `(i - n/2)·delta`.
pub struct Panel {
    /// Values, shape (vertical, horizontal).
    pub data: Array2<f64>,
    /// Horizontal axis name, e.g. `x`.
    pub h_axis: &'static str,
    /// Vertical axis name, e.g. `y`.
    pub v_axis: &'static str,
    /// Caption above the panel (may be empty).
    pub caption: String,
    /// Which pixels hold values, same shape as `data` (`None`: all); the others are drawn grey
    /// and left out of the colour range.
    pub mask: Option<Array2<bool>>,
    /// Pixels `(row, col)` outlined in a colour (chosen voxels of a volume).
    pub marks: Vec<((usize, usize), Rgb)>,
}

/// A voxel to outline on a figure: its index in the image (one entry per axis) and colour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoxelMark {
    /// Index `[i, j]` of a (Y, X) image or `[i, j, k]` of a (Y, X, Z) volume.
    pub index: Vec<usize>,
    /// Outline colour.
    pub colour: Rgb,
}

/// The unit of the axes: cm (pixel size `delta`), or pixels.
#[derive(Clone, Copy, Debug)]
pub enum AxisUnit {
    /// Pixel size in cm.
    Cm(f64),
    /// Pixel indices counted from the centre (no pixel size known).
    Pixel,
}

impl AxisUnit {
    fn delta(self) -> f64 {
        match self {
            AxisUnit::Cm(d) => d,
            AxisUnit::Pixel => 1.0,
        }
    }

    fn name(self) -> &'static str {
        match self {
            AxisUnit::Cm(_) => "cm",
            AxisUnit::Pixel => "px",
        }
    }
}

/// A figure for a 2D `(Y, X)` image or a 3D `(Y, X, Z)` volume with pixel size `delta` (cm).
pub fn image_figure(u: ArrayViewD<'_, f64>, delta: f64, title: &str) -> Result<Canvas> {
    marked_image_figure(u, delta, title, &[])
}

/// The figure of [`image_figure`] with the voxels of `marks` outlined: on the 2D image, or on
/// the maximum-intensity projections of a volume and on each central slice that holds them.
pub fn marked_image_figure(
    u: ArrayViewD<'_, f64>,
    delta: f64,
    title: &str,
    marks: &[VoxelMark],
) -> Result<Canvas> {
    if let Some(m) = marks
        .iter()
        .find(|m| m.index.len() != u.ndim() || m.index.iter().zip(u.shape()).any(|(i, n)| i >= n))
    {
        return Err(Error::data(format!(
            "voxel {:?} is not in an image of shape {:?}",
            m.index,
            u.shape()
        )));
    }
    if !(delta.is_finite() && delta > 0.0) {
        return Err(Error::usage(format!(
            "pixel size must be positive, got {delta}"
        )));
    }
    if u.iter().any(|v| !v.is_finite()) {
        return Err(Error::data("the image holds NaN or infinite values"));
    }
    // PyEPRI's displays show max(u, 0): negative ripples of a reconstruction appear as 0.
    let (lo, hi) = u
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let note = if lo < 0.0 && hi > 0.0 {
        format!("negative values shown as 0 (min {})", fmt_value(lo))
    } else {
        String::new()
    };
    let shown = if note.is_empty() {
        u.to_owned()
    } else {
        u.mapv(|v| v.max(0.0))
    };
    let u = shown.view();
    match u.ndim() {
        2 => {
            let u = u.into_dimensionality::<Ix2>().expect("2-D");
            let panel = Panel {
                data: u.to_owned(),
                h_axis: "x",
                v_axis: "y",
                caption: String::new(),
                mask: None,
                marks: marks
                    .iter()
                    .map(|m| ((m.index[0], m.index[1]), m.colour))
                    .collect(),
            };
            let zoom = zoom_for(u.shape(), 520);
            let style = Style {
                axes: AxisUnit::Cm(delta),
                zoom,
                value_unit: "",
            };
            Ok(layout(title, &note, vec![vec![panel]], style))
        }
        3 => {
            let u = u.into_dimensionality::<Ix3>().expect("3-D");
            let zoom = zoom_for(u.shape(), 300);
            let style = Style {
                axes: AxisUnit::Cm(delta),
                zoom,
                value_unit: "",
            };
            Ok(layout(title, &note, volume_panels(u, delta, marks), style))
        }
        d => Err(Error::data(format!(
            "cannot draw a {d}-D array: expected a 2D (Y, X) image or a 3D (Y, X, Z) volume"
        ))),
    }
}

/// Draws the figure of [`image_figure`] into a PNG file.
pub fn write_image_png(path: &Path, u: ArrayViewD<'_, f64>, delta: f64, title: &str) -> Result<()> {
    image_figure(u, delta, title)?.write_png(path)
}

/// A figure of a parameter map, 2D `(Y, X)` or 3D `(Y, X, Z)` (its three central slices), with
/// the pixels where `mask` is false drawn grey and left out of the colour range, and the colour
/// bar's values in `unit` (e.g. `G`, `mmHg`). `mask` has the map's shape.
pub fn map_figure(
    map: ArrayViewD<'_, f64>,
    mask: ArrayViewD<'_, bool>,
    axes: AxisUnit,
    title: &str,
    unit: &str,
) -> Result<Canvas> {
    if map.shape() != mask.shape() {
        return Err(Error::data(format!(
            "the map {:?} and its mask {:?} differ in shape",
            map.shape(),
            mask.shape()
        )));
    }
    if map.iter().zip(&mask).any(|(v, &m)| m && !v.is_finite()) {
        return Err(Error::data("the map holds NaN or infinite values"));
    }
    let panel = |data: Array2<f64>,
                 mask: Array2<bool>,
                 axes: (&'static str, &'static str),
                 caption: String| Panel {
        data,
        h_axis: axes.0,
        v_axis: axes.1,
        caption,
        mask: Some(mask),
        marks: Vec::new(),
    };
    let (row, zoom) = match map.ndim() {
        2 => {
            let u = map.into_dimensionality::<Ix2>().expect("2-D");
            let m = mask.into_dimensionality::<Ix2>().expect("2-D");
            (
                vec![panel(u.to_owned(), m.to_owned(), ("x", "y"), String::new())],
                zoom_for(u.shape(), 520),
            )
        }
        3 => {
            let u = map.into_dimensionality::<Ix3>().expect("3-D");
            let m = mask.into_dimensionality::<Ix3>().expect("3-D");
            let captions = slice_captions(u.dim(), axes);
            let row = central_slices(u)
                .into_iter()
                .zip(central_slices(m))
                .zip(SLICE_AXES.into_iter().zip(captions))
                .map(|((d, m), (ax, c))| panel(d, m, ax, c))
                .collect();
            (row, zoom_for(u.shape(), 300))
        }
        d => {
            return Err(Error::data(format!(
                "cannot draw a {d}-D map: expected a 2D (Y, X) or a 3D (Y, X, Z) one"
            )))
        }
    };
    Ok(layout(
        title,
        "grey: masked voxels",
        vec![row],
        Style {
            axes,
            zoom,
            value_unit: unit,
        },
    ))
}

/// (horizontal, vertical) axis names of the z-, x- and y-views of a volume.
const SLICE_AXES: [(&str, &str); 3] = [("x", "y"), ("z", "y"), ("x", "z")];

/// The central slices of a `(Y, X, Z)` volume as (vertical, horizontal) arrays: z-view (Y, X),
/// x-view (Y, Z), y-view (Z, X).
fn central_slices<T: Clone>(u: ArrayView3<'_, T>) -> [Array2<T>; 3] {
    let (ny, nx, nz) = u.dim();
    [
        u.slice(s![.., .., nz / 2]).to_owned(),
        u.slice(s![.., nx / 2, ..]).to_owned(),
        u.slice(s![ny / 2, .., ..]).t().to_owned(),
    ]
}

/// Captions of [`central_slices`]: where each slice lies along its axis.
fn slice_captions((ny, nx, nz): (usize, usize, usize), axes: AxisUnit) -> [String; 3] {
    let pos = |n: usize| {
        let c = n / 2;
        format!("{:.2}", (c as f64 - (n / 2) as f64) * axes.delta())
    };
    let u = axes.name();
    [
        format!("slice z={} {u}", pos(nz)),
        format!("slice x={} {u}", pos(nx)),
        format!("slice y={} {u}", pos(ny)),
    ]
}

/// Integer magnification bringing the longest side near `target` px (at least 1).
fn zoom_for(shape: &[usize], target: usize) -> usize {
    let longest = shape.iter().copied().max().unwrap_or(1).max(1);
    (target / longest).max(1)
}

/// Central slices (top row) and maximum-intensity projections (bottom row) of a `(Y, X, Z)`
/// volume, with the voxels of `marks` outlined on the projections and on the slices that hold
/// them.
fn volume_panels(u: ArrayView3<'_, f64>, delta: f64, marks: &[VoxelMark]) -> Vec<Vec<Panel>> {
    let (ny, nx, nz) = u.dim();
    let mip = |axis: usize| u.fold_axis(Axis(axis), f64::NEG_INFINITY, |a, &b| a.max(b));
    // Per view (z, x, y): the voxel's (row, col) in the panel, and whether the central slice
    // holds it.
    let view = |v: usize, m: &VoxelMark| {
        let [i, j, k] = [m.index[0], m.index[1], m.index[2]];
        [
            ((i, j), k == nz / 2),
            ((i, k), j == nx / 2),
            ((k, j), i == ny / 2),
        ][v]
    };
    let row = |arrays: [Array2<f64>; 3], captions: [String; 3], slices: bool| -> Vec<Panel> {
        arrays
            .into_iter()
            .zip(SLICE_AXES.into_iter().zip(captions))
            .enumerate()
            .map(|(v, (data, ((h_axis, v_axis), caption)))| Panel {
                data,
                h_axis,
                v_axis,
                caption,
                mask: None,
                marks: marks
                    .iter()
                    .map(|m| (view(v, m), m.colour))
                    .filter(|((_, on_slice), _)| !slices || *on_slice)
                    .map(|((at, _), colour)| (at, colour))
                    .collect(),
            })
            .collect()
    };
    vec![
        row(
            central_slices(u),
            slice_captions(u.dim(), AxisUnit::Cm(delta)),
            true,
        ),
        row(
            [mip(2), mip(1), mip(0).t().to_owned()],
            [
                "max along z".into(),
                "max along x".into(),
                "max along y".into(),
            ],
            false,
        ),
    ]
}

/// A tick: offset in px from the axis start (left edge, or bottom edge), and its label.
type Tick = (usize, String);

/// Ticks at round multiples of a 1-2-5 step, spaced at least `min_px` apart, over the extent of
/// `n` pixels of size `delta` magnified `zoom` times.
fn ticks(n: usize, delta: f64, zoom: usize, min_gap: impl Fn(&[String]) -> usize) -> Vec<Tick> {
    let half = (n / 2) as f64;
    let lo = (-half - 0.5) * delta;
    let hi = (n as f64 - 1.0 - half + 0.5) * delta;
    let mut step = 10f64.powf(((hi - lo) / 8.0).log10().floor());
    for _ in 0..40 {
        for mult in [1.0, 2.0, 5.0] {
            let st = step * mult;
            let decimals = (-st.log10().floor()).max(0.0) as usize;
            let first = (lo / st).ceil() as i64;
            let last = (hi / st).floor() as i64;
            let marks: Vec<(f64, String)> = (first..=last)
                .map(|k| {
                    let c = k as f64 * st;
                    let label = format!("{:.*}", decimals, c);
                    let label = if label.trim_start_matches(['-', '0', '.']).is_empty() {
                        label.trim_start_matches('-').to_string()
                    } else {
                        label
                    };
                    (c, label)
                })
                .collect();
            let labels: Vec<String> = marks.iter().map(|(_, l)| l.clone()).collect();
            if (st / delta) * zoom as f64 >= min_gap(&labels) as f64 || marks.len() <= 2 {
                return marks
                    .into_iter()
                    .map(|(c, l)| (((c / delta + half + 0.5) * zoom as f64).round() as usize, l))
                    .collect();
            }
        }
        step *= 10.0;
    }
    Vec::new()
}

/// A value for the colour bar, about 4 significant digits.
pub fn fmt_value(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if (1e-2..1e5).contains(&a) {
        let decimals = (3 - a.log10().floor() as i64).max(0) as usize;
        let s = format!("{v:.decimals$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        format!("{v:.3e}")
    }
}

/// The pixels of a panel that hold values (all, or those of its mask), with their values.
fn shown(p: &Panel) -> impl Iterator<Item = ((usize, usize), f64)> + '_ {
    p.data
        .indexed_iter()
        .filter(|(i, _)| p.mask.as_ref().is_none_or(|m| m[*i]))
        .map(|(i, &v)| (i, v))
}

/// Laid-out panel: its ticks and the size of its block.
struct Placed {
    h_ticks: Vec<Tick>,
    v_ticks: Vec<Tick>,
    left: usize,
    img_w: usize,
    img_h: usize,
}

fn place(p: &Panel, delta: f64, zoom: usize) -> Placed {
    let (nv, nh) = p.data.dim();
    let h_ticks = ticks(nh, delta, zoom, |labels| {
        labels.iter().map(|l| text_width(l, FS)).max().unwrap_or(0) + 2 * PAD
    });
    let v_ticks = ticks(nv, delta, zoom, |_| text_height(FS) + 2 * PAD);
    let label_w = v_ticks
        .iter()
        .map(|(_, l)| text_width(l, FS))
        .max()
        .unwrap_or(0);
    Placed {
        left: text_height(FS) + PAD + label_w + PAD / 2 + TICK + 2,
        img_w: nh * zoom,
        img_h: nv * zoom,
        h_ticks,
        v_ticks,
    }
}

/// How a figure is drawn: axis unit, magnification, unit of the colour bar's values.
struct Style<'a> {
    axes: AxisUnit,
    zoom: usize,
    value_unit: &'a str,
}

fn layout(title: &str, note: &str, rows: Vec<Vec<Panel>>, style: Style<'_>) -> Canvas {
    let Style {
        axes,
        zoom,
        value_unit,
    } = style;
    let delta = axes.delta();
    let th = text_height(FS);
    let bottom = TICK + PAD / 2 + th + PAD + th + PAD;
    let right_pad = 3 * PAD;
    let title_h = if title.is_empty() { PAD } else { th + 3 * PAD };
    let placed: Vec<Vec<Placed>> = rows
        .iter()
        .map(|r| r.iter().map(|p| place(p, delta, zoom)).collect())
        .collect();
    let ranges: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| {
            r.iter()
                .flat_map(|p| shown(p).map(|(_, v)| v))
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                    (lo.min(v), hi.max(v))
                })
        })
        .collect();
    let bar_labels: Vec<[String; 3]> = ranges
        .iter()
        .map(|&(lo, hi)| {
            let (lo, hi) = if lo <= hi { (lo, hi) } else { (0.0, 0.0) };
            [hi, 0.5 * (lo + hi), lo].map(|v| match value_unit {
                "" => fmt_value(v),
                u => format!("{} {u}", fmt_value(v)),
            })
        })
        .collect();
    let row_width = |i: usize| {
        let panels: usize = placed[i].iter().map(|q| q.left + q.img_w + right_pad).sum();
        let labels = bar_labels[i]
            .iter()
            .map(|l| text_width(l, FS))
            .max()
            .unwrap_or(0);
        panels + PAD + BAR_W + TICK + PAD + labels + 2 * PAD
    };
    let caption_h = |i: usize| {
        if rows[i].iter().any(|p| !p.caption.is_empty()) {
            th + 2 * PAD
        } else {
            0
        }
    };
    let row_img_h = |i: usize| placed[i].iter().map(|q| q.img_h).max().unwrap_or(0);
    let width = (0..rows.len())
        .map(row_width)
        .max()
        .unwrap_or(0)
        .max(text_width(title, FS) + 4 * PAD)
        .max(text_width(note, FS) + 4 * PAD);
    let note_h = if note.is_empty() { 0 } else { th + PAD };
    let height = title_h
        + note_h
        + (0..rows.len())
            .map(|i| caption_h(i) + row_img_h(i) + bottom)
            .sum::<usize>()
        + PAD;
    let mut cv = Canvas::new(width, height, WHITE);
    cv.text(
        (width - text_width(title, FS)) / 2,
        2 * PAD,
        title,
        FS,
        BLACK,
    );

    let mut y = title_h;
    for (i, row) in rows.iter().enumerate() {
        let (lo, hi) = ranges[i];
        let img_top = y + caption_h(i);
        let mut x = PAD;
        for (p, q) in row.iter().zip(&placed[i]) {
            let ox = x + q.left;
            draw_panel(&mut cv, p, q, ox, img_top, zoom, axes.name(), lo, hi);
            x = ox + q.img_w + right_pad;
        }
        draw_colour_bar(&mut cv, x + PAD, img_top, row_img_h(i), &bar_labels[i]);
        y = img_top + row_img_h(i) + bottom;
    }
    if !note.is_empty() {
        cv.text(2 * PAD, y, note, FS, GREY);
    }
    cv
}

#[allow(clippy::too_many_arguments)]
fn draw_panel(
    cv: &mut Canvas,
    p: &Panel,
    q: &Placed,
    ox: usize,
    oy: usize,
    zoom: usize,
    unit: &str,
    lo: f64,
    hi: f64,
) {
    let th = text_height(FS);
    let (nv, nh) = p.data.dim();
    let span = if hi > lo { hi - lo } else { 1.0 };
    for r in 0..nv {
        for c in 0..nh {
            cv.fill_rect(ox + c * zoom, oy + (nv - 1 - r) * zoom, zoom, zoom, MASKED);
        }
    }
    for ((r, c), v) in shown(p) {
        let col = viridis((v - lo) / span);
        cv.fill_rect(ox + c * zoom, oy + (nv - 1 - r) * zoom, zoom, zoom, col);
    }
    for &((r, c), colour) in &p.marks {
        // A square of at least 8 px around the pixel: a 2 px ring in the colour inside a
        // white one, visible on any colour of the map.
        let side = zoom.max(8);
        let cx = ox + c * zoom + zoom / 2;
        let cy = oy + (nv - 1 - r) * zoom + zoom / 2;
        let (x0, y0) = (cx.saturating_sub(side / 2), cy.saturating_sub(side / 2));
        cv.frame(x0, y0, side, side, colour);
        cv.frame(x0 + 1, y0 + 1, side - 2, side - 2, colour);
        cv.frame(
            x0.saturating_sub(1),
            y0.saturating_sub(1),
            side + 2,
            side + 2,
            WHITE,
        );
    }
    cv.frame(ox, oy, q.img_w, q.img_h, BLACK);
    if !p.caption.is_empty() {
        let w = text_width(&p.caption, FS);
        let cx = (ox + q.img_w / 2).saturating_sub(w / 2);
        cv.text(cx, oy - th - PAD, &p.caption, FS, BLACK);
    }
    // Horizontal axis: ticks below the image.
    let base = oy + q.img_h + 1;
    for (off, label) in &q.h_ticks {
        let tx = ox + (*off).min(q.img_w.saturating_sub(1));
        cv.fill_rect(tx, base, 1, TICK, BLACK);
        let w = text_width(label, FS);
        cv.text(
            tx.saturating_sub(w / 2),
            base + TICK + PAD / 2,
            label,
            FS,
            BLACK,
        );
    }
    let name = format!("{} ({unit})", p.h_axis);
    let w = text_width(&name, FS);
    let ly = base + TICK + PAD / 2 + th + PAD;
    cv.text(
        (ox + q.img_w / 2).saturating_sub(w / 2),
        ly,
        &name,
        FS,
        GREY,
    );
    // Vertical axis: ticks left of the image, offsets counted from the bottom edge.
    for (off, label) in &q.v_ticks {
        let ty = oy + q.img_h - 1 - (*off).min(q.img_h.saturating_sub(1));
        cv.fill_rect(ox - 1 - TICK, ty, TICK, 1, BLACK);
        let w = text_width(label, FS);
        let lx = ox - 1 - TICK - PAD / 2 - w;
        cv.text(lx, ty.saturating_sub(CAP_MID), label, FS, BLACK);
    }
    let name = format!("{} ({unit})", p.v_axis);
    let w = text_width(&name, FS);
    let lx = ox + 1 - q.left;
    cv.text_up(
        lx,
        (oy + q.img_h / 2).saturating_sub(w / 2),
        &name,
        FS,
        GREY,
    );
}

fn draw_colour_bar(cv: &mut Canvas, x: usize, y: usize, h: usize, labels: &[String; 3]) {
    for k in 0..h {
        let t = if h > 1 {
            k as f64 / (h - 1) as f64
        } else {
            0.5
        };
        cv.fill_rect(x, y + h - 1 - k, BAR_W, 1, viridis(t));
    }
    cv.frame(x, y, BAR_W, h, BLACK);
    let ys = [y, y + h / 2, y + h.saturating_sub(1)];
    for (label, ty) in labels.iter().zip(ys) {
        cv.fill_rect(x + BAR_W + 1, ty, TICK, 1, BLACK);
        let top = ty.saturating_sub(CAP_MID);
        cv.text(x + BAR_W + 1 + TICK + PAD / 2, top, label, FS, BLACK);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, Array3};

    #[test]
    fn y_axis_points_up_and_colours_follow_values() {
        // A 4x6 image that is 1 on its bottom row (row 0) and 0 elsewhere.
        let mut u = Array2::<f64>::zeros((4, 6));
        u.row_mut(0).fill(1.0);
        let zoom = zoom_for(&[4, 6], 520);
        let cv = image_figure(u.view().into_dyn(), 0.1, "test").unwrap();
        // Find the image: the bright (max) colour must be in the lowest band of the image.
        let bright = viridis(1.0);
        let dark = viridis(0.0);
        let rows_with = |c: Rgb| -> Vec<usize> {
            (0..cv.height())
                .filter(|&y| (0..cv.width()).any(|x| cv.get(x, y) == c))
                .collect()
        };
        let b = rows_with(bright);
        let d = rows_with(dark);
        // the colour bar also holds both colours (max at its top): look at the image rows only,
        // where the dark band spans three image rows above the bright one.
        assert!(b.len() >= zoom && d.len() >= 3 * zoom);
        let img_dark_top = d[0];
        let img_bright_bottom = *b.last().unwrap();
        assert!(img_bright_bottom > img_dark_top);
    }

    #[test]
    fn ticks_are_round_and_inside() {
        let t = ticks(400, 0.008, 1, |_| 20);
        // extent ±1.6 cm: ticks at multiples of 0.5 (or 0.2/1) with 1 decimal
        assert!(t.iter().any(|(_, l)| l == "0.0"));
        assert!(t.iter().all(|(off, _)| *off <= 400));
        assert!(!t.iter().any(|(_, l)| l.starts_with("-0.0")));
        assert_eq!(fmt_value(1234.5678), "1235");
        assert_eq!(fmt_value(0.012345), "0.01235");
        assert_eq!(fmt_value(2.5e-5), "2.500e-5");
        assert_eq!(fmt_value(-3.0), "-3");
    }

    #[test]
    fn masked_pixels_are_grey_and_out_of_the_colour_range() {
        // Values 0..5 along x; the x = 5 column is masked and holds 100.
        let mut u = Array2::from_shape_fn((4, 6), |(_, c)| c as f64);
        u.column_mut(5).fill(100.0);
        let mask = Array2::from_shape_fn((4, 6), |(_, c)| c < 5);
        let cv = map_figure(
            u.view().into_dyn(),
            mask.view().into_dyn(),
            AxisUnit::Pixel,
            "w",
            "G",
        )
        .unwrap();
        let count = |c: Rgb| {
            (0..cv.height())
                .flat_map(|y| (0..cv.width()).map(move |x| (x, y)))
                .filter(|&(x, y)| cv.get(x, y) == c)
                .count()
        };
        let zoom = zoom_for(&[4, 6], 520);
        // The brightest colour fills the x = 4 column (4 pixels of zoom²), not only the bar.
        assert!(
            count(viridis(1.0)) >= 4 * zoom * zoom,
            "{}",
            count(viridis(1.0))
        );
        assert!(count(MASKED) >= 4 * zoom * zoom);
        let volume = Array3::from_shape_fn((5, 4, 3), |(i, j, k)| (i + j + k) as f64);
        let vmask = Array3::from_elem((5, 4, 3), true);
        assert!(map_figure(
            volume.view().into_dyn(),
            vmask.view().into_dyn(),
            AxisUnit::Cm(0.1),
            "v",
            "mmHg"
        )
        .is_ok());
        let e = map_figure(
            volume.view().into_dyn(),
            mask.view().into_dyn(),
            AxisUnit::Pixel,
            "v",
            "G",
        )
        .unwrap_err();
        assert!(e.to_string().contains("differ in shape"), "{e}");
    }

    #[test]
    fn volumes_give_two_rows_of_three_panels() {
        let u = Array3::from_shape_fn((6, 5, 4), |(i, j, k)| (i + 2 * j + 3 * k) as f64);
        let rows = volume_panels(u.view(), 0.1, &[]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][0].data.dim(), (6, 5));
        assert_eq!(rows[0][1].data.dim(), (6, 4));
        assert_eq!(rows[0][2].data.dim(), (4, 5));
        // slice y (vertical z, horizontal x) at y index 3: value 3 + 2j + 3k at [k, j]
        assert_eq!(rows[0][2].data[(2, 1)], 3.0 + 2.0 + 6.0);
        // MIP along z of i + 2j + 3k is at k = 3
        assert_eq!(rows[1][0].data[(1, 1)], 1.0 + 2.0 + 9.0);
        assert!(image_figure(u.view().into_dyn(), 0.1, "vol").is_ok());
        // A voxel at (1, 2, 3): on the x-slice (x index 2) only, on every projection.
        let red = [255, 0, 0];
        let mark = VoxelMark {
            index: vec![1, 2, 3],
            colour: red,
        };
        let rows = volume_panels(u.view(), 0.1, std::slice::from_ref(&mark));
        let marks: Vec<Vec<Vec<(usize, usize)>>> = rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|p| p.marks.iter().map(|m| m.0).collect())
                    .collect()
            })
            .collect();
        assert_eq!(marks[0], vec![vec![], vec![(1, 3)], vec![]]);
        assert_eq!(marks[1], vec![vec![(1, 2)], vec![(1, 3)], vec![(3, 2)]]);
        let outside = VoxelMark {
            index: vec![1, 5, 0],
            colour: red,
        };
        assert!(marked_image_figure(u.view().into_dyn(), 0.1, "vol", &[outside]).is_err());
        assert!(image_figure(u.view().into_dyn(), -0.1, "vol").is_err());
    }
}
