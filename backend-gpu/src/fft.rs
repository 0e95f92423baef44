//! FFT plans: a batched Stockham autosort mixed-radix FFT (radices 4, 2, 3, 5, 7 and a generic
//! odd radix for the other primes up to [`MAX_PRIME_FACTOR`]) along each transformed axis, with
//! twiddle tables computed once in f64 and a scratch buffer for the ping-pong between stages.
//! A length with a larger prime factor goes through Bluestein's algorithm (a chirp
//! convolution by FFTs of a power-of-two length), so that every length works.

use crate::backend::GpuBackend;
use crate::buffer::GpuBuffer;
use crate::driver::{Arg, Driver};
use crate::kernels::{self, Kernel};
use backend_core::{
    check, Backend, DeviceBuffer, Direction, Error, FftKind, FftSpec, Part, Real, Result, C,
};
use std::sync::{Mutex, MutexGuard};

type Buf<D, E> = GpuBuffer<D, E>;
/// The work buffers of one plan.
type Scratch<D, T> = Vec<Buf<D, C<T>>>;

/// Largest prime factor that a generic-radix stage handles (it costs O(n p)); lengths with a
/// larger one use Bluestein's algorithm.
pub const MAX_PRIME_FACTOR: usize = 1021;

/// One transformed axis, the array seen as `(outer, n, inner)`.
pub(crate) struct AxisPlan<D: Driver, T: Real> {
    pub(crate) n: usize,
    inner: usize,
    outer: usize,
    pub(crate) method: Method<D, T>,
}

/// How an axis is transformed.
pub(crate) enum Method<D: Driver, T: Real> {
    /// Stockham stages.
    Stages {
        /// Radix of each stage, in order.
        radices: Vec<usize>,
        /// `exp(-2 i pi m / n)`, m < n.
        twiddles: Buf<D, C<T>>,
    },
    /// Bluestein's algorithm (a prime factor above [`MAX_PRIME_FACTOR`]).
    Bluestein(Box<Bluestein<D, T>>),
}

/// `X_k = w_k Σ_j (x_j w_j) conj(w_{k−j})`, `w_k = exp(−i π k² / n)`: the sum is a circular
/// convolution of length `m` (the power of two ≥ 2n − 1) done by Stockham FFTs of length m
/// over the lines; the inverse transform is `conj(forward(conj x))`.
pub(crate) struct Bluestein<D: Driver, T: Real> {
    m: usize,
    /// `w_k`, k < n, computed in f64 (k² reduced modulo 2n).
    chirp: Buf<D, C<T>>,
    /// FFT_m of `b`, `b_k = b_{m−k} = conj(w_k)` for k < n, zero elsewhere.
    kernel_hat: Buf<D, C<T>>,
    /// The length-m FFT over the `(lines, m)` work arrays.
    axis: AxisPlan<D, T>,
    /// Two `(lines, m)` work arrays, used only under the plan's scratch lock.
    work: [Buf<D, C<T>>; 2],
}

impl<D: Driver, T: Real> AxisPlan<D, T> {
    /// Stages this axis counts in the scratch ping-pong (a Bluestein axis writes once).
    fn stages(&self) -> usize {
        match &self.method {
            Method::Stages { radices, .. } => radices.len(),
            Method::Bluestein(_) => 1,
        }
    }
}

/// An even-length real transform along the last axis, done as a complex FFT of half length.
pub(crate) struct HalfPlan<D: Driver, T: Real> {
    /// The complex FFT of length h = n/2 over the rows (shape `(rows, h)`).
    pub(crate) axis: AxisPlan<D, T>,
    pub(crate) h: usize,
    rows: usize,
    /// `exp(-2 i pi k / n)`, k <= h.
    pub(crate) rtw: Buf<D, C<T>>,
}

/// A planned FFT over the trailing axes of a fixed shape ([`FftSpec`]).
///
/// C2C: every axis in turn, ping-ponging between the data and one scratch buffer. R2C with an
/// even last axis (at least 4): the last axis as a complex FFT of half length plus a
/// post-processing pass (pre-processing for c2r), the other axes on the half spectrum. R2C
/// with an odd last axis: the real array as complex, full C2C, half spectrum extracted (c2r:
/// Hermitian extension, full inverse, real part).
pub struct GpuFftPlan<D: Driver, T: Real> {
    pub(crate) spec: FftSpec,
    /// Axes transformed as complex: all of them (C2C, odd R2C) or the leading ones over the
    /// spectrum shape (even R2C), length-1 axes left out.
    pub(crate) axes: Vec<AxisPlan<D, T>>,
    pub(crate) half: Option<HalfPlan<D, T>>,
    /// Work buffers, locked during an execution so that concurrent executions of one plan do
    /// not share them.
    scratch: Mutex<Scratch<D, T>>,
}

/// The stage radices of a length: fours, a two, then odd primes.
fn factorize(n: usize) -> Vec<usize> {
    let mut r = Vec::new();
    let mut m = n;
    while m.is_multiple_of(4) {
        r.push(4);
        m /= 4;
    }
    if m.is_multiple_of(2) {
        r.push(2);
        m /= 2;
    }
    let mut p = 3;
    while m > 1 {
        if p * p > m {
            p = m;
        }
        while m.is_multiple_of(p) {
            r.push(p);
            m /= p;
        }
        p += 2;
    }
    r
}

fn stage_kernel(radix: usize) -> &'static Kernel {
    match radix {
        2 => &kernels::FFT_RADIX2,
        3 => &kernels::FFT_RADIX3,
        4 => &kernels::FFT_RADIX4,
        5 => &kernels::FFT_RADIX5,
        7 => &kernels::FFT_RADIX7,
        _ => &kernels::FFT_RADIX_GENERIC,
    }
}

/// `exp(-2 i pi m / n)` for m in `range`, computed in f64.
fn twiddles<D: Driver, T: Real>(b: &GpuBackend<D>, n: usize, count: usize) -> Result<Buf<D, C<T>>> {
    let tw = (0..count)
        .map(|m| {
            let ang = -2.0 * std::f64::consts::PI * m as f64 / n as f64;
            C::new(T::of(ang.cos()), T::of(ang.sin()))
        })
        .collect();
    b.upload_flat(&[count], tw)
}

/// The plan of axis `a` of an array of shape `shape` (`None` for a length-1 axis).
fn axis_plan<D: Driver, T: Real>(
    b: &GpuBackend<D>,
    shape: &[usize],
    a: usize,
) -> Result<Option<AxisPlan<D, T>>> {
    let n = shape[a];
    if n == 1 {
        return Ok(None);
    }
    let total: usize = shape.iter().product();
    let inner: usize = shape[a + 1..].iter().product();
    let outer = total / (n * inner);
    let radices = factorize(n);
    let method = if radices.iter().all(|&p| p <= MAX_PRIME_FACTOR) {
        Method::Stages {
            radices,
            twiddles: twiddles(b, n, n)?,
        }
    } else {
        Method::Bluestein(Box::new(bluestein(b, n, outer * inner)?))
    };
    Ok(Some(AxisPlan {
        n,
        inner,
        outer,
        method,
    }))
}

/// The Bluestein plan of length `n` over `lines` lines.
fn bluestein<D: Driver, T: Real>(
    b: &GpuBackend<D>,
    n: usize,
    lines: usize,
) -> Result<Bluestein<D, T>> {
    let m = (2 * n - 1).next_power_of_two();
    Arg::<D::Mem>::size(m.saturating_mul(lines))?;
    let w: Vec<(f64, f64)> = (0..n as u128)
        .map(|k| {
            let ang = -std::f64::consts::PI * ((k * k) % (2 * n as u128)) as f64 / n as f64;
            (ang.cos(), ang.sin())
        })
        .collect();
    let chirp = w.iter().map(|&(c, s)| C::new(T::of(c), T::of(s))).collect();
    let chirp = b.upload_flat(&[n], chirp)?;
    let mut bk = vec![C::new(T::of(0.0), T::of(0.0)); m];
    for (k, &(c, s)) in w.iter().enumerate() {
        let v = C::new(T::of(c), T::of(-s));
        bk[k] = v;
        bk[(m - k) % m] = v;
    }
    let mut kernel_hat = b.upload_flat(&[m], bk)?;
    let stages = |outer: usize| -> Result<AxisPlan<D, T>> {
        axis_plan(b, &[outer, m], 1)?.ok_or_else(|| Error::Device("Bluestein FFT plan".into()))
    };
    let tmp = b.alloc::<C<T>>(&[m])?;
    let one = stages(1)?;
    let res = GpuFftPlan::<D, T>::run(
        b,
        &[&one],
        &kernel_hat.mem,
        &tmp.mem,
        &kernel_hat.mem,
        Direction::Forward,
        1.0,
    )?;
    if std::ptr::eq(res, &tmp.mem) {
        crate::memory::copy_bytes(b, &tmp.mem, &mut kernel_hat.mem, tmp.bytes())?;
    }
    Ok(Bluestein {
        m,
        chirp,
        kernel_hat,
        axis: stages(lines)?,
        work: [b.alloc(&[lines, m])?, b.alloc(&[lines, m])?],
    })
}

impl<D: Driver, T: Real> Bluestein<D, T> {
    /// `dst <- scale · DFT(src)` along `ax` (inverse DFT, unscaled, if `inverse`); `src` is
    /// read whole before `dst` is written.
    fn execute(
        &self,
        be: &GpuBackend<D>,
        ax: &AxisPlan<D, T>,
        src: &D::Mem,
        dst: &D::Mem,
        inverse: bool,
        scale: f64,
    ) -> Result<()> {
        let (n, m, lines) = (ax.n, self.m, ax.outer * ax.inner);
        let [w0, w1] = [&self.work[0].mem, &self.work[1].mem];
        let sizes = |x: &mut Vec<Arg<'_, D::Mem>>| -> Result<()> {
            x.extend([
                Arg::size(n)?,
                Arg::size(ax.inner)?,
                Arg::size(m)?,
                Arg::size(lines)?,
                Arg::I32(inverse as i32),
            ]);
            Ok(())
        };
        let mut args = vec![Arg::Mem(src), Arg::Mem(w0), Arg::Mem(&self.chirp.mem)];
        sizes(&mut args)?;
        be.items(T::PRECISION, &kernels::FFT_BLUESTEIN_PRE, lines * m, &args)?;
        let (f, inv) = (Direction::Forward, Direction::Inverse);
        let r = GpuFftPlan::<D, T>::run(be, &[&self.axis], w0, w1, w0, f, 1.0)?;
        be.items(
            T::PRECISION,
            &kernels::CMUL_COMPLEX,
            lines * m,
            &[
                Arg::Mem(r),
                Arg::Mem(&self.kernel_hat.mem),
                Arg::size(lines * m)?,
                Arg::size(m)?,
                Arg::I32(0),
            ],
        )?;
        let other = if std::ptr::eq(r, w0) { w1 } else { w0 };
        let r = GpuFftPlan::<D, T>::run(be, &[&self.axis], r, other, r, inv, 1.0)?;
        let mut args = vec![Arg::Mem(r), Arg::Mem(dst), Arg::Mem(&self.chirp.mem)];
        sizes(&mut args)?;
        args.push(Arg::real_in(T::PRECISION, scale / m as f64));
        be.items(T::PRECISION, &kernels::FFT_BLUESTEIN_POST, lines * n, &args)
    }
}

impl<D: Driver, T: Real> GpuFftPlan<D, T> {
    pub(crate) fn new(b: &GpuBackend<D>, spec: &FftSpec) -> Result<Self> {
        let spec = FftSpec::new(&spec.shape, spec.axes, spec.kind)?;
        let total: usize = spec.shape.iter().product();
        Arg::<D::Mem>::size(2 * total)?;
        let rank = spec.shape.len();
        let n_last = spec.shape[rank - 1];
        let first = rank - spec.axes;
        let (axes, half, scratch_shape, nscratch) =
            if spec.kind == FftKind::R2C && n_last % 2 == 0 && n_last >= 4 {
                let spectrum = spec.spectrum_shape();
                let h = n_last / 2;
                let rows = total / n_last;
                let axis = axis_plan(b, &[rows, h], 1)?
                    .ok_or_else(|| Error::Device("half-length FFT plan".into()))?;
                let half = HalfPlan {
                    axis,
                    h,
                    rows,
                    rtw: twiddles(b, n_last, h + 1)?,
                };
                let axes = (first..rank - 1)
                    .map(|a| axis_plan(b, &spectrum, a))
                    .collect::<Result<Vec<_>>>()?;
                (axes, Some(half), spectrum, 2)
            } else {
                let axes = (first..rank)
                    .map(|a| axis_plan(b, &spec.shape, a))
                    .collect::<Result<Vec<_>>>()?;
                let n = if spec.kind == FftKind::R2C { 2 } else { 1 };
                (axes, None, spec.shape.clone(), n)
            };
        let scratch = (0..nscratch)
            .map(|_| b.alloc::<C<T>>(&scratch_shape))
            .collect::<Result<Vec<_>>>()?;
        Ok(GpuFftPlan {
            spec,
            axes: axes.into_iter().flatten().collect(),
            half,
            scratch: Mutex::new(scratch),
        })
    }

    /// Runs every stage of `axes`: the first reads `src`, the stages write `a`, `b`, `a`, ...
    /// (`src` may be `b`); the last stage scales by `scale_last`. Returns where the result is.
    fn run<'m>(
        be: &GpuBackend<D>,
        axes: &[&AxisPlan<D, T>],
        src: &'m D::Mem,
        a: &'m D::Mem,
        b: &'m D::Mem,
        dir: Direction,
        scale_last: f64,
    ) -> Result<&'m D::Mem> {
        let inverse = dir == Direction::Inverse;
        let nstages: usize = axes.iter().map(|x| x.stages()).sum();
        let mut cur = src;
        let mut done = 0;
        for ax in axes {
            let (radices, twiddles) = match &ax.method {
                Method::Stages { radices, twiddles } => (radices, twiddles),
                Method::Bluestein(bl) => {
                    let dst = if done % 2 == 0 { a } else { b };
                    done += 1;
                    let scale = if done == nstages { scale_last } else { 1.0 };
                    bl.execute(be, ax, cur, dst, inverse, scale)?;
                    cur = dst;
                    continue;
                }
            };
            let mut ns = 1;
            for &r in radices {
                let dst = if done % 2 == 0 { a } else { b };
                done += 1;
                let scale = if done == nstages { scale_last } else { 1.0 };
                let nthreads = ax.outer * ax.inner * (ax.n / r);
                let mut args = vec![
                    Arg::Mem(cur),
                    Arg::Mem(dst),
                    Arg::Mem(&twiddles.mem),
                    Arg::size(ax.n)?,
                    Arg::size(ax.inner)?,
                    Arg::size(ns)?,
                    Arg::size(nthreads)?,
                    Arg::I32(inverse as i32),
                    Arg::real_in(T::PRECISION, scale),
                ];
                let kernel = stage_kernel(r);
                if kernel == &kernels::FFT_RADIX_GENERIC {
                    args.push(Arg::size(r)?);
                }
                be.items(T::PRECISION, kernel, nthreads, &args)?;
                ns *= r;
                cur = dst;
            }
        }
        Ok(cur)
    }

    fn lock(&self) -> Result<MutexGuard<'_, Scratch<D, T>>> {
        self.scratch
            .lock()
            .map_err(|_| Error::Device("FFT plan scratch poisoned".into()))
    }

    fn all_axes(&self) -> Vec<&AxisPlan<D, T>> {
        self.axes.iter().collect()
    }

    pub(crate) fn c2c(
        &self,
        be: &GpuBackend<D>,
        data: &mut Buf<D, C<T>>,
        dir: Direction,
    ) -> Result<()> {
        check::fft_c2c(&self.spec, data.shape())?;
        let ntot: usize = self.spec.dims().iter().product();
        let scale = if dir == Direction::Inverse {
            1.0 / ntot as f64
        } else {
            1.0
        };
        let scratch = self.lock()?;
        let s = &scratch[0];
        let in_data = {
            let res = Self::run(
                be,
                &self.all_axes(),
                &data.mem,
                &s.mem,
                &data.mem,
                dir,
                scale,
            )?;
            std::ptr::eq(res, &data.mem)
        };
        if !in_data {
            let n = data.bytes();
            crate::memory::copy_bytes(be, &s.mem, &mut data.mem, n)?;
        }
        Ok(())
    }

    pub(crate) fn r2c(
        &self,
        be: &GpuBackend<D>,
        input: &Buf<D, T>,
        out: &mut Buf<D, C<T>>,
    ) -> Result<()> {
        check::fft_r2c(&self.spec, input.shape(), out.shape())?;
        let spectrum = self.spec.spectrum_shape();
        let mut scratch = self.lock()?;
        let Some(half) = &self.half else {
            be.to_complex(input, &mut scratch[0])?;
            let (s0, s1) = (&scratch[0].mem, &scratch[1].mem);
            let res = Self::run(be, &self.all_axes(), s0, s1, s0, Direction::Forward, 1.0)?;
            let res = &scratch[std::ptr::eq(res, s1) as usize];
            return crate::index::remap(be, "fft_r2c", res, out, &vec![0; spectrum.len()], false);
        };
        let (s0, s1) = (&scratch[0].mem, &scratch[1].mem);
        let z = Self::run(
            be,
            &[&half.axis],
            &input.mem,
            s0,
            s1,
            Direction::Forward,
            1.0,
        )?;
        let n = out.len();
        be.items(
            T::PRECISION,
            &kernels::FFT_R2C_POST,
            n,
            &[
                Arg::Mem(z),
                Arg::Mem(&out.mem),
                Arg::Mem(&half.rtw.mem),
                Arg::size(half.h)?,
                Arg::size(half.rows)?,
            ],
        )?;
        let in_out = {
            let res = Self::run(
                be,
                &self.all_axes(),
                &out.mem,
                s0,
                &out.mem,
                Direction::Forward,
                1.0,
            )?;
            std::ptr::eq(res, &out.mem)
        };
        if !in_out {
            let n = out.bytes();
            crate::memory::copy_bytes(be, &scratch[0].mem, &mut out.mem, n)?;
        }
        Ok(())
    }

    pub(crate) fn c2r(
        &self,
        be: &GpuBackend<D>,
        input: &mut Buf<D, C<T>>,
        out: &mut Buf<D, T>,
    ) -> Result<()> {
        check::fft_c2r(&self.spec, input.shape(), out.shape())?;
        let ntot: usize = self.spec.dims().iter().product();
        let scratch = self.lock()?;
        let (s0, s1) = (&scratch[0].mem, &scratch[1].mem);
        let Some(half) = &self.half else {
            let n_full = scratch[0].len();
            be.items(
                T::PRECISION,
                &kernels::FFT_HERMITIAN_EXTEND,
                n_full,
                &[
                    Arg::Mem(&input.mem),
                    Arg::Mem(s0),
                    Arg::size(n_full)?,
                    Arg::I32(self.spec.axes as i32),
                    Arg::dims("fft_c2r", self.spec.dims(), 1)?,
                ],
            )?;
            let scale = 1.0 / ntot as f64;
            let res = Self::run(be, &self.all_axes(), s0, s1, s0, Direction::Inverse, scale)?;
            return be.complex_part(&scratch[std::ptr::eq(res, s1) as usize], Part::Re, out);
        };
        // The leading axes first, in place in `input` (numpy's irfftn order), then the last.
        let r = Self::run(
            be,
            &self.all_axes(),
            &input.mem,
            s0,
            &input.mem,
            Direction::Inverse,
            1.0,
        )?;
        be.items(
            T::PRECISION,
            &kernels::FFT_C2R_PRE,
            half.rows * half.h,
            &[
                Arg::Mem(r),
                Arg::Mem(s1),
                Arg::Mem(&half.rtw.mem),
                Arg::size(half.h)?,
                Arg::size(half.rows)?,
                Arg::real_in(T::PRECISION, 2.0 / ntot as f64),
            ],
        )?;
        // The half-length inverse writes its last stage into `out` (read as complex pairs).
        let odd = half.axis.stages() % 2 == 1;
        let (a, b) = if odd { (&out.mem, s0) } else { (s0, &out.mem) };
        let res = Self::run(be, &[&half.axis], s1, a, b, Direction::Inverse, 1.0)?;
        debug_assert!(std::ptr::eq(res, &out.mem));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors_multiply_back() {
        for n in [1usize, 2, 4, 8, 12, 30, 49, 97, 360, 1000, 1024, 1200, 2310] {
            let f = factorize(n);
            assert_eq!(f.iter().product::<usize>(), n, "{n}: {f:?}");
        }
        assert_eq!(factorize(2 * 1031), [2, 1031]);
    }
}
