//! Both NUFFT spreading methods of the GPU layer on OpenCL against a direct periodic sum: the
//! tiled, coloured one (PoCL's default) on fine grids with 1, 2, 3 and 5 tiles per axis (even
//! and odd tile counts, wrap-around), and the atomic one (CUDA's default; here float atomic
//! adds emulated by compare-and-swap).

use backend_core::conformance::with_backend;
use backend_core::nufft::{EsKernel, SpreadParams};
use backend_core::{Backend, Real, C};
use backend_gpu::Spreading;
use backend_opencl::OpenClBackend;
use ndarray::Array1;

fn check<T: Real>(b: &OpenClBackend, fine: &[usize], eps: f64, tol: f64) {
    let kernel = EsKernel::for_eps(eps, 2.0).unwrap();
    let d = fine.len();
    let params = SpreadParams {
        modes: fine.iter().map(|n| n / 2).collect(),
        fine: fine.to_vec(),
        n_trans: 2,
        kernel,
    };
    let m = if d == 3 { 40 } else { 150 };
    let coords: Vec<Array1<T>> = (0..d)
        .map(|a| {
            backend_core::host::rand::<f64>(&[m], 11 + a as u64)
                .iter()
                .map(|v| T::of((v - 0.3) * 9.0))
                .collect()
        })
        .collect();
    let strengths: Vec<C<T>> = (0..2 * m)
        .map(|i| {
            C::new(
                T::of((i as f64 * 0.37).sin()),
                T::of((i as f64 * 0.11).cos()),
            )
        })
        .collect();
    let views: Vec<_> = coords.iter().map(|c| c.view()).collect();
    let pts = b.nufft_setpts(&views, &params).unwrap();
    let c = b.upload_flat(&[2, m], strengths.clone()).unwrap();
    let mut shape = vec![2];
    shape.extend(fine);
    let mut grid = b.zeros::<C<T>>(&shape).unwrap();
    b.nufft_spread(&pts, &params, &c, &mut grid).unwrap();
    let got = b.download(&grid).unwrap();
    let nfine: usize = fine.iter().product();
    let two_pi = 2.0 * std::f64::consts::PI;
    let (mut num, mut den) = (0.0, 0.0);
    for t in 0..2 {
        for cell in 0..nfine {
            let mut rest = cell;
            let mut idx = vec![0usize; d];
            for a in (0..d).rev() {
                idx[a] = rest % fine[a];
                rest /= fine[a];
            }
            let mut want = C::new(0.0, 0.0);
            for j in 0..m {
                let mut w = 1.0;
                for a in 0..d {
                    let nf = fine[a] as f64;
                    let x = coords[a][j].f64().rem_euclid(two_pi) * nf / two_pi;
                    let phi: f64 = (-2..=2)
                        .map(|k| kernel.eval(idx[a] as f64 + k as f64 * nf - x))
                        .sum();
                    w *= phi;
                }
                let s = strengths[t * m + j];
                want += C::new(s.re.f64(), s.im.f64()) * w;
            }
            let g = got.as_slice().unwrap()[t * nfine + cell];
            num += (C::new(g.re.f64(), g.im.f64()) - want).norm_sqr();
            den += want.norm_sqr();
        }
    }
    let err = (num / den).sqrt();
    assert!(
        err < tol,
        "{:?} spreading, fine {fine:?}: relative error {err:e}",
        b.spreading()
    );
}

#[test]
fn tiled_and_atomic_spreading_match_a_direct_sum() {
    with_backend("opencl", || OpenClBackend::new(None), check_both);
}

fn check_both(b: &OpenClBackend) {
    assert_eq!(
        b.spreading(),
        Spreading::Tiled,
        "OpenCL adds floats by compare-and-swap"
    );
    for spreading in [Spreading::Tiled, Spreading::Atomic] {
        let b = b.clone().with_spreading(spreading);
        // 29 cells: one tile (prime length); 32: 2 tiles; 48: 3; 80: 5.
        for fine in [
            &[29][..],
            &[80][..],
            &[32, 48],
            &[48, 29],
            &[29, 32, 80],
            &[48, 48, 32],
        ] {
            check::<f32>(&b, fine, 1e-6, 1e-5);
            if b.supports_f64() {
                check::<f64>(&b, fine, 1e-12, 1e-12);
            }
        }
    }
}
