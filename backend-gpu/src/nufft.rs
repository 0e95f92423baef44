//! NUFFT stages (`nufft.cl`): points folded and sorted by tile of the fine grid on the host
//! (`setpts`), spreading by tiles or by atomic adds ([`crate::Spreading`]), interpolation, and
//! the deconvolution / pre-compensation copies between the fine grid (FFT order) and the
//! centred mode grid. Grids of 1 to 3 axes are padded to 3 (leading axes of size 1).

use crate::backend::{GpuBackend, Spreading};
use crate::buffer::GpuBuffer;
use crate::driver::{Arg, Driver, Range, MAX_RANK};
use crate::kernels;
use backend_core::nufft::SpreadParams;
use backend_core::{check, Backend, DeviceBuffer, Real, Result, C};
use ndarray::{Array1, ArrayView1};

type Buf<D, E> = GpuBuffer<D, E>;

/// Tile side along an axis of `nf` cells: the smallest divisor of `nf` of at least 16 cells
/// (at least the kernel width, as the coloured spreading needs), or `nf` itself.
fn tile_side(nf: usize) -> usize {
    (16..=nf).find(|d| nf.is_multiple_of(*d)).unwrap_or(nf)
}

/// The tile colours along an axis of `nt` tiles (`epri_tile_colour` of nufft.cl).
fn colours(nt: usize) -> std::ops::Range<i32> {
    match nt {
        1 => 0..1,
        n if n % 2 == 1 => 0..3,
        _ => 0..2,
    }
}

/// Per-axis values padded to 3 axes with leading `fill`, as a `DIMS`.
fn padded(values: &[usize], fill: i32) -> Result<[i32; MAX_RANK]> {
    let mut d = [fill; MAX_RANK];
    let lead = 3 - values.len();
    for (a, &v) in values.iter().enumerate() {
        d[lead + a] = i32::try_from(v).map_err(|_| {
            backend_core::Error::InvalidArgument(format!("NUFFT grid of {v} cells too large"))
        })?;
    }
    Ok(d)
}

/// Non-uniform points on the device: coordinates in fine-grid cells, folded into `[0, nf)`,
/// sorted by tile of the fine grid (row-major tiles of at least 16 cells per axis), with the
/// permutation back to the caller's order and the start of each tile's points.
pub struct GpuPoints<D: Driver, T: Real> {
    /// `xs[a * M + j]`: coordinate of sorted point j along axis a.
    xs: Buf<D, T>,
    /// `perm[j]`: index in the caller's order of sorted point j.
    perm: Buf<D, u32>,
    /// Sorted points of tile b: `bin_start[b] .. bin_start[b + 1]`.
    bin_start: Buf<D, u32>,
    m: usize,
    /// The parameters the points were prepared for.
    params: SpreadParams,
    tiles: Vec<usize>,
}

pub(crate) fn setpts<D: Driver, T: Real>(
    b: &GpuBackend<D>,
    coords: &[ArrayView1<'_, T>],
    params: &SpreadParams,
) -> Result<GpuPoints<D, T>> {
    let m = check::nufft_setpts(coords, params)?;
    let d = params.dim();
    let two_pi = 2.0 * std::f64::consts::PI;
    let folded: Vec<Vec<f64>> = coords
        .iter()
        .zip(&params.fine)
        .map(|(c, &nf)| {
            let nf = nf as f64;
            c.iter()
                .map(|v| {
                    let x = v.f64().rem_euclid(two_pi) * nf / two_pi;
                    if x >= nf {
                        x - nf
                    } else {
                        x
                    }
                })
                .collect()
        })
        .collect();
    // Counting sort by tile.
    let tiles: Vec<usize> = params.fine.iter().map(|&nf| tile_side(nf)).collect();
    let ntiles: Vec<usize> = params
        .fine
        .iter()
        .zip(&tiles)
        .map(|(nf, t)| nf / t)
        .collect();
    let bins: Vec<usize> = (0..m)
        .map(|j| {
            (0..d).fold(0usize, |acc, a| {
                acc * ntiles[a] + (folded[a][j] as usize / tiles[a]).min(ntiles[a] - 1)
            })
        })
        .collect();
    let nbins: usize = ntiles.iter().product();
    let mut start = vec![0u32; nbins + 1];
    for &bin in &bins {
        start[bin + 1] += 1;
    }
    for bin in 0..nbins {
        start[bin + 1] += start[bin];
    }
    let mut next = start.clone();
    let mut perm = vec![0u32; m];
    for (j, &bin) in bins.iter().enumerate() {
        perm[next[bin] as usize] = j as u32;
        next[bin] += 1;
    }
    let xs = Array1::from_iter(
        (0..d)
            .flat_map(|a| perm.iter().map(move |&j| (a, j)))
            .map(|(a, j)| T::of(folded[a][j as usize])),
    );
    Ok(GpuPoints {
        xs: b.upload_flat(&[d * m], xs.to_vec())?,
        perm: b.upload_flat(&[m], perm)?,
        bin_start: b.upload_flat(&[nbins + 1], start)?,
        m,
        params: params.clone(),
        tiles,
    })
}

impl<D: Driver, T: Real> GpuPoints<D, T> {
    /// The arguments shared by the spreading and interpolation kernels: xs, perm, `first`,
    /// `second`, M, ntrans, dim, fine (padded), w, beta, c.
    fn args<'a>(&'a self, first: &'a D::Mem, second: &'a D::Mem) -> Result<Vec<Arg<'a, D::Mem>>> {
        let p = &self.params;
        let k = p.kernel;
        Ok(vec![
            Arg::Mem(&self.xs.mem),
            Arg::Mem(&self.perm.mem),
            Arg::Mem(first),
            Arg::Mem(second),
            Arg::size(self.m)?,
            Arg::size(p.n_trans)?,
            Arg::I32(p.dim() as i32),
            Arg::Dims(padded(&p.fine, 1)?),
            Arg::I32(k.width as i32),
            Arg::real_in(T::PRECISION, k.beta),
            Arg::real_in(T::PRECISION, k.c),
        ])
    }
}

pub(crate) fn spread<D: Driver, T: Real>(
    b: &GpuBackend<D>,
    pts: &GpuPoints<D, T>,
    params: &SpreadParams,
    c: &Buf<D, C<T>>,
    fine: &mut Buf<D, C<T>>,
) -> Result<()> {
    check::nufft_points(
        "nufft_spread",
        &pts.params,
        pts.m,
        params,
        c.shape(),
        fine.shape(),
    )?;
    b.fill(fine, C::new(T::zero(), T::zero()))?;
    let n_trans = params.n_trans;
    if b.spreading() == Spreading::Atomic {
        let args = pts.args(&c.mem, &fine.mem)?;
        return b.items(T::PRECISION, &kernels::NUFFT_SPREAD, pts.m * n_trans, &args);
    }
    let d = params.dim();
    let nt: Vec<usize> = params
        .fine
        .iter()
        .zip(&pts.tiles)
        .map(|(f, t)| f / t)
        .collect();
    let mut per_axis = vec![0..1; 3 - d];
    per_axis.extend(nt.iter().map(|&n| colours(n)));
    let ntiles: usize = nt.iter().product();
    for c0 in per_axis[0].clone() {
        for c1 in per_axis[1].clone() {
            for c2 in per_axis[2].clone() {
                let mut colour = [0i32; MAX_RANK];
                colour[..3].copy_from_slice(&[c0, c1, c2]);
                let mut args = pts.args(&c.mem, &fine.mem)?;
                args.insert(2, Arg::Mem(&pts.bin_start.mem));
                args.insert(9, Arg::Dims(padded(&pts.tiles, 1)?));
                args.insert(10, Arg::Dims(colour));
                b.launch(
                    T::PRECISION,
                    &kernels::NUFFT_SPREAD_TILES,
                    Range::groups(ntiles * n_trans, 1),
                    &args,
                )?;
            }
        }
    }
    Ok(())
}

pub(crate) fn interp<D: Driver, T: Real>(
    b: &GpuBackend<D>,
    pts: &GpuPoints<D, T>,
    params: &SpreadParams,
    fine: &Buf<D, C<T>>,
    c: &mut Buf<D, C<T>>,
) -> Result<()> {
    check::nufft_points(
        "nufft_interp",
        &pts.params,
        pts.m,
        params,
        c.shape(),
        fine.shape(),
    )?;
    let args = pts.args(&fine.mem, &c.mem)?;
    b.items(
        T::PRECISION,
        &kernels::NUFFT_INTERP,
        pts.m * params.n_trans,
        &args,
    )
}

/// Deconvolution (`precompensate = false`: `src` is the fine grid, `dst` the modes) or
/// pre-compensation (`true`: `src` the modes, `dst` the fine grid, zeroed first).
pub(crate) fn correct<D: Driver, T: Real>(
    b: &GpuBackend<D>,
    params: &SpreadParams,
    factors: &Buf<D, T>,
    src: &Buf<D, C<T>>,
    dst: &mut Buf<D, C<T>>,
    precompensate: bool,
) -> Result<()> {
    let (op, kernel, fine, modes) = if precompensate {
        (
            "nufft_precompensate",
            &kernels::NUFFT_PRECOMPENSATE,
            dst.shape(),
            src.shape(),
        )
    } else {
        (
            "nufft_deconvolve",
            &kernels::NUFFT_DECONVOLVE,
            src.shape(),
            dst.shape(),
        )
    };
    check::nufft_correct(op, params, factors.shape(), fine, modes)?;
    if precompensate {
        b.fill(dst, C::new(T::zero(), T::zero()))?;
    }
    let (nt, nm) = (params.n_trans, params.modes_len());
    b.items(
        T::PRECISION,
        kernel,
        nt * nm,
        &[
            Arg::Mem(&src.mem),
            Arg::Mem(&factors.mem),
            Arg::Mem(&dst.mem),
            Arg::size(nm)?,
            Arg::size(params.fine_len())?,
            Arg::size(nt)?,
            Arg::I32(params.dim() as i32),
            Arg::dims(op, &params.modes, 1)?,
            Arg::dims(op, &params.fine, 1)?,
        ],
    )
}
