//! Gradient, divergence and the fused TV steps against direct loops over
//! multi-indices, in 1 to 4 dimensions, over chosen axes, with and without masks; plus the
//! adjointness `<∇u, p> = -<u, div p>`.

use super::{as_f64, assert_rel, host_randn};
use crate::{Backend, PrimalStep, Real};
use ndarray::{ArrayD, Axis, Dimension, IxDyn};

/// Shapes (1D to 4D, a length-1 axis, two above parallel thresholds) and the axis lists used.
fn cases() -> Vec<(Vec<usize>, Vec<usize>)> {
    let mut v = Vec::new();
    for shape in [
        vec![50],
        vec![7, 9],
        vec![4, 5, 6],
        vec![3, 4, 2, 5],
        vec![3, 1, 4],
        vec![200, 190],
        vec![40, 30, 35],
    ] {
        let r = shape.len();
        v.push((shape.clone(), (0..r).collect()));
        if r >= 2 {
            v.push((shape.clone(), vec![r - 1, 0]));
        }
    }
    v
}

/// `(count, shape...)`.
fn stacked(count: usize, shape: &[usize]) -> Vec<usize> {
    std::iter::once(count)
        .chain(shape.iter().copied())
        .collect()
}

/// Random 0/1 masks.
fn random_masks<T: Real>(shape: &[usize], seed: u64) -> ArrayD<T> {
    host_randn::<T>(shape, seed).mapv(|v| if v > T::of(-0.5) { T::one() } else { T::zero() })
}

/// `k + delta·e_axis`, or `None` outside the array.
fn neighbour(k: &[usize], shape: &[usize], axis: usize, delta: isize) -> Option<Vec<usize>> {
    let i = k[axis] as isize + delta;
    (i >= 0 && (i as usize) < shape[axis]).then(|| {
        let mut n = k.to_vec();
        n[axis] = i as usize;
        n
    })
}

/// Direct gradient: `out[c](k) = M[c](k)·(u(k + e_a) − u(k))`, 0 on the last slice.
fn host_grad(u: &ArrayD<f64>, axes: &[usize], masks: Option<&ArrayD<f64>>) -> ArrayD<f64> {
    let shape = u.shape().to_vec();
    ArrayD::from_shape_fn(IxDyn(&stacked(axes.len(), &shape)), |ix| {
        let (c, k) = (ix[0], &ix.slice()[1..]);
        let g = match neighbour(k, &shape, axes[c], 1) {
            Some(n) => u[IxDyn(&n)] - u[IxDyn(k)],
            None => 0.0,
        };
        g * masks.map_or(1.0, |m| m[&ix])
    })
}

/// Direct divergence, the negative adjoint of the forward-difference gradient: along an axis of length N, `div[0] = P[0]`,
/// `div[i] = P[i] − P[i−1]`, `div[N−1] = −P[N−2]` (0 when N = 1), of `P = M ⊙ p`, summed over
/// the axes.
fn host_div(p: &ArrayD<f64>, axes: &[usize], masks: Option<&ArrayD<f64>>) -> ArrayD<f64> {
    let q = match masks {
        Some(m) => p * m,
        None => p.clone(),
    };
    let shape = p.shape()[1..].to_vec();
    ArrayD::from_shape_fn(IxDyn(&shape), |ix| {
        let k = ix.slice();
        axes.iter()
            .enumerate()
            .map(|(c, &a)| {
                let qc = q.index_axis(Axis(0), c);
                let n = shape[a];
                let at = |d: isize| qc[IxDyn(&neighbour(k, &shape, a, d).expect("inside"))];
                match k[a] {
                    _ if n == 1 => 0.0,
                    0 => at(0),
                    i if i == n - 1 => -at(-1),
                    _ => at(0) - at(-1),
                }
            })
            .sum()
    })
}

fn f64_array<T: Real>(a: &ArrayD<T>) -> ArrayD<f64> {
    a.mapv(|v| v.f64())
}

fn grad_direct_t<B: Backend, T: Real>(b: &B) {
    for (shape, axes) in cases() {
        let u = host_randn::<T>(&shape, 40);
        let pshape = stacked(axes.len(), &shape);
        let m = random_masks::<T>(&pshape, 41);
        let du = b.upload(u.view()).unwrap();
        for masked in [false, true] {
            let dm = b.upload(m.view()).unwrap();
            let mut out = b.zeros::<T>(&pshape).unwrap();
            b.grad(&du, &axes, masked.then_some(&dm), &mut out).unwrap();
            let m64 = f64_array(&m);
            let want = host_grad(&f64_array(&u), &axes, masked.then_some(&m64));
            let got = as_f64(&b.download(&out).unwrap());
            assert_rel(
                &format!("grad {shape:?} axes {axes:?} masked={masked}"),
                &got,
                &want.into_raw_vec_and_offset().0,
                4.0 * T::EPS.f64(),
            );
        }
    }
}

/// `grad` against a direct loop.
pub fn grad_direct<B: Backend>(b: &B) {
    per_precision!(grad_direct_t, b);
}

fn div_direct_t<B: Backend, T: Real>(b: &B) {
    for (shape, axes) in cases() {
        let pshape = stacked(axes.len(), &shape);
        let p = host_randn::<T>(&pshape, 42);
        let m = random_masks::<T>(&pshape, 43);
        let dp = b.upload(p.view()).unwrap();
        for masked in [false, true] {
            let dm = b.upload(m.view()).unwrap();
            let mut out = b.full::<T>(&shape, T::of(9.0)).unwrap();
            b.div(&dp, &axes, masked.then_some(&dm), &mut out).unwrap();
            let m64 = f64_array(&m);
            let want = host_div(&f64_array(&p), &axes, masked.then_some(&m64));
            let got = as_f64(&b.download(&out).unwrap());
            assert_rel(
                &format!("div {shape:?} axes {axes:?} masked={masked}"),
                &got,
                &want.into_raw_vec_and_offset().0,
                16.0 * T::EPS.f64(),
            );
        }
    }
}

/// `div` against SPEC's formula.
pub fn div_direct<B: Backend>(b: &B) {
    per_precision!(div_direct_t, b);
}

fn grad_div_adjoint_t<B: Backend, T: Real>(b: &B) {
    for (shape, axes) in cases() {
        let pshape = stacked(axes.len(), &shape);
        let u = host_randn::<T>(&shape, 44);
        let p = host_randn::<T>(&pshape, 45);
        let m = random_masks::<T>(&pshape, 46);
        let dm = b.upload(m.view()).unwrap();
        for masked in [false, true] {
            let mut g = b.zeros::<T>(&pshape).unwrap();
            b.grad(
                &b.upload(u.view()).unwrap(),
                &axes,
                masked.then_some(&dm),
                &mut g,
            )
            .unwrap();
            let mut d = b.zeros::<T>(&shape).unwrap();
            b.div(
                &b.upload(p.view()).unwrap(),
                &axes,
                masked.then_some(&dm),
                &mut d,
            )
            .unwrap();
            let (g, d) = (
                as_f64(&b.download(&g).unwrap()),
                as_f64(&b.download(&d).unwrap()),
            );
            let (p, u) = (as_f64(&p), as_f64(&u));
            let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
            let norm = |a: &[f64]| dot(a, a).sqrt();
            let (lhs, rhs) = (dot(&g, &p), -dot(&u, &d));
            let tol = 16.0 * T::EPS.f64() * (norm(&g) * norm(&p) + norm(&u) * norm(&d));
            assert!(
                (lhs - rhs).abs() <= tol,
                "<grad u, p> = {lhs} vs -<u, div p> = {rhs} ({shape:?} {axes:?} masked={masked})"
            );
        }
    }
}

/// `<∇u, p> = -<u, div p>` with and without masks.
pub fn grad_div_adjoint<B: Backend>(b: &B) {
    per_precision!(grad_div_adjoint_t, b);
}

/// Shapes for the TV steps (gradient over every axis).
/// The shapes of the fused TV steps: those of [`cases`] with every axis, one above 131072
/// pixels (more than one pixel per work item of a device's primal step with sums), and a 3D
/// one of short rows (19) whose blocks of rows straddle the planes (21 rows), in the mid-size
/// range that the CPU splits in two.
fn tv_shapes() -> Vec<Vec<usize>> {
    cases()
        .into_iter()
        .filter(|(s, a)| a.len() == s.len() && a[0] == 0)
        .map(|(s, _)| s)
        .chain([vec![380, 360], vec![25, 21, 19]])
        .collect()
}

fn tv_dual_step_direct_t<B: Backend, T: Real>(b: &B) {
    for shape in tv_shapes() {
        let d = shape.len();
        let axes: Vec<usize> = (0..d).collect();
        let pshape = stacked(d, &shape);
        let ubar = host_randn::<T>(&shape, 47);
        let p0 = host_randn::<T>(&pshape, 48).mapv(|v| v * T::of(0.5));
        let m = random_masks::<T>(&pshape, 49);
        let step = 0.7;
        for masked in [false, true] {
            let dm = b.upload(m.view()).unwrap();
            let mut p = b.upload(p0.view()).unwrap();
            b.tv_dual_step(
                &mut p,
                &b.upload(ubar.view()).unwrap(),
                T::of(step),
                masked.then_some(&dm),
            )
            .unwrap();
            let m64 = f64_array(&m);
            let mut want =
                f64_array(&p0) + host_grad(&f64_array(&ubar), &axes, masked.then_some(&m64)) * step;
            let n: usize = shape.iter().product();
            let flat = want.as_slice_mut().unwrap();
            for k in 0..n {
                let norm = (0..d).map(|c| flat[c * n + k].powi(2)).sum::<f64>().sqrt();
                (0..d).for_each(|c| flat[c * n + k] /= norm.max(1.0));
            }
            let got = as_f64(&b.download(&p).unwrap());
            assert_rel(
                &format!("tv_dual_step {shape:?} masked={masked}"),
                &got,
                flat,
                16.0 * T::EPS.f64(),
            );
        }
    }
}

/// `tv_dual_step` against the host computation `p + σ∇ū` then projection on the unit ball.
pub fn tv_dual_step_direct<B: Backend>(b: &B) {
    per_precision!(tv_dual_step_direct_t, b);
}

fn tv_primal_step_direct_t<B: Backend, T: Real>(b: &B) {
    for shape in tv_shapes() {
        let d = shape.len();
        let axes: Vec<usize> = (0..d).collect();
        let pshape = stacked(d, &shape);
        let u0 = host_randn::<T>(&shape, 50);
        let p = host_randn::<T>(&pshape, 51);
        let gradf = host_randn::<T>(&shape, 52);
        let mask = random_masks::<T>(&shape, 53);
        let masks = random_masks::<T>(&pshape, 54);
        let (tau, lambda) = (0.3, 1.7);
        let cases = [(false, false), (true, false), (false, true), (true, true)];
        for (i, (positivity, masked)) in cases.into_iter().enumerate() {
            // The sums asked for in every other case.
            let sums = i % 2 == 0;
            let mut u = b.upload(u0.view()).unwrap();
            let mut ubar = b.zeros::<T>(&shape).unwrap();
            let (dmask, dmasks) = (
                b.upload(mask.view()).unwrap(),
                b.upload(masks.view()).unwrap(),
            );
            let step = PrimalStep {
                tau: T::of(tau),
                lambda: T::of(lambda),
                positivity,
                sums,
            };
            let got_sums = b
                .tv_primal_step(
                    &mut u,
                    &mut ubar,
                    &b.upload(p.view()).unwrap(),
                    &b.upload(gradf.view()).unwrap(),
                    &step,
                    masked.then_some(&dmask),
                    masked.then_some(&dmasks),
                )
                .unwrap();
            let masks64 = f64_array(&masks);
            let dv = host_div(&f64_array(&p), &axes, masked.then_some(&masks64));
            let u_old = f64_array(&u0);
            let mut u_new = &u_old + &((dv * lambda - f64_array(&gradf)) * tau);
            if masked {
                u_new.zip_mut_with(&mask, |v, m| {
                    if m.is_nan() || *m <= T::zero() {
                        *v = 0.0
                    }
                });
            }
            if positivity {
                u_new.mapv_inplace(|v| v.max(0.0));
            }
            let ubar_want = &u_new * 2.0 - &u_old;
            let what = format!("tv_primal_step {shape:?} positivity={positivity} masked={masked}");
            let tol = 32.0 * T::EPS.f64();
            let got_u = as_f64(&b.download(&u).unwrap());
            assert_rel(&what, &got_u, u_new.as_slice().unwrap(), tol);
            assert_rel(
                &what,
                &as_f64(&b.download(&ubar).unwrap()),
                ubar_want.as_slice().unwrap(),
                tol,
            );
            // The sums against those of the returned image and the start (per-group partial
            // sums in the working precision on a device: a looser bound).
            match got_sums {
                None => assert!(!sums, "{what}: no sums returned"),
                Some(got) => {
                    assert!(sums, "{what}: sums returned unasked");
                    let u_old = as_f64(&u0);
                    let change: f64 = got_u.iter().zip(&u_old).map(|(a, b)| (a - b).powi(2)).sum();
                    let norm: f64 = got_u.iter().map(|a| a * a).sum();
                    let tol = 64.0 * T::EPS.f64();
                    assert_rel(
                        &format!("{what}: Σ(u_new − u)²"),
                        &[got.change],
                        &[change],
                        tol,
                    );
                    assert_rel(&format!("{what}: Σ u_new²"), &[got.norm], &[norm], tol);
                }
            }
        }
    }
}

/// `tv_primal_step` against its host computation (gradient step, positivity, support,
/// extrapolation), and its stopping-rule sums against sums over the returned image.
pub fn tv_primal_step_direct<B: Backend>(b: &B) {
    per_precision!(tv_primal_step_direct_t, b);
}
