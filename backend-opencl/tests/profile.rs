//! `EPRI_PROFILE=1` counts the GPU layer's launches, allocations and transfers (its own test
//! binary: the variable is read when the process opens the device).

use backend_core::conformance::with_backend;
use backend_core::{Backend, Profile};
use backend_opencl::OpenClBackend;

#[test]
fn launches_and_transfers_are_counted() {
    std::env::set_var("EPRI_PROFILE", "1");
    with_backend("opencl", || OpenClBackend::new(None), count_a_dual_step);
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
