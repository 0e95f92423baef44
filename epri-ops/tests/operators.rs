//! Generic tests of the mono-source operators, instantiated per backend: paths read
//! `cpu::proj2d::adjointness`, `opencl::toeplitz::equals_adjoint_of_projection`, ...
//!
//! Oracles: direct (slow) sums from the definitions of the operators, transposes of explicit
//! matrices, and identities between operators. Tiny sizes, f64 with eps 1e-14 (relative
//! errors < 1e-10) and f32 with eps 1e-6 (< 1e-4).

mod common;

use backend_core::{Backend, Real};
use epri_ops::{Geometry, Projector, ProjectorOptions};
use ndarray::{Array1, ArrayD, IxDyn};
use num_complex::Complex64;
use std::f64::consts::PI;

/// Image shapes of the 2D and 3D cases (Y, X[, Z]), odd and even axes.
const SHAPE2: [usize; 2] = [12, 9];
const SHAPE3: [usize; 3] = [8, 7, 6];

/// A geometry whose projections fit the field window, and its lineshape (Nb even in 2D, odd in
/// 3D).
fn case<T: Real>(dim: usize) -> (Geometry<T>, Array1<T>, Vec<usize>) {
    let (g, h) = if dim == 2 {
        common::small_geometry::<T>(2, 64, 7, 12.0, 0.03)
    } else {
        common::small_geometry::<T>(3, 47, 9, 12.0, 0.03)
    };
    let shape = if dim == 2 {
        SHAPE2.to_vec()
    } else {
        SHAPE3.to_vec()
    };
    (g, h, shape)
}

fn opts(rfft_mode: bool, eps: f64) -> ProjectorOptions {
    ProjectorOptions { rfft_mode, eps }
}

/// (eps, tolerance) per precision.
fn accuracy<T: Real>() -> (f64, f64) {
    if T::EPS.f64() < 1e-10 {
        (1e-14, 1e-10)
    } else {
        (1e-6, 1e-4)
    }
}

fn apply_host<B: Backend, T: Real>(a: &mut Projector<B, T>, u: &ArrayD<T>) -> ArrayD<T> {
    let b = a.backend().clone();
    let ud = b.upload(u.view()).unwrap();
    let mut out = b.zeros::<T>(&a.sino_shape()).unwrap();
    a.apply(&ud, &mut out).unwrap();
    b.download(&out).unwrap()
}

fn adjoint_host<B: Backend, T: Real>(a: &mut Projector<B, T>, p: &ArrayD<T>) -> ArrayD<T> {
    let b = a.backend().clone();
    let pd = b.upload(p.view()).unwrap();
    let mut out = b.zeros::<T>(a.image_shape()).unwrap();
    a.adjoint(&pd, &mut out).unwrap();
    b.download(&out).unwrap()
}

/// Naive DFT of a real sequence, `Σ_m x[m] e^{-2iπ α m / N}`, all `α` in `0..N`.
fn dft(x: &[f64]) -> Vec<Complex64> {
    let n = x.len();
    (0..n)
        .map(|a| {
            x.iter()
                .enumerate()
                .map(|(m, &v)| {
                    v * Complex64::from_polar(1.0, -2.0 * PI * (a * m % n) as f64 / n as f64)
                })
                .sum()
        })
        .collect()
}

/// The projection of `u` by the definition (full spectrum, f64 throughout):
/// `p_k = Re IDFT( δ^d Ĥ(α) Σ_x u(x) e^{-i<x, ω_{k,α}>} )` over `α ∈ C(γ_k)`.
fn direct_projection<T: Real>(g: &Geometry<T>, h: &Array1<T>, u: &ArrayD<T>) -> ArrayD<f64> {
    let nb = g.nb();
    let (db, delta) = (g.db().f64(), g.delta().f64());
    let d = g.dim();
    let hh = dft(&h.iter().map(|v| v.f64()).collect::<Vec<_>>());
    let fgrad = g.fgrad();
    let shape = u.shape().to_vec();
    let mut out = ArrayD::<f64>::zeros(IxDyn(&[g.num_proj(), nb]));
    for k in 0..g.num_proj() {
        // image axis a <- fgrad row (Y, X, Z) = (1, 0, 2)
        let gk: Vec<f64> = (0..d).map(|a| fgrad[[[1, 0, 2][a], k]].f64()).collect();
        let mu = gk.iter().map(|v| v * v).sum::<f64>().sqrt();
        let mut spec = vec![Complex64::new(0.0, 0.0); nb];
        for (c, s) in spec.iter_mut().enumerate() {
            let alpha = if c < nb.div_ceil(2) {
                c as f64
            } else {
                c as f64 - nb as f64
            };
            if !(mu * alpha.abs() < 0.5 * nb as f64 * db / delta && 2.0 * alpha.abs() < nb as f64) {
                continue;
            }
            let xi = 2.0 * PI * alpha / (nb as f64 * db);
            let mut acc = Complex64::new(0.0, 0.0);
            for (ix, &v) in u.indexed_iter() {
                let phase: f64 = (0..d)
                    .map(|a| (ix[a] as f64 - (shape[a] / 2) as f64) * (-delta * gk[a] * xi))
                    .sum();
                acc += v.f64() * Complex64::from_polar(1.0, -phase);
            }
            *s = acc * hh[c] * delta.powi(d as i32);
        }
        for m in 0..nb {
            let v: Complex64 = spec
                .iter()
                .enumerate()
                .map(|(c, s)| {
                    s * Complex64::from_polar(1.0, 2.0 * PI * (c * m % nb) as f64 / nb as f64)
                })
                .sum();
            out[[k, m]] = v.re / nb as f64;
        }
    }
    out
}

fn to_f64<T: Real>(a: &ArrayD<T>) -> ArrayD<f64> {
    a.mapv(|v| v.f64())
}

fn rel64(a: &ArrayD<f64>, b: &ArrayD<f64>) -> f64 {
    common::rel_err(a, b)
}

mod generic {
    use super::*;

    /// Each test runs in f64 (when the device has it) and f32.
    fn both<B: Backend>(b: &B, f: impl Fn(&B, bool)) {
        if b.supports_f64() {
            f(b, true);
        }
        f(b, false);
    }

    pub mod shared {
        use super::*;

        /// `<A u, p> = <u, A* p>` for random `u`, `p`.
        pub fn adjointness<B: Backend, T: Real>(b: &B, dim: usize, rfft_mode: bool) {
            let (eps, tol) = accuracy::<T>();
            let (g, h, shape) = case::<T>(dim);
            let mut a = Projector::new(b, &g, h.view(), &shape, opts(rfft_mode, eps)).unwrap();
            let u = common::random::<B, T>(b, &shape, 1);
            let p = b
                .download(
                    &b.randn::<T>(&g.sino_shape(), T::zero(), T::one(), 2)
                        .unwrap(),
                )
                .unwrap();
            let lhs = common::dot(&apply_host(&mut a, &u), &p);
            let rhs = common::dot(&u, &adjoint_host(&mut a, &p));
            let err = (lhs - rhs).abs() / lhs.abs().max(rhs.abs());
            assert!(
                err < tol,
                "{dim}D rfft={rfft_mode} {}: <Au,p> = {lhs}, <u,A*p> = {rhs}, rel {err:e}",
                T::PRECISION
            );
        }

        /// Columns of `A` (images of unit vectors) match the direct sum; rows of `A*` (adjoints of
        /// unit sinograms) form the transpose of that matrix.
        pub fn explicit_matrix<B: Backend, T: Real>(b: &B, dim: usize) {
            let (eps, tol) = accuracy::<T>();
            // Nb = 16 in 2D, 17 in 3D.
            let (g, h) = common::small_geometry::<T>(dim, 14 + dim, 3, 12.0, 0.05);
            let shape: Vec<usize> = if dim == 2 { vec![4, 5] } else { vec![3, 4, 3] };
            let n: usize = shape.iter().product();
            let rows = g.num_proj() * g.nb();
            let mut a = Projector::new(b, &g, h.view(), &shape, opts(true, eps)).unwrap();
            let mut mat = ArrayD::<f64>::zeros(IxDyn(&[rows, n]));
            let mut oracle = ArrayD::<f64>::zeros(IxDyn(&[rows, n]));
            for j in 0..n {
                let mut e = ArrayD::<T>::zeros(IxDyn(&shape));
                e.as_slice_mut().unwrap()[j] = T::one();
                let col = apply_host(&mut a, &e);
                let dir = direct_projection(&g, &h, &e);
                for i in 0..rows {
                    mat[[i, j]] = col.as_slice().unwrap()[i].f64();
                    oracle[[i, j]] = dir.as_slice().unwrap()[i];
                }
            }
            let err = rel64(&mat, &oracle);
            assert!(
                err < tol,
                "{dim}D {}: A vs direct sum, rel {err:e}",
                T::PRECISION
            );
            let mut adj = ArrayD::<f64>::zeros(IxDyn(&[rows, n]));
            for i in 0..rows {
                let mut e = ArrayD::<T>::zeros(IxDyn(&g.sino_shape()));
                e.as_slice_mut().unwrap()[i] = T::one();
                let row = adjoint_host(&mut a, &e);
                for j in 0..n {
                    adj[[i, j]] = row.as_slice().unwrap()[j].f64();
                }
            }
            let err = rel64(&adj, &mat);
            assert!(
                err < tol,
                "{dim}D {}: A* vs transpose of A, rel {err:e}",
                T::PRECISION
            );
        }

        /// A random image projected by the direct sum.
        pub fn direct_sum<B: Backend, T: Real>(b: &B, dim: usize) {
            let (eps, tol) = accuracy::<T>();
            let (g, h, shape) = case::<T>(dim);
            let mut a = Projector::new(b, &g, h.view(), &shape, opts(true, eps)).unwrap();
            let u = common::random::<B, T>(b, &shape, 3);
            let err = rel64(
                &to_f64(&apply_host(&mut a, &u)),
                &direct_projection(&g, &h, &u),
            );
            assert!(err < tol, "{dim}D {}: rel {err:e}", T::PRECISION);
        }

        /// rfft mode and full mode give the same `A` and `A*`.
        pub fn rfft_equals_full<B: Backend, T: Real>(b: &B, dim: usize) {
            let (eps, tol) = accuracy::<T>();
            let (g, h, shape) = case::<T>(dim);
            let mut ar = Projector::new(b, &g, h.view(), &shape, opts(true, eps)).unwrap();
            let mut af = Projector::new(b, &g, h.view(), &shape, opts(false, eps)).unwrap();
            assert_eq!(ar.fourier_shape(), [g.num_proj(), g.nb() / 2 + 1]);
            assert_eq!(af.fourier_shape(), [g.num_proj(), g.nb()]);
            let u = common::random::<B, T>(b, &shape, 4);
            let err = common::rel_err(&apply_host(&mut ar, &u), &apply_host(&mut af, &u));
            assert!(err < tol, "{dim}D {} A: rel {err:e}", T::PRECISION);
            let p = common::random::<B, T>(b, &g.sino_shape(), 5);
            let err = common::rel_err(&adjoint_host(&mut ar, &p), &adjoint_host(&mut af, &p));
            assert!(err < tol, "{dim}D {} A*: rel {err:e}", T::PRECISION);
        }

        /// A Dirac at the centre pixel projects onto `δ^d h` low-passed to `C(γ)`.
        pub fn centred_dirac<B: Backend, T: Real>(b: &B, dim: usize) {
            let (eps, tol) = accuracy::<T>();
            let (g, h, shape) = case::<T>(dim);
            let mut a = Projector::new(b, &g, h.view(), &shape, opts(true, eps)).unwrap();
            let mut u = ArrayD::<T>::zeros(IxDyn(&shape));
            let centre: Vec<usize> = shape.iter().map(|n| n / 2).collect();
            u[IxDyn(&centre)] = T::one();
            let p = to_f64(&apply_host(&mut a, &u));
            let nb = g.nb();
            let hh = dft(&h.iter().map(|v| v.f64()).collect::<Vec<_>>());
            let bound = 0.5 * nb as f64 * g.db().f64() / g.delta().f64();
            let scale = g.delta().f64().powi(dim as i32) / nb as f64;
            let mut expect = ArrayD::<f64>::zeros(IxDyn(&g.sino_shape()));
            for (k, mu) in g.gradient_norms().iter().enumerate() {
                for m in 0..nb {
                    let mut v = Complex64::new(0.0, 0.0);
                    for (c, hc) in hh.iter().enumerate() {
                        let al = if c < nb.div_ceil(2) {
                            c as f64
                        } else {
                            c as f64 - nb as f64
                        };
                        if mu.f64() * al.abs() < bound && 2.0 * al.abs() < nb as f64 {
                            v += hc
                                * Complex64::from_polar(
                                    1.0,
                                    2.0 * PI * (c * m % nb) as f64 / nb as f64,
                                );
                        }
                    }
                    expect[[k, m]] = v.re * scale;
                }
            }
            let err = rel64(&p, &expect);
            assert!(err < tol, "{dim}D {}: rel {err:e}", T::PRECISION);
        }

        /// The Fourier-domain variants compose with the FFT along B into `A` and `A*`.
        pub fn fourier_variants<B: Backend, T: Real>(b: &B, dim: usize) {
            let (eps, tol) = accuracy::<T>();
            let (g, h, shape) = case::<T>(dim);
            let mut a = Projector::new(b, &g, h.view(), &shape, opts(true, eps)).unwrap();
            let u = common::random::<B, T>(b, &shape, 6);
            let ud = b.upload(u.view()).unwrap();
            let mut f = b.zeros(&a.fourier_shape()).unwrap();
            a.apply_fourier(&ud, &mut f).unwrap();
            let f = b.download(&f).unwrap();
            // irfft on the host, Hermitian completion of the half spectrum.
            let nb = g.nb();
            let mut p = ArrayD::<f64>::zeros(IxDyn(&g.sino_shape()));
            for k in 0..g.num_proj() {
                for m in 0..nb {
                    let mut v = 0.0;
                    for c in 0..a.fourier_shape()[1] {
                        let z = Complex64::new(f[[k, c]].re.f64(), f[[k, c]].im.f64())
                            * Complex64::from_polar(
                                1.0,
                                2.0 * PI * (c * m % nb) as f64 / nb as f64,
                            );
                        v += if c == 0 || 2 * c == nb {
                            z.re
                        } else {
                            2.0 * z.re
                        };
                    }
                    p[[k, m]] = v / nb as f64;
                }
            }
            let err = rel64(&p, &to_f64(&apply_host(&mut a, &u)));
            assert!(
                err < tol,
                "{dim}D {} apply_fourier: rel {err:e}",
                T::PRECISION
            );
            // adjoint_fourier(rfft(p)) == adjoint(p)
            let ps = common::random::<B, T>(b, &g.sino_shape(), 7);
            let mut fp = ArrayD::<num_complex::Complex<T>>::zeros(IxDyn(&a.fourier_shape()));
            for k in 0..g.num_proj() {
                let row = dft(&(0..nb).map(|m| ps[[k, m]].f64()).collect::<Vec<_>>());
                for c in 0..a.fourier_shape()[1] {
                    fp[[k, c]] = num_complex::Complex::new(T::of(row[c].re), T::of(row[c].im));
                }
            }
            let fpd = b.upload(fp.view()).unwrap();
            let mut out = b.zeros::<T>(&shape).unwrap();
            a.adjoint_fourier(&fpd, &mut out).unwrap();
            let err = common::rel_err(&b.download(&out).unwrap(), &adjoint_host(&mut a, &ps));
            assert!(
                err < tol,
                "{dim}D {} adjoint_fourier: rel {err:e}",
                T::PRECISION
            );
        }

        /// `ToeplitzKernel::apply` equals `A*` after `A`.
        pub fn toeplitz<B: Backend, T: Real>(b: &B, dim: usize) {
            let (eps, tol) = accuracy::<T>();
            let (g, h, shape) = case::<T>(dim);
            let mut a = Projector::new(b, &g, h.view(), &shape, opts(true, eps)).unwrap();
            let mut t =
                epri_ops::ToeplitzKernel::new(b, &g, h.view(), h.view(), &shape, eps).unwrap();
            assert_eq!(
                t.grid_shape(),
                shape.iter().map(|n| 2 * n).collect::<Vec<_>>().as_slice()
            );
            let u = common::random::<B, T>(b, &shape, 8);
            let au = apply_host(&mut a, &u);
            let direct = adjoint_host(&mut a, &au);
            let ud = b.upload(u.view()).unwrap();
            let mut out = b.zeros::<T>(&shape).unwrap();
            t.apply(&ud, &mut out).unwrap();
            let err = common::rel_err(&b.download(&out).unwrap(), &direct);
            assert!(err < tol, "{dim}D {}: rel {err:e}", T::PRECISION);
            // The circulant bound dominates the power-iteration estimate of ‖A*A‖.
            let l =
                epri_ops::power_iteration(b, &ud, T::of(1e-6), 500, |x, y| t.apply(x, y)).unwrap();
            assert!(
                l > T::zero() && l.f64() <= t.max_abs_fourier().f64() * (1.0 + 1e-4),
                "{l} vs {}",
                t.max_abs_fourier()
            );
        }
    }

    macro_rules! dim_group {
        ($group:ident, $dim:expr) => {
            pub mod $group {
                use super::*;
                pub fn adjointness<B: Backend>(b: &B) {
                    both(b, |b, f64| {
                        for rfft in [true, false] {
                            if f64 {
                                shared::adjointness::<B, f64>(b, $dim, rfft)
                            } else {
                                shared::adjointness::<B, f32>(b, $dim, rfft)
                            }
                        }
                    });
                }
                pub fn explicit_matrix<B: Backend>(b: &B) {
                    both(b, |b, f64| {
                        if f64 {
                            shared::explicit_matrix::<B, f64>(b, $dim)
                        } else {
                            shared::explicit_matrix::<B, f32>(b, $dim)
                        }
                    });
                }
                pub fn direct_sum<B: Backend>(b: &B) {
                    both(b, |b, f64| {
                        if f64 {
                            shared::direct_sum::<B, f64>(b, $dim)
                        } else {
                            shared::direct_sum::<B, f32>(b, $dim)
                        }
                    });
                }
                pub fn rfft_equals_full<B: Backend>(b: &B) {
                    both(b, |b, f64| {
                        if f64 {
                            shared::rfft_equals_full::<B, f64>(b, $dim)
                        } else {
                            shared::rfft_equals_full::<B, f32>(b, $dim)
                        }
                    });
                }
                pub fn centred_dirac<B: Backend>(b: &B) {
                    both(b, |b, f64| {
                        if f64 {
                            shared::centred_dirac::<B, f64>(b, $dim)
                        } else {
                            shared::centred_dirac::<B, f32>(b, $dim)
                        }
                    });
                }
                pub fn fourier_variants<B: Backend>(b: &B) {
                    both(b, |b, f64| {
                        if f64 {
                            shared::fourier_variants::<B, f64>(b, $dim)
                        } else {
                            shared::fourier_variants::<B, f32>(b, $dim)
                        }
                    });
                }
                pub fn toeplitz_equals_adjoint_of_projection<B: Backend>(b: &B) {
                    both(b, |b, f64| {
                        if f64 {
                            shared::toeplitz::<B, f64>(b, $dim)
                        } else {
                            shared::toeplitz::<B, f32>(b, $dim)
                        }
                    });
                }
            }
        };
    }
    dim_group!(proj2d, 2);
    dim_group!(proj3d, 3);

    pub mod checks {
        use super::*;
        use epri_ops::Error;

        /// Bad inputs are errors at construction or at application, never panics.
        pub fn errors_are_reported<B: Backend>(b: &B) {
            let (g, h, shape) = case::<f32>(2);
            let o = ProjectorOptions::default();
            let short = h.slice(ndarray::s![..10]).to_owned();
            assert!(matches!(
                Projector::new(b, &g, short.view(), &shape, o),
                Err(Error::Shape(_))
            ));
            let mut nan = h.clone();
            nan[3] = f32::NAN;
            assert!(matches!(
                Projector::new(b, &g, nan.view(), &shape, o),
                Err(Error::NonFinite(_))
            ));
            assert!(matches!(
                Projector::new(b, &g, h.view(), &[4, 4, 4], o),
                Err(Error::Shape(_))
            ));
            assert!(matches!(
                Projector::new(b, &g, h.view(), &[4, 1], o),
                Err(Error::Shape(_))
            ));
            let tight = ProjectorOptions { eps: 1e-12, ..o };
            assert!(matches!(
                Projector::new(b, &g, h.view(), &shape, tight),
                Err(Error::Backend(_))
            ));
            assert!(
                epri_ops::ToeplitzKernel::new(b, &g, h.view(), short.view(), &shape, 1e-6).is_err()
            );
            let mut a = Projector::new(b, &g, h.view(), &shape, o).unwrap();
            let u = b.zeros::<f32>(&[shape[0], shape[1] + 1]).unwrap();
            let mut p = b.zeros::<f32>(&g.sino_shape()).unwrap();
            assert!(matches!(a.apply(&u, &mut p), Err(Error::Shape(_))));
            let mut wrong = b.zeros::<f32>(&[g.num_proj() + 1, g.nb()]).unwrap();
            let mut img = b.zeros::<f32>(&shape).unwrap();
            assert!(matches!(a.adjoint(&wrong, &mut img), Err(Error::Shape(_))));
            assert!(matches!(a.apply(&img, &mut wrong), Err(Error::Shape(_))));
            let z = b.zeros::<f32>(&shape).unwrap();
            let e =
                epri_ops::power_iteration(b, &z, 1e-6, 10, |x, y| b.copy(x, y).map_err(Into::into));
            assert!(matches!(e, Err(Error::Parameter(_))));
        }
    }

    pub mod power {
        use super::*;

        /// On a diagonal operator the estimate converges to the largest diagonal entry, with
        /// PyEPRI's return convention `‖op x‖ / ‖x‖`.
        pub fn diagonal_operator<B: Backend>(b: &B) {
            let n = 50;
            let diag: Vec<f64> = (0..n)
                .map(|i| 1.0 + i as f64 / n as f64)
                .chain([7.5])
                .collect();
            let d = b.upload_flat(&[n + 1], diag).unwrap();
            let x0 = b.ones::<f64>(&[n + 1]).unwrap();
            let op = |x: &B::Buffer<f64>, y: &mut B::Buffer<f64>| -> epri_ops::Result<()> {
                b.copy(x, y)?;
                b.zip(backend_core::Binary::Mul, y, &d)?;
                Ok(())
            };
            let l = epri_ops::power_iteration(b, &x0, 1e-12, 1000, op).unwrap();
            assert!((l - 7.5).abs() < 1e-9, "{l}");
            // max_iter = 1: no iteration, the Rayleigh-like ratio of x0 itself.
            let l1 = epri_ops::power_iteration(b, &x0, 1e-12, 1, op).unwrap();
            let expect = ((0..n)
                .map(|i| (1.0 + i as f64 / n as f64).powi(2))
                .sum::<f64>()
                + 56.25)
                / (n + 1) as f64;
            assert!(
                (l1 - expect.sqrt()).abs() < 1e-12,
                "{l1} vs {}",
                expect.sqrt()
            );
        }
    }

    pub mod grad {
        use super::*;
        use epri_ops::grad::{div, grad, gradient_masks};

        /// `<∇u, p> = -<u, div p>` with and without masks, 2D and 3D.
        pub fn div_is_minus_adjoint<B: Backend>(b: &B) {
            for shape in [vec![6usize, 5], vec![4, 5, 3]] {
                let d = shape.len();
                let mut fshape = vec![d];
                fshape.extend(&shape);
                let mask =
                    common::random::<B, f32>(b, &shape, 9)
                        .mapv(|v| if v > 0.3 { 1.0 } else { 0.0 });
                let masks = gradient_masks(b, mask.view()).unwrap();
                let u = b.rand::<f32>(&shape, 10).unwrap();
                let p = b.rand::<f32>(&fshape, 11).unwrap();
                for m in [None, Some(&masks)] {
                    let mut gu = b.zeros::<f32>(&fshape).unwrap();
                    grad(b, &u, m, &mut gu).unwrap();
                    let mut dp = b.zeros::<f32>(&shape).unwrap();
                    div(b, &p, m, &mut dp).unwrap();
                    let lhs = b.dot(&gu, &p).unwrap() as f64;
                    let rhs = -b.dot(&u, &dp).unwrap() as f64;
                    assert!(
                        (lhs - rhs).abs() < 1e-5 * lhs.abs().max(1.0),
                        "{shape:?}: {lhs} vs {rhs}"
                    );
                }
                let mut bad = b.zeros::<f32>(&shape).unwrap();
                assert!(grad(b, &u, None, &mut bad).is_err());
            }
        }
    }
}

backend_tests!(cpu, backend_cpu::CpuBackend::new, {
    proj2d { adjointness, explicit_matrix, direct_sum, rfft_equals_full, centred_dirac, fourier_variants, toeplitz_equals_adjoint_of_projection },
    proj3d { adjointness, explicit_matrix, direct_sum, rfft_equals_full, centred_dirac, fourier_variants, toeplitz_equals_adjoint_of_projection },
    checks { errors_are_reported },
    power { diagonal_operator },
    grad { div_is_minus_adjoint },
});

#[cfg(feature = "opencl")]
backend_tests!(opencl, || backend_opencl::OpenClBackend::new(None), {
    proj2d { adjointness, explicit_matrix, direct_sum, rfft_equals_full, centred_dirac, fourier_variants, toeplitz_equals_adjoint_of_projection },
    proj3d { adjointness, explicit_matrix, direct_sum, rfft_equals_full, centred_dirac, fourier_variants, toeplitz_equals_adjoint_of_projection },
    checks { errors_are_reported },
    power { diagonal_operator },
    grad { div_is_minus_adjoint },
});

#[cfg(feature = "cuda")]
backend_tests!(cuda, || backend_cuda::CudaBackend::new(0), {
    proj2d { adjointness, explicit_matrix, direct_sum, rfft_equals_full, centred_dirac, fourier_variants, toeplitz_equals_adjoint_of_projection },
    proj3d { adjointness, explicit_matrix, direct_sum, rfft_equals_full, centred_dirac, fourier_variants, toeplitz_equals_adjoint_of_projection },
    checks { errors_are_reported },
    power { diagonal_operator },
    grad { div_is_minus_adjoint },
});
