//! How one [`FftSpec`] maps onto cuFFT plans, as plain data (no device needed, unit-tested by
//! emulating cuFFT's documented data layouts on the host).
//!
//! cuFFT transforms at most 3 axes per plan and one batch distance, so a spec becomes a short
//! list of [`Layout`]s, each over a group of up to 3 adjacent axes:
//! * C2C: the last `min(k, 3)` axes contiguously, then (k = 4) the remaining axis, strided;
//! * R2C: cuFFT's R2C over the last `min(k, 3)` axes (numpy's `rfftn` half spectrum), then
//!   (k = 4) a strided C2C over the remaining axis of the spectrum;
//! * C2R, numpy's `irfftn`: inverse C2C over the leading `k − 1` transformed axes of the
//!   spectrum (strided, in place), the imaginary parts of the last axis's DC and Nyquist bins
//!   set to zero ([`dc_nyquist_imag`]), then a batched 1D C2R over the last axis.

use backend_core::{FftKind, FftSpec};

/// A cuFFT transform type, precision aside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    C2C,
    R2C,
    C2R,
}

/// One `cufftPlanMany`, executed `repeat` times at offsets of `step` elements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) ty: Ty,
    /// Transformed sizes (1 to 3).
    pub(crate) n: Vec<usize>,
    /// Element stride within a signal; 1 means cuFFT's basic (contiguous) layout, where signals
    /// follow each other (for R2C / C2R: `prod(n)` reals, `prod(n[..-1]) (n_last/2 + 1)`
    /// complex values).
    pub(crate) stride: usize,
    /// Number of signals per execution; strided signals start 1 element apart.
    pub(crate) batch: usize,
    /// Executions, at offsets `i * step` elements of the input (= output for C2C).
    pub(crate) repeat: usize,
    pub(crate) step: usize,
}

/// The forward stages (C2C: both directions) and, for R2C specs, the inverse ones.
pub(crate) fn layouts(spec: &FftSpec) -> (Vec<Layout>, Vec<Layout>) {
    let r = spec.shape.len();
    let k = spec.axes;
    let first = r - k;
    let tail = r - k.min(3)..r;
    let head = (k > 3).then_some(first..first + 1);
    match spec.kind {
        FftKind::C2C => {
            let mut f = vec![group(&spec.shape, tail, Ty::C2C)];
            f.extend(head.map(|h| group(&spec.shape, h, Ty::C2C)));
            (f, Vec::new())
        }
        FftKind::R2C => {
            let spectrum = spec.spectrum_shape();
            let mut f = vec![group(&spec.shape, tail, Ty::R2C)];
            f.extend(head.map(|h| group(&spectrum, h, Ty::C2C)));
            let mut inv = Vec::new();
            if k > 1 {
                inv.push(group(&spectrum, first..r - 1, Ty::C2C));
            }
            inv.push(group(&spec.shape, r - 1..r, Ty::C2R));
            (f, inv)
        }
    }
}

/// The layout over `axes` (adjacent, at most 3) of an array of shape `shape` (the complex
/// shape for C2C; the real shape for R2C / C2R, whose group is then the trailing axes).
fn group(shape: &[usize], axes: std::ops::Range<usize>, ty: Ty) -> Layout {
    let n = shape[axes.clone()].to_vec();
    let outer: usize = shape[..axes.start].iter().product();
    let inner: usize = shape[axes.end..].iter().product();
    if inner == 1 {
        Layout {
            ty,
            n,
            stride: 1,
            batch: outer,
            repeat: 1,
            step: 0,
        }
    } else {
        let size: usize = n.iter().product();
        Layout {
            ty,
            n,
            stride: inner,
            batch: inner,
            repeat: outer,
            step: size * inner,
        }
    }
}

/// The imaginary parts that numpy's `irfftn` ignores, as pitched rows of reals in the
/// interleaved spectrum: `(first real index, pitch in reals, rows)` per bin (DC, and Nyquist
/// for an even last axis).
pub(crate) fn dc_nyquist_imag(spec: &FftSpec) -> Vec<(usize, usize, usize)> {
    let n = spec.shape[spec.shape.len() - 1];
    let m = n / 2 + 1;
    let lines = spec.shape[..spec.shape.len() - 1].iter().product();
    let bins: &[usize] = if n.is_multiple_of(2) {
        &[0, n / 2]
    } else {
        &[0]
    };
    bins.iter()
        .map(|&bin| (2 * bin + 1, 2 * m, lines))
        .collect()
}

#[cfg(test)]
mod tests {
    //! cuFFT emulated on the host from its documented layouts (basic layout; advanced layout
    //! `input[b * idist + flat(i) * istride]` with `inembed = n`), against direct DFTs.
    use super::*;
    use num_complex::Complex;
    use std::f64::consts::TAU;

    type Z = Complex<f64>;

    /// Row-major multi-index of `flat` over `dims`.
    fn unflat(mut flat: usize, dims: &[usize]) -> Vec<usize> {
        let mut ix = vec![0; dims.len()];
        for a in (0..dims.len()).rev() {
            ix[a] = flat % dims[a];
            flat /= dims[a];
        }
        ix
    }

    /// Unnormalised n-dimensional DFT of a row-major signal, `sign` −1 (forward) or +1.
    fn dft(x: &[Z], dims: &[usize], sign: f64) -> Vec<Z> {
        (0..x.len())
            .map(|k| {
                let kk = unflat(k, dims);
                x.iter().enumerate().fold(Z::new(0.0, 0.0), |s, (j, &v)| {
                    let jj = unflat(j, dims);
                    let ph: f64 = (0..dims.len())
                        .map(|a| (kk[a] * jj[a]) as f64 / dims[a] as f64)
                        .sum();
                    s + v * Z::from_polar(1.0, sign * TAU * ph)
                })
            })
            .collect()
    }

    /// Reference: DFT over the last `k` axes of every batch entry.
    fn dft_last_axes(x: &[Z], shape: &[usize], k: usize, sign: f64) -> Vec<Z> {
        let size: usize = shape[shape.len() - k..].iter().product();
        x.chunks(size)
            .flat_map(|c| dft(c, &shape[shape.len() - k..], sign))
            .collect()
    }

    /// One C2C layout, in place.
    fn run_c2c(l: &Layout, data: &mut [Z], sign: f64) {
        assert_eq!(l.ty, Ty::C2C);
        let size: usize = l.n.iter().product();
        let dist = if l.stride == 1 { size } else { 1 };
        for r in 0..l.repeat {
            for b in 0..l.batch {
                let at = |i: usize| r * l.step + b * dist + i * l.stride;
                let sig: Vec<Z> = (0..size).map(|i| data[at(i)]).collect();
                for (i, v) in dft(&sig, &l.n, sign).into_iter().enumerate() {
                    data[at(i)] = v;
                }
            }
        }
    }

    /// The forward R2C layout (basic layout only).
    fn run_r2c(l: &Layout, x: &[f64], out: &mut [Z]) {
        assert_eq!((l.ty, l.stride, l.repeat), (Ty::R2C, 1, 1));
        let size: usize = l.n.iter().product();
        let nl = l.n[l.n.len() - 1];
        let half = size / nl * (nl / 2 + 1);
        for b in 0..l.batch {
            let sig: Vec<Z> = x[b * size..(b + 1) * size]
                .iter()
                .map(|&v| Z::new(v, 0.0))
                .collect();
            let full = dft(&sig, &l.n, -1.0);
            for (i, v) in full.into_iter().enumerate() {
                let ix = unflat(i, &l.n);
                if ix[ix.len() - 1] <= nl / 2 {
                    out[b * half + i / nl * (nl / 2 + 1) + ix[ix.len() - 1]] = v;
                }
            }
        }
    }

    /// The 1D C2R layout. Even lengths run the usual half-length packing (as FFT libraries
    /// do), which, unlike numpy, lets the imaginary parts of the DC and Nyquist bins reach the
    /// output; odd lengths take the real part of the Hermitian extension's inverse DFT.
    fn run_c2r(l: &Layout, spec: &[Z], out: &mut [f64]) {
        assert_eq!((l.ty, l.stride, l.repeat, l.n.len()), (Ty::C2R, 1, 1, 1));
        let n = l.n[0];
        let m = n / 2 + 1;
        for b in 0..l.batch {
            let x = &spec[b * m..(b + 1) * m];
            let o = &mut out[b * n..(b + 1) * n];
            if n.is_multiple_of(2) {
                let h = n / 2;
                let z: Vec<Z> = (0..h)
                    .map(|k| {
                        let e = x[k] + x[h - k].conj();
                        let od = (x[k] - x[h - k].conj())
                            * Z::from_polar(1.0, TAU * k as f64 / n as f64);
                        e + Z::i() * od
                    })
                    .collect();
                for (j, v) in dft(&z, &[h], 1.0).into_iter().enumerate() {
                    o[2 * j] = v.re;
                    o[2 * j + 1] = v.im;
                }
            } else {
                let full: Vec<Z> = (0..n)
                    .map(|k| if k < m { x[k] } else { x[n - k].conj() })
                    .collect();
                for (t, v) in dft(&full, &[n], 1.0).into_iter().enumerate() {
                    o[t] = v.re;
                }
            }
        }
    }

    fn signal(len: usize, seed: usize) -> Vec<Z> {
        (0..len)
            .map(|i| {
                let t = (i * 7919 + seed * 104729) as f64;
                Z::new((t * 0.37).sin(), (t * 0.91).cos())
            })
            .collect()
    }

    fn close(a: &[Z], b: &[Z]) {
        assert_eq!(a.len(), b.len());
        let err = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).norm())
            .fold(0.0, f64::max);
        let scale = b.iter().map(|y| y.norm()).fold(1.0, f64::max);
        assert!(err <= 1e-9 * scale, "max error {err}");
    }

    const SHAPES: [(&[usize], usize); 9] = [
        (&[6], 1),
        (&[3, 5], 1),
        (&[4, 6], 2),
        (&[2, 3, 4], 2),
        (&[3, 4, 5], 3),
        (&[2, 3, 2, 4], 3),
        (&[2, 3, 2, 4], 4),
        (&[2, 2, 3, 2, 3], 4),
        (&[3, 2, 5, 2], 4),
    ];

    #[test]
    fn c2c_layouts_match_the_direct_dft() {
        for (shape, k) in SHAPES {
            let spec = FftSpec::new(shape, k, FftKind::C2C).unwrap();
            let (fwd, inv) = layouts(&spec);
            assert!(inv.is_empty());
            let x = signal(shape.iter().product(), 1);
            for sign in [-1.0, 1.0] {
                let mut y = x.clone();
                fwd.iter().for_each(|l| run_c2c(l, &mut y, sign));
                close(&y, &dft_last_axes(&x, shape, k, sign));
            }
        }
    }

    #[test]
    fn r2c_layouts_give_the_half_spectrum() {
        for (shape, k) in SHAPES {
            let spec = FftSpec::new(shape, k, FftKind::R2C).unwrap();
            let (fwd, _) = layouts(&spec);
            let x: Vec<f64> = signal(shape.iter().product(), 2)
                .iter()
                .map(|z| z.re)
                .collect();
            let mut y = vec![Z::new(0.0, 0.0); spec.spectrum_shape().iter().product()];
            run_r2c(&fwd[0], &x, &mut y);
            fwd[1..].iter().for_each(|l| run_c2c(l, &mut y, -1.0));
            let xc: Vec<Z> = x.iter().map(|&v| Z::new(v, 0.0)).collect();
            let full = dft_last_axes(&xc, shape, k, -1.0);
            let n = shape[shape.len() - 1];
            let want: Vec<Z> = full
                .iter()
                .enumerate()
                .filter(|(i, _)| i % n <= n / 2)
                .map(|(_, &v)| v)
                .collect();
            close(&y, &want);
        }
    }

    /// The inverse stages, with the DC / Nyquist imaginary parts zeroed as the device does.
    fn run_inverse(spec: &FftSpec, s: &mut [Z]) -> Vec<f64> {
        let (_, inv) = layouts(spec);
        let (c2r, lead) = inv.split_last().unwrap();
        lead.iter().for_each(|l| run_c2c(l, s, 1.0));
        for (first, pitch, rows) in dc_nyquist_imag(spec) {
            for row in 0..rows {
                let real = first + row * pitch;
                assert_eq!(real % 2, 1, "an imaginary part");
                s[real / 2].im = 0.0;
            }
        }
        let mut out = vec![0.0; spec.shape.iter().product()];
        run_c2r(c2r, s, &mut out);
        out
    }

    #[test]
    fn c2r_layouts_invert_r2c_and_ignore_dc_nyquist_imag() {
        for (shape, k) in SHAPES {
            let spec = FftSpec::new(shape, k, FftKind::R2C).unwrap();
            let (fwd, _) = layouts(&spec);
            let x: Vec<f64> = signal(shape.iter().product(), 3)
                .iter()
                .map(|z| z.re)
                .collect();
            let mut s = vec![Z::new(0.0, 0.0); spec.spectrum_shape().iter().product()];
            run_r2c(&fwd[0], &x, &mut s);
            fwd[1..].iter().for_each(|l| run_c2c(l, &mut s, -1.0));
            // Over one axis, numpy's irfft ignores these imaginary parts: perturbing them changes
            // nothing. (Over more axes the leading inverse transforms mix them into the rest.)
            let n = shape[shape.len() - 1];
            let m = n / 2 + 1;
            for (i, v) in s.iter_mut().enumerate() {
                if k == 1 && (i.is_multiple_of(m) || (n.is_multiple_of(2) && i % m == n / 2)) {
                    v.im += 0.5 + i as f64;
                }
            }
            let y = run_inverse(&spec, &mut s);
            let size: f64 = shape[shape.len() - k..].iter().product::<usize>() as f64;
            let yz: Vec<Z> = y.iter().map(|&v| Z::new(v / size, 0.0)).collect();
            let xz: Vec<Z> = x.iter().map(|&v| Z::new(v, 0.0)).collect();
            close(&yz, &xz);
        }
    }

    #[test]
    fn at_most_three_axes_per_plan() {
        for (shape, k) in SHAPES {
            for kind in [FftKind::C2C, FftKind::R2C] {
                let (f, i) = layouts(&FftSpec::new(shape, k, kind).unwrap());
                assert!(f.iter().chain(&i).all(|l| (1..=3).contains(&l.n.len())));
            }
        }
    }
}
