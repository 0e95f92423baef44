//! NUFFT stages on the device (kernels of `nufft.cl`): points prepared once on the host (folded
//! into the fine grid, sorted by bin for locality of the atomic adds) and uploaded; spreading
//! and interpolation with the ES kernel; deconvolution / pre-compensation between grids.

use crate::backend::CudaBackend;
use crate::buffer::CudaBuffer;
use crate::kernels;
use crate::program::{Arg, Dims};
use backend_core::nufft::SpreadParams;
use backend_core::{Backend, DeviceBuffer, Error, Real, Result, C};
use ndarray::ArrayView1;

/// Bin sizes (fine cells per axis of the 3-axis padded grid) of the point sort.
const BIN: [usize; 3] = [4, 4, 16];

/// Non-uniform points prepared for [`Backend::nufft_spread`] and [`Backend::nufft_interp`]:
/// `xs[a * M + j]`, the coordinate along axis `a` of sorted point `j` in fine-grid cells,
/// folded into `[0, nf_a)`, and `perm[j]`, its index in the caller's order.
pub struct CudaNufftPoints<T: Real> {
    xs: CudaBuffer<T>,
    perm: CudaBuffer<u32>,
    m: usize,
    params: SpreadParams,
}

/// The fine sizes padded to 3 axes with leading 1s (the kernels' `fdims`).
fn padded(fine: &[usize]) -> Vec<usize> {
    let mut p = vec![1; 3 - fine.len()];
    p.extend(fine);
    p
}

fn check_count(what: &str, expected: usize, got: &[usize]) -> Result<()> {
    if got.iter().product::<usize>() == expected {
        Ok(())
    } else {
        Err(Error::shape(format!("NUFFT {what}"), &[expected], got))
    }
}

impl<T: Real> CudaNufftPoints<T> {
    pub(crate) fn new(
        b: &CudaBackend,
        coords: &[ArrayView1<'_, T>],
        params: &SpreadParams,
    ) -> Result<Self> {
        let (xs, perm) = prepare(coords, params)?;
        let m = perm.len();
        Ok(CudaNufftPoints {
            xs: b.upload_flat(&[xs.len()], xs)?,
            perm: b.upload_flat(&[m], perm)?,
            m,
            params: params.clone(),
        })
    }
}

/// The points in the kernels' layout: `xs[a * M + j]`, the coordinate along axis `a` of sorted
/// point `j` in fine-grid cells (folded into `[0, nf_a)`), and `perm[j]`, its caller's index;
/// sorted by bins of [`BIN`] cells.
fn prepare<T: Real>(
    coords: &[ArrayView1<'_, T>],
    params: &SpreadParams,
) -> Result<(Vec<T>, Vec<u32>)> {
    let d = params.dim();
    if coords.len() != d || d == 0 || d > 3 || params.fine.len() != d {
        return Err(Error::InvalidArgument(format!(
            "NUFFT of dimension {d} given {} coordinate arrays",
            coords.len()
        )));
    }
    let m = coords[0].len();
    for (a, c) in coords.iter().enumerate() {
        check_count(&format!("points (coordinate array {a})"), m, &[c.len()])?;
        backend_core::error::check_finite("NUFFT points", c.iter())?;
    }
    let w = params.kernel.width;
    if w > gpu_kernels::MAX_NUFFT_WIDTH
        || params
            .fine
            .iter()
            .any(|&n| n < 2 * w || n > i32::MAX as usize / 2)
        || params
            .n_trans
            .checked_mul(m)
            .and_then(|n| u32::try_from(n).ok())
            .is_none()
    {
        return Err(Error::InvalidArgument(format!(
            "NUFFT of {m} points on fine grid {:?} with kernel width {w}: out of the device \
                 kernels' range",
            params.fine
        )));
    }
    let fine = padded(&params.fine);
    // Fold into [0, nf) cells and bin.
    let nbins: Vec<usize> = (0..3).map(|a| fine[a].div_ceil(BIN[a])).collect();
    let mut xs = vec![vec![T::zero(); m]; d];
    let mut bin_of = vec![0usize; m];
    for (j, bin) in bin_of.iter_mut().enumerate() {
        let mut b = 0;
        for a in 0..3 {
            let cell = if a < 3 - d {
                0
            } else {
                let axis = a + d - 3;
                let nf = fine[a] as f64;
                let x = coords[axis][j].f64().rem_euclid(std::f64::consts::TAU);
                let mut u = x * nf / std::f64::consts::TAU;
                if u >= nf {
                    u -= nf;
                }
                xs[axis][j] = T::of(u);
                (u as usize).min(fine[a] - 1) / BIN[a]
            };
            b = b * nbins[a] + cell;
        }
        *bin = b;
    }
    // Counting sort by bin.
    let mut start = vec![0usize; nbins.iter().product::<usize>() + 1];
    for &bin in &bin_of {
        start[bin + 1] += 1;
    }
    for i in 1..start.len() {
        start[i] += start[i - 1];
    }
    let mut perm = vec![0u32; m];
    for (j, &bin) in bin_of.iter().enumerate() {
        perm[start[bin]] = j as u32;
        start[bin] += 1;
    }
    let sorted: Vec<T> = xs
        .iter()
        .flat_map(|axis| perm.iter().map(move |&j| axis[j as usize]))
        .collect();
    Ok((sorted, perm))
}

impl<T: Real> CudaNufftPoints<T> {
    fn check(&self, params: &SpreadParams, c: &[usize], fine: &[usize]) -> Result<()> {
        if &self.params != params {
            return Err(Error::InvalidArgument(format!(
                "NUFFT points prepared for fine grid {:?} (n_trans {}), used with {:?} (n_trans {})",
                self.params.fine, self.params.n_trans, params.fine, params.n_trans
            )));
        }
        check_count("strengths / values", params.n_trans * self.m, c)?;
        check_count("fine grid", params.n_trans * params.fine_len(), fine)
    }

    /// The arguments shared by `nufft_spread` and `nufft_interp` after the four buffers.
    fn tail(&self, params: &SpreadParams) -> Result<Vec<Arg<'static>>> {
        let k = &params.kernel;
        Ok(vec![
            Arg::size(self.m)?,
            Arg::size(params.n_trans)?,
            Arg::I32(params.dim() as i32),
            Arg::Dims(Dims::new(&padded(&params.fine), 1)?),
            Arg::I32(k.width as i32),
            Arg::real(T::of(k.beta)),
            Arg::real(T::of(k.c)),
        ])
    }

    pub(crate) fn spread(
        &self,
        b: &CudaBackend,
        params: &SpreadParams,
        c: &CudaBuffer<C<T>>,
        fine: &mut CudaBuffer<C<T>>,
    ) -> Result<()> {
        self.check(params, c.shape(), fine.shape())?;
        b.memset_zero(fine)?;
        let mut args = vec![
            Arg::Mem(&self.xs.mem),
            Arg::Mem(&self.perm.mem),
            Arg::Mem(&c.mem),
            Arg::Mem(&fine.mem),
        ];
        args.extend(self.tail(params)?);
        b.run_items::<T>(&kernels::NUFFT_SPREAD, params.n_trans * self.m, &args)
    }

    pub(crate) fn interp(
        &self,
        b: &CudaBackend,
        params: &SpreadParams,
        fine: &CudaBuffer<C<T>>,
        c: &mut CudaBuffer<C<T>>,
    ) -> Result<()> {
        self.check(params, c.shape(), fine.shape())?;
        let mut args = vec![
            Arg::Mem(&self.xs.mem),
            Arg::Mem(&self.perm.mem),
            Arg::Mem(&fine.mem),
            Arg::Mem(&c.mem),
        ];
        args.extend(self.tail(params)?);
        b.run_items::<T>(&kernels::NUFFT_INTERP, params.n_trans * self.m, &args)
    }
}

/// Checks the grids of a deconvolution / pre-compensation and returns the arguments after the
/// three buffers.
fn grid_args<T: Real>(
    params: &SpreadParams,
    factors: &CudaBuffer<T>,
    modes: &[usize],
    fine: &[usize],
) -> Result<Vec<Arg<'static>>> {
    let d = params.dim();
    if d == 0 || d > 3 || params.fine.len() != d {
        return Err(Error::InvalidArgument(format!("NUFFT of dimension {d}")));
    }
    check_count(
        "correction factors",
        params.modes.iter().sum(),
        factors.shape(),
    )?;
    check_count("modes", params.n_trans * params.modes_len(), modes)?;
    check_count("fine grid", params.n_trans * params.fine_len(), fine)?;
    Ok(vec![
        Arg::size(params.modes_len())?,
        Arg::size(params.fine_len())?,
        Arg::size(params.n_trans)?,
        Arg::I32(d as i32),
        Arg::Dims(Dims::new(&params.modes, 1)?),
        Arg::Dims(Dims::new(&params.fine, 1)?),
    ])
}

pub(crate) fn deconvolve<T: Real>(
    b: &CudaBackend,
    params: &SpreadParams,
    factors: &CudaBuffer<T>,
    fine: &CudaBuffer<C<T>>,
    modes: &mut CudaBuffer<C<T>>,
) -> Result<()> {
    let tail = grid_args(params, factors, modes.shape(), fine.shape())?;
    let mut args = vec![
        Arg::Mem(&fine.mem),
        Arg::Mem(&factors.mem),
        Arg::Mem(&modes.mem),
    ];
    args.extend(tail);
    b.run_items::<T>(&kernels::NUFFT_DECONVOLVE, modes.len(), &args)
}

pub(crate) fn precompensate<T: Real>(
    b: &CudaBackend,
    params: &SpreadParams,
    factors: &CudaBuffer<T>,
    modes: &CudaBuffer<C<T>>,
    fine: &mut CudaBuffer<C<T>>,
) -> Result<()> {
    let tail = grid_args(params, factors, modes.shape(), fine.shape())?;
    b.memset_zero(fine)?;
    let mut args = vec![
        Arg::Mem(&modes.mem),
        Arg::Mem(&factors.mem),
        Arg::Mem(&fine.mem),
    ];
    args.extend(tail);
    b.run_items::<T>(&kernels::NUFFT_PRECOMPENSATE, modes.len(), &args)
}

#[cfg(test)]
mod tests {
    //! The host side of the NUFFT (fold, sort, layout) checked without a device: the kernels'
    //! documented arithmetic (nufft.cl) is emulated on the prepared points and compared with
    //! the direct sum `f[k] = Σ_j c_j exp(+i <k, x_j>)`.
    use super::*;
    use backend_core::nufft::{fine_size, EsKernel};
    use ndarray::Array1;
    use num_complex::Complex;
    use std::f64::consts::TAU;

    type Z = Complex<f64>;

    fn params(modes: &[usize], eps: f64) -> SpreadParams {
        let kernel = EsKernel::for_eps(eps, 2.0).unwrap();
        SpreadParams {
            modes: modes.to_vec(),
            fine: modes.iter().map(|&n| fine_size(n, &kernel)).collect(),
            n_trans: 1,
            kernel,
        }
    }

    /// `m` points along each of `d` axes, the first ones on the folding edges.
    fn coords(d: usize, m: usize) -> Vec<Array1<f64>> {
        use std::f64::consts::PI;
        let edges = [-PI, PI, 0.0, TAU, -1e-300, 1e7, 3.0 * PI, -TAU];
        (0..d)
            .map(|a| {
                Array1::from_iter((0..m).map(|j| match edges.get(j) {
                    Some(&e) => e,
                    None => 9.0 * ((j * 31 + a * 17) as f64 * 0.7).sin(),
                }))
            })
            .collect()
    }

    #[test]
    fn points_are_folded_permuted_and_sorted_by_bin() {
        for d in 1..=3 {
            let p = params(&[10, 7, 12][..d], 1e-6);
            let x = coords(d, 200);
            let views: Vec<_> = x.iter().map(|a| a.view()).collect();
            let (xs, perm) = prepare(&views, &p).unwrap();
            let mut seen = perm.clone();
            seen.sort_unstable();
            assert_eq!(seen, (0..200).collect::<Vec<u32>>(), "a permutation");
            let fine = padded(&p.fine);
            let mut last_bin = 0;
            for (j, &orig) in perm.iter().enumerate() {
                let mut bin = 0;
                for a in 0..3 {
                    let cell = if a < 3 - d {
                        0
                    } else {
                        let axis = a + d - 3;
                        let nf = fine[a] as f64;
                        let u = xs[axis * 200 + j];
                        assert!((0.0..nf).contains(&u), "{u} outside [0, {nf})");
                        let xo = x[axis][orig as usize];
                        let turns = (u * TAU / nf - xo) / TAU;
                        let tol = 1e-12 * xo.abs().max(1.0);
                        assert!(
                            (turns - turns.round()).abs() < tol,
                            "{xo} -> {u}: not a fold"
                        );
                        (u as usize).min(fine[a] - 1) / BIN[a]
                    };
                    bin = bin * fine[a].div_ceil(BIN[a]) + cell;
                }
                assert!(bin >= last_bin, "bins not sorted");
                last_bin = bin;
            }
        }
    }

    /// nufft_spread, the backend's inverse FFT (scaled by 1/N) and nufft_deconvolve with the
    /// plan's factors (nf / φ̂), emulated on the host.
    fn emulated_type1(p: &SpreadParams, xs: &[f64], perm: &[u32], c: &[Z]) -> Vec<Z> {
        let (d, m) = (p.dim(), perm.len());
        let fine = padded(&p.fine);
        let k = &p.kernel;
        let w = k.width as i64;
        let nfine: usize = fine.iter().product();
        let mut grid = vec![Z::new(0.0, 0.0); nfine];
        for j in 0..m {
            let mut cells: Vec<Vec<(usize, f64)>> = Vec::new();
            for a in 0..3 {
                if a < 3 - d {
                    cells.push(vec![(0, 1.0)]);
                    continue;
                }
                let u = xs[(a + d - 3) * m + j];
                let x0 = (u - w as f64 / 2.0).ceil();
                let n = fine[a] as i64;
                cells.push(
                    (0..w)
                        .map(|q| {
                            let i = (x0 as i64 + q).rem_euclid(n) as usize;
                            (i, k.eval(x0 + q as f64 - u))
                        })
                        .collect(),
                );
            }
            for &(i0, k0) in &cells[0] {
                for &(i1, k1) in &cells[1] {
                    for &(i2, k2) in &cells[2] {
                        grid[(i0 * fine[1] + i1) * fine[2] + i2] +=
                            c[perm[j] as usize] * (k0 * k1 * k2);
                    }
                }
            }
        }
        let factors: Vec<Vec<f64>> = p
            .modes
            .iter()
            .zip(&p.fine)
            .map(|(&n, &nf)| {
                k.fourier_series(n, nf)
                    .iter()
                    .map(|&f| nf as f64 / f)
                    .collect()
            })
            .collect();
        let nmodes = p.modes_len();
        (0..nmodes)
            .map(|flat| {
                let mut rest = flat;
                let mut kc = vec![0i64; d];
                let mut fac = 1.0;
                for a in (0..d).rev() {
                    let ka = rest % p.modes[a];
                    rest /= p.modes[a];
                    kc[a] = ka as i64 - (p.modes[a] / 2) as i64;
                    fac *= factors[a][ka];
                }
                // inverse DFT (scaled by 1/N) of the fine grid at frequency kc
                let mut s = Z::new(0.0, 0.0);
                for (g, v) in grid.iter().enumerate() {
                    let mut r = g;
                    let mut ph = 0.0;
                    for a in (0..3).rev() {
                        let i = r % fine[a];
                        r /= fine[a];
                        if a >= 3 - d {
                            ph += (kc[a + d - 3] * i as i64) as f64 / fine[a] as f64;
                        }
                    }
                    s += v * Z::from_polar(1.0, TAU * ph);
                }
                s / nfine as f64 * fac
            })
            .collect()
    }

    #[test]
    fn emulated_type1_matches_the_direct_sum() {
        for modes in [&[12usize][..], &[8, 7], &[5, 4, 6]] {
            let p = params(modes, 1e-9);
            let d = modes.len();
            let m = 40;
            let x = coords(d, m);
            let views: Vec<_> = x.iter().map(|a| a.view()).collect();
            let (xs, perm) = prepare(&views, &p).unwrap();
            let c: Vec<Z> = (0..m)
                .map(|j| Z::new((j as f64).cos(), (2.0 * j as f64).sin()))
                .collect();
            let got = emulated_type1(&p, &xs, &perm, &c);
            let (mut num, mut den) = (0.0, 0.0);
            for (flat, g) in got.iter().enumerate() {
                let mut rest = flat;
                let mut want = Z::new(0.0, 0.0);
                let mut kc = vec![0.0; d];
                for a in (0..d).rev() {
                    kc[a] = (rest % modes[a]) as f64 - (modes[a] / 2) as f64;
                    rest /= modes[a];
                }
                for (j, cj) in c.iter().enumerate() {
                    let ph: f64 = (0..d).map(|a| kc[a] * x[a][j]).sum();
                    want += cj * Z::from_polar(1.0, ph);
                }
                num += (g - want).norm_sqr();
                den += want.norm_sqr();
            }
            let err = (num / den).sqrt();
            assert!(err < 1e-7, "{modes:?}: relative error {err}");
        }
    }
}
