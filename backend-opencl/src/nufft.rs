//! NUFFT stages on OpenCL: points folded and sorted by bin on the host (`setpts`), spreading by
//! atomic adds, interpolation, and the deconvolution / pre-compensation copies between the
//! fine grid (FFT order) and the centred mode grid.

use crate::backend::{count, dims, OpenClBackend};
use crate::buffer::ClBuffer;
use crate::launch::{Arg, MAX_RANK};
use backend_core::nufft::SpreadParams;
use backend_core::{Backend, DeviceBuffer, Error, Precision, Real, Result, C};
use ndarray::{Array1, ArrayView1};

/// Side of a sorting bin, in fine-grid cells.
const BIN: usize = 16;

/// Non-uniform points on the device: coordinates in fine-grid cells, folded into `[0, nf)`,
/// sorted by bin (row-major bins of `BIN` cells), with the permutation back to the caller's
/// order.
pub struct ClPoints<T: Real> {
    /// `xs[a * M + j]`: coordinate of sorted point j along axis a.
    xs: ClBuffer<T>,
    /// `perm[j]`: index in the caller's order of sorted point j.
    perm: ClBuffer<u32>,
    m: usize,
    fine: Vec<usize>,
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
        let bin_of = |j: usize| {
            (0..d).fold(0usize, |acc, a| {
                let nb = params.fine[a].div_ceil(BIN);
                acc * nb + (folded[a][j] as usize / BIN).min(nb - 1)
            })
        };
        let mut perm: Vec<u32> = (0..m as u32).collect();
        perm.sort_by_key(|&j| bin_of(j as usize));
        let xs = Array1::from_iter(
            (0..d)
                .flat_map(|a| perm.iter().map(move |&j| (a, j)))
                .map(|(a, j)| T::of(folded[a][j as usize])),
        );
        Ok(ClPoints {
            xs: b.upload(xs.view().into_dyn())?,
            perm: b.upload(Array1::from(perm).view().into_dyn())?,
            m,
            fine: params.fine.clone(),
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
        b.fill(fine, C::new(T::zero(), T::zero()))?;
        let args = self.args(params, c, fine, true)?;
        b.launch(T::PRECISION, "nufft_spread", self.m * params.n_trans, &args)
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
