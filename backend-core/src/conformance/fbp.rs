//! `interp_backproject` (the linear-interpolation backprojection that ends filtered backprojection) against a
//! direct host loop with numpy's `interp(x, r, f, left=0, right=0)` semantics.

use super::{as_f64, assert_rel, host_randn};
use crate::{Backend, Real};
use ndarray::{Array1, ArrayD, IxDyn};

/// `Σ_n interp(f[n], -<g_n, x>)` at every point of the grid, in `f64`.
fn host_backproject(
    f: &ArrayD<f64>,
    g: &ArrayD<f64>,
    grids: &[Array1<f64>],
    r0: f64,
    dr: f64,
) -> ArrayD<f64> {
    let (nproj, nb) = (f.shape()[0], f.shape()[1]);
    let shape: Vec<usize> = grids.iter().map(|x| x.len()).collect();
    ArrayD::from_shape_fn(IxDyn(&shape), |ix| {
        (0..nproj)
            .map(|n| {
                let s: f64 = -(0..grids.len())
                    .map(|a| g[[n, a]] * grids[a][ix[a]])
                    .sum::<f64>();
                let r_last = r0 + (nb - 1) as f64 * dr;
                if s < r0 || s > r_last {
                    return 0.0;
                }
                let t = (s - r0) / dr;
                let i = (t.floor() as usize).min(nb.saturating_sub(2));
                if nb == 1 {
                    return f[[n, 0]];
                }
                let w = t - i as f64;
                f[[n, i]] * (1.0 - w) + f[[n, i + 1]] * w
            })
            .sum()
    })
}

fn backproject_direct_t<B: Backend, T: Real>(b: &B) {
    // (grid lengths, projections, samples)
    let cases: [(&[usize], usize, usize); 5] = [
        (&[30], 9, 41),
        (&[13, 11], 17, 41),
        (&[7, 6, 5], 23, 33),
        (&[64, 60], 50, 101),
        (&[12, 10, 9], 40, 64),
    ];
    for (lens, nproj, nb) in cases {
        let d = lens.len();
        let delta = 0.1;
        let grids: Vec<Array1<T>> = lens
            .iter()
            .map(|&n| Array1::from_iter((0..n).map(|i| T::of((i as f64 - (n / 2) as f64) * delta))))
            .collect();
        // projections vanishing at both ends, so that the bounds test is not on a jump
        let f = host_randn::<T>(&[nproj, nb], 70).mapv(|v| v + T::of(1.0));
        let f = ArrayD::from_shape_fn(IxDyn(&[nproj, nb]), |ix| {
            f[[ix[0], ix[1]]] * T::of((std::f64::consts::PI * ix[1] as f64 / (nb - 1) as f64).sin())
        });
        // |<g, x>| reaches about 2 while the samples cover [-1, 1): some positions fall outside
        let g = host_randn::<T>(&[nproj, d], 71).mapv(|v| v * T::of(1.5));
        let dr = 2.0 / nb as f64;
        let r0 = -((nb / 2) as f64) * dr;
        let dgrids: Vec<B::Buffer<T>> = grids
            .iter()
            .map(|x| b.upload(x.view().into_dyn()).unwrap())
            .collect();
        let refs: Vec<&B::Buffer<T>> = dgrids.iter().collect();
        let mut out = b.full::<T>(lens, T::of(5.0)).unwrap();
        b.interp_backproject(
            &b.upload(f.view()).unwrap(),
            &b.upload(g.view()).unwrap(),
            &refs,
            T::of(r0),
            T::of(dr),
            &mut out,
        )
        .unwrap();
        let g64: Vec<Array1<f64>> = grids.iter().map(|x| x.mapv(|v| v.f64())).collect();
        let want = host_backproject(
            &f.mapv(|v| v.f64()),
            &g.mapv(|v| v.f64()),
            &g64,
            T::of(r0).f64(),
            T::of(dr).f64(),
        );
        let got = as_f64(&b.download(&out).unwrap());
        assert_rel(
            &format!("backproject {lens:?}, {nproj}x{nb}"),
            &got,
            want.as_slice().unwrap(),
            1e3 * T::EPS.f64(),
        );
    }
}

/// `interp_backproject` in 1D, 2D and 3D against the direct sum of linear interpolations.
pub fn backproject_direct<B: Backend>(b: &B) {
    per_precision!(backproject_direct_t, b);
}
