//! NUFFT plans (types 1 and 2, 1D to 3D; type 2 of real modes) against the direct non-uniform
//! DFT: accuracy, adjointness, batched vectors, edge cases and bad input.

use crate::nufft::{NufftPlan, NufftType};
use crate::{Backend, Error, Precision, Real, C};
use ndarray::{Array1, ArrayD, IxDyn};

/// Accuracies checked: down to 1e-6 in `f32`, 1e-14 in `f64`.
fn eps_list<T: Real>() -> &'static [f64] {
    match T::PRECISION {
        Precision::F32 => &[1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6],
        Precision::F64 => &[1e-1, 1e-3, 1e-6, 1e-9, 1e-12, 1e-14],
    }
}

/// Centred integer frequency of each axis for flat (row-major) mode position `flat`.
fn freqs(modes: &[usize], mut flat: usize) -> Vec<f64> {
    let mut k = vec![0.0; modes.len()];
    for a in (0..modes.len()).rev() {
        k[a] = (flat % modes[a]) as f64 - (modes[a] / 2) as f64;
        flat /= modes[a];
    }
    k
}

/// `e^{sign i <k, x_m>}` for mode `flat` and point `m`.
fn phase(modes: &[usize], flat: usize, x: &[Vec<f64>], m: usize, sign: f64) -> C<f64> {
    let ph: f64 = freqs(modes, flat)
        .iter()
        .zip(x)
        .map(|(k, xa)| k * xa[m])
        .sum();
    C::from_polar(1.0, sign * ph)
}

/// Direct type 1: `f[k] = Σ_m c_m e^{+i<k, x_m>}`.
fn direct_type1(modes: &[usize], x: &[Vec<f64>], c: &[C<f64>]) -> Vec<C<f64>> {
    let n: usize = modes.iter().product();
    (0..n)
        .map(|k| {
            (0..c.len())
                .map(|m| c[m] * phase(modes, k, x, m, 1.0))
                .sum()
        })
        .collect()
}

/// Direct type 2: `c_m = Σ_k f[k] e^{−i<k, x_m>}`.
fn direct_type2(modes: &[usize], x: &[Vec<f64>], f: &[C<f64>]) -> Vec<C<f64>> {
    (0..x[0].len())
        .map(|m| {
            (0..f.len())
                .map(|k| f[k] * phase(modes, k, x, m, -1.0))
                .sum()
        })
        .collect()
}

/// Relative l2 error of complex sequences.
fn rel_err_c(got: &[C<f64>], want: &[C<f64>]) -> f64 {
    assert_eq!(got.len(), want.len());
    let num: f64 = got.iter().zip(want).map(|(a, b)| (a - b).norm_sqr()).sum();
    let den: f64 = want.iter().map(|b| b.norm_sqr()).sum();
    if den == 0.0 {
        num.sqrt()
    } else {
        (num / den).sqrt()
    }
}

/// The l2 norm of a complex sequence.
fn norm_c(z: &[C<f64>]) -> f64 {
    z.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt()
}

/// `m` points per axis, uniform in `[−3.5, 3.5)` (some beyond ±π, to check the folding),
/// rounded to `T`, then widened back to `f64` for the direct sums.
fn points<T: Real>(dim: usize, m: usize, seed: u64) -> (Vec<Array1<T>>, Vec<Vec<f64>>) {
    let host: Vec<Array1<T>> = (0..dim)
        .map(|a| {
            let r = crate::host::rand::<f64>(&[m], seed + a as u64);
            r.iter().map(|&v| T::of(7.0 * v - 3.5)).collect()
        })
        .collect();
    let wide = host
        .iter()
        .map(|a| a.iter().map(|v| v.f64()).collect())
        .collect();
    (host, wide)
}

/// Random complex values of length `n`, rounded to `T`, and their `f64` widening.
fn values<T: Real>(n: usize, seed: u64) -> (Vec<C<T>>, Vec<C<f64>>) {
    let r = crate::host::randn::<f64>(&[2 * n], 0.0, 1.0, seed).expect("unit normal law");
    let v: Vec<C<T>> = (0..n)
        .map(|i| C::new(T::of(r[2 * i]), T::of(r[2 * i + 1])))
        .collect();
    let w = v.iter().map(|z| C::new(z.re.f64(), z.im.f64())).collect();
    (v, w)
}

/// Runs a plan of type `ty` with `n_trans` vectors on `input` (host, flat) and returns the
/// output widened to `f64`.
fn run<B: Backend, T: Real>(
    b: &B,
    ty: NufftType,
    modes: &[usize],
    n_trans: usize,
    eps: f64,
    x: &[Array1<T>],
    input: &[C<T>],
) -> Vec<C<f64>> {
    run_sigma(b, ty, modes, n_trans, eps, None, x, input)
}

/// As [`run`], with the upsampling factor fixed to `sigma` if given.
#[allow(clippy::too_many_arguments)]
fn run_sigma<B: Backend, T: Real>(
    b: &B,
    ty: NufftType,
    modes: &[usize],
    n_trans: usize,
    eps: f64,
    sigma: Option<f64>,
    x: &[Array1<T>],
    input: &[C<T>],
) -> Vec<C<f64>> {
    let mut plan = match sigma {
        Some(s) => NufftPlan::<B, T>::with_upsampfac(b, ty, modes, n_trans, eps, s),
        None => NufftPlan::<B, T>::new(b, ty, modes, n_trans, eps),
    }
    .unwrap();
    let views: Vec<_> = x.iter().map(|a| a.view()).collect();
    plan.set_points(&views).unwrap();
    let m = x[0].len();
    let mut in_shape = vec![n_trans];
    let mut out_shape = vec![n_trans];
    match ty {
        NufftType::Type1 => {
            in_shape.push(m);
            out_shape.extend(modes);
        }
        NufftType::Type2 => {
            in_shape.extend(modes);
            out_shape.push(m);
        }
    }
    let input = b.upload_flat(&in_shape, input.to_vec()).unwrap();
    let mut out = b.zeros::<C<T>>(&out_shape).unwrap();
    plan.execute(&input, &mut out).unwrap();
    let host: ArrayD<C<T>> = b.download(&out).unwrap();
    host.iter()
        .map(|z| C::new(z.re.f64(), z.im.f64()))
        .collect()
}

/// Both types on `modes` with `m` points against the direct sums, for every `eps` of `T`, at
/// the upsampling factors the operators choose from (2, and 1.5 and 1.25 down to 1e-9).
fn check_direct<B: Backend, T: Real>(b: &B, modes: &[usize], m: usize) {
    let (x, xw) = points::<T>(modes.len(), m, 11);
    let (c, cw) = values::<T>(m, 21);
    let n: usize = modes.iter().product();
    let (f, fw) = values::<T>(n, 31);
    let want1 = direct_type1(modes, &xw, &cw);
    let want2 = direct_type2(modes, &xw, &fw);
    for &eps in eps_list::<T>() {
        for sigma in [2.0, 1.5, 1.25] {
            if sigma < 2.0 && eps < 1e-9 {
                continue;
            }
            let s = Some(sigma);
            let got1 = run_sigma::<B, T>(b, NufftType::Type1, modes, 1, eps, s, &x, &c);
            let e1 = rel_err_c(&got1, &want1);
            assert!(
                e1 <= 10.0 * eps,
                "{} type 1 {modes:?} eps {eps:e} upsampfac {sigma}: error {e1:.2e}",
                T::PRECISION
            );
            let got2 = run_sigma::<B, T>(b, NufftType::Type2, modes, 1, eps, s, &x, &f);
            let e2 = rel_err_c(&got2, &want2);
            assert!(
                e2 <= 10.0 * eps,
                "{} type 2 {modes:?} eps {eps:e} upsampfac {sigma}: error {e2:.2e}",
                T::PRECISION
            );
        }
    }
}

fn direct_1d<B: Backend, T: Real>(b: &B) {
    check_direct::<B, T>(b, &[37], 150);
    check_direct::<B, T>(b, &[64], 90);
}

fn direct_2d<B: Backend, T: Real>(b: &B) {
    check_direct::<B, T>(b, &[12, 17], 120);
}

fn direct_3d<B: Backend, T: Real>(b: &B) {
    check_direct::<B, T>(b, &[6, 9, 8], 80);
}

/// Types 1 and 2 in 1D (odd and even mode counts) against the direct sums.
pub fn matches_direct_1d<B: Backend>(b: &B) {
    per_precision!(direct_1d, b);
}

/// Types 1 and 2 in 2D (coordinate array `a` pairs with array axis `a`).
pub fn matches_direct_2d<B: Backend>(b: &B) {
    per_precision!(direct_2d, b);
}

/// Types 1 and 2 in 3D.
pub fn matches_direct_3d<B: Backend>(b: &B) {
    per_precision!(direct_3d, b);
}

fn adjoint<B: Backend, T: Real>(b: &B) {
    let eps = match T::PRECISION {
        Precision::F32 => 1e-5,
        Precision::F64 => 1e-12,
    };
    for modes in [&[21][..], &[10, 7], &[5, 6, 7]] {
        let m = 60;
        let (x, _) = points::<T>(modes.len(), m, 41);
        let (c, cw) = values::<T>(m, 42);
        let n: usize = modes.iter().product();
        let (f, fw) = values::<T>(n, 43);
        let t2f = run::<B, T>(b, NufftType::Type2, modes, 1, eps, &x, &f);
        let t1c = run::<B, T>(b, NufftType::Type1, modes, 1, eps, &x, &c);
        let lhs: C<f64> = t2f.iter().zip(&cw).map(|(a, c)| a.conj() * c).sum();
        let rhs: C<f64> = fw.iter().zip(&t1c).map(|(f, a)| f.conj() * a).sum();
        let scale = norm_c(&t2f) * norm_c(&cw);
        let e = (lhs - rhs).norm() / scale;
        assert!(
            e <= 10.0 * eps,
            "{} adjointness {modes:?}: {e:.2e}",
            T::PRECISION
        );
    }
}

/// `<T2 f, c> = <f, T1 c>` on the same points.
pub fn adjoint_types<B: Backend>(b: &B) {
    per_precision!(adjoint, b);
}

fn batched<B: Backend, T: Real>(b: &B) {
    let eps = match T::PRECISION {
        Precision::F32 => 1e-5,
        Precision::F64 => 1e-12,
    };
    let (modes, m, nt) = (&[9usize, 12][..], 70, 3);
    let (x, _) = points::<T>(2, m, 51);
    for ty in [NufftType::Type1, NufftType::Type2] {
        let len = match ty {
            NufftType::Type1 => m,
            NufftType::Type2 => modes.iter().product(),
        };
        let (input, _) = values::<T>(nt * len, 52);
        let all = run::<B, T>(b, ty, modes, nt, eps, &x, &input);
        let each: Vec<C<f64>> = input
            .chunks(len)
            .flat_map(|v| run::<B, T>(b, ty, modes, 1, eps, &x, v))
            .collect();
        let e = rel_err_c(&all, &each);
        assert!(e <= eps, "{} {ty:?} n_trans {nt}: {e:.2e}", T::PRECISION);
    }
}

/// A plan with `n_trans = 3` equals three single-vector executions.
pub fn many_vectors<B: Backend>(b: &B) {
    per_precision!(batched, b);
}

fn sets<B: Backend, T: Real>(b: &B) {
    let eps = match T::PRECISION {
        Precision::F32 => 1e-5,
        Precision::F64 => 1e-12,
    };
    let modes = &[10usize, 7, 6][..];
    let n: usize = modes.iter().product();
    let xs: Vec<Vec<Array1<T>>> = [40, 0, 95]
        .iter()
        .zip(71..)
        .map(|(&m, seed)| points::<T>(3, m, seed).0)
        .collect();
    for ty in [NufftType::Type1, NufftType::Type2] {
        let mut plan = NufftPlan::<B, T>::with_upsampfac(b, ty, modes, 1, eps, 2.0).unwrap();
        let views: Vec<Vec<_>> = xs
            .iter()
            .map(|x| x.iter().map(|a| a.view()).collect())
            .collect();
        let refs: Vec<&[_]> = views.iter().map(|v| v.as_slice()).collect();
        plan.set_point_sets(&refs).unwrap();
        assert_eq!(plan.num_point_sets(), 3);
        for (k, x) in xs.iter().enumerate() {
            let m = x[0].len();
            let (len, in_shape, out_shape) = match ty {
                NufftType::Type1 => (m, vec![m], modes.to_vec()),
                NufftType::Type2 => (n, modes.to_vec(), vec![m]),
            };
            let (input, _) = values::<T>(len, 80 + k as u64);
            let want = run_sigma::<B, T>(b, ty, modes, 1, eps, Some(2.0), x, &input);
            let input = b.upload_flat(&in_shape, input).unwrap();
            let mut out = b.zeros::<C<T>>(&out_shape).unwrap();
            plan.execute_set(k, &input, &mut out).unwrap();
            let got: Vec<C<f64>> = b
                .download(&out)
                .unwrap()
                .iter()
                .map(|z| C::new(z.re.f64(), z.im.f64()))
                .collect();
            let e = rel_err_c(&got, &want);
            assert!(e <= eps / 10.0, "{} {ty:?} set {k}: {e:.2e}", T::PRECISION);
            if k == 0 {
                assert!(
                    plan.execute(&input, &mut out).is_err(),
                    "execute without a set index on a plan of 3 sets"
                );
                assert!(plan.execute_set(3, &input, &mut out).is_err(), "set 3 of 3");
            }
        }
        assert!(plan.set_point_sets(&[]).is_err(), "no point set");
    }
}

/// A plan of three point sets (40, 0 and 95 points) on one fine grid: each set executed
/// equals a plan of that set alone; `execute` without a set index, a set past the last and an
/// empty list of sets are errors.
pub fn point_sets<B: Backend>(b: &B) {
    per_precision!(sets, b);
}

fn no_points<B: Backend, T: Real>(b: &B) {
    let x = vec![Array1::<T>::zeros(0); 2];
    let out = run::<B, T>(b, NufftType::Type1, &[4, 5], 1, 1e-5, &x, &[]);
    assert_eq!(out.len(), 20);
    assert!(
        out.iter().all(|z| z.norm() == 0.0),
        "type 1 of no points is zero"
    );
    let (f, _) = values::<T>(20, 61);
    let out = run::<B, T>(b, NufftType::Type2, &[4, 5], 1, 1e-5, &x, &f);
    assert!(out.is_empty());
}

/// M = 0: type 1 gives zeros, type 2 an empty output.
pub fn zero_points<B: Backend>(b: &B) {
    per_precision!(no_points, b);
}

fn edge_points<B: Backend, T: Real>(b: &B) {
    let pi = std::f64::consts::PI;
    let coords = [-pi, pi, 0.0, -pi, pi, 2.0 * pi, -2.0 * pi, 3.0 * pi];
    let x0: Array1<T> = coords.iter().map(|&v| T::of(v)).collect();
    let x1: Array1<T> = coords.iter().rev().map(|&v| T::of(v)).collect();
    let xw: Vec<Vec<f64>> = [&x0, &x1]
        .iter()
        .map(|a| a.iter().map(|v| v.f64()).collect())
        .collect();
    let x = vec![x0, x1];
    let (modes, eps) = (&[8usize, 7][..], 1e-5);
    let (c, cw) = values::<T>(coords.len(), 71);
    let got = run::<B, T>(b, NufftType::Type1, modes, 1, eps, &x, &c);
    let e = rel_err_c(&got, &direct_type1(modes, &xw, &cw));
    assert!(
        e <= 10.0 * eps,
        "{} points at ±π, type 1: {e:.2e}",
        T::PRECISION
    );
    let (f, fw) = values::<T>(56, 72);
    let got = run::<B, T>(b, NufftType::Type2, modes, 1, eps, &x, &f);
    let e = rel_err_c(&got, &direct_type2(modes, &xw, &fw));
    assert!(
        e <= 10.0 * eps,
        "{} points at ±π, type 2: {e:.2e}",
        T::PRECISION
    );
}

/// Points exactly at ±π, 0 and multiples of 2π.
pub fn points_at_pi<B: Backend>(b: &B) {
    per_precision!(edge_points, b);
}

fn single_mode<B: Backend, T: Real>(b: &B) {
    for modes in [&[1usize][..], &[1, 1], &[1, 4, 1]] {
        let m = 9;
        let (x, xw) = points::<T>(modes.len(), m, 81);
        let (c, cw) = values::<T>(m, 82);
        let got = run::<B, T>(b, NufftType::Type1, modes, 1, 1e-6, &x, &c);
        let e = rel_err_c(&got, &direct_type1(modes, &xw, &cw));
        assert!(e <= 1e-5, "{} one mode {modes:?}: {e:.2e}", T::PRECISION);
        let n: usize = modes.iter().product();
        let (f, fw) = values::<T>(n, 83);
        let got = run::<B, T>(b, NufftType::Type2, modes, 1, 1e-6, &x, &f);
        let e = rel_err_c(&got, &direct_type2(modes, &xw, &fw));
        assert!(
            e <= 1e-5,
            "{} one mode {modes:?}, type 2: {e:.2e}",
            T::PRECISION
        );
    }
}

/// Grids with a single mode on some axes.
pub fn one_mode<B: Backend>(b: &B) {
    per_precision!(single_mode, b);
}

fn odd_even<B: Backend, T: Real>(b: &B) {
    for modes in [&[7usize, 8][..], &[8, 7], &[2, 3], &[3, 2, 5]] {
        let m = 40;
        let (x, xw) = points::<T>(modes.len(), m, 91);
        let (c, cw) = values::<T>(m, 92);
        let got = run::<B, T>(b, NufftType::Type1, modes, 1, 1e-5, &x, &c);
        let e = rel_err_c(&got, &direct_type1(modes, &xw, &cw));
        assert!(
            e <= 1e-4,
            "{} grid {modes:?}, type 1: {e:.2e}",
            T::PRECISION
        );
        let n: usize = modes.iter().product();
        let (f, fw) = values::<T>(n, 93);
        let got = run::<B, T>(b, NufftType::Type2, modes, 1, 1e-5, &x, &f);
        let e = rel_err_c(&got, &direct_type2(modes, &xw, &fw));
        assert!(
            e <= 1e-4,
            "{} grid {modes:?}, type 2: {e:.2e}",
            T::PRECISION
        );
    }
}

/// Odd and even mode counts, in every axis order.
pub fn odd_and_even_grids<B: Backend>(b: &B) {
    per_precision!(odd_even, b);
}

/// Bad input is an error, never a panic: eps out of range, bad mode grids, non-finite or
/// mismatched points, wrong buffer shapes, execution before the points are set.
pub fn bad_input<B: Backend>(b: &B) {
    let t1 = NufftType::Type1;
    for eps in [0.0, 1.0, -1e-3, 1e-9, f64::NAN] {
        assert!(
            NufftPlan::<B, f32>::new(b, t1, &[8], 1, eps).is_err(),
            "f32 eps {eps}"
        );
    }
    for modes in [&[][..], &[0, 4], &[2, 2, 2, 2]] {
        assert!(
            NufftPlan::<B, f32>::new(b, t1, modes, 1, 1e-3).is_err(),
            "{modes:?}"
        );
    }
    assert!(
        NufftPlan::<B, f32>::new(b, t1, &[8], 0, 1e-3).is_err(),
        "n_trans 0"
    );

    let mut plan = NufftPlan::<B, f32>::new(b, t1, &[8, 6], 1, 1e-4).unwrap();
    let c = b.zeros::<C<f32>>(&[5]).unwrap();
    let mut out = b.zeros::<C<f32>>(&[8, 6]).unwrap();
    assert!(
        plan.execute(&c, &mut out).is_err(),
        "execute before set_points"
    );
    let good = Array1::<f32>::linspace(-3.0, 3.0, 5);
    let nan = Array1::from(vec![0.0f32, f32::NAN, 1.0, 2.0, 3.0]);
    let inf = Array1::from(vec![0.0f32, 1.0, f32::INFINITY, 2.0, 3.0]);
    let short = Array1::<f32>::zeros(4);
    for (what, x) in [("NaN", &nan), ("inf", &inf)] {
        let e = plan.set_points(&[good.view(), x.view()]).unwrap_err();
        assert!(matches!(e, Error::NonFinite(_)), "{what}: {e}");
    }
    let e = plan.set_points(&[good.view(), short.view()]).unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }), "lengths: {e}");
    assert!(plan.set_points(&[good.view()]).is_err(), "one array for 2D");
    plan.set_points(&[good.view(), good.view()]).unwrap();
    assert_eq!(plan.num_points(), 5);
    plan.execute(&c, &mut out).unwrap();
    let wrong_c = b.zeros::<C<f32>>(&[6]).unwrap();
    let e = plan.execute(&wrong_c, &mut out).unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }), "strengths: {e}");
    let mut wrong_out = b.zeros::<C<f32>>(&[6, 8]).unwrap();
    let e = plan.execute(&c, &mut wrong_out).unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }), "modes: {e}");

    let mut plan2 = NufftPlan::<B, f32>::new(b, NufftType::Type2, &[8, 6], 2, 1e-4).unwrap();
    plan2.set_points(&[good.view(), good.view()]).unwrap();
    let f = b.zeros::<C<f32>>(&[8, 6]).unwrap();
    let mut v = b.zeros::<C<f32>>(&[2, 5]).unwrap();
    let e = plan2.execute(&f, &mut v).unwrap_err();
    assert!(
        matches!(e, Error::ShapeMismatch { .. }),
        "n_trans 2 given one vector: {e}"
    );
    let f = b.zeros::<C<f32>>(&[2, 8, 6]).unwrap();
    plan2.execute(&f, &mut v).unwrap();
    let host = b.download(&v).unwrap();
    assert_eq!(host, ArrayD::zeros(IxDyn(&[2, 5])));
}

/// Runs a type-2 plan of real modes ([`NufftPlan::new_real`]) with `n_trans` vectors on the
/// real modes `f` (host, flat), upsampling factor `sigma` if given; the values widened to `f64`.
fn run_real<B: Backend, T: Real>(
    b: &B,
    modes: &[usize],
    n_trans: usize,
    eps: f64,
    sigma: Option<f64>,
    x: &[Array1<T>],
    f: &[T],
) -> Vec<C<f64>> {
    let ty = NufftType::Type2;
    let mut plan = NufftPlan::<B, T>::new_real(b, ty, modes, n_trans, eps, sigma).unwrap();
    let views: Vec<_> = x.iter().map(|a| a.view()).collect();
    plan.set_points(&views).unwrap();
    let mut shape = vec![n_trans];
    shape.extend(modes);
    let f = b.upload_flat(&shape, f.to_vec()).unwrap();
    let mut out = b.zeros::<C<T>>(&[n_trans, x[0].len()]).unwrap();
    plan.execute_real(&f, &mut out).unwrap();
    b.download(&out)
        .unwrap()
        .iter()
        .map(|z| C::new(z.re.f64(), z.im.f64()))
        .collect()
}

/// Runs the real part of a type-1 plan ([`NufftPlan::new_real`]) with `n_trans` vectors on the
/// strengths `c` (host, flat), upsampling factor `sigma` if given; the modes widened to `f64`.
fn run_to_real<B: Backend, T: Real>(
    b: &B,
    modes: &[usize],
    n_trans: usize,
    eps: f64,
    sigma: Option<f64>,
    x: &[Array1<T>],
    c: &[C<T>],
) -> Vec<f64> {
    let ty = NufftType::Type1;
    let mut plan = NufftPlan::<B, T>::new_real(b, ty, modes, n_trans, eps, sigma).unwrap();
    let views: Vec<_> = x.iter().map(|a| a.view()).collect();
    plan.set_points(&views).unwrap();
    let mut shape = vec![n_trans];
    shape.extend(modes);
    let c = b.upload_flat(&[n_trans, x[0].len()], c.to_vec()).unwrap();
    let mut out = b.zeros::<T>(&shape).unwrap();
    plan.execute_to_real(&c, &mut out).unwrap();
    b.download(&out).unwrap().iter().map(|v| v.f64()).collect()
}

/// Relative l2 error of real sequences.
fn rel_err_r(got: &[f64], want: &[f64]) -> f64 {
    let wide = |v: &[f64]| v.iter().map(|&x| C::new(x, 0.0)).collect::<Vec<_>>();
    rel_err_c(&wide(got), &wide(want))
}

/// `m` points as [`points`], the first `2^dim` of them one per octant (all sign patterns),
/// then points whose last coordinate is on or near the half spectrum's edges: `0`, `±π`, and
/// within a kernel half-width of them (`±1e-4`, `±0.05`, `±(π − 0.05)`, `±(π − 1e-4)`), also
/// beyond `π` (`π + 0.05`: folded to `−π + 0.05`).
fn real_points<T: Real>(dim: usize, m: usize, seed: u64) -> (Vec<Array1<T>>, Vec<Vec<f64>>) {
    let pi = std::f64::consts::PI;
    let edges = [
        0.0,
        pi,
        -pi,
        1e-4,
        -1e-4,
        0.05,
        -0.05,
        pi - 0.05,
        0.05 - pi,
        pi - 1e-4,
        1e-4 - pi,
        pi + 0.05,
    ];
    let (mut host, _) = points::<T>(dim, m, seed);
    let octants = 1 << dim;
    assert!(m >= octants + edges.len(), "room for the special points");
    for (i, &e) in edges.iter().enumerate() {
        host[dim - 1][octants + i] = T::of(e);
    }
    for i in 0..octants {
        for (a, x) in host.iter_mut().enumerate() {
            let v = 0.3 + 0.2 * a as f64 + 0.1 * i as f64;
            x[i] = T::of(if (i >> a) & 1 == 1 { -v } else { v });
        }
    }
    let wide = host
        .iter()
        .map(|a| a.iter().map(|v| v.f64()).collect())
        .collect();
    (host, wide)
}

/// Random real values of length `n`, rounded to `T`, and their `f64` widening as complex.
fn real_values<T: Real>(n: usize, seed: u64) -> (Vec<T>, Vec<C<f64>>) {
    let r = crate::host::randn::<f64>(&[n], 0.0, 1.0, seed).expect("unit normal law");
    let v: Vec<T> = r.iter().map(|&x| T::of(x)).collect();
    let w = v.iter().map(|x| C::new(x.f64(), 0.0)).collect();
    (v, w)
}

fn real_direct<B: Backend, T: Real>(b: &B) {
    let nt = 2;
    // The two paths round differently (their FFTs differ): 20 units of rounding of `T`.
    let rounding = 20.0 * T::epsilon().f64();
    for modes in [
        &[37usize][..],
        &[64],
        &[12, 17],
        &[9, 8],
        &[6, 9, 8],
        &[7, 6, 5],
    ] {
        let m = 60;
        let (x, xw) = real_points::<T>(modes.len(), m, 101);
        let n: usize = modes.iter().product();
        let (f, fw) = real_values::<T>(nt * n, 102);
        let want: Vec<C<f64>> = fw
            .chunks(n)
            .flat_map(|fw| direct_type2(modes, &xw, fw))
            .collect();
        let fc: Vec<C<T>> = f.iter().map(|&v| C::new(v, T::zero())).collect();
        let (c, cw) = values::<T>(nt * m, 103);
        let want1: Vec<f64> = cw
            .chunks(m)
            .flat_map(|cw| direct_type1(modes, &xw, cw))
            .map(|z| z.re)
            .collect();
        for &eps in eps_list::<T>() {
            for sigma in [2.0, 1.5, 1.25] {
                if sigma < 2.0 && eps < 1e-9 {
                    continue;
                }
                let s = Some(sigma);
                let got = run_real::<B, T>(b, modes, nt, eps, s, &x, &f);
                let e = rel_err_c(&got, &want);
                assert!(
                    e <= 10.0 * eps,
                    "{} real type 2 {modes:?} eps {eps:e} upsampfac {sigma}: error {e:.2e}",
                    T::PRECISION
                );
                let complex = run_sigma::<B, T>(b, NufftType::Type2, modes, nt, eps, s, &x, &fc);
                let e = rel_err_c(&got, &complex);
                assert!(
                    e <= eps.max(rounding),
                    "{} real type 2 {modes:?} eps {eps:e} upsampfac {sigma}: {e:.2e} from the complex path",
                    T::PRECISION
                );
                let got = run_to_real::<B, T>(b, modes, nt, eps, s, &x, &c);
                let e = rel_err_r(&got, &want1);
                assert!(
                    e <= 10.0 * eps,
                    "{} real part of type 1 {modes:?} eps {eps:e} upsampfac {sigma}: error {e:.2e}",
                    T::PRECISION
                );
                let complex = run_sigma::<B, T>(b, NufftType::Type1, modes, nt, eps, s, &x, &c);
                let complex: Vec<f64> = complex.iter().map(|z| z.re).collect();
                let e = rel_err_r(&got, &complex);
                assert!(
                    e <= eps.max(rounding),
                    "{} real part of type 1 {modes:?} eps {eps:e} upsampfac {sigma}: {e:.2e} from the complex path",
                    T::PRECISION
                );
            }
        }
    }
}

/// Type 2 of real modes and the real part of type 1 ([`NufftPlan::new_real`], two vectors)
/// against the direct sums in 1D, 2D and 3D, odd and even mode counts, points in every octant
/// and on or near the last axis' `0` and `±π`, at every upsampling factor; and within `eps` of
/// the complex plans (or 20 units of rounding of the precision, in `f32` at `eps` 1e-6).
pub fn real_modes_direct<B: Backend>(b: &B) {
    per_precision!(real_direct, b);
}

fn real_adjoint<B: Backend, T: Real>(b: &B) {
    let eps = match T::PRECISION {
        Precision::F32 => 1e-5,
        Precision::F64 => 1e-12,
    };
    for modes in [&[21][..], &[10, 7], &[5, 6, 7]] {
        let m = 60;
        let (x, _) = real_points::<T>(modes.len(), m, 111);
        let (c, cw) = values::<T>(m, 112);
        let n: usize = modes.iter().product();
        let (u, uw) = real_values::<T>(n, 113);
        let t2u = run_real::<B, T>(b, modes, 1, eps, None, &x, &u);
        let t1c = run_to_real::<B, T>(b, modes, 1, eps, None, &x, &c);
        let lhs: f64 = t2u.iter().zip(&cw).map(|(a, c)| (a.conj() * c).re).sum();
        let rhs: f64 = uw.iter().zip(&t1c).map(|(u, a)| u.re * a).sum();
        let scale = norm_c(&t2u) * norm_c(&cw);
        let e = (lhs - rhs).abs() / scale;
        assert!(
            e <= 10.0 * eps,
            "{} real adjointness {modes:?}: {e:.2e}",
            T::PRECISION
        );
    }
}

/// `Re <T2 u, c> = <u, Re T1 c>` for real `u` (both plans of real modes).
pub fn real_modes_adjoint<B: Backend>(b: &B) {
    per_precision!(real_adjoint, b);
}

/// Plans of real modes: `execute` on them and `execute_real` on a complex plan are errors, as
/// are wrong shapes; on backends with the half-spectrum stages, those stages check their sizes.
pub fn real_modes_bad_input<B: Backend>(b: &B) {
    let x = Array1::<f32>::linspace(-3.0, 3.0, 5);
    let xs = [x.view(), x.view()];
    let t2 = NufftType::Type2;
    let mut real = NufftPlan::<B, f32>::new_real(b, t2, &[8, 6], 1, 1e-4, None).unwrap();
    let u = b.zeros::<f32>(&[8, 6]).unwrap();
    let mut v = b.zeros::<C<f32>>(&[5]).unwrap();
    assert!(real.execute_real(&u, &mut v).is_err(), "before set_points");
    real.set_points(&xs).unwrap();
    real.execute_real(&u, &mut v).unwrap();
    let uc = b.zeros::<C<f32>>(&[8, 6]).unwrap();
    assert!(real.execute(&uc, &mut v).is_err(), "execute on real modes");
    let e = real
        .execute_real(&b.zeros::<f32>(&[6, 8]).unwrap(), &mut v)
        .unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }), "modes: {e}");
    let e = real
        .execute_real(&u, &mut b.zeros::<C<f32>>(&[4]).unwrap())
        .unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }), "values: {e}");
    let mut complex = NufftPlan::<B, f32>::new(b, NufftType::Type2, &[8, 6], 1, 1e-4).unwrap();
    complex.set_points(&xs).unwrap();
    assert!(complex.execute_real(&u, &mut v).is_err(), "complex plan");
    assert!(
        NufftPlan::<B, f32>::new_real(b, t2, &[8, 0], 1, 1e-4, None).is_err(),
        "empty axis"
    );
    let mut u_out = b.zeros::<f32>(&[8, 6]).unwrap();
    assert!(
        real.execute_to_real(&v, &mut u_out).is_err(),
        "execute_to_real on type 2"
    );
    let t1 = NufftType::Type1;
    let mut real1 = NufftPlan::<B, f32>::new_real(b, t1, &[8, 6], 1, 1e-4, None).unwrap();
    real1.set_points(&xs).unwrap();
    real1.execute_to_real(&v, &mut u_out).unwrap();
    assert!(
        real1.execute_real(&u, &mut v).is_err(),
        "execute_real on type 1"
    );
    let e = real1
        .execute_to_real(&v, &mut b.zeros::<f32>(&[8, 5]).unwrap())
        .unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }), "modes out: {e}");
    if !b.nufft_half_spectrum() {
        return;
    }
    let params = real.params().clone();
    let pts = b.nufft_setpts(&xs, &params).unwrap();
    let factors = b.zeros::<f32>(&[14]).unwrap();
    let mut fine = vec![1];
    fine.extend(&params.fine);
    let r2c = b
        .fft_plan::<f32>(&crate::FftSpec::new(&fine, 2, crate::FftKind::R2C).unwrap())
        .unwrap();
    let c2c = b
        .fft_plan::<f32>(&crate::FftSpec::new(&fine, 2, crate::FftKind::C2C).unwrap())
        .unwrap();
    let half_shape = crate::check::nufft_half_shape(&params);
    let mut half = b.zeros::<C<f32>>(&half_shape).unwrap();
    b.nufft_precompensate_r2c(&params, &factors, &r2c, &u, &mut half)
        .unwrap();
    b.nufft_interp_half(&pts, &params, &half, &mut v).unwrap();
    let mut full = b.zeros::<C<f32>>(&fine).unwrap();
    assert!(
        b.nufft_precompensate_r2c(&params, &factors, &r2c, &u, &mut full)
            .is_err(),
        "full grid as half spectrum"
    );
    assert!(
        b.nufft_precompensate_r2c(&params, &factors, &c2c, &u, &mut half)
            .is_err(),
        "C2C plan"
    );
    assert!(
        b.nufft_precompensate_r2c(&params, &b.zeros(&[13]).unwrap(), &r2c, &u, &mut half)
            .is_err(),
        "factors"
    );
    assert!(
        b.nufft_interp_half(&pts, &params, &full, &mut v).is_err(),
        "interp from the full grid"
    );
    assert!(
        b.nufft_interp_half(&pts, &params, &half, &mut b.zeros(&[6]).unwrap())
            .is_err(),
        "values"
    );
    b.nufft_spread_half(&pts, &params, &v, &mut half).unwrap();
    assert!(
        b.nufft_spread_half(&pts, &params, &v, &mut full).is_err(),
        "spread onto the full grid"
    );
    assert!(
        b.nufft_spread_half(&pts, &params, &b.zeros(&[4]).unwrap(), &mut half)
            .is_err(),
        "strengths"
    );
    assert!(
        b.nufft_c2r_deconvolve(&params, &factors, &c2c, &mut half, &mut u_out)
            .is_err(),
        "c2r with a C2C plan"
    );
    assert!(
        b.nufft_c2r_deconvolve(
            &params,
            &factors,
            &r2c,
            &mut half,
            &mut b.zeros(&[7]).unwrap()
        )
        .is_err(),
        "c2r modes"
    );
    b.nufft_c2r_deconvolve(&params, &factors, &r2c, &mut half, &mut u_out)
        .unwrap();
}
