//! Generic tests of the multi-source operators and of `tv_multisrc`, instantiated per backend:
//! paths read `cpu::multisrc::adjointness`, `opencl::tv_multisrc::one_source_equals_tv_monosrc`.
//!
//! Oracles: the adjoint identity, `A*` applied to `A u` for the block Toeplitz operator, sums of
//! mono-source [`Projector`]s (whose own tests check them against direct sums), the mono-source
//! [`ToeplitzKernel`] and [`tv_monosrc`], and the PyEPRI 1.1.1 reference of the tam/tempo source
//! separation (`tests/data/f_multisrc2d_tam_tempo`).

mod common;

use backend_core::{Backend, Real};
use epri_ops::multisrc::{MultiProjector, MultiToeplitz};
use epri_ops::recon::tv_multisrc::tv_multisrc;
use epri_ops::recon::{tv_monosrc, TvOptions};
use epri_ops::{Geometry, Projector, ProjectorOptions, ToeplitzKernel};
use ndarray::{Array1, Array2, ArrayD, ArrayView1, IxDyn};

/// Two settings (different gradients and spectra), two sources of different shapes (odd and
/// even axes), all sharing the B grid and the pixel size.
struct Case<T> {
    geometries: Vec<Geometry<T>>,
    h: Vec<Vec<Array1<T>>>,
    shapes: Vec<Vec<usize>>,
}

impl<T: Real> Case<T> {
    fn new(dim: usize) -> Self {
        let nb = 64;
        let (g0, h00) = common::small_geometry::<T>(dim, nb, 7, 12.0, 0.03);
        let (g1, _) = common::small_geometry::<T>(dim, nb, 5, 9.0, 0.03);
        let b = Array1::from_iter((0..nb).map(|i| 350.0 + 0.1 * i as f64));
        let mid = 350.0 + 0.1 * nb as f64 / 2.0;
        let h01 = common::dgauss::<T>(&b, mid + 0.3, 0.7);
        let h10 = common::dgauss::<T>(&b, mid - 0.2, 0.5);
        let h11 = common::dgauss::<T>(&b, mid + 0.1, 0.9);
        let shapes = if dim == 2 {
            vec![vec![12, 9], vec![9, 11]]
        } else {
            vec![vec![6, 7, 5], vec![5, 6, 6]]
        };
        Case {
            geometries: vec![g0, g1],
            h: vec![vec![h00, h01], vec![h10, h11]],
            shapes,
        }
    }

    fn h_views(&self) -> Vec<Vec<ArrayView1<'_, T>>> {
        self.h
            .iter()
            .map(|row| row.iter().map(|x| x.view()).collect())
            .collect()
    }
}

/// (eps, tolerance) per precision.
fn accuracy<T: Real>() -> (f64, f64) {
    if T::EPS.f64() < 1e-10 {
        (1e-14, 1e-10)
    } else {
        (1e-6, 1e-4)
    }
}

fn opts(eps: f64) -> ProjectorOptions {
    ProjectorOptions {
        rfft_mode: true,
        eps,
    }
}

fn random_images<B: Backend, T: Real>(b: &B, shapes: &[Vec<usize>], seed: u64) -> Vec<ArrayD<T>> {
    shapes
        .iter()
        .enumerate()
        .map(|(j, s)| common::random::<B, T>(b, s, seed + j as u64))
        .collect()
}

fn random_sinograms<B: Backend, T: Real>(
    b: &B,
    shapes: &[[usize; 2]],
    seed: u64,
) -> Vec<Array2<T>> {
    shapes
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let r = b
                .randn::<T>(s, T::zero(), T::one(), seed + i as u64)
                .unwrap();
            b.download(&r).unwrap().into_dimensionality().unwrap()
        })
        .collect()
}

fn views<T: Real>(a: &[ArrayD<T>]) -> Vec<ndarray::ArrayViewD<'_, T>> {
    a.iter().map(|x| x.view()).collect()
}

fn views2<T: Real>(a: &[Array2<T>]) -> Vec<ndarray::ArrayView2<'_, T>> {
    a.iter().map(|x| x.view()).collect()
}

/// Largest relative l2 error over a list.
fn max_rel<T: Real>(a: &[ArrayD<T>], b: &[ArrayD<T>]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| common::rel_err(x, y))
        .fold(0.0, f64::max)
}

fn dyn2<T: Real>(a: Vec<Array2<T>>) -> Vec<ArrayD<T>> {
    a.into_iter().map(|x| x.into_dyn()).collect()
}

fn apply_mono<B: Backend, T: Real>(a: &mut Projector<B, T>, u: &ArrayD<T>) -> ArrayD<T> {
    let b = a.backend().clone();
    let ud = b.upload(u.view()).unwrap();
    let mut out = b.zeros::<T>(&a.sino_shape()).unwrap();
    a.apply(&ud, &mut out).unwrap();
    b.download(&out).unwrap()
}

fn adjoint_mono<B: Backend, T: Real>(a: &mut Projector<B, T>, p: &ArrayD<T>) -> ArrayD<T> {
    let b = a.backend().clone();
    let pd = b.upload(p.view()).unwrap();
    let mut out = b.zeros::<T>(a.image_shape()).unwrap();
    a.adjoint(&pd, &mut out).unwrap();
    b.download(&out).unwrap()
}

fn toeplitz_host<B: Backend, T: Real>(
    k: &mut MultiToeplitz<B, T>,
    u: &[ArrayD<T>],
) -> Vec<ArrayD<T>> {
    let b = k.backend().clone();
    let ud: Vec<_> = u.iter().map(|x| b.upload(x.view()).unwrap()).collect();
    let mut out: Vec<_> = u.iter().map(|x| b.zeros::<T>(x.shape()).unwrap()).collect();
    k.apply(&ud, &mut out).unwrap();
    out.iter().map(|o| b.download(o).unwrap()).collect()
}

mod generic {
    use super::*;

    /// Each test runs in f64 (when the device has it) and f32, in 2D and 3D.
    fn each<B: Backend>(b: &B, f64_case: impl Fn(&B, usize), f32_case: impl Fn(&B, usize)) {
        for dim in [2, 3] {
            if b.supports_f64() {
                f64_case(b, dim);
            }
            f32_case(b, dim);
        }
    }

    pub mod shared {
        use super::*;

        /// `Σ_i <(A u)_i, p_i> = Σ_j <u_j, (A* p)_j>`.
        pub fn adjointness<B: Backend, T: Real>(b: &B, dim: usize) {
            let (eps, tol) = accuracy::<T>();
            let c = Case::<T>::new(dim);
            let hv = c.h_views();
            let mut a = MultiProjector::new(b, &c.geometries, &hv, &c.shapes, opts(eps)).unwrap();
            let u = random_images::<B, T>(b, &c.shapes, 1);
            let p = random_sinograms::<B, T>(b, &a.sino_shapes(), 5);
            let au = a.project_host(&views(&u)).unwrap();
            let ap = a.backproject_host(&views2(&p)).unwrap();
            let lhs: f64 = au
                .iter()
                .zip(&p)
                .map(|(x, y)| common::dot(&x.clone().into_dyn(), &y.clone().into_dyn()))
                .sum();
            let rhs: f64 = u.iter().zip(&ap).map(|(x, y)| common::dot(x, y)).sum();
            let err = (lhs - rhs).abs() / lhs.abs().max(rhs.abs());
            assert!(
                err < tol,
                "{dim}D {}: Σ<Au,p> = {lhs}, Σ<u,A*p> = {rhs}, rel {err:e}",
                T::PRECISION
            );
        }

        /// The block operator equals the sums of mono-source projectors
        /// `A_{h[i][j], fgrad[i]}`, forward and adjoint, in rfft and full-spectrum modes.
        pub fn sums_of_mono_blocks<B: Backend, T: Real>(b: &B, dim: usize) {
            for rfft_mode in [true, false] {
                sums_of_mono_blocks_mode::<B, T>(b, dim, rfft_mode);
            }
        }

        fn sums_of_mono_blocks_mode<B: Backend, T: Real>(b: &B, dim: usize, rfft_mode: bool) {
            let (eps, tol) = accuracy::<T>();
            let opts = |eps| ProjectorOptions { rfft_mode, eps };
            let c = Case::<T>::new(dim);
            let hv = c.h_views();
            let mut a = MultiProjector::new(b, &c.geometries, &hv, &c.shapes, opts(eps)).unwrap();
            let u = random_images::<B, T>(b, &c.shapes, 11);
            let p = dyn2(random_sinograms::<B, T>(b, &a.sino_shapes(), 13));
            let au = dyn2(a.project_host(&views(&u)).unwrap());
            let ap = a
                .backproject_host(&views2(
                    &p.iter()
                        .map(|x| x.clone().into_dimensionality().unwrap())
                        .collect::<Vec<_>>(),
                ))
                .unwrap();
            let mut fwd: Vec<ArrayD<T>> = p.iter().map(|x| ArrayD::zeros(x.raw_dim())).collect();
            let mut adj: Vec<ArrayD<T>> = u.iter().map(|x| ArrayD::zeros(x.raw_dim())).collect();
            for (i, g) in c.geometries.iter().enumerate() {
                for (j, s) in c.shapes.iter().enumerate() {
                    let mut m = Projector::new(b, g, c.h[i][j].view(), s, opts(eps)).unwrap();
                    fwd[i] = &fwd[i] + &apply_mono(&mut m, &u[j]);
                    adj[j] = &adj[j] + &adjoint_mono(&mut m, &p[i]);
                }
            }
            let (ef, ea) = (max_rel(&au, &fwd), max_rel(&ap, &adj));
            assert!(
                ef < tol && ea < tol,
                "{dim}D {} rfft={rfft_mode}: forward rel {ef:e}, adjoint rel {ea:e}",
                T::PRECISION
            );
        }

        /// The block Toeplitz operator equals `A*` applied to `A u` (different source shapes:
        /// checks the cross-kernel grids and crop offsets).
        pub fn toeplitz<B: Backend, T: Real>(b: &B, dim: usize) {
            let (eps, tol) = accuracy::<T>();
            let c = Case::<T>::new(dim);
            let hv = c.h_views();
            let mut a = MultiProjector::new(b, &c.geometries, &hv, &c.shapes, opts(eps)).unwrap();
            let mut k = MultiToeplitz::new(b, &c.geometries, &hv, &c.shapes, eps).unwrap();
            let u = random_images::<B, T>(b, &c.shapes, 21);
            let au = a.project_host(&views(&u)).unwrap();
            let expect = a.backproject_host(&views2(&au)).unwrap();
            let got = toeplitz_host(&mut k, &u);
            let err = max_rel(&got, &expect);
            assert!(
                err < tol,
                "{dim}D {}: Toeplitz vs A*A rel {err:e}",
                T::PRECISION
            );
            // The upper bound dominates the power-iteration estimate of ‖A*A‖.
            let ub = k.upper_bound();
            let mut x: Vec<_> = u.iter().map(|x| b.upload(x.view()).unwrap()).collect();
            let l = epri_ops::multisrc::power_iteration_multi(b, &x, T::of(1e-4), 200, |x, y| {
                k.apply(x, y)
            })
            .unwrap();
            assert!(
                l.f64() <= ub * (1.0 + 1e-4),
                "power iteration {l} > upper bound {ub}"
            );
            x.clear();
        }

        /// One source, one setting: the mono-source projector and Toeplitz kernel.
        pub fn one_source_one_setting<B: Backend, T: Real>(b: &B, dim: usize) {
            let (eps, tol) = accuracy::<T>();
            let c = Case::<T>::new(dim);
            let g = &c.geometries[..1];
            let hv = vec![vec![c.h[0][0].view()]];
            let shapes = vec![c.shapes[0].clone()];
            let mut a = MultiProjector::new(b, g, &hv, &shapes, opts(eps)).unwrap();
            let mut k = MultiToeplitz::new(b, g, &hv, &shapes, eps).unwrap();
            let mut m = Projector::new(b, &g[0], hv[0][0], &shapes[0], opts(eps)).unwrap();
            let mut mk =
                ToeplitzKernel::new(b, &g[0], hv[0][0], hv[0][0], &shapes[0], eps).unwrap();
            let u = random_images::<B, T>(b, &shapes, 31);
            let au = dyn2(a.project_host(&views(&u)).unwrap());
            let e1 = common::rel_err(&au[0], &apply_mono(&mut m, &u[0]));
            let ap = a
                .backproject_host(&views2(&[au[0].clone().into_dimensionality().unwrap()]))
                .unwrap();
            let e2 = common::rel_err(&ap[0], &adjoint_mono(&mut m, &au[0]));
            let e3 = common::rel_err(
                &k.kernel_host(0, 0).unwrap().unwrap(),
                &mk.kernel_host().unwrap(),
            );
            let ku = toeplitz_host(&mut k, &u);
            let ud = b.upload(u[0].view()).unwrap();
            let mut out = b.zeros::<T>(&shapes[0]).unwrap();
            mk.apply(&ud, &mut out).unwrap();
            let e4 = common::rel_err(&ku[0], &b.download(&out).unwrap());
            let ub =
                (k.upper_bound() - mk.max_abs_fourier().f64()).abs() / mk.max_abs_fourier().f64();
            assert!(
                e1 < tol && e2 < tol && e3 < tol && e4 < tol && ub < tol,
                "{dim}D {}: proj {e1:e}, backproj {e2:e}, kernel {e3:e}, A*A {e4:e}, upper bound {ub:e}",
                T::PRECISION
            );
        }

        /// A single row of spectra (or a single geometry) is used for every setting.
        pub fn broadcasting<B: Backend, T: Real>(b: &B, dim: usize) {
            let (eps, tol) = accuracy::<T>();
            let c = Case::<T>::new(dim);
            let u = random_images::<B, T>(b, &c.shapes, 41);
            let row: Vec<ArrayView1<'_, T>> = c.h[0].iter().map(|x| x.view()).collect();
            let one_row = vec![row.clone()];
            let repeated = vec![row.clone(), row];
            let run = |g: &[Geometry<T>], h: &[Vec<ArrayView1<'_, T>>]| {
                let mut a = MultiProjector::new(b, g, h, &c.shapes, opts(eps)).unwrap();
                let mut k = MultiToeplitz::new(b, g, h, &c.shapes, eps).unwrap();
                let p = dyn2(a.project_host(&views(&u)).unwrap());
                (p, toeplitz_host(&mut k, &u))
            };
            let (p1, k1) = run(&c.geometries, &one_row);
            let (p2, k2) = run(&c.geometries, &repeated);
            assert_eq!(p1.len(), 2);
            let (ep, ek) = (max_rel(&p1, &p2), max_rel(&k1, &k2));
            assert!(ep < tol && ek < tol, "h broadcast: proj {ep:e}, A*A {ek:e}");
            let hv = c.h_views();
            let g0 = vec![c.geometries[0].clone()];
            let gg = vec![c.geometries[0].clone(), c.geometries[0].clone()];
            let (p1, k1) = run(&g0, &hv);
            let (p2, k2) = run(&gg, &hv);
            let (ep, ek) = (max_rel(&p1, &p2), max_rel(&k1, &k2));
            assert!(
                ep < tol && ek < tol,
                "geometry broadcast: proj {ep:e}, A*A {ek:e}"
            );
        }

        /// `tv_multisrc` with one source and one setting is `tv_monosrc`.
        pub fn tv_one_source<B: Backend, T: Real>(b: &B) {
            let (eps, _) = accuracy::<T>();
            let c = Case::<T>::new(2);
            let g = &c.geometries[..1];
            let shape = vec![16, 14];
            // Data: two blobs, projected with the mono-source operator.
            let truth = ArrayD::from_shape_fn(IxDyn(&shape), |ix| {
                let (y, x) = (ix[0] as f64 - 8.0, ix[1] as f64 - 7.0);
                let r1 = (y - 2.0).powi(2) + (x + 2.0).powi(2);
                let r2 = (y + 3.0).powi(2) + (x - 3.0).powi(2);
                T::of(if r1 < 9.0 { 1.0 } else { 0.0 } + if r2 < 4.0 { 0.5 } else { 0.0 })
            });
            let h = c.h[0][0].view();
            let mut m = Projector::new(b, &g[0], h, &shape, opts(eps)).unwrap();
            let proj: Array2<T> = apply_mono(&mut m, &truth).into_dimensionality().unwrap();
            let o = TvOptions {
                lambda: 0.05,
                tol: 1e-6,
                max_iter: 60,
                eps,
                energy_every: Some(20),
                ..TvOptions::default()
            };
            let mono = tv_monosrc(b, proj.view(), &g[0], h, &shape, &o, &mut |_| {}).unwrap();
            let mut energies = Vec::new();
            let multi = tv_multisrc(
                b,
                &[proj.view()],
                g,
                &[vec![h]],
                std::slice::from_ref(&shape),
                &o,
                None,
                &mut |p| energies.extend(p.energy),
            )
            .unwrap();
            let tol = if T::EPS.f64() < 1e-10 { 1e-8 } else { 1e-3 };
            let rel = |x: f64, y: f64| (x - y).abs() / y.abs();
            let err = common::rel_err(&multi.images[0], &mono.image);
            assert_eq!(multi.iterations, mono.iterations);
            assert_eq!(energies.len(), 3);
            assert!(
                err < tol
                    && rel(multi.lipschitz, mono.lipschitz) < tol
                    && rel(multi.lambda_unrm, mono.lambda_unrm) < 1e-12
                    && rel(multi.energy, mono.energy) < tol,
                "{}: image rel {err:e}, L {} vs {}, λ {} vs {}, E {} vs {}",
                T::PRECISION,
                multi.lipschitz,
                mono.lipschitz,
                multi.lambda_unrm,
                mono.lambda_unrm,
                multi.energy,
                mono.energy
            );
        }
    }

    pub mod multisrc {
        use super::*;

        pub fn adjointness<B: Backend>(b: &B) {
            each(
                b,
                shared::adjointness::<B, f64>,
                shared::adjointness::<B, f32>,
            );
        }

        pub fn sums_of_mono_blocks<B: Backend>(b: &B) {
            each(
                b,
                shared::sums_of_mono_blocks::<B, f64>,
                shared::sums_of_mono_blocks::<B, f32>,
            );
        }

        pub fn toeplitz_equals_adjoint_of_projection<B: Backend>(b: &B) {
            each(b, shared::toeplitz::<B, f64>, shared::toeplitz::<B, f32>);
        }

        pub fn one_source_one_setting_is_mono<B: Backend>(b: &B) {
            each(
                b,
                shared::one_source_one_setting::<B, f64>,
                shared::one_source_one_setting::<B, f32>,
            );
        }

        pub fn broadcasting<B: Backend>(b: &B) {
            each(
                b,
                shared::broadcasting::<B, f64>,
                shared::broadcasting::<B, f32>,
            );
        }

        /// Inconsistent lists are errors, never panics.
        pub fn errors_are_reported<B: Backend>(b: &B) {
            use epri_ops::Error;
            let c = Case::<f32>::new(2);
            let hv = c.h_views();
            let o = opts(1e-6);
            let three = vec![
                c.geometries[0].clone(),
                c.geometries[1].clone(),
                c.geometries[0].clone(),
            ];
            assert!(matches!(
                MultiProjector::new(b, &three, &hv, &c.shapes, o),
                Err(Error::Shape(_))
            ));
            assert!(matches!(
                MultiProjector::new(b, &c.geometries, &hv, &c.shapes[..1], o),
                Err(Error::Shape(_))
            ));
            assert!(matches!(
                MultiToeplitz::new(b, &c.geometries, &[], &c.shapes, 1e-6),
                Err(Error::Shape(_))
            ));
            let (other, _) = common::small_geometry::<f32>(2, 64, 7, 12.0, 0.05);
            let mixed = vec![c.geometries[0].clone(), other];
            assert!(matches!(
                MultiProjector::new(b, &mixed, &hv, &c.shapes, o),
                Err(Error::Geometry(_))
            ));
            let mut a = MultiProjector::new(b, &c.geometries, &hv, &c.shapes, o).unwrap();
            let u = random_images::<B, f32>(b, &c.shapes, 1);
            assert!(matches!(
                a.project_host(&views(&u[..1])),
                Err(Error::Shape(_))
            ));
            let swapped = vec![u[1].view(), u[0].view()];
            assert!(matches!(a.project_host(&swapped), Err(Error::Shape(_))));
            assert!(a.block(2, 0).is_none());
        }
    }

    pub mod tv_multisrc {
        use super::*;

        /// The tam/tempo source separation of PyEPRI's gallery (δ = 0.03 cm, λ = 5, tol 1e-5,
        /// 2 × (100, 100), f32) run for at most `max_iter` iterations: λ_unrm and the Lipschitz
        /// constant against PyEPRI's, and (full run) the images against PyEPRI 1.1.1's.
        fn tam_tempo<B: Backend>(b: &B, max_iter: usize) {
            let dir = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../datasets/tam-and-tempo-tubes-2d-20210609"
            );
            let rd = |name: &str| {
                let f = std::fs::File::open(format!("{dir}/{name}.npy")).unwrap();
                <ArrayD<f32> as ndarray_npy::ReadNpyExt>::read_npy(f).unwrap()
            };
            let proj: Array2<f32> = rd("proj").into_dimensionality().unwrap();
            let bgrid: Array1<f32> = rd("B").into_dimensionality().unwrap();
            let fgrad: Array2<f32> = rd("fgrad").into_dimensionality().unwrap();
            let htam: Array1<f32> = rd("htam").into_dimensionality().unwrap();
            let htempo: Array1<f32> = rd("htempo").into_dimensionality().unwrap();
            let g = vec![Geometry::new(bgrid.view(), 0.03, fgrad.view()).unwrap()];
            let shapes = vec![vec![100, 100], vec![100, 100]];
            let o = TvOptions {
                lambda: 5.0,
                tol: 1e-5,
                max_iter,
                ..TvOptions::default()
            };
            let t = std::time::Instant::now();
            let r = tv_multisrc(
                b,
                &[proj.view()],
                &g,
                &[vec![htam.view(), htempo.view()]],
                &shapes,
                &o,
                None,
                &mut |_| {},
            )
            .unwrap();
            let secs = t.elapsed().as_secs_f64();
            let case = "f_multisrc2d_tam_tempo";
            let errs: Vec<f64> = ["tam", "tempo"]
                .iter()
                .zip(&r.images)
                .map(|(name, im)| common::rel_err(im, &common::loadd::<f32>(case, name)))
                .collect();
            println!(
                "tam/tempo on {}: {} iterations in {secs:.2} s, λ_unrm {:e}, L {:e}, rel. errors vs PyEPRI {:e} (tam) {:e} (tempo)",
                b.name(), r.iterations, r.lambda_unrm, r.lipschitz, errs[0], errs[1]
            );
            let rel = |x: f64, y: f64| (x - y).abs() / y.abs();
            assert!(
                rel(r.lambda_unrm, 19674209.616039544) < 1e-6,
                "λ_unrm {}",
                r.lambda_unrm
            );
            assert!(
                rel(r.lipschitz, 5142301548.57155) < 2e-3,
                "L {}",
                r.lipschitz
            );
            if max_iter >= 5000 {
                // PyEPRI stopped after 1889 iterations.
                assert!(
                    r.iterations.abs_diff(1889) < 100,
                    "{} iterations",
                    r.iterations
                );
                assert!(errs[0] < 1e-2 && errs[1] < 1e-2, "rel. errors {errs:?}");
            }
        }

        /// Setup and one iteration of the tam/tempo separation (λ_unrm, L vs PyEPRI).
        pub fn pyepri_tam_tempo_setup<B: Backend>(b: &B) {
            tam_tempo(b, 1);
        }

        /// The full tam/tempo separation against PyEPRI 1.1.1's images (rel. l2 < 1e-2 per
        /// source).
        pub fn pyepri_tam_tempo<B: Backend>(b: &B) {
            tam_tempo(b, 5000);
        }

        pub fn one_source_equals_tv_monosrc<B: Backend>(b: &B) {
            if b.supports_f64() {
                shared::tv_one_source::<B, f64>(b);
            }
            shared::tv_one_source::<B, f32>(b);
        }
    }
}

backend_tests!(cpu, backend_cpu::CpuBackend::new, {
    multisrc { adjointness, sums_of_mono_blocks, toeplitz_equals_adjoint_of_projection, one_source_one_setting_is_mono, broadcasting, errors_are_reported },
    tv_multisrc { one_source_equals_tv_monosrc, pyepri_tam_tempo_setup, pyepri_tam_tempo },
});

#[cfg(feature = "opencl")]
backend_tests!(opencl, || backend_opencl::OpenClBackend::new(None), {
    multisrc { adjointness, sums_of_mono_blocks, toeplitz_equals_adjoint_of_projection, one_source_one_setting_is_mono, broadcasting, errors_are_reported },
    tv_multisrc { one_source_equals_tv_monosrc, pyepri_tam_tempo_setup },
});

#[cfg(feature = "cuda")]
backend_tests!(cuda, || backend_cuda::CudaBackend::new(0), {
    multisrc { adjointness, sums_of_mono_blocks, toeplitz_equals_adjoint_of_projection, one_source_one_setting_is_mono, broadcasting, errors_are_reported },
    tv_multisrc { one_source_equals_tv_monosrc, pyepri_tam_tempo_setup },
});
