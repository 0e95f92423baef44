//! NUFFT stages on OpenCL: points folded and sorted by bin on the host (`setpts`), spreading by
//! atomic adds, interpolation, and the deconvolution / pre-compensation copies between the
//! fine grid (FFT order) and the centred mode grid.

use crate::backend::{count, dims, OpenClBackend};
use crate::buffer::ClBuffer;
use crate::launch::{Arg, MAX_RANK};
use backend_core::nufft::SpreadParams;
use backend_core::{Backend, DeviceBuffer, Error, Precision, Real, Result, C};
use ndarray::{Array1, ArrayView1};

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

/// Non-uniform points on the device: coordinates in fine-grid cells, folded into `[0, nf)`,
/// sorted by tile of the fine grid (row-major tiles of [`tile_side`] cells per axis), with the
/// permutation back to the caller's order and the start of each tile's points.
pub struct ClPoints<T: Real> {
    /// `xs[a * M + j]`: coordinate of sorted point j along axis a.
    xs: ClBuffer<T>,
    /// `perm[j]`: index in the caller's order of sorted point j.
    perm: ClBuffer<u32>,
    /// Sorted points of tile b: `bin_start[b] .. bin_start[b + 1]`.
    bin_start: ClBuffer<u32>,
    m: usize,
    fine: Vec<usize>,
    tiles: Vec<usize>,
}

impl<T: Real> ClPoints<T> {
    pub(crate) fn new(
        b: &OpenClBackend,
        coords: &[ArrayView1<'_, T>],
        params: &SpreadParams,
    ) -> Result<Self> {
        let d = params.dim();
        if coords.len() != d {
            return Err(Error::InvalidArgument(format!(
                "NUFFT setpts: {} coordinate arrays for {d} grid axes",
                coords.len()
            )));
        }
        let m = coords[0].len();
        count(m * params.n_trans)?;
        let mut folded = Vec::with_capacity(d);
        for (a, c) in coords.iter().enumerate() {
            if c.len() != m {
                return Err(Error::shape("NUFFT setpts", &[m], &[c.len()]));
            }
            let nf = params.fine[a] as f64;
            let two_pi = 2.0 * std::f64::consts::PI;
            let mut xa = Vec::with_capacity(m);
            for v in c.iter() {
                let v = v.f64();
                if !v.is_finite() {
                    return Err(Error::NonFinite("NUFFT points".into()));
                }
                let mut x = v.rem_euclid(two_pi) * nf / two_pi;
                if x >= nf {
                    x -= nf;
                }
                xa.push(x);
            }
            folded.push(xa);
        }
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
        for &b in &bins {
            start[b + 1] += 1;
        }
        for b in 0..nbins {
            start[b + 1] += start[b];
        }
        let mut next = start.clone();
        let mut perm = vec![0u32; m];
        for (j, &b) in bins.iter().enumerate() {
            perm[next[b] as usize] = j as u32;
            next[b] += 1;
        }
        let xs = Array1::from_iter(
            (0..d)
                .flat_map(|a| perm.iter().map(move |&j| (a, j)))
                .map(|(a, j)| T::of(folded[a][j as usize])),
        );
        Ok(ClPoints {
            xs: b.upload(xs.view().into_dyn())?,
            perm: b.upload(Array1::from(perm).view().into_dyn())?,
            bin_start: b.upload(Array1::from(start).view().into_dyn())?,
            m,
            fine: params.fine.clone(),
            tiles,
        })
    }

    fn check(&self, op: &str, params: &SpreadParams, c: &[usize], fine: &[usize]) -> Result<()> {
        if params.fine != self.fine {
            return Err(Error::InvalidArgument(format!(
                "{op}: points set for the fine grid {:?}, used with {:?}",
                self.fine, params.fine
            )));
        }
        let nt = params.n_trans;
        let cl: usize = c.iter().product();
        if cl != nt * self.m {
            return Err(Error::shape(op, &[nt, self.m], c));
        }
        let fl: usize = fine.iter().product();
        if fl != nt * params.fine_len() {
            let mut want = vec![nt];
            want.extend(&params.fine);
            return Err(Error::shape(op, &want, fine));
        }
        Ok(())
    }

    fn args(
        &self,
        params: &SpreadParams,
        c: &ClBuffer<C<T>>,
        fine: &ClBuffer<C<T>>,
        c_first: bool,
    ) -> Result<Vec<Arg>> {
        let d = params.dim();
        let mut fd = [1i32; MAX_RANK];
        for a in 0..d {
            fd[3 - d + a] = i32::try_from(params.fine[a])
                .map_err(|_| Error::InvalidArgument("NUFFT fine grid too large".into()))?;
        }
        let k = params.kernel;
        let double = T::PRECISION == Precision::F64;
        let (first, second) = if c_first {
            (c.mem(), fine.mem())
        } else {
            (fine.mem(), c.mem())
        };
        Ok(vec![
            Arg::Mem(self.xs.mem()),
            Arg::Mem(self.perm.mem()),
            Arg::Mem(first),
            Arg::Mem(second),
            Arg::U32(count(self.m)?),
            Arg::U32(count(params.n_trans)?),
            Arg::I32(d as i32),
            Arg::Dims(fd),
            Arg::I32(k.width as i32),
            Arg::real(double, k.beta),
            Arg::real(double, k.c),
        ])
    }

    pub(crate) fn spread(
        &self,
        b: &OpenClBackend,
        params: &SpreadParams,
        c: &ClBuffer<C<T>>,
        fine: &mut ClBuffer<C<T>>,
    ) -> Result<()> {
        self.check("nufft_spread", params, c.shape(), fine.shape())?;
        let d = params.dim();
        let mut td = [1i32; MAX_RANK];
        for a in 0..d {
            td[3 - d + a] = self.tiles[a] as i32;
        }
        let nt: Vec<usize> = self
            .fine
            .iter()
            .zip(&self.tiles)
            .map(|(f, t)| f / t)
            .collect();
        let mut per_axis = vec![0..1; 3 - d];
        per_axis.extend(nt.iter().map(|&n| colours(n)));
        b.fill(fine, C::new(T::zero(), T::zero()))?;
        let ntiles: usize = nt.iter().product();
        for c0 in per_axis[0].clone() {
            for c1 in per_axis[1].clone() {
                for c2 in per_axis[2].clone() {
                    let mut colour = [0i32; MAX_RANK];
                    colour[..3].copy_from_slice(&[c0, c1, c2]);
                    let mut args = self.args(params, c, fine, true)?;
                    args.insert(2, Arg::Mem(self.bin_start.mem()));
                    args.insert(9, Arg::Dims(td));
                    args.insert(10, Arg::Dims(colour));
                    b.launch_exact(
                        T::PRECISION,
                        "nufft_spread_tiles",
                        ntiles * params.n_trans,
                        1,
                        &args,
                    )?;
                }
            }
        }
        Ok(())
    }

    pub(crate) fn interp(
        &self,
        b: &OpenClBackend,
        params: &SpreadParams,
        fine: &ClBuffer<C<T>>,
        c: &mut ClBuffer<C<T>>,
    ) -> Result<()> {
        self.check("nufft_interp", params, c.shape(), fine.shape())?;
        let args = self.args(params, c, fine, false)?;
        b.launch(T::PRECISION, "nufft_interp", self.m * params.n_trans, &args)
    }
}

/// Deconvolution (`precompensate = false`: `src` is the fine grid, `dst` the modes) or
/// pre-compensation (`true`: `src` the modes, `dst` the fine grid, zeroed first).
pub(crate) fn correct<T: Real>(
    b: &OpenClBackend,
    params: &SpreadParams,
    factors: &ClBuffer<T>,
    src: &ClBuffer<C<T>>,
    dst: &mut ClBuffer<C<T>>,
    precompensate: bool,
) -> Result<()> {
    let op = if precompensate {
        "nufft_precompensate"
    } else {
        "nufft_deconvolve"
    };
    let nt = params.n_trans;
    let (nm, nf) = (params.modes_len(), params.fine_len());
    let nfac: usize = params.modes.iter().sum();
    if factors.len() != nfac {
        return Err(Error::shape(
            format!("{op} (factors)"),
            &[nfac],
            factors.shape(),
        ));
    }
    let (modes_shape, fine_shape) = if precompensate {
        (src.shape(), dst.shape())
    } else {
        (dst.shape(), src.shape())
    };
    let full = |g: &[usize]| {
        let mut s = vec![nt];
        s.extend(g);
        s
    };
    if modes_shape.iter().product::<usize>() != nt * nm {
        return Err(Error::shape(
            format!("{op} (modes)"),
            &full(&params.modes),
            modes_shape,
        ));
    }
    if fine_shape.iter().product::<usize>() != nt * nf {
        return Err(Error::shape(
            format!("{op} (fine grid)"),
            &full(&params.fine),
            fine_shape,
        ));
    }
    if precompensate {
        b.fill(dst, C::new(T::zero(), T::zero()))?;
    }
    b.launch(
        T::PRECISION,
        op,
        nt * nm,
        &[
            Arg::Mem(src.mem()),
            Arg::Mem(factors.mem()),
            Arg::Mem(dst.mem()),
            Arg::U32(count(nm)?),
            Arg::U32(count(nf)?),
            Arg::U32(count(nt)?),
            Arg::I32(params.dim() as i32),
            Arg::Dims(dims(op, &params.modes)?),
            Arg::Dims(dims(op, &params.fine)?),
        ],
    )
}
