//! Errors, not panics: shape mismatches are `ShapeMismatch`, bad arguments are errors, `f64` on a
//! device without it is `PrecisionMismatch`.

use crate::{Backend, Binary, Direction, Error, FftKind, FftSpec, PrimalStep, Result, C};

fn is_invalid<T>(what: &str, r: Result<T>) {
    match r {
        Err(Error::InvalidArgument(_)) => {}
        Err(e) => panic!("{what}: expected an invalid argument, got {e}"),
        Ok(_) => panic!("{what}: expected an invalid argument, got Ok"),
    }
}

fn is_shape<T>(what: &str, r: Result<T>) {
    match r {
        Err(Error::ShapeMismatch { .. }) => {}
        Err(e) => panic!("{what}: expected a shape mismatch, got {e}"),
        Ok(_) => panic!("{what}: expected a shape mismatch, got Ok"),
    }
}

/// Every shape-checked primitive given a wrong shape returns `ShapeMismatch`.
pub fn shape_mismatches<B: Backend>(b: &B) {
    let x = b.zeros::<f32>(&[4, 3]).unwrap();
    let mut y5 = b.zeros::<f32>(&[5]).unwrap();
    let mut z5 = b.zeros::<C<f32>>(&[5]).unwrap();
    let z3 = b.zeros::<C<f32>>(&[3]).unwrap();
    is_shape("axpby", b.axpby(1.0, &x, 1.0, &mut y5));
    is_shape(
        "zip (5 does not divide 12)",
        b.zip(Binary::Add, &mut b.duplicate(&x).unwrap(), &y5),
    );
    is_shape("cmul (3 does not divide 5)", b.cmul(&mut z5, &z3, false));
    is_shape("dot", b.dot(&x, &y5));
    is_shape("sq_dist", b.sq_dist(&x, &y5));
    is_shape("to_complex", b.to_complex(&x, &mut z5));
    is_shape(
        "complex_part",
        b.complex_part(&z3, crate::Part::Re, &mut y5),
    );
    is_shape(
        "roll",
        b.roll(&x, &[1, 1], &mut b.zeros::<f32>(&[3, 4]).unwrap()),
    );
    is_shape(
        "embed (does not fit)",
        b.embed(&x, &mut b.zeros::<f32>(&[5, 3]).unwrap(), &[2, 0]),
    );
    is_shape(
        "extract (does not fit)",
        b.extract(&x, &[1, 1], &mut b.zeros::<f32>(&[3, 3]).unwrap()),
    );
    // stencils
    is_shape(
        "grad out",
        b.grad(&x, &[0, 1], None, &mut b.zeros::<f32>(&[1, 4, 3]).unwrap()),
    );
    let m = b.zeros::<f32>(&[2, 3, 4]).unwrap();
    is_shape(
        "grad masks",
        b.grad(
            &x,
            &[0, 1],
            Some(&m),
            &mut b.zeros::<f32>(&[2, 4, 3]).unwrap(),
        ),
    );
    is_shape(
        "div p",
        b.div(
            &b.zeros::<f32>(&[2, 4, 4]).unwrap(),
            &[0, 1],
            None,
            &mut b.duplicate(&x).unwrap(),
        ),
    );
    is_shape(
        "tv_dual_step p",
        b.tv_dual_step(&mut b.zeros::<f32>(&[1, 4, 3]).unwrap(), &x, 1.0, None),
    );
    let p = b.zeros::<f32>(&[2, 4, 3]).unwrap();
    is_shape(
        "tv_primal_step gradf",
        b.tv_primal_step(
            &mut b.duplicate(&x).unwrap(),
            &mut b.duplicate(&x).unwrap(),
            &p,
            &y5,
            &PrimalStep {
                tau: 1.0,
                lambda: 1.0,
                positivity: false,
                sums: true,
            },
            None,
            None,
        ),
    );
    // FFT
    let spec = FftSpec::new(&[4, 6], 1, FftKind::R2C).unwrap();
    let plan = b.fft_plan::<f32>(&spec).unwrap();
    let mut s = b.zeros::<C<f32>>(&[4, 4]).unwrap();
    is_shape("r2c input", b.fft_r2c(&plan, &x, &mut s));
    let x6 = b.zeros::<f32>(&[4, 6]).unwrap();
    is_shape(
        "r2c output",
        b.fft_r2c(&plan, &x6, &mut b.zeros::<C<f32>>(&[4, 6]).unwrap()),
    );
    is_shape(
        "c2r output",
        b.fft_c2r(&plan, &mut s, &mut b.zeros::<f32>(&[4, 5]).unwrap()),
    );
    let cplan = b
        .fft_plan::<f32>(&FftSpec::new(&[4, 6], 2, FftKind::C2C).unwrap())
        .unwrap();
    is_shape(
        "c2c",
        b.fft_c2c(
            &cplan,
            &mut b.zeros::<C<f32>>(&[6, 4]).unwrap(),
            Direction::Forward,
        ),
    );
    // backprojection
    let f = b.zeros::<f32>(&[3, 10]).unwrap();
    let grid = b.zeros::<f32>(&[4]).unwrap();
    is_shape(
        "interp_backproject g",
        b.interp_backproject(
            &f,
            &b.zeros::<f32>(&[3, 3]).unwrap(),
            &[&grid, &grid],
            0.0,
            1.0,
            &mut b.zeros::<f32>(&[4, 4]).unwrap(),
        ),
    );
    is_shape(
        "interp_backproject out",
        b.interp_backproject(
            &f,
            &b.zeros::<f32>(&[3, 2]).unwrap(),
            &[&grid, &grid],
            0.0,
            1.0,
            &mut b.zeros::<f32>(&[4, 3]).unwrap(),
        ),
    );
}

/// Out-of-range indices, repeated or out-of-range axes, invalid FFT specs, wrong plan kinds and
/// bad backprojection parameters are `InvalidArgument`, the same on every backend (the
/// validators of `crate::check`).
pub fn invalid_arguments<B: Backend>(b: &B) {
    let src = b.zeros::<f32>(&[4]).unwrap();
    let idx = b.upload_flat(&[2], vec![1u32, 4]).unwrap();
    is_invalid(
        "gather index 4 of 4",
        b.gather(&src, &idx, &mut b.zeros::<f32>(&[2]).unwrap()),
    );
    is_invalid(
        "scatter index 4 of 4",
        b.scatter(
            &b.zeros::<f32>(&[2]).unwrap(),
            &idx,
            &mut b.zeros::<f32>(&[4]).unwrap(),
        ),
    );
    let u = b.zeros::<f32>(&[3, 3]).unwrap();
    is_invalid(
        "grad over axis 2 of 2",
        b.grad(&u, &[2], None, &mut b.zeros::<f32>(&[1, 3, 3]).unwrap()),
    );
    is_invalid(
        "grad over a repeated axis",
        b.grad(&u, &[1, 1], None, &mut b.zeros::<f32>(&[2, 3, 3]).unwrap()),
    );
    is_invalid(
        "div over a repeated axis",
        b.div(
            &b.zeros::<f32>(&[2, 3, 3]).unwrap(),
            &[0, 0],
            None,
            &mut b.zeros::<f32>(&[3, 3]).unwrap(),
        ),
    );
    is_invalid(
        "roll with one shift for two axes",
        b.roll(&u, &[1], &mut b.zeros::<f32>(&[3, 3]).unwrap()),
    );
    for (shape, axes) in [
        (&[4, 4][..], 0),
        (&[4, 4][..], 3),
        (&[2, 2, 2, 2, 2][..], 5),
        (&[4, 0][..], 1),
    ] {
        is_invalid(
            &format!("FFT of {shape:?} over {axes}"),
            FftSpec::new(shape, axes, FftKind::C2C),
        );
    }
    let rplan = b
        .fft_plan::<f32>(&FftSpec::new(&[4, 6], 1, FftKind::R2C).unwrap())
        .unwrap();
    is_invalid(
        "c2c with an R2C plan",
        b.fft_c2c(
            &rplan,
            &mut b.zeros::<C<f32>>(&[4, 6]).unwrap(),
            Direction::Forward,
        ),
    );
    let cplan = b
        .fft_plan::<f32>(&FftSpec::new(&[4, 6], 1, FftKind::C2C).unwrap())
        .unwrap();
    is_invalid(
        "r2c with a C2C plan",
        b.fft_r2c(
            &cplan,
            &b.zeros::<f32>(&[4, 6]).unwrap(),
            &mut b.zeros::<C<f32>>(&[4, 4]).unwrap(),
        ),
    );
    // Backprojection: 1 to 3 image axes, at least one sample, finite non-zero spacing
    // (negative: samples in decreasing order).
    let grid = b.zeros::<f32>(&[4]).unwrap();
    let g = b.zeros::<f32>(&[3, 2]).unwrap();
    let bp = |nb: usize, dr: f32| {
        b.interp_backproject(
            &b.zeros::<f32>(&[3, nb]).unwrap(),
            &g,
            &[&grid, &grid],
            0.0,
            dr,
            &mut b.zeros::<f32>(&[4, 4]).unwrap(),
        )
    };
    bp(5, -0.5).expect("a negative spacing is allowed");
    is_invalid("interp_backproject without samples", bp(0, 1.0));
    is_invalid("interp_backproject with spacing 0", bp(5, 0.0));
    is_invalid("interp_backproject with spacing NaN", bp(5, f32::NAN));
    is_invalid(
        "interp_backproject over 4 axes",
        b.interp_backproject(
            &b.zeros::<f32>(&[3, 5]).unwrap(),
            &b.zeros::<f32>(&[3, 4]).unwrap(),
            &[&grid, &grid, &grid, &grid],
            0.0,
            1.0,
            &mut b.zeros::<f32>(&[4, 4, 4, 4]).unwrap(),
        ),
    );
}

/// On a device without `f64`, `f64` buffers are refused with `PrecisionMismatch` (nothing to
/// check on a device that computes in `f64`; the check prints nothing, as it runs inside the
/// table of `epri selftest`).
pub fn f64_without_device_support<B: Backend>(b: &B) {
    if b.supports_f64() {
        return;
    }
    assert!(matches!(
        b.zeros::<f64>(&[3]),
        Err(Error::PrecisionMismatch(_))
    ));
    let host = ndarray::ArrayD::<f64>::zeros(ndarray::IxDyn(&[2]));
    assert!(matches!(
        b.upload(host.view()),
        Err(Error::PrecisionMismatch(_))
    ));
}
