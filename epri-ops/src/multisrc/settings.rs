//! Validation and broadcasting of the per-setting inputs of the multi-source operators.

use crate::error::{Error, Result};
use crate::geometry::Geometry;
use backend_core::Real;
use ndarray::ArrayView1;

/// The `L` settings of a multi-source experiment after broadcasting: setting `i` has the
/// geometry `geometry(i)` and the spectra `h(i, j)` of the `K` sources, whose images have the
/// shapes `shape(j)`.
#[derive(Clone, Debug)]
pub struct Settings<'a, T> {
    geometries: &'a [Geometry<T>],
    h: &'a [Vec<ArrayView1<'a, T>>],
    shapes: &'a [Vec<usize>],
    num_settings: usize,
}

impl<'a, T: Real> Settings<'a, T> {
    /// Checks and broadcasts the inputs:
    ///
    /// * `geometries`: one per setting, or one for all; they must share `B` (same samples) and
    ///   `δ` and the dimension `d`;
    /// * `h[i][j]`: spectrum `(Nb,)` of source `j` in setting `i`; `h` has `L` rows or one row
    ///   used for every setting; every row has `K` spectra;
    /// * `shapes[j]`: image shape of source `j`, `d` axes (Y, X[, Z]) of length ≥ 2.
    ///
    /// `L = max(len(geometries), len(h))`; a list whose length is neither 1 nor `L` is an error.
    ///
    /// Errors: [`Error::Shape`] for empty or inconsistent lists and bad shapes,
    /// [`Error::Geometry`] for settings that do not share `B` or `δ`, [`Error::NonFinite`] for
    /// a NaN in a spectrum.
    pub fn new(
        geometries: &'a [Geometry<T>],
        h: &'a [Vec<ArrayView1<'a, T>>],
        shapes: &'a [Vec<usize>],
    ) -> Result<Self> {
        let num_settings = geometries.len().max(h.len());
        if geometries.is_empty() || h.is_empty() || shapes.is_empty() {
            return Err(Error::Shape(format!(
                "multi-source inputs need at least one geometry, one row of spectra and one source \
                 (got {} geometries, {} rows of h, {} image shapes)",
                geometries.len(),
                h.len(),
                shapes.len()
            )));
        }
        for (what, n) in [("geometries", geometries.len()), ("rows of h", h.len())] {
            if n != 1 && n != num_settings {
                return Err(Error::Shape(format!(
                    "{n} {what} for {num_settings} settings (give 1 or {num_settings})"
                )));
            }
        }
        let g0 = &geometries[0];
        for (i, g) in geometries.iter().enumerate().skip(1) {
            if g.dim() != g0.dim() || g.delta() != g0.delta() || g.b() != g0.b() {
                return Err(Error::Geometry(format!(
                    "setting {i} does not share the field grid B, the pixel size and the \
                     dimension of setting 0 (every setting must use the same B and delta)"
                )));
            }
        }
        for (i, row) in h.iter().enumerate() {
            if row.len() != shapes.len() {
                return Err(Error::Shape(format!(
                    "h[{i}] holds {} spectra for {} sources",
                    row.len(),
                    shapes.len()
                )));
            }
            for (j, hij) in row.iter().enumerate() {
                g0.check_spectrum(&format!("h[{i}][{j}]"), hij.view())?;
            }
        }
        for s in shapes {
            g0.check_image_shape(s)?;
        }
        Ok(Settings {
            geometries,
            h,
            shapes,
            num_settings,
        })
    }

    /// Number of settings `L`.
    pub fn num_settings(&self) -> usize {
        self.num_settings
    }

    /// Number of sources `K`.
    pub fn num_sources(&self) -> usize {
        self.shapes.len()
    }

    /// The geometry of setting `i` (broadcast).
    pub fn geometry(&self, i: usize) -> &'a Geometry<T> {
        &self.geometries[i.min(self.geometries.len() - 1)]
    }

    /// The spectrum `h[i][j]` of source `j` in setting `i` (broadcast), shape `(Nb,)`.
    pub fn h(&self, i: usize, j: usize) -> ArrayView1<'a, T> {
        let rows: &'a [Vec<ArrayView1<'a, T>>] = self.h;
        rows[i.min(rows.len() - 1)][j]
    }

    /// The image shape of source `j` (Y, X[, Z]).
    pub fn shape(&self, j: usize) -> &'a [usize] {
        &self.shapes[j]
    }

    /// The image shapes of all sources.
    pub fn shapes(&self) -> &'a [Vec<usize>] {
        self.shapes
    }

    /// The spatial dimension `d`.
    pub fn dim(&self) -> usize {
        self.geometries[0].dim()
    }
}
