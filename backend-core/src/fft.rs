//! FFT plan descriptions shared by every backend.

use crate::backend::{Backend, DeviceBuffer};
use crate::error::{check_shape, Error, Result};
use crate::ops::{Direction, Part};
use crate::scalar::{Real, C};

/// Complex-to-complex or real-to-complex (half spectrum) transform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FftKind {
    /// Complex input and output of the same shape.
    C2C,
    /// Real input of shape `(..., n)`, complex output `(..., n/2 + 1)` along the last axis (and
    /// the inverse, complex-to-real).
    R2C,
}

/// What an FFT plan transforms: an array of shape `shape` (for `R2C`, the shape of the *real*
/// array), over its last `axes` axes, batched over the leading ones.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FftSpec {
    /// Full array shape, row-major (C order). For `R2C` this is the real-space shape.
    pub shape: Vec<usize>,
    /// Number of trailing axes transformed (1 to 4); the leading axes are a batch.
    pub axes: usize,
    /// Transform kind.
    pub kind: FftKind,
}

impl FftSpec {
    /// A spec, checked: `1 <= axes <= min(4, shape.len())` and no zero-length axis.
    pub fn new(shape: &[usize], axes: usize, kind: FftKind) -> Result<Self> {
        if axes == 0 || axes > 4 || axes > shape.len() {
            return Err(Error::InvalidArgument(format!(
                "FFT over {axes} axes of an array of shape {shape:?} (1 to 4 axes, at most the array's rank)"
            )));
        }
        if shape.contains(&0) {
            return Err(Error::InvalidArgument(format!(
                "FFT of an empty array of shape {shape:?}"
            )));
        }
        Ok(FftSpec {
            shape: shape.to_vec(),
            axes,
            kind,
        })
    }

    /// The transformed sizes (last `axes` entries of the shape).
    pub fn dims(&self) -> &[usize] {
        &self.shape[self.shape.len() - self.axes..]
    }

    /// Number of independent transforms (product of the leading axes).
    pub fn batch(&self) -> usize {
        self.shape[..self.shape.len() - self.axes].iter().product()
    }

    /// Shape of the spectrum: equal to `shape` for C2C, last axis `n/2 + 1` for R2C.
    pub fn spectrum_shape(&self) -> Vec<usize> {
        let mut s = self.shape.clone();
        if self.kind == FftKind::R2C {
            let last = s.len() - 1;
            s[last] = s[last] / 2 + 1;
        }
        s
    }
}

/// What a pruned complex FFT ([`Backend::fft_c2c_pruned`]) may skip, given a band of `b`
/// indices along each transformed axis of `n` points: `[0, b - b/2)` and `[n - b/2, n)`, the
/// FFT-order positions of the centred frequencies `-b/2 ..= (b-1)/2` (the layout of the modes
/// on a NUFFT's fine grid). The box is the product of the bands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pruning {
    /// The input is zero outside the box (a zero-padded spectrum): lines known to be zero are
    /// not transformed; the whole output is computed.
    ZeroInput,
    /// Only the output inside the box is needed; the rest is unspecified afterwards.
    KeepOutput,
}

/// Whether index `i` of an axis of `n` points lies in a band of `b` indices ([`Pruning`]).
pub fn in_band(i: usize, n: usize, b: usize) -> bool {
    i < b - b / 2 || i + b / 2 >= n
}

/// Checks a band for a pruned FFT of an array of shape `shape`: one entry per trailing
/// transformed axis, each between 1 and that axis' length.
pub fn check_band(shape: &[usize], band: &[usize]) -> Result<()> {
    let ok = !band.is_empty()
        && band.len() <= shape.len()
        && band
            .iter()
            .zip(&shape[shape.len() - band.len()..])
            .all(|(&b, &n)| b >= 1 && b <= n);
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "pruned FFT band {band:?} for an array of shape {shape:?} (1 to n indices on each transformed axis)"
        )))
    }
}

/// `(n/2 + 1, rest...)`: the half spectrum along axis 0 of a real `(n, rest...)` array.
pub fn leading_half_shape(real: &[usize]) -> Vec<usize> {
    let mut half = real.to_vec();
    half[0] = half[0] / 2 + 1;
    half
}

/// [`Backend::fft_r2c_leading`] from the primitives: `to_complex` into a temporary,
/// [`Backend::fft_c2c_leading`], the first `n/2 + 1` slices kept.
pub fn r2c_leading_composed<B: Backend, T: Real>(
    b: &B,
    all: &B::FftPlan<T>,
    trailing: &B::FftPlan<T>,
    input: &B::Buffer<T>,
    out: &mut B::Buffer<C<T>>,
) -> Result<()> {
    let shape = input.shape();
    check_shape("fft_r2c_leading", &leading_half_shape(shape), out.shape())?;
    let mut full = b.zeros::<C<T>>(shape)?;
    b.to_complex(input, &mut full)?;
    b.fft_c2c_leading(all, trailing, &mut full, Direction::Forward)?;
    b.extract(&full, &vec![0; shape.len()], out)
}

/// [`Backend::fft_c2r_leading`] from the primitives: `irfft(X) = Re IDFT(Y)` with `Y` the
/// zero-padded `X`, its bins `0 < c < n/2` doubled (they stand for their mirrors too).
pub fn c2r_leading_composed<B: Backend, T: Real>(
    b: &B,
    all: &B::FftPlan<T>,
    trailing: &B::FftPlan<T>,
    input: &mut B::Buffer<C<T>>,
    out: &mut B::Buffer<T>,
) -> Result<()> {
    let shape = out.shape().to_vec();
    let half = leading_half_shape(&shape);
    check_shape("fft_c2r_leading", &half, input.shape())?;
    let (mut at, mut mid) = (vec![0; shape.len()], half.clone());
    mid[0] = (shape[0] - 1) / 2;
    if mid[0] > 0 {
        // input += input · [0 < c < n/2]
        let mut w = b.zeros::<C<T>>(&half)?;
        at[0] = 1;
        b.embed(&b.full(&mid, C::new(T::one(), T::zero()))?, &mut w, &at)?;
        b.cmul(&mut w, input, false)?;
        b.axpby(
            C::new(T::one(), T::zero()),
            &w,
            C::new(T::one(), T::zero()),
            input,
        )?;
        at[0] = 0;
    }
    let mut full = b.zeros::<C<T>>(&shape)?;
    b.embed(input, &mut full, &at)?;
    b.fft_c2c_leading(all, trailing, &mut full, Direction::Inverse)?;
    b.complex_part(&full, Part::Re, out)
}

/// [`Backend::fft_convolve`] from the primitives: `embed`, `fft_r2c`, `cmul`, `fft_c2r`,
/// `extract` (five passes over the grid). Backends without a fused version use it, and it is
/// the reference the fused versions are tested against.
pub fn convolve_composed<B: Backend, T: Real>(
    b: &B,
    plan: &B::FftPlan<T>,
    kernel_hat: &B::Buffer<C<T>>,
    u: &B::Buffer<T>,
    out: &mut B::Buffer<T>,
    pad: &mut B::Buffer<T>,
    spec: &mut B::Buffer<C<T>>,
) -> Result<()> {
    check_shape("fft_convolve (kernel)", spec.shape(), kernel_hat.shape())?;
    let zero = vec![0; pad.shape().len()];
    b.embed(u, pad, &zero)?;
    b.fft_r2c(plan, pad, spec)?;
    b.cmul(spec, kernel_hat, false)?;
    b.fft_c2r(plan, spec, pad)?;
    b.extract(pad, &zero, out)
}

/// [`Backend::fft_convolve_matrix`] from the primitives (`embed`, `fft_r2c`, `copy`, `cmul`,
/// `axpby`, `fft_c2r`, `extract`): each input transformed once into `spec[j]`, the products of
/// row `k` summed in `spec[K]` (`spec[K + 1]` holds each term) before one inverse transform.
/// With one channel it is [`Backend::fft_convolve`]. Backends without a fused version use it,
/// and it is the reference the fused versions are tested against.
pub fn convolve_matrix_composed<B: Backend, T: Real>(
    b: &B,
    plan: &B::FftPlan<T>,
    kernel_hat: &[B::Buffer<C<T>>],
    u: &[B::Buffer<T>],
    out: &mut [B::Buffer<T>],
    pad: &mut B::Buffer<T>,
    spec: &mut [B::Buffer<C<T>>],
) -> Result<()> {
    let shapes = |x: &[B::Buffer<T>]| x.iter().map(|v| v.shape().to_vec()).collect::<Vec<_>>();
    let kernels: Vec<&[usize]> = kernel_hat.iter().map(|x| x.shape()).collect();
    let specs: Vec<&[usize]> = spec.iter().map(|x| x.shape()).collect();
    check_matrix_arity(&kernels, &shapes(u), &shapes(out), &specs)?;
    for k in &kernels {
        check_shape("fft_convolve_matrix (kernel)", specs[0], k)?;
    }
    let nk = u.len();
    if nk == 1 {
        let (first, _) = spec.split_at_mut(1);
        return b.fft_convolve(plan, &kernel_hat[0], &u[0], &mut out[0], pad, &mut first[0]);
    }
    let zero = vec![0; pad.shape().len()];
    let (spectra, work) = spec.split_at_mut(nk);
    let (acc, term) = work.split_at_mut(1);
    let (acc, term) = (&mut acc[0], &mut term[0]);
    for (uj, sj) in u.iter().zip(spectra.iter_mut()) {
        b.embed(uj, pad, &zero)?;
        b.fft_r2c(plan, pad, sj)?;
    }
    let one = C::new(T::one(), T::zero());
    for (row, out_k) in kernel_hat.chunks(nk).zip(out.iter_mut()) {
        for (j, (h, sj)) in row.iter().zip(spectra.iter()).enumerate() {
            let dst = if j == 0 { &mut *acc } else { &mut *term };
            b.copy(sj, dst)?;
            b.cmul(dst, h, false)?;
            if j > 0 {
                b.axpby(one, term, one, acc)?;
            }
        }
        b.fft_c2r(plan, acc, pad)?;
        b.extract(pad, &zero, out_k)?;
    }
    Ok(())
}

/// The counts of a [`Backend::fft_convolve_matrix`] call: `K ≥ 1` inputs, `K` outputs, `K²`
/// kernels, `K + 2` spectrum buffers.
fn check_matrix_arity(
    kernels: &[&[usize]],
    u: &[Vec<usize>],
    out: &[Vec<usize>],
    spec: &[&[usize]],
) -> Result<()> {
    let nk = u.len();
    if nk == 0 || out.len() != nk || kernels.len() != nk * nk || spec.len() != nk + 2 {
        return Err(Error::InvalidArgument(format!(
            "fft_convolve_matrix of {nk} inputs needs as many outputs, {} kernels and {} spectrum scratch buffers, got {} outputs, {} kernels, {} scratch buffers",
            nk * nk,
            nk + 2,
            out.len(),
            kernels.len(),
            spec.len()
        )));
    }
    Ok(())
}

impl FftSpec {
    /// Checks the shapes of a [`Backend::fft_convolve`] call against this spec (an R2C plan of
    /// the whole grid): kernel and `spec` of the spectrum shape, `pad` of the grid shape, `u` and
    /// `out` of the grid's rank and within the grid.
    pub fn check_convolution(
        &self,
        kernel: &[usize],
        u: &[usize],
        out: &[usize],
        pad: &[usize],
        spec: &[usize],
    ) -> Result<()> {
        if self.kind != FftKind::R2C || self.axes != self.shape.len() {
            return Err(Error::InvalidArgument(format!(
                "fft_convolve needs an R2C plan over every axis, got {:?} over {} axes of {:?}",
                self.kind, self.axes, self.shape
            )));
        }
        let spectrum = self.spectrum_shape();
        check_shape("fft_convolve (kernel)", &spectrum, kernel)?;
        check_shape("fft_convolve (spectrum scratch)", &spectrum, spec)?;
        check_shape("fft_convolve (grid scratch)", &self.shape, pad)?;
        for (what, s) in [("input", u), ("output", out)] {
            if s.len() != self.shape.len() || s.iter().zip(&self.shape).any(|(a, g)| a > g) {
                return Err(Error::shape(
                    format!("fft_convolve ({what} block within the grid)"),
                    &self.shape,
                    s,
                ));
            }
        }
        Ok(())
    }

    /// Checks a [`Backend::fft_convolve_matrix`] call: `K ≥ 1` inputs, `K` outputs, `K²`
    /// kernels and `K + 2` spectrum scratch buffers, each as [`Self::check_convolution`] wants
    /// them.
    pub fn check_convolution_matrix(
        &self,
        kernels: &[&[usize]],
        u: &[Vec<usize>],
        out: &[Vec<usize>],
        pad: &[usize],
        spec: &[&[usize]],
    ) -> Result<()> {
        check_matrix_arity(kernels, u, out, spec)?;
        let (k0, s0) = (kernels[0], spec[0]);
        for k in kernels {
            self.check_convolution(k, &u[0], &out[0], pad, s0)?;
        }
        for s in spec {
            self.check_convolution(k0, &u[0], &out[0], pad, s)?;
        }
        for (a, b) in u.iter().zip(out) {
            self.check_convolution(k0, a, b, pad, s0)?;
        }
        Ok(())
    }
}
