//! NVRTC needs no GPU: wherever `libnvrtc.so.13` can be loaded (a GPU machine, or the
//! `nvidia-cuda-nvrtc` wheel's `lib` folder on `LD_LIBRARY_PATH`), the shared kernel sources
//! must compile as CUDA in both precisions. Elsewhere the test prints "skipped".

use backend_core::Precision;

#[test]
fn kernel_sources_compile_with_nvrtc() {
    // SAFETY: only tries to dlopen the library.
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        println!("skipped: libnvrtc not found");
        return;
    }
    // compute_75 is the oldest architecture CUDA 13 accepts; compute_90 is the H100's.
    for arch in ["compute_75", "compute_90"] {
        for prec in [Precision::F32, Precision::F64] {
            let ptx = backend_cuda::compile_kernels(prec, arch)
                .unwrap_or_else(|e| panic!("{prec} kernels for {arch}: {e}"));
            let text = ptx.to_src();
            for name in gpu_kernels::KERNEL_NAMES {
                assert!(
                    text.contains(&format!(".entry {name}(")),
                    "{prec} {arch}: kernel {name} missing from the PTX"
                );
            }
        }
    }
}
