//! An RGB raster with the few drawing operations the figures need, written out as PNG.

use super::font;
use crate::error::Result;
use std::path::Path;

/// An RGB colour.
pub type Rgb = [u8; 3];
/// Black.
pub const BLACK: Rgb = [0, 0, 0];
/// White.
pub const WHITE: Rgb = [255, 255, 255];

/// An 8-bit RGB image, row 0 at the top.
#[derive(Clone, Debug)]
pub struct Canvas {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl Canvas {
    /// A canvas filled with `background`.
    pub fn new(width: usize, height: usize, background: Rgb) -> Self {
        let pixels = background.repeat(width * height);
        Canvas {
            width,
            height,
            pixels,
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// The colour at `(x, y)`.
    pub fn get(&self, x: usize, y: usize) -> Rgb {
        let i = 3 * (y * self.width + x);
        [self.pixels[i], self.pixels[i + 1], self.pixels[i + 2]]
    }

    /// Sets one pixel; pixels outside the canvas are ignored.
    pub fn set(&mut self, x: usize, y: usize, c: Rgb) {
        if x < self.width && y < self.height {
            let i = 3 * (y * self.width + x);
            self.pixels[i..i + 3].copy_from_slice(&c);
        }
    }

    /// Fills a rectangle (clipped to the canvas).
    pub fn fill_rect(&mut self, x: usize, y: usize, w: usize, h: usize, c: Rgb) {
        for yy in y..(y + h).min(self.height) {
            for xx in x..(x + w).min(self.width) {
                self.set(xx, yy, c);
            }
        }
    }

    /// A one-pixel rectangle outline around the box `(x, y, w, h)` (drawn just outside it).
    pub fn frame(&mut self, x: usize, y: usize, w: usize, h: usize, c: Rgb) {
        let (x0, y0) = (x.saturating_sub(1), y.saturating_sub(1));
        self.fill_rect(x0, y0, w + 2, 1, c);
        self.fill_rect(x0, y + h, w + 2, 1, c);
        self.fill_rect(x0, y0, 1, h + 2, c);
        self.fill_rect(x + w, y0, 1, h + 2, c);
    }

    /// Copies `other` with its top-left corner at `(x, y)` (clipped to the canvas).
    pub fn paste(&mut self, other: &Canvas, x: usize, y: usize) {
        for yy in 0..other.height {
            for xx in 0..other.width {
                self.set(x + xx, y + yy, other.get(xx, yy));
            }
        }
    }

    /// Draws `text` with its top-left corner at `(x, y)`, each font pixel a `scale`² block.
    pub fn text(&mut self, x: usize, y: usize, text: &str, scale: usize, c: Rgb) {
        self.glyphs(text, scale, c, |tx, ty| (x + tx, y + ty));
    }

    /// Draws `text` turned 90° counter-clockwise (reading upwards) in the box whose top-left
    /// corner is `(x, y)`.
    pub fn text_up(&mut self, x: usize, y: usize, text: &str, scale: usize, c: Rgb) {
        let w = font::text_width(text, scale);
        self.glyphs(text, scale, c, |tx, ty| (x + ty, y + w - 1 - tx));
    }

    /// Draws the glyph pixels of `text`, placed by `at(text_x, text_y)`.
    fn glyphs(
        &mut self,
        text: &str,
        scale: usize,
        c: Rgb,
        at: impl Fn(usize, usize) -> (usize, usize),
    ) {
        for (k, ch) in text.chars().enumerate() {
            let top = font::glyph_top(ch);
            for (row, bits) in font::glyph(ch).iter().enumerate() {
                for col in 0..font::GLYPH_W {
                    if bits & (1 << (font::GLYPH_W - 1 - col)) == 0 {
                        continue;
                    }
                    for dy in 0..scale {
                        for dx in 0..scale {
                            let tx = (k * font::ADVANCE + col) * scale + dx;
                            let (px, py) = at(tx, (top + row) * scale + dy);
                            self.set(px, py, c);
                        }
                    }
                }
            }
        }
    }

    /// Writes the canvas as an 8-bit RGB PNG file (creating the parent folder), atomically.
    pub fn write_png(&self, path: &Path) -> Result<()> {
        crate::io::output::write_atomic(path, None, |file| {
            let err = |e: png::EncodingError| format!("PNG encoding: {e}");
            let mut enc = png::Encoder::new(file, self.width as u32, self.height as u32);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut w = enc.write_header().map_err(err)?;
            w.write_image_data(&self.pixels).map_err(err)?;
            w.finish().map_err(err)
        })
    }
}
