//! FFT plans against direct `O(N²)` DFTs computed in `f64` (numpy's "backward" normalisation,
//! `irfftn` semantics for complex-to-real), 1D to 4D, odd and even sizes, batched; round trips
//! on the real dataset sizes and on the TV Toeplitz grids.
//!
//! Tolerance: relative l2 error `≤ c·eps·(1 + log2 N)`, `N` the points of one transform.

use super::{assert_rel, host_randn};
use crate::{Backend, Direction, FftKind, FftSpec, Pruning, Real, C};
use ndarray::{ArrayD, Axis, Dimension, IxDyn, Slice};
use num_complex::Complex;

type Z = Complex<f64>;

/// The tolerance for a transform of `n` points.
fn tol<T: Real>(n: usize) -> f64 {
    8.0 * T::EPS.f64() * (1.0 + (n as f64).log2())
}

/// Direct DFT along `axis`: `out[k] = Σ_j a[j] e^{sign·2iπjk/n}`, unscaled.
fn dft_axis(a: &ArrayD<Z>, axis: usize, sign: f64) -> ArrayD<Z> {
    let n = a.shape()[axis];
    let tw: Vec<Z> = (0..n)
        .map(|j| Z::from_polar(1.0, sign * 2.0 * std::f64::consts::PI * j as f64 / n as f64))
        .collect();
    let mut out = a.clone();
    for (lin, mut lout) in a
        .lanes(Axis(axis))
        .into_iter()
        .zip(out.lanes_mut(Axis(axis)))
    {
        for k in 0..n {
            lout[k] = (0..n).map(|j| lin[j] * tw[(j * k) % n]).sum();
        }
    }
    out
}

/// Direct DFT over the trailing `axes` axes.
fn dft(a: &ArrayD<Z>, axes: usize, sign: f64) -> ArrayD<Z> {
    let r = a.ndim();
    (r - axes..r).fold(a.clone(), |acc, ax| dft_axis(&acc, ax, sign))
}

/// numpy's `irfftn(X, s)` over the trailing `axes` axes, directly: inverse DFT over the other
/// axes, then along the last one the Hermitian extension of the half spectrum (imaginary parts
/// of the DC and Nyquist bins dropped), real part, scaled by `1/N`.
fn direct_c2r(x: &ArrayD<Z>, axes: usize, n: usize) -> ArrayD<f64> {
    let r = x.ndim();
    let y = (r - axes..r - 1).fold(x.clone(), |acc, ax| dft_axis(&acc, ax, 1.0));
    let mut shape = x.shape().to_vec();
    shape[r - 1] = n;
    let total: usize = shape[r - axes..].iter().product();
    let mut out = ArrayD::<f64>::zeros(IxDyn(&shape));
    for (lin, mut lout) in y
        .lanes(Axis(r - 1))
        .into_iter()
        .zip(out.lanes_mut(Axis(r - 1)))
    {
        let half = |k: usize| {
            let v = lin[k];
            if k == 0 || 2 * k == n {
                Z::new(v.re, 0.0)
            } else {
                v
            }
        };
        for t in 0..n {
            let s: Z = (0..n)
                .map(|k| {
                    let v = if k <= n / 2 {
                        half(k)
                    } else {
                        half(n - k).conj()
                    };
                    v * Z::from_polar(
                        1.0,
                        2.0 * std::f64::consts::PI * ((k * t) % n) as f64 / n as f64,
                    )
                })
                .sum();
            lout[t] = s.re / total as f64;
        }
    }
    out
}

fn to_z<T: Real>(a: &ArrayD<C<T>>) -> ArrayD<Z> {
    a.mapv(|v| Z::new(v.re.f64(), v.im.f64()))
}

fn z_flat(a: &ArrayD<Z>) -> Vec<f64> {
    a.iter().flat_map(|z| [z.re, z.im]).collect()
}

fn c_flat<T: Real>(a: &ArrayD<C<T>>) -> Vec<f64> {
    a.iter().flat_map(|z| [z.re.f64(), z.im.f64()]).collect()
}

fn crandn<T: Real>(shape: &[usize], seed: u64) -> ArrayD<C<T>> {
    let (re, im) = (
        host_randn::<T>(shape, seed),
        host_randn::<T>(shape, seed + 500),
    );
    ndarray::Zip::from(&re)
        .and(&im)
        .map_collect(|&r, &i| C::new(r, i))
}

fn points(shape: &[usize], axes: usize) -> usize {
    shape[shape.len() - axes..].iter().product()
}

fn c2c_direct_t<B: Backend, T: Real>(b: &B) {
    let cases: [(&[usize], usize); 10] = [
        (&[1], 1),
        (&[7], 1),
        (&[64], 1),
        (&[3, 17], 1),
        (&[5, 12], 2),
        (&[3, 12, 40], 2),
        (&[9, 8, 7], 3),
        (&[6, 20, 18], 3),
        (&[2, 3, 4, 5], 4),
        (&[2, 5, 2, 6, 3], 4),
    ];
    c2c_cases::<B, T>(b, &cases);
}

/// `cases` (shape, transformed trailing axes): C2C both directions against the direct DFT.
fn c2c_cases<B: Backend, T: Real>(b: &B, cases: &[(&[usize], usize)]) {
    for &(shape, axes) in cases {
        let plan = b
            .fft_plan::<T>(&FftSpec::new(shape, axes, FftKind::C2C).unwrap())
            .unwrap();
        let x = crandn::<T>(shape, 60);
        for dir in [Direction::Forward, Direction::Inverse] {
            let mut d = b.upload(x.view()).unwrap();
            b.fft_c2c(&plan, &mut d, dir).unwrap();
            let n = points(shape, axes);
            let want = match dir {
                Direction::Forward => dft(&to_z(&x), axes, -1.0),
                Direction::Inverse => dft(&to_z(&x), axes, 1.0) / n as f64,
            };
            let got = c_flat(&b.download(&d).unwrap());
            assert_rel(
                &format!("c2c {dir:?} {shape:?} over {axes}"),
                &got,
                &z_flat(&want),
                tol::<T>(n),
            );
        }
    }
}

/// Complex FFTs, both directions, against the direct DFT.
pub fn c2c_direct<B: Backend>(b: &B) {
    per_precision!(c2c_direct_t, b);
}

fn r2c_c2r_direct_t<B: Backend, T: Real>(b: &B) {
    let cases: [(&[usize], usize); 10] = [
        (&[1], 1),
        (&[2], 1),
        (&[8], 1),
        (&[9], 1),
        (&[3, 10], 1),
        (&[4, 7], 2),
        (&[2, 6, 5], 2),
        (&[3, 20, 36], 2),
        (&[3, 4, 6], 3),
        (&[2, 3, 4, 5, 6], 4),
    ];
    r2c_c2r_cases::<B, T>(b, &cases);
}

/// `cases` (shape, transformed trailing axes): R2C and C2R against the direct DFT.
fn r2c_c2r_cases<B: Backend, T: Real>(b: &B, cases: &[(&[usize], usize)]) {
    for &(shape, axes) in cases {
        let spec = FftSpec::new(shape, axes, FftKind::R2C).unwrap();
        let plan = b.fft_plan::<T>(&spec).unwrap();
        let n = points(shape, axes);
        let last = shape[shape.len() - 1];
        // forward
        let x = host_randn::<T>(shape, 61);
        let mut spec_d = b.zeros::<C<T>>(&spec.spectrum_shape()).unwrap();
        b.fft_r2c(&plan, &b.upload(x.view()).unwrap(), &mut spec_d)
            .unwrap();
        let full = dft(&x.mapv(|v| Z::new(v.f64(), 0.0)), axes, -1.0);
        let want = full
            .slice_axis(Axis(shape.len() - 1), Slice::from(0..last / 2 + 1))
            .to_owned();
        let got = c_flat(&b.download(&spec_d).unwrap());
        assert_rel(
            &format!("r2c {shape:?} over {axes}"),
            &got,
            &z_flat(&want),
            tol::<T>(n),
        );
        // inverse of an arbitrary (non-Hermitian) half spectrum
        let xs = crandn::<T>(&spec.spectrum_shape(), 62);
        let mut din = b.upload(xs.view()).unwrap();
        let mut out = b.zeros::<T>(shape).unwrap();
        b.fft_c2r(&plan, &mut din, &mut out).unwrap();
        let want = direct_c2r(&to_z(&xs), axes, last);
        let got: Vec<f64> = b.download(&out).unwrap().iter().map(|v| v.f64()).collect();
        assert_rel(
            &format!("c2r {shape:?} over {axes}"),
            &got,
            want.as_slice().unwrap(),
            tol::<T>(n),
        );
    }
}

/// Real-to-complex and complex-to-real (numpy `irfftn`) against the direct DFT.
pub fn r2c_c2r_direct<B: Backend>(b: &B) {
    per_precision!(r2c_c2r_direct_t, b);
}

fn real_row_groups_t<B: Backend, T: Real>(b: &B) {
    // Half-lengths 4 to 1024 with factors 2, 3, 4 and 5, odd and even (the CPU backend transforms
    // such rows in groups of 4 (f64) or 8 (f32) in SIMD lanes, up to 1024 points), row counts
    // that 8 does not divide (the rows left over take the one-row path), rows
    // inside 2D and 3D transforms, and the lengths next to them that stay one row at a time
    // (half-length 3, 513, factor 7).
    r2c_c2r_cases::<B, T>(
        b,
        &[
            (&[9, 8], 1),
            (&[13, 30], 1),
            (&[12, 250], 1),
            (&[11, 500], 1),
            (&[10, 1024], 1),
            (&[9, 1026], 1),
            (&[9, 2000], 1),
            (&[8, 2048], 1),
            (&[9, 6], 1),
            (&[9, 98], 1),
            (&[2, 7, 40], 2),
            (&[3, 9, 54], 3),
        ],
    );
}

/// R2C and C2R of rows in groups and alone (lengths and row counts of every class the
/// backends treat differently), against the direct DFT.
pub fn real_row_groups<B: Backend>(b: &B) {
    per_precision!(real_row_groups_t, b);
}

fn large_prime_lengths_t<B: Backend, T: Real>(b: &B) {
    // 1031 and 1033 are primes above the GPU FFT's largest generic radix (1021): Bluestein.
    c2c_cases::<B, T>(b, &[(&[1031], 1), (&[2, 2066], 1), (&[3, 1031, 2], 2)]);
    // 2062 = 2·1031 (half-length complex FFT of 1031), 1033 (odd: full complex FFT).
    r2c_c2r_cases::<B, T>(b, &[(&[2, 2062], 1), (&[1033], 1), (&[2, 1031, 3], 2)]);
}

/// Lengths with a prime factor above 1021 (`1031`, `2·1033`, ...), C2C, R2C and C2R, against
/// the direct DFT.
pub fn large_prime_lengths<B: Backend>(b: &B) {
    per_precision!(large_prime_lengths_t, b);
}

fn column_lengths_t<B: Backend, T: Real>(b: &B) {
    // Strided (column) passes over lengths of every radix the CPU backend's lane-SIMD FFT
    // plans (1, 2, 3, 4, 5 and products, up to 1024 points), lengths it leaves to rustfft (a
    // factor 7 or 11, 1280 points), column counts that its 4 (f64) or 8 (f32) lanes do not divide.
    c2c_cases::<B, T>(
        b,
        &[
            (&[1, 5], 2),
            (&[2, 3], 2),
            (&[3, 17], 2),
            (&[4, 9], 2),
            (&[5, 16], 2),
            (&[30, 33], 2),
            (&[256, 3], 2),
            (&[14, 9], 2),
            (&[11, 2, 17], 3),
            (&[260, 3], 2),
            (&[600, 3], 2),
            (&[1000, 2], 2),
            (&[1280, 2], 2),
            (&[25, 12, 18], 3),
        ],
    );
    r2c_c2r_cases::<B, T>(
        b,
        &[
            (&[25, 6], 2),
            (&[12, 10, 34], 3),
            (&[14, 20], 2),
            (&[2, 45, 8], 2),
        ],
    );
}

/// Multi-axis C2C, R2C and C2R on column lengths of radices 2, 3, 4, 5 and others, and
/// column counts of every remainder by the SIMD width, against the direct DFT.
pub fn column_lengths<B: Backend>(b: &B) {
    per_precision!(column_lengths_t, b);
}

fn c2r_ignores_dc_nyquist_imag_t<B: Backend, T: Real>(b: &B) {
    for n in [10, 11] {
        let shape = [4, n];
        let spec = FftSpec::new(&shape, 1, FftKind::R2C).unwrap();
        let plan = b.fft_plan::<T>(&spec).unwrap();
        let x = host_randn::<T>(&shape, 63);
        let mut s = b.zeros::<C<T>>(&spec.spectrum_shape()).unwrap();
        b.fft_r2c(&plan, &b.upload(x.view()).unwrap(), &mut s)
            .unwrap();
        let mut h = b.download(&s).unwrap();
        let m = n / 2 + 1;
        for r in 0..4 {
            h[[r, 0]].im = T::of(3.0 + r as f64);
            if n % 2 == 0 {
                h[[r, m - 1]].im = T::of(-2.0);
            }
        }
        let mut din = b.upload(h.view()).unwrap();
        let mut out = b.zeros::<T>(&shape).unwrap();
        b.fft_c2r(&plan, &mut din, &mut out).unwrap();
        let got: Vec<f64> = b.download(&out).unwrap().iter().map(|v| v.f64()).collect();
        let want: Vec<f64> = x.iter().map(|v| v.f64()).collect();
        assert_rel(
            &format!("c2r with imaginary DC/Nyquist, n={n}"),
            &got,
            &want,
            tol::<T>(n),
        );
    }
}

/// Imaginary parts of the DC and Nyquist bins do not reach the output of `fft_c2r`.
pub fn c2r_ignores_dc_nyquist_imag<B: Backend>(b: &B) {
    per_precision!(c2r_ignores_dc_nyquist_imag_t, b);
}

fn rfft_dataset_sizes_t<B: Backend, T: Real>(b: &B) {
    let rows = 6;
    for nb in [2000, 1300, 1200, 1024, 512, 500, 360] {
        let shape = [rows, nb];
        let spec = FftSpec::new(&shape, 1, FftKind::R2C).unwrap();
        let plan = b.fft_plan::<T>(&spec).unwrap();
        let x = host_randn::<T>(&shape, 64);
        let mut s = b.zeros::<C<T>>(&spec.spectrum_shape()).unwrap();
        b.fft_r2c(&plan, &b.upload(x.view()).unwrap(), &mut s)
            .unwrap();
        let hs = b.download(&s).unwrap();
        for r in [0, rows - 1] {
            let row = x
                .index_axis(Axis(0), r)
                .mapv(|v| Z::new(v.f64(), 0.0))
                .into_dyn();
            let want = dft_axis(&row, 0, -1.0)
                .slice_axis(Axis(0), Slice::from(0..nb / 2 + 1))
                .to_owned();
            let got = c_flat(&hs.index_axis(Axis(0), r).to_owned().into_dyn());
            assert_rel(
                &format!("rfft row {r} of {rows}x{nb}"),
                &got,
                &z_flat(&want),
                tol::<T>(nb),
            );
        }
        let mut out = b.zeros::<T>(&shape).unwrap();
        b.fft_c2r(&plan, &mut s, &mut out).unwrap();
        let got: Vec<f64> = b.download(&out).unwrap().iter().map(|v| v.f64()).collect();
        let want: Vec<f64> = x.iter().map(|v| v.f64()).collect();
        assert_rel(
            &format!("irfft(rfft) {rows}x{nb}"),
            &got,
            &want,
            tol::<T>(nb),
        );
    }
}

/// Batched 1D rFFT on the datasets' field sizes: rows against the direct DFT, round trip.
pub fn rfft_dataset_sizes<B: Backend>(b: &B) {
    per_precision!(rfft_dataset_sizes_t, b);
}

fn round_trip_2d_3d_t<B: Backend, T: Real>(b: &B) {
    for (shape, axes) in [(&[800usize, 400][..], 2), (&[200, 100, 100][..], 3)] {
        let spec = FftSpec::new(shape, axes, FftKind::R2C).unwrap();
        let plan = b.fft_plan::<T>(&spec).unwrap();
        let x = host_randn::<T>(shape, 65);
        let mut s = b.zeros::<C<T>>(&spec.spectrum_shape()).unwrap();
        b.fft_r2c(&plan, &b.upload(x.view()).unwrap(), &mut s)
            .unwrap();
        // DC bin = sum of the input
        let dc = b.download(&s).unwrap().iter().next().copied().unwrap();
        let sum: f64 = x.iter().map(|v| v.f64()).sum();
        let n = points(shape, axes);
        let scale = (n as f64).sqrt();
        assert!(
            (dc.re.f64() - sum).abs() <= 10.0 * tol::<T>(n) * scale
                && dc.im.f64().abs() <= 10.0 * tol::<T>(n) * scale,
            "DC {dc} vs {sum}"
        );
        let mut out = b.zeros::<T>(shape).unwrap();
        b.fft_c2r(&plan, &mut s, &mut out).unwrap();
        let got: Vec<f64> = b.download(&out).unwrap().iter().map(|v| v.f64()).collect();
        let want: Vec<f64> = x.iter().map(|v| v.f64()).collect();
        assert_rel(
            &format!("irfftn(rfftn) {shape:?}"),
            &got,
            &want,
            tol::<T>(n),
        );
    }
    let shape = [800, 400];
    let plan = b
        .fft_plan::<T>(&FftSpec::new(&shape, 2, FftKind::C2C).unwrap())
        .unwrap();
    let z = crandn::<T>(&shape, 66);
    let mut d = b.upload(z.view()).unwrap();
    b.fft_c2c(&plan, &mut d, Direction::Forward).unwrap();
    b.fft_c2c(&plan, &mut d, Direction::Inverse).unwrap();
    assert_rel(
        "ifft2(fft2) 800x400",
        &c_flat(&b.download(&d).unwrap()),
        &c_flat(&z),
        tol::<T>(800 * 400),
    );
}

/// Round trips on the TV Toeplitz grids: rFFT 800x400 and 200x100x100, complex 800x400.
pub fn round_trip_2d_3d<B: Backend>(b: &B) {
    per_precision!(round_trip_2d_3d_t, b);
}

/// `(grid, input block, output block)` cases for the FFT convolution: 1D to 4D, odd and even
/// sizes, the doubled-grid Toeplitz layout, blocks of different shapes in and out, prime
/// factors above 7 (generic radices), axes of one point.
const CONV_CASES: [(&[usize], &[usize], &[usize]); 12] = [
    (&[12], &[5], &[7]),
    (&[8, 10], &[4, 5], &[4, 5]),
    (&[9, 7], &[9, 3], &[2, 7]),
    (&[6, 8, 10], &[3, 4, 5], &[3, 4, 5]),
    (&[5, 6, 9], &[5, 2, 9], &[1, 6, 4]),
    (&[7, 3, 5], &[2, 3, 1], &[7, 1, 5]),
    (&[4, 4, 6, 6], &[2, 2, 3, 3], &[2, 3, 3, 2]),
    (&[22, 26], &[11, 13], &[22, 9]),
    (&[9, 7, 10], &[5, 7, 6], &[9, 3, 10]),
    (&[1, 12], &[1, 5], &[1, 12]),
    (&[3, 1, 8], &[2, 1, 8], &[3, 1, 3]),
    (&[1, 6, 8], &[1, 3, 8], &[1, 6, 2]),
];

/// Long lines (direct sums): above and below the GPU local-memory FFT's 1024 (f64) / 2048 (f32)
/// points, first and last axis, and a Bluestein length (2 · 1031).
const CONV_LONG: [(&[usize], &[usize], &[usize]); 3] = [
    (&[1500, 8], &[750, 4], &[700, 8]),
    (&[2062, 6], &[1031, 3], &[1031, 3]),
    (&[6, 4200], &[3, 2100], &[2, 2100]),
];

/// TV Toeplitz grids, against the composed version.
const CONV_TOEPLITZ: [(&[usize], &[usize], &[usize]); 2] = [
    (&[800, 400], &[400, 200], &[400, 200]),
    (&[40, 30, 20], &[20, 15, 10], &[20, 15, 10]),
];

fn convolve_direct_t<B: Backend, T: Real>(b: &B) {
    for (grid, a, o) in CONV_CASES.into_iter().chain(CONV_LONG) {
        let spec = FftSpec::new(grid, grid.len(), FftKind::R2C).unwrap();
        let plan = b.fft_plan::<T>(&spec).unwrap();
        let phi = host_randn::<T>(grid, 67);
        let u = host_randn::<T>(a, 68);
        let mut khat = b.zeros::<C<T>>(&spec.spectrum_shape()).unwrap();
        b.fft_r2c(&plan, &b.upload(phi.view()).unwrap(), &mut khat)
            .unwrap();
        b.fft_convolve_prepare(&plan, &mut khat).unwrap();
        let mut out = b.zeros::<T>(o).unwrap();
        let mut pad = b.zeros::<T>(grid).unwrap();
        let mut sp = b.zeros::<C<T>>(&spec.spectrum_shape()).unwrap();
        b.fft_convolve(
            &plan,
            &khat,
            &b.upload(u.view()).unwrap(),
            &mut out,
            &mut pad,
            &mut sp,
        )
        .unwrap();
        // out[x] = Σ_y u[y] φ[(x − y) mod g], directly.
        let want = ArrayD::from_shape_fn(IxDyn(o), |x| {
            u.indexed_iter()
                .map(|(y, v)| {
                    let idx: Vec<usize> = (0..grid.len())
                        .map(|d| (x[d] + grid[d] - y[d]) % grid[d])
                        .collect();
                    v.f64() * phi[IxDyn(&idx)].f64()
                })
                .sum::<f64>()
        });
        let got: Vec<f64> = b.download(&out).unwrap().iter().map(|v| v.f64()).collect();
        assert_rel(
            &format!("convolution on {grid:?}, block {a:?} -> {o:?}"),
            &got,
            want.as_slice().unwrap(),
            4.0 * tol::<T>(grid.iter().product()),
        );
    }
}

/// `fft_convolve` against the direct circular convolution of the zero-padded input, cropped.
pub fn convolve_direct<B: Backend>(b: &B) {
    per_precision!(convolve_direct_t, b);
}

fn convolve_matches_composed_t<B: Backend, T: Real>(b: &B) {
    for (grid, a, o) in CONV_CASES.into_iter().chain(CONV_TOEPLITZ) {
        let spec = FftSpec::new(grid, grid.len(), FftKind::R2C).unwrap();
        let sshape = spec.spectrum_shape();
        let plan = b.fft_plan::<T>(&spec).unwrap();
        // A non-Hermitian kernel: irfftn's treatment of the DC and Nyquist bins shows.
        let khat = b.upload(crandn::<T>(&sshape, 69).view()).unwrap();
        let mut prepared = b.duplicate(&khat).unwrap();
        b.fft_convolve_prepare(&plan, &mut prepared).unwrap();
        let u = b.upload(host_randn::<T>(a, 70).view()).unwrap();
        let mut pad = b.zeros::<T>(grid).unwrap();
        let mut sp = b.zeros::<C<T>>(&sshape).unwrap();
        let mut got = b.full::<T>(o, T::of(7.0)).unwrap();
        b.fft_convolve(&plan, &prepared, &u, &mut got, &mut pad, &mut sp)
            .unwrap();
        let mut want = b.zeros::<T>(o).unwrap();
        crate::fft::convolve_composed(b, &plan, &khat, &u, &mut want, &mut pad, &mut sp).unwrap();
        let flat = |x: &B::Buffer<T>| -> Vec<f64> {
            b.download(x).unwrap().iter().map(|v| v.f64()).collect()
        };
        assert_rel(
            &format!("fused vs composed convolution on {grid:?}, block {a:?} -> {o:?}"),
            &flat(&got),
            &flat(&want),
            4.0 * tol::<T>(grid.iter().product()),
        );
    }
    // Shapes that do not fit are errors, not panics.
    let grid = [8, 10];
    let spec = FftSpec::new(&grid, 2, FftKind::R2C).unwrap();
    let plan = b.fft_plan::<T>(&spec).unwrap();
    let khat = b.zeros::<C<T>>(&spec.spectrum_shape()).unwrap();
    let mut pad = b.zeros::<T>(&grid).unwrap();
    let mut sp = b.zeros::<C<T>>(&spec.spectrum_shape()).unwrap();
    let big = b.zeros::<T>(&[9, 4]).unwrap();
    let mut out = b.zeros::<T>(&[4, 5]).unwrap();
    assert!(b
        .fft_convolve(&plan, &khat, &big, &mut out, &mut pad, &mut sp)
        .is_err());
    let small = b.zeros::<T>(&[4, 5]).unwrap();
    let bad_k = b.zeros::<C<T>>(&[8, 5]).unwrap();
    assert!(b
        .fft_convolve(&plan, &bad_k, &small, &mut out, &mut pad, &mut sp)
        .is_err());
    let mut flat_out = b.zeros::<T>(&[20]).unwrap();
    assert!(b
        .fft_convolve(&plan, &khat, &small, &mut flat_out, &mut pad, &mut sp)
        .is_err());
}

/// The backend's `fft_convolve` equals the composition of its primitives (irfftn semantics for
/// a non-Hermitian kernel included); shapes that do not fit are errors.
pub fn convolve_matches_composed<B: Backend>(b: &B) {
    per_precision!(convolve_matches_composed_t, b);
}

fn convolve_matrix_t<B: Backend, T: Real>(b: &B) {
    for (case, (grid, a, o)) in CONV_CASES.into_iter().enumerate() {
        let spec = FftSpec::new(grid, grid.len(), FftKind::R2C).unwrap();
        let sshape = spec.spectrum_shape();
        let plan = b.fft_plan::<T>(&spec).unwrap();
        let nk = 1 + case % 3;
        let seed = 80 + 10 * case as u64;
        // Non-Hermitian kernels, as in `convolve_matches_composed`.
        let khat: Vec<B::Buffer<C<T>>> = (0..nk * nk)
            .map(|i| {
                b.upload(crandn::<T>(&sshape, seed + i as u64).view())
                    .unwrap()
            })
            .collect();
        let prepared: Vec<B::Buffer<C<T>>> = khat
            .iter()
            .map(|k| {
                let mut p = b.duplicate(k).unwrap();
                b.fft_convolve_prepare(&plan, &mut p).unwrap();
                p
            })
            .collect();
        // Channel j's blocks lose j rows of the first axis (at least one left): every input
        // and output of its own shape.
        let block = |s: &[usize], j: usize| -> Vec<usize> {
            let mut s = s.to_vec();
            s[0] = s[0].saturating_sub(j).max(1);
            s
        };
        let u: Vec<B::Buffer<T>> = (0..nk)
            .map(|j| {
                let x = host_randn::<T>(&block(a, j), seed + 9 - j as u64);
                b.upload(x.view()).unwrap()
            })
            .collect();
        let mut pad = b.zeros::<T>(grid).unwrap();
        let mut sp: Vec<B::Buffer<C<T>>> = (0..nk + 2)
            .map(|_| b.zeros::<C<T>>(&sshape).unwrap())
            .collect();
        let out_shapes: Vec<Vec<usize>> = (0..nk).map(|k| block(o, nk - 1 - k)).collect();
        let mut got: Vec<B::Buffer<T>> = out_shapes
            .iter()
            .map(|s| b.full::<T>(s, T::of(7.0)).unwrap())
            .collect();
        b.fft_convolve_matrix(&plan, &prepared, &u, &mut got, &mut pad, &mut sp)
            .unwrap();
        // out[k] = Σ_j (composed convolution of u[j] by kernel [k][j]).
        for (k, got_k) in got.iter().enumerate() {
            let o = &out_shapes[k];
            let mut want = vec![0.0; o.iter().product()];
            for (j, uj) in u.iter().enumerate() {
                let mut term = b.zeros::<T>(o).unwrap();
                crate::fft::convolve_composed(
                    b,
                    &plan,
                    &khat[k * nk + j],
                    uj,
                    &mut term,
                    &mut pad,
                    &mut sp[0],
                )
                .unwrap();
                for (w, t) in want.iter_mut().zip(b.download(&term).unwrap().iter()) {
                    *w += t.f64();
                }
            }
            let got_k: Vec<f64> = b.download(got_k).unwrap().iter().map(|v| v.f64()).collect();
            assert_rel(
                &format!("{nk}-channel convolution, output {k}, on {grid:?}, block {a:?} -> {o:?}"),
                &got_k,
                &want,
                4.0 * tol::<T>(grid.iter().product()) * nk as f64,
            );
        }
    }
    // Counts and shapes that do not fit are errors, not panics.
    let grid = [8, 10];
    let spec = FftSpec::new(&grid, 2, FftKind::R2C).unwrap();
    let plan = b.fft_plan::<T>(&spec).unwrap();
    let k = |n: usize| -> Vec<B::Buffer<C<T>>> {
        (0..n)
            .map(|_| b.zeros::<C<T>>(&spec.spectrum_shape()).unwrap())
            .collect()
    };
    let img = |shapes: &[&[usize]]| -> Vec<B::Buffer<T>> {
        shapes.iter().map(|s| b.zeros::<T>(s).unwrap()).collect()
    };
    let mut pad = b.zeros::<T>(&grid).unwrap();
    let (kernels, mut sp) = (k(4), k(4));
    let u = img(&[&[4, 5], &[4, 5]]);
    let mut out = img(&[&[4, 5], &[4, 5]]);
    assert!(b
        .fft_convolve_matrix(&plan, &kernels, &u, &mut out, &mut pad, &mut sp)
        .is_ok());
    for (what, nk_kernels, nk_spec, u_shapes, out_shapes) in [
        (
            "three kernels for two inputs",
            3,
            4,
            [[4, 5], [4, 5]],
            [[4, 5], [4, 5]],
        ),
        (
            "three scratch buffers for two inputs",
            4,
            3,
            [[4, 5], [4, 5]],
            [[4, 5], [4, 5]],
        ),
        (
            "an input larger than the grid",
            4,
            4,
            [[9, 5], [9, 5]],
            [[4, 5], [4, 5]],
        ),
        (
            "an output larger than the grid",
            4,
            4,
            [[4, 5], [4, 5]],
            [[4, 5], [4, 11]],
        ),
    ] {
        let (kernels, mut sp) = (k(nk_kernels), k(nk_spec));
        let u = img(&[&u_shapes[0], &u_shapes[1]]);
        let mut out = img(&[&out_shapes[0], &out_shapes[1]]);
        assert!(
            b.fft_convolve_matrix(&plan, &kernels, &u, &mut out, &mut pad, &mut sp)
                .is_err(),
            "{what}"
        );
    }
    let mut one_out = img(&[&[4, 5]]);
    assert!(b
        .fft_convolve_matrix(&plan, &kernels, &u, &mut one_out, &mut pad, &mut sp)
        .is_err());
}

/// `fft_convolve_matrix` with 1, 2 and 3 channels (inputs and outputs of different shapes)
/// equals the sums of single composed convolutions (non-Hermitian kernels); wrong counts and
/// shapes are errors.
pub fn convolve_matrix<B: Backend>(b: &B) {
    per_precision!(convolve_matrix_t, b);
}

/// Whether every transformed index of `idx` (the trailing `band.len()` axes of `shape`) lies in
/// its band.
fn in_box(idx: &[usize], shape: &[usize], band: &[usize]) -> bool {
    let off = shape.len() - band.len();
    band.iter()
        .enumerate()
        .all(|(a, &b)| crate::fft::in_band(idx[off + a], shape[off + a], b))
}

fn c2c_pruned_direct_t<B: Backend, T: Real>(b: &B) {
    let cases: [(&[usize], &[usize]); 8] = [
        (&[3, 12], &[5]),
        (&[8, 6], &[3, 4]),
        (&[9, 7], &[9, 1]),
        (&[2, 6, 10], &[5, 3]),
        (&[6, 8, 10], &[3, 4, 5]),
        (&[5, 6, 7], &[2, 6, 3]),
        (&[2, 8, 8, 8], &[4, 4, 4]),
        (&[2, 4, 6, 6, 4], &[2, 3, 3, 2]),
    ];
    for (shape, band) in cases {
        let axes = band.len();
        let plan = b
            .fft_plan::<T>(&FftSpec::new(shape, axes, FftKind::C2C).unwrap())
            .unwrap();
        let n = points(shape, axes);
        for dir in [Direction::Forward, Direction::Inverse] {
            let transform = |x: &ArrayD<C<T>>| match dir {
                Direction::Forward => dft(&to_z(x), axes, -1.0),
                Direction::Inverse => dft(&to_z(x), axes, 1.0) / n as f64,
            };
            // Zero input outside the box: the whole output.
            let mut x = crandn::<T>(shape, 71);
            for (idx, v) in x.indexed_iter_mut() {
                if !in_box(idx.slice(), shape, band) {
                    *v = C::new(T::zero(), T::zero());
                }
            }
            let mut d = b.upload(x.view()).unwrap();
            b.fft_c2c_pruned(&plan, &mut d, dir, band, Pruning::ZeroInput)
                .unwrap();
            assert_rel(
                &format!("c2c {dir:?} {shape:?}, input zero outside band {band:?}"),
                &c_flat(&b.download(&d).unwrap()),
                &z_flat(&transform(&x)),
                tol::<T>(n),
            );
            // Any input, the output inside the box.
            let x = crandn::<T>(shape, 72);
            let mut d = b.upload(x.view()).unwrap();
            b.fft_c2c_pruned(&plan, &mut d, dir, band, Pruning::KeepOutput)
                .unwrap();
            let got = b.download(&d).unwrap();
            let want = transform(&x);
            let (mut g, mut w) = (Vec::new(), Vec::new());
            for ((idx, gv), wv) in got.indexed_iter().zip(want.iter()) {
                if in_box(idx.slice(), shape, band) {
                    g.extend([gv.re.f64(), gv.im.f64()]);
                    w.extend([wv.re, wv.im]);
                }
            }
            assert_rel(
                &format!("c2c {dir:?} {shape:?}, output inside band {band:?}"),
                &g,
                &w,
                tol::<T>(n),
            );
        }
    }
    // Bands that do not fit the plan are errors.
    let plan = b
        .fft_plan::<T>(&FftSpec::new(&[8, 6], 2, FftKind::C2C).unwrap())
        .unwrap();
    let mut d = b.zeros::<C<T>>(&[8, 6]).unwrap();
    for band in [&[9usize, 2][..], &[0, 2], &[], &[2, 2, 2]] {
        assert!(
            b.fft_c2c_pruned(&plan, &mut d, Direction::Forward, band, Pruning::ZeroInput)
                .is_err(),
            "band {band:?}"
        );
    }
}

fn leading_axis_direct_t<B: Backend, T: Real>(b: &B) {
    for shape in [&[6usize, 5][..], &[8, 3, 4], &[5, 4, 3, 2], &[64, 2, 3, 4]] {
        let rank = shape.len();
        let plan = |axes| {
            b.fft_plan::<T>(&FftSpec::new(shape, axes, FftKind::C2C).unwrap())
                .unwrap()
        };
        let (all, trailing) = (plan(rank), plan(rank - 1));
        let n = shape[0];
        for dir in [Direction::Forward, Direction::Inverse] {
            let x = crandn::<T>(shape, 91);
            let want = match dir {
                Direction::Forward => dft_axis(&to_z(&x), 0, -1.0),
                Direction::Inverse => dft_axis(&to_z(&x), 0, 1.0) / n as f64,
            };
            let mut d = b.upload(x.view()).unwrap();
            b.fft_c2c_leading(&all, &trailing, &mut d, dir).unwrap();
            assert_rel(
                &format!("DFT along axis 0 {dir:?} {shape:?}"),
                &c_flat(&b.download(&d).unwrap()),
                &z_flat(&want),
                tol::<T>(points(shape, rank)),
            );
        }
    }
}

/// The DFT along axis 0 alone ([`Backend::fft_c2c_leading`]), both directions, ranks 2 to 4,
/// against the direct DFT along that axis.
pub fn leading_axis_direct<B: Backend>(b: &B) {
    per_precision!(leading_axis_direct_t, b);
}

fn real_leading_axis_direct_t<B: Backend, T: Real>(b: &B) {
    for shape in [
        &[6usize, 5][..],
        &[7, 3, 4],
        &[8, 3, 4],
        &[5, 4, 3, 2],
        &[64, 2, 3, 4],
    ] {
        let r = shape.len();
        let plan = |axes| {
            b.fft_plan::<T>(&FftSpec::new(shape, axes, FftKind::C2C).unwrap())
                .unwrap()
        };
        let (all, trailing) = (plan(r), plan(r - 1));
        let half = crate::fft::leading_half_shape(shape);
        let x = host_randn::<T>(shape, 93);
        let want = dft_axis(&x.mapv(|v| Z::new(v.f64(), 0.0)), 0, -1.0);
        let input = b.upload(x.view()).unwrap();
        let mut out = b.zeros::<C<T>>(&half).unwrap();
        b.fft_r2c_leading(&all, &trailing, &input, &mut out)
            .unwrap();
        let want = z_flat(&want.slice_axis(Axis(0), Slice::from(0..half[0])).to_owned());
        let tol = tol::<T>(points(shape, r));
        assert_rel(
            &format!("rfft axis 0 {shape:?}"),
            &c_flat(&b.download(&out).unwrap()),
            &want,
            tol,
        );
        // irfft: the direct c2r along the last axis, with axis 0 moved there and back.
        let spec = crandn::<T>(&half, 94);
        let mut perm: Vec<usize> = (1..r).chain([0]).collect();
        let want = direct_c2r(&to_z(&spec).permuted_axes(perm.clone()), 1, shape[0]);
        perm = [r - 1].into_iter().chain(0..r - 1).collect();
        let want: Vec<f64> = want.permuted_axes(perm).iter().copied().collect();
        let mut spec = b.upload(spec.view()).unwrap();
        let mut real = b.zeros::<T>(shape).unwrap();
        b.fft_c2r_leading(&all, &trailing, &mut spec, &mut real)
            .unwrap();
        let got = super::as_f64(&b.download(&real).unwrap());
        assert_rel(&format!("irfft axis 0 {shape:?}"), &got, &want, tol);
        let mut wrong = b.zeros::<C<T>>(shape).unwrap();
        assert!(b
            .fft_r2c_leading(&all, &trailing, &input, &mut wrong)
            .is_err());
        assert!(b
            .fft_c2r_leading(&all, &trailing, &mut wrong, &mut real)
            .is_err());
    }
}

/// [`Backend::fft_r2c_leading`] and [`Backend::fft_c2r_leading`] (numpy's `rfft` / `irfft`
/// along axis 0), odd and even lengths, ranks 2 to 4, against the direct DFT.
pub fn real_leading_axis_direct<B: Backend>(b: &B) {
    per_precision!(real_leading_axis_direct_t, b);
}

/// Pruned complex FFTs (zero-padded input; output needed in a band only) against the direct DFT.
pub fn c2c_pruned_direct<B: Backend>(b: &B) {
    per_precision!(c2c_pruned_direct_t, b);
}
