//! The non-uniform frequency nodes of the projection operator (PyEPRI's
//! `compute_2d_frequency_nodes` / `compute_3d_frequency_nodes`).

use crate::error::{Error, Result};
use crate::geometry::Geometry;
use backend_core::Real;
use ndarray::{Array1, ArrayView1};
use rayon::prelude::*;

/// The frequencies at which the image's Fourier transform is sampled by the projections.
///
/// The Fourier sinogram is an array of shape `(P, ncols)`: `ncols = Nb/2 + 1` in rfft mode
/// (integer frequencies `α = 0 … Nb/2`), `ncols = Nb` in full mode (standard FFT order
/// `0, 1, …, ⌈Nb/2⌉-1, -⌊Nb/2⌋, …, -1`). Entry `(k, c)` is kept when
/// `μ_k |α_c| < Nb·dB / (2δ)` and `|α_c| < Nb/2` (both strict; `α = 0` always kept), and its
/// node is `ω = -δ · fgrad[:, k] · ξ_c` with `ξ_c = 2π α_c / (Nb·dB)`: dimensionless, radians per
/// pixel, inside `(-π, π)`. Nodes are listed in row-major order of `(k, c)`.
///
/// Coordinates are stored in **image axis order**: `coords()[0]` pairs with image axis 0 (Y,
/// built from the Y row of `fgrad`), `coords()[1]` with axis 1 (X), `coords()[2]` with axis 2
/// (Z). This is the swap PyEPRI makes when it calls `nufft2d(y, x, ...)`.
///
/// All arithmetic is done in precision `T` in PyEPRI's order, so that the kept set matches its
/// float32 decisions.
#[derive(Clone, Debug)]
pub struct FrequencyNodes<T> {
    coords: Vec<Array1<T>>,
    indexes: Vec<u32>,
    ncols: usize,
    nb: usize,
    num_proj: usize,
    rfft_mode: bool,
}

impl<T: Real> FrequencyNodes<T> {
    /// Computes the nodes of `geometry` in rfft mode (`rfft_mode = true`, PyEPRI's default) or
    /// full mode.
    ///
    /// Errors: [`Error::Shape`] when the Fourier sinogram has more than `u32::MAX` entries.
    pub fn new(geometry: &Geometry<T>, rfft_mode: bool) -> Result<Self> {
        let nb = geometry.nb();
        let p = geometry.num_proj();
        let ncols = if rfft_mode { nb / 2 + 1 } else { nb };
        if p.checked_mul(ncols).is_none_or(|n| n > u32::MAX as usize) {
            return Err(Error::Shape(format!(
                "Fourier sinogram of {p} x {ncols} entries exceeds the u32 index range"
            )));
        }
        // Integer frequencies of the columns.
        let alpha: Vec<i64> = (0..ncols)
            .map(|c| column_frequency(c, nb, rfft_mode))
            .collect();
        let db = geometry.db();
        let delta = geometry.delta();
        let bound = T::of(0.5 * nb as f64) * db / delta;
        let two_pi = T::of(2.0 * std::f64::consts::PI);
        let nbdb = T::of(nb as f64) * db;
        let xi: Vec<T> = alpha
            .iter()
            .map(|&a| two_pi * T::of(a as f64) / nbdb)
            .collect();
        let mu = geometry.gradient_norms();
        let fgrad = geometry.fgrad();
        let d = geometry.dim();
        // `δ · fgrad[row, k]` per image axis; image axis a takes the fgrad row Y (1) for axis 0,
        // X (0) for axis 1, Z (2) for axis 2.
        let scaled: Vec<Vec<T>> = (0..d)
            .map(|a| {
                let row = fgrad.row(image_axis_to_fgrad_row(a));
                row.iter().map(|&g| delta * g).collect()
            })
            .collect();
        let kept = |k: usize, a: i64| {
            let aa = T::of(a.unsigned_abs() as f64);
            mu[k] * aa < bound && 2 * a.unsigned_abs() < nb as u64
        };
        // Counted per row first, so that every array is allocated once at its final size; then
        // groups of rows fill their own segments in parallel (same arithmetic per node).
        let counts: Vec<usize> = (0..p)
            .into_par_iter()
            .map(|k| alpha.iter().filter(|&&a| kept(k, a)).count())
            .collect();
        let m = counts.iter().sum();
        let mut coords: Vec<Vec<T>> = (0..d).map(|_| vec![T::zero(); m]).collect();
        let mut indexes = vec![0u32; m];
        let rows_per_group = p.div_ceil(8 * rayon::current_num_threads()).max(1);
        let mut groups = Vec::with_capacity(p.div_ceil(rows_per_group));
        let mut index_rest = indexes.as_mut_slice();
        let mut coord_rest: Vec<&mut [T]> = coords.iter_mut().map(|c| c.as_mut_slice()).collect();
        for k0 in (0..p).step_by(rows_per_group) {
            let k1 = (k0 + rows_per_group).min(p);
            let n: usize = counts[k0..k1].iter().sum();
            let (group_indexes, rest) = std::mem::take(&mut index_rest).split_at_mut(n);
            index_rest = rest;
            let group_coords: Vec<&mut [T]> = coord_rest
                .iter_mut()
                .map(|c| {
                    let (head, tail) = std::mem::take(c).split_at_mut(n);
                    *c = tail;
                    head
                })
                .collect();
            groups.push((k0..k1, group_indexes, group_coords));
        }
        groups
            .into_par_iter()
            .for_each(|(ks, group_indexes, mut group_coords)| {
                let mut at = 0;
                for k in ks {
                    for (c, &a) in alpha.iter().enumerate() {
                        if kept(k, a) {
                            group_indexes[at] = (k * ncols + c) as u32;
                            for (coord, s) in group_coords.iter_mut().zip(&scaled) {
                                coord[at] = -(s[k] * xi[c]);
                            }
                            at += 1;
                        }
                    }
                }
            });
        Ok(FrequencyNodes {
            coords: coords.into_iter().map(Array1::from).collect(),
            indexes,
            ncols,
            nb,
            num_proj: p,
            rfft_mode,
        })
    }

    /// Node coordinates in image axis order (Y, X[, Z]), each of shape `(M,)`, radians.
    pub fn coords(&self) -> &[Array1<T>] {
        &self.coords
    }

    /// Views of [`FrequencyNodes::coords`], the form [`backend_core::nufft::NufftPlan::set_points`]
    /// takes.
    pub fn coord_views(&self) -> Vec<ArrayView1<'_, T>> {
        coord_views(&self.coords)
    }

    /// The coordinates ([`FrequencyNodes::coords`]) and the indexes
    /// ([`FrequencyNodes::indexes`]), moved out (an operator uploads the indexes without a copy).
    pub fn into_parts(self) -> (Vec<Array1<T>>, Vec<u32>) {
        (self.coords, self.indexes)
    }

    /// Y coordinates (image axis 0), shape `(M,)`.
    pub fn y(&self) -> ArrayView1<'_, T> {
        self.coords[0].view()
    }

    /// X coordinates (image axis 1), shape `(M,)`.
    pub fn x(&self) -> ArrayView1<'_, T> {
        self.coords[1].view()
    }

    /// Z coordinates (image axis 2) of a 3D geometry, shape `(M,)`; `None` in 2D.
    pub fn z(&self) -> Option<ArrayView1<'_, T>> {
        self.coords.get(2).map(|c| c.view())
    }

    /// Flat row-major positions `k·ncols + c` of the nodes in the `(P, ncols)` Fourier
    /// sinogram, increasing, shape `(M,)`.
    pub fn indexes(&self) -> ArrayView1<'_, u32> {
        ArrayView1::from(self.indexes.as_slice())
    }

    /// Column `c` of each node in the Fourier sinogram (`indexes % ncols`).
    pub fn columns(&self) -> impl Iterator<Item = usize> + '_ {
        self.indexes.iter().map(move |&i| i as usize % self.ncols)
    }

    /// [`FrequencyNodes::columns`] as a parallel (rayon) iterator, in node order.
    pub fn par_columns(&self) -> impl IndexedParallelIterator<Item = usize> + '_ {
        self.indexes
            .par_iter()
            .map(move |&i| i as usize % self.ncols)
    }

    /// Integer frequency `α` of column `c` (`c` itself in rfft mode, FFT order in full mode).
    pub fn column_frequency(&self, c: usize) -> i64 {
        column_frequency(c, self.nb, self.rfft_mode)
    }

    /// Number of columns of the Fourier sinogram: `Nb/2 + 1` (rfft mode) or `Nb`.
    pub fn ncols(&self) -> usize {
        self.ncols
    }

    /// Number of projections `P` (rows of the Fourier sinogram).
    pub fn num_proj(&self) -> usize {
        self.num_proj
    }

    /// Shape `(P, ncols)` of the Fourier sinogram.
    pub fn fourier_shape(&self) -> [usize; 2] {
        [self.num_proj, self.ncols]
    }

    /// Spatial dimension `d`.
    pub fn dim(&self) -> usize {
        self.coords.len()
    }

    /// Number of nodes `M`.
    pub fn len(&self) -> usize {
        self.indexes.len()
    }

    /// True when no node is kept (never the case for a valid geometry: `α = 0` is always kept).
    pub fn is_empty(&self) -> bool {
        self.indexes.is_empty()
    }

    /// Whether the nodes cover the rfft half spectrum (`true`) or the full spectrum.
    pub fn rfft_mode(&self) -> bool {
        self.rfft_mode
    }
}

/// Views of node coordinates (as [`FrequencyNodes::coords`] or [`FrequencyNodes::into_parts`]
/// give them), the form [`backend_core::nufft::NufftPlan::set_points`] takes.
pub fn coord_views<T: Real>(coords: &[Array1<T>]) -> Vec<ArrayView1<'_, T>> {
    coords.iter().map(|c| c.view()).collect()
}

/// The row of `fgrad` (ordered X, Y, Z) that drives image axis `a` (ordered Y, X, Z).
pub fn image_axis_to_fgrad_row(a: usize) -> usize {
    match a {
        0 => 1,
        1 => 0,
        _ => a,
    }
}

/// Integer frequency `α` of column `c` of a Fourier sinogram of `nb` samples: `c` in rfft mode,
/// FFT order (`0 … ⌈Nb/2⌉-1, -⌊Nb/2⌋ … -1`) in full mode.
pub fn column_frequency(c: usize, nb: usize, rfft_mode: bool) -> i64 {
    if rfft_mode || c < nb.div_ceil(2) {
        c as i64
    } else {
        c as i64 - nb as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn full_mode_frequencies_are_fft_order() {
        assert_eq!(
            (0..5)
                .map(|c| column_frequency(c, 5, false))
                .collect::<Vec<_>>(),
            vec![0, 1, 2, -2, -1]
        );
        assert_eq!(
            (0..6)
                .map(|c| column_frequency(c, 6, false))
                .collect::<Vec<_>>(),
            vec![0, 1, 2, -3, -2, -1]
        );
    }

    /// Checks the nodes of a geometry with dB = 1 and delta = 1 (bound `Nb/2`), in both modes,
    /// against the definition, node by node: the kept set in row-major order, the coordinates
    /// `-fgrad[row, k] * xi_c` exactly.
    fn check_against_the_definition(nb: usize, fgrad: ndarray::ArrayView2<'_, f64>) {
        let b = Array1::from_iter((0..nb).map(|i| i as f64));
        let g = Geometry::new(b.view(), 1.0, fgrad).unwrap();
        let mu: Vec<f64> = fgrad
            .columns()
            .into_iter()
            .map(|c| c.iter().map(|v| v * v).sum::<f64>().sqrt())
            .collect();
        let bound = nb as f64 / 2.0;
        for rfft in [true, false] {
            let n = FrequencyNodes::new(&g, rfft).unwrap();
            let mut expect = Vec::new();
            for (k, mu) in mu.iter().enumerate() {
                for c in 0..n.ncols() {
                    let a = n.column_frequency(c);
                    if mu * (a.abs() as f64) < bound && 2 * a.unsigned_abs() < nb as u64 {
                        expect.push((k * n.ncols() + c) as u32);
                    }
                }
            }
            assert_eq!(n.indexes().to_vec(), expect, "rfft {rfft}");
            assert_eq!(n.len(), expect.len());
            for (m, &i) in n.indexes().iter().enumerate() {
                let (k, c) = (i as usize / n.ncols(), i as usize % n.ncols());
                let xi = 2.0 * std::f64::consts::PI * n.column_frequency(c) as f64 / nb as f64;
                assert_eq!(n.y()[m], -fgrad[[1, k]] * xi);
                assert_eq!(n.x()[m], -fgrad[[0, k]] * xi);
                assert_eq!(n.z().map(|z| z[m]), fgrad.get([2, k]).map(|f| -f * xi));
            }
        }
    }

    #[test]
    fn kept_set_and_coordinates_follow_the_definition() {
        // Nb = 8: |alpha| < 4, and mu |alpha| < 4.
        let fgrad = array![[0.0, 1.0, 3.0], [2.0, 0.0, 4.0]]; // mu = 2, 1, 5
        check_against_the_definition(8, fgrad.view());
    }

    #[test]
    fn rows_of_every_length_fill_their_own_segments() {
        // 3D, 301 gradients whose norms (0 to 12) keep from 1 to all 11 columns of |alpha| < 11
        // per row (Nb = 21, odd), rows filled in parallel groups.
        let p = 301;
        let fgrad = ndarray::Array2::from_shape_fn((3, p), |(r, k)| {
            let t = k as f64 * 0.37;
            let norm = 12.0 * ((k * 7919) % p) as f64 / p as f64;
            norm * [t.cos() * 0.6, t.sin() * 0.6, 0.8][r]
        });
        check_against_the_definition(21, fgrad.view());
    }
}
