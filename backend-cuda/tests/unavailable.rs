//! Without a GPU (or without the CUDA libraries) every entry point fails with an error, never a
//! panic. On a machine with a GPU these tests check the opposite: a device opens.

use backend_core::Error;
use backend_cuda::CudaBackend;

fn cuda_libraries_loadable() -> bool {
    // SAFETY: only tries to dlopen the libraries.
    unsafe { cudarc::driver::sys::is_culib_present() && cudarc::nvrtc::sys::is_culib_present() }
}

#[test]
fn new_without_cuda_is_an_error_not_a_panic() {
    let r =
        std::panic::catch_unwind(|| CudaBackend::new(0).map(|b| backend_core::Backend::name(&b)));
    let r = r.expect("CudaBackend::new panicked");
    if cuda_libraries_loadable() {
        println!("CUDA libraries present: {r:?}");
    } else {
        let e = r.expect_err("no CUDA libraries, yet a backend opened");
        assert!(matches!(e, Error::DeviceUnavailable(_)), "{e}");
        assert!(e.to_string().contains("cannot load"), "{e}");
    }
}

#[test]
fn list_devices_without_cuda_is_an_error_not_a_panic() {
    let r = std::panic::catch_unwind(CudaBackend::list_devices).expect("list_devices panicked");
    if !cuda_libraries_loadable() {
        assert!(matches!(r, Err(Error::DeviceUnavailable(_))), "{r:?}");
    }
}

#[test]
fn a_device_beyond_the_last_is_an_error() {
    let r = std::panic::catch_unwind(|| CudaBackend::new(1 << 20).map(|_| ())).expect("panicked");
    assert!(matches!(r, Err(Error::DeviceUnavailable(_))), "{r:?}");
}
