//! FFT plans: a batched Stockham autosort mixed-radix FFT (radices 4, 2, 3, 5, 7 and a generic
//! odd radix for the other primes) along each transformed axis, with twiddle tables computed
//! once in f64 and a scratch buffer for the ping-pong between stages.

use crate::backend::{count, dims, OpenClBackend};
use crate::buffer::ClBuffer;
use crate::launch::Arg;
use backend_core::{Backend, DeviceBuffer, Direction, Error, FftKind, FftSpec, Real, Result, C};
use ndarray::Array1;
use opencl3::memory::cl_mem;
use std::sync::Mutex;

/// Largest prime factor of a transform length (a generic-radix stage costs O(n p)).
pub const MAX_PRIME_FACTOR: usize = 1021;

/// One transformed axis, the array seen as `(outer, n, inner)`.
struct AxisPlan<T: Real> {
    n: usize,
    inner: usize,
    outer: usize,
    /// Radix of each stage, in order.
    radices: Vec<usize>,
    /// `exp(-2 i pi m / n)`, m < n.
    twiddles: ClBuffer<C<T>>,
}

/// A planned FFT over the trailing axes of a fixed shape ([`FftSpec`]).
pub struct ClFftPlan<T: Real> {
    spec: FftSpec,
    axes: Vec<AxisPlan<T>>,
    /// Full-size complex work buffers (one for C2C, two for R2C), locked during an execution
    /// so that concurrent executions of one plan do not share them.
    scratch: Mutex<Vec<ClBuffer<C<T>>>>,
}

/// The stage radices of a length: fours, a two, then odd primes.
fn factorize(n: usize) -> Result<Vec<usize>> {
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
            if p > MAX_PRIME_FACTOR {
                return Err(Error::InvalidArgument(format!(
                    "FFT length {n} has the prime factor {p}, above the OpenCL FFT's limit {MAX_PRIME_FACTOR}"
                )));
            }
            r.push(p);
            m /= p;
        }
        p += 2;
    }
    Ok(r)
}

fn stage_kernel(radix: usize) -> &'static str {
    match radix {
        2 => "fft_radix2",
        3 => "fft_radix3",
        4 => "fft_radix4",
        5 => "fft_radix5",
        7 => "fft_radix7",
        _ => "fft_radix_generic",
    }
}

impl<T: Real> ClFftPlan<T> {
    pub(crate) fn new(b: &OpenClBackend, spec: &FftSpec) -> Result<Self> {
        let spec = FftSpec::new(&spec.shape, spec.axes, spec.kind)?;
        let total: usize = spec.shape.iter().product();
        count(total)?;
        let rank = spec.shape.len();
        let mut axes = Vec::new();
        for a in rank - spec.axes..rank {
            let n = spec.shape[a];
            if n == 1 {
                continue;
            }
            let inner: usize = spec.shape[a + 1..].iter().product();
            let tw = Array1::from_iter((0..n).map(|m| {
                let ang = -2.0 * std::f64::consts::PI * m as f64 / n as f64;
                C::new(T::of(ang.cos()), T::of(ang.sin()))
            }));
            axes.push(AxisPlan {
                n,
                inner,
                outer: total / (n * inner),
                radices: factorize(n)?,
                twiddles: b.upload(tw.view().into_dyn())?,
            });
        }
        let nscratch = if spec.kind == FftKind::R2C { 2 } else { 1 };
        let scratch = (0..nscratch)
            .map(|_| b.alloc::<C<T>>(&spec.shape))
            .collect::<Result<Vec<_>>>()?;
        Ok(ClFftPlan {
            spec,
            axes,
            scratch: Mutex::new(scratch),
        })
    }

    fn expect_kind(&self, kind: FftKind, op: &str) -> Result<()> {
        if self.spec.kind == kind {
            Ok(())
        } else {
            Err(Error::InvalidArgument(format!(
                "{op} with a plan made for {:?}",
                self.spec.kind
            )))
        }
    }

    /// Runs every stage of every axis, ping-ponging between `a` (holding the input) and `b`;
    /// returns true when the result ends in `b`.
    fn run(&self, be: &OpenClBackend, a: cl_mem, b: cl_mem, dir: Direction) -> Result<bool> {
        let inverse = dir == Direction::Inverse;
        let nstages: usize = self.axes.iter().map(|x| x.radices.len()).sum();
        let ntot: usize = self.spec.dims().iter().product();
        let double = T::PRECISION == backend_core::Precision::F64;
        let (mut src, mut dst) = (a, b);
        let mut done = 0;
        for ax in &self.axes {
            let mut ns = 1;
            for &r in &ax.radices {
                done += 1;
                let scale = if inverse && done == nstages {
                    1.0 / ntot as f64
                } else {
                    1.0
                };
                let nthreads = ax.outer * ax.inner * (ax.n / r);
                let mut args = vec![
                    Arg::Mem(src),
                    Arg::Mem(dst),
                    Arg::Mem(ax.twiddles.mem()),
                    Arg::U32(count(ax.n)?),
                    Arg::U32(count(ax.inner)?),
                    Arg::U32(count(ns)?),
                    Arg::U32(count(nthreads)?),
                    Arg::I32(inverse as i32),
                    Arg::real(double, scale),
                ];
                let name = stage_kernel(r);
                if name == "fft_radix_generic" {
                    args.push(Arg::U32(count(r)?));
                }
                be.launch(T::PRECISION, name, nthreads, &args)?;
                ns *= r;
                std::mem::swap(&mut src, &mut dst);
            }
        }
        Ok(done % 2 == 1)
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Vec<ClBuffer<C<T>>>>> {
        self.scratch
            .lock()
            .map_err(|_| Error::Device("FFT plan scratch poisoned".into()))
    }

    pub(crate) fn c2c(
        &self,
        be: &OpenClBackend,
        data: &mut ClBuffer<C<T>>,
        dir: Direction,
    ) -> Result<()> {
        self.expect_kind(FftKind::C2C, "fft_c2c")?;
        backend_core::error::check_shape("fft_c2c", &self.spec.shape, data.shape())?;
        let mut scratch = self.lock()?;
        let s = &mut scratch[0];
        if self.run(be, data.mem(), s.mem(), dir)? {
            let n = data.len();
            be.copy_raw(&s.buf, &mut data.buf, n)?;
        }
        Ok(())
    }

    pub(crate) fn r2c(
        &self,
        be: &OpenClBackend,
        input: &ClBuffer<T>,
        out: &mut ClBuffer<C<T>>,
    ) -> Result<()> {
        self.expect_kind(FftKind::R2C, "fft_r2c")?;
        backend_core::error::check_shape("fft_r2c (input)", &self.spec.shape, input.shape())?;
        let spectrum = self.spec.spectrum_shape();
        backend_core::error::check_shape("fft_r2c (output)", &spectrum, out.shape())?;
        let mut scratch = self.lock()?;
        be.to_complex(input, &mut scratch[0])?;
        let in_b = self.run(be, scratch[0].mem(), scratch[1].mem(), Direction::Forward)?;
        let res = &scratch[in_b as usize];
        be.remap("fft_r2c", res, out, &vec![0; spectrum.len()], false)
    }

    pub(crate) fn c2r(
        &self,
        be: &OpenClBackend,
        input: &mut ClBuffer<C<T>>,
        out: &mut ClBuffer<T>,
    ) -> Result<()> {
        self.expect_kind(FftKind::R2C, "fft_c2r")?;
        let spectrum = self.spec.spectrum_shape();
        backend_core::error::check_shape("fft_c2r (input)", &spectrum, input.shape())?;
        backend_core::error::check_shape("fft_c2r (output)", &self.spec.shape, out.shape())?;
        let scratch = self.lock()?;
        let n_full = scratch[0].len();
        be.launch(
            T::PRECISION,
            "fft_hermitian_extend",
            n_full,
            &[
                Arg::Mem(input.mem()),
                Arg::Mem(scratch[0].mem()),
                Arg::U32(count(n_full)?),
                Arg::I32(self.spec.axes as i32),
                Arg::Dims(dims("fft_c2r", self.spec.dims())?),
            ],
        )?;
        let in_b = self.run(be, scratch[0].mem(), scratch[1].mem(), Direction::Inverse)?;
        let res = &scratch[in_b as usize];
        be.complex_part(res, backend_core::Part::Re, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors_multiply_back() {
        for n in [1usize, 2, 4, 8, 12, 30, 49, 97, 360, 1000, 1024, 1200, 2310] {
            let f = factorize(n).unwrap();
            assert_eq!(f.iter().product::<usize>(), n, "{n}: {f:?}");
        }
        assert!(factorize(2 * 1031).is_err());
    }
}
