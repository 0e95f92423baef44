//! `EPRI_PROFILE=1` counts the GPU layer's launches, allocations and transfers (its own test
//! binary: the variable is read when the process opens the device).

use backend_core::conformance::with_backend;
use backend_core::{Backend, FftKind, FftSpec, Profile, C};
use backend_opencl::OpenClBackend;

#[test]
fn launches_and_transfers_are_counted() {
    std::env::set_var("EPRI_PROFILE", "1");
    with_backend("opencl", || OpenClBackend::new(None), count_a_dual_step);
    with_backend(
        "opencl",
        || OpenClBackend::new(None),
        count_a_toeplitz_product,
    );
}

/// The fused Toeplitz product (doubled grid): 3 launches in 2D, 5 in 3D, nothing else.
fn count_a_toeplitz_product(b: &OpenClBackend) {
    for (grid, launches) in [(&[800usize, 400][..], 3), (&[40, 30, 20][..], 5)] {
        let spec = FftSpec::new(grid, grid.len(), FftKind::R2C).unwrap();
        let plan = b.fft_plan::<f32>(&spec).unwrap();
        let half: Vec<usize> = grid.iter().map(|g| g / 2).collect();
        let khat = b.zeros::<C<f32>>(&spec.spectrum_shape()).unwrap();
        let u = b.ones::<f32>(&half).unwrap();
        let mut out = b.zeros::<f32>(&half).unwrap();
        let mut pad = b.zeros::<f32>(grid).unwrap();
        let mut sp = b.zeros::<C<f32>>(&spec.spectrum_shape()).unwrap();
        let start = b.profile().unwrap();
        b.fft_convolve(&plan, &khat, &u, &mut out, &mut pad, &mut sp)
            .unwrap();
        let step = b.profile().unwrap() - start;
        assert_eq!(
            step,
            Profile {
                launches,
                ..Profile::default()
            },
            "{grid:?}: {step}"
        );
    }
}

fn count_a_dual_step(b: &OpenClBackend) {
    let u = b.ones::<f32>(&[8, 8]).unwrap();
    let mut p = b.zeros::<f32>(&[2, 8, 8]).unwrap();
    let start = b.profile().expect("counting under EPRI_PROFILE=1");
    b.tv_dual_step(&mut p, &u, 0.5, None).unwrap();
    let step = b.profile().unwrap() - start;
    assert_eq!(
        step,
        Profile {
            launches: 1,
            ..Profile::default()
        },
        "{step}"
    );
    let _ = b.download(&p).unwrap();
    let read = b.profile().unwrap() - start;
    assert_eq!((read.transfers, read.downloaded_bytes), (1, 2 * 64 * 4));
}
