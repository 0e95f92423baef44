//! NUFFT stages on the device (kernels of `nufft.cl`): points prepared once on the host (folded
//! into the fine grid, sorted by bin for locality of the atomic adds) and uploaded; spreading
//! and interpolation with the ES kernel; deconvolution / pre-compensation between grids.

use crate::backend::CudaBackend;
use crate::buffer::CudaBuffer;
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
                    let u = (x * nf / std::f64::consts::TAU).min(nf);
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
        Ok(CudaNufftPoints {
            xs: b.upload_flat(&[d * m], sorted)?,
            perm: b.upload_flat(&[m], perm)?,
            m,
            params: params.clone(),
        })
    }

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
        b.run_items::<T>("nufft_spread", params.n_trans * self.m, &args)
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
        b.run_items::<T>("nufft_interp", params.n_trans * self.m, &args)
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
    b.run_items::<T>("nufft_deconvolve", modes.len(), &args)
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
    b.run_items::<T>("nufft_precompensate", modes.len(), &args)
}
