//! The local-memory FFT kernels (`fft_conv_*`) in their one-line-per-work-group form
//! (`EPRI_FFT_LANES 1`, what GPUs and the CUDA backend run) on the OpenCL device, which on a
//! CPU device otherwise runs them 8 lines at a time: the convolution checks of the conformance
//! suite, on a handle of its own (`open_with_fft_lanes`), and the lane counts that are refused.

use backend_core::conformance::{fft, with_backend};
use backend_core::Error;
use backend_opencl::open_with_fft_lanes;

mod opencl_one_lane {
    use super::*;

    fn run(check: fn(&backend_opencl::OpenClBackend)) {
        with_backend("opencl", || open_with_fft_lanes(None, 1), check);
    }

    #[test]
    fn convolve_direct() {
        run(fft::convolve_direct);
    }

    #[test]
    fn convolve_matches_composed() {
        run(fft::convolve_matches_composed);
    }

    #[test]
    fn convolve_matrix() {
        run(fft::convolve_matrix);
    }
}

#[test]
fn opencl_lane_counts_other_than_1_2_4_8_are_errors() {
    for lanes in [0, 3, 16] {
        assert!(
            matches!(
                open_with_fft_lanes(None, lanes),
                Err(Error::InvalidArgument(_))
            ),
            "{lanes} lanes"
        );
    }
}
