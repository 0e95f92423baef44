//! NVRTC needs no GPU: wherever `libnvrtc.so.13` can be loaded (a GPU machine, or CI with the
//! `nvidia-cuda-nvrtc` wheel's `lib` folder on `LD_LIBRARY_PATH`), every kernel compiles
//! through the path the CUDA driver builds its programs with — a cubin for each architecture
//! the backend targets, in both precisions — and the PTX of each lists every kernel of the
//! host's table with the very parameters the host passes. Elsewhere the tests print
//! "skipped" (CI sets `EPRI_REQUIRE_NVRTC=1`, which turns a missing NVRTC into a failure).

use backend_core::Precision;
use backend_cuda::nvrtc::{compile, ptx_signatures, Image, Target, ARCHITECTURES};
use backend_gpu::kernels::{Param, ALL};

fn nvrtc_loads() -> bool {
    // SAFETY: only tries to dlopen the library.
    if unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        return true;
    }
    if std::env::var("EPRI_REQUIRE_NVRTC").is_ok_and(|v| v == "1") {
        panic!("NVRTC required (EPRI_REQUIRE_NVRTC=1) but libnvrtc does not load");
    }
    println!("skipped: libnvrtc not found");
    false
}

#[test]
fn every_kernel_compiles_to_a_cubin_for_each_target_architecture() {
    if !nvrtc_loads() {
        return;
    }
    for (major, minor) in ARCHITECTURES {
        for prec in [Precision::F32, Precision::F64] {
            let target = Target::Cubin(major, minor);
            match compile(prec, target) {
                Ok(Image::Cubin(bytes)) => {
                    assert!(bytes.starts_with(b"\x7fELF"), "{prec} {}", target.arch())
                }
                Ok(Image::Ptx(_)) => panic!("PTX asked for a cubin"),
                Err(e) => panic!("{prec} kernels for {}: {e}", target.arch()),
            }
        }
    }
}

#[test]
fn the_ptx_entries_match_the_host_kernel_table() {
    if !nvrtc_loads() {
        return;
    }
    for (major, minor) in ARCHITECTURES {
        for prec in [Precision::F32, Precision::F64] {
            let target = Target::Ptx(major, minor);
            let ptx = match compile(prec, target) {
                Ok(Image::Ptx(text)) => text,
                Ok(Image::Cubin(_)) => panic!("a cubin asked for PTX"),
                Err(e) => panic!("{prec} kernels for {}: {e}", target.arch()),
            };
            let entries = ptx_signatures(&ptx, prec);
            for k in ALL {
                let want: Vec<Option<Param>> = k.params.iter().map(|&p| Some(p)).collect();
                assert_eq!(
                    entries.get(k.name),
                    Some(&want),
                    "{prec} {}: kernel {} as compiled vs as launched",
                    target.arch(),
                    k.name
                );
            }
            assert_eq!(
                entries.len(),
                ALL.len(),
                "{prec}: kernels outside the table"
            );
        }
    }
}
