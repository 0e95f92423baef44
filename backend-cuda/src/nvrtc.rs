//! The shared kernel sources compiled by NVRTC (needs only `libnvrtc`, no GPU): to a cubin for
//! a real architecture (`sm_90`), which the driver loads whatever PTX versions it knows, or to
//! PTX for a virtual one (`compute_75`), JIT-compiled by the driver — the fallback for a device
//! newer than this NVRTC. Also reads the kernel signatures out of PTX, so that tests compare
//! them with the host's kernel table.

use backend_core::{Error, Precision, Result};
use backend_gpu::kernels::Param;
use cudarc::nvrtc::{result, sys, Ptx};
use std::collections::HashMap;
use std::ffi::{CStr, CString};

/// The architectures the backend is checked for (Turing, Ampere, Hopper); a device of another
/// architecture gets a cubin of its own all the same.
pub const ARCHITECTURES: [(i32, i32); 3] = [(7, 5), (8, 0), (9, 0)];

/// What NVRTC produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Machine code for `sm_{major}{minor}`.
    Cubin(i32, i32),
    /// PTX for `compute_{major}{minor}`.
    Ptx(i32, i32),
}

impl Target {
    /// NVRTC's `--gpu-architecture` value.
    pub fn arch(self) -> String {
        match self {
            Target::Cubin(a, b) => format!("sm_{a}{b}"),
            Target::Ptx(a, b) => format!("compute_{a}{b}"),
        }
    }
}

/// A compiled module: machine code or PTX.
#[derive(Clone, Debug)]
pub enum Image {
    /// An ELF cubin for one real architecture.
    Cubin(Vec<u8>),
    /// PTX text for one virtual architecture.
    Ptx(String),
}

impl Image {
    /// As cudarc's module image, for `CudaContext::load_module`.
    pub fn into_module(self) -> Ptx {
        match self {
            Image::Cubin(bytes) => Ptx::from_binary(bytes),
            Image::Ptx(text) => Ptx::from_src(text),
        }
    }
}

/// The CUDA source of the kernels for one precision.
pub fn source(prec: Precision) -> String {
    gpu_kernels::source(gpu_kernels::Dialect::Cuda, prec == Precision::F64, 1)
}

/// Compiles the kernels of one precision for `target`; a failure carries NVRTC's log.
pub fn compile(prec: Precision, target: Target) -> Result<Image> {
    crate::device::nvrtc_present()?;
    let nvrtc = |what: &str, e: result::NvrtcError| Error::KernelBuild {
        log: format!("NVRTC ({prec}, {}): {what}: {e:?}", target.arch()),
    };
    let src = CString::new(source(prec)).map_err(|e| Error::KernelBuild {
        log: format!("kernel source: {e}"),
    })?;
    let prog = result::create_program(&src, None).map_err(|e| nvrtc("create", e))?;
    let out = compile_program(prog, prec, target);
    // SAFETY: `prog` was created above and is destroyed once.
    unsafe { result::destroy_program(prog) }.map_err(|e| nvrtc("destroy", e))?;
    out
}

fn compile_program(prog: sys::nvrtcProgram, prec: Precision, target: Target) -> Result<Image> {
    let arch = target.arch();
    let options = [format!("--gpu-architecture={arch}")];
    // SAFETY: `prog` is a live program (created by the caller, destroyed after this returns).
    if let Err(e) = unsafe { result::compile_program(prog, &options) } {
        // SAFETY: as above.
        let log = unsafe { result::get_program_log(prog) }
            .map(|l| {
                // SAFETY: NVRTC's log is NUL-terminated.
                unsafe { CStr::from_ptr(l.as_ptr()) }
                    .to_string_lossy()
                    .into_owned()
            })
            .unwrap_or_default();
        return Err(Error::KernelBuild {
            log: format!("NVRTC ({prec}, {arch}): {e:?}\n{log}"),
        });
    }
    let failed = |what: &str, r: sys::nvrtcResult| Error::KernelBuild {
        log: format!("NVRTC ({prec}, {arch}): {what}: {r:?}"),
    };
    match target {
        Target::Cubin(..) => {
            let mut size = 0usize;
            // SAFETY: `prog` compiled for a real architecture; `size` is written by NVRTC.
            let r = unsafe { sys::nvrtcGetCUBINSize(prog, &mut size) };
            if r != sys::nvrtcResult::NVRTC_SUCCESS {
                return Err(failed("nvrtcGetCUBINSize", r));
            }
            let mut cubin = vec![0u8; size];
            // SAFETY: `cubin` holds the `size` bytes NVRTC writes.
            let r = unsafe { sys::nvrtcGetCUBIN(prog, cubin.as_mut_ptr().cast()) };
            if r != sys::nvrtcResult::NVRTC_SUCCESS {
                return Err(failed("nvrtcGetCUBIN", r));
            }
            Ok(Image::Cubin(cubin))
        }
        Target::Ptx(..) => {
            // SAFETY: `prog` compiled.
            let ptx = unsafe { result::get_ptx(prog) }.map_err(|e| Error::KernelBuild {
                log: format!("NVRTC ({prec}, {arch}): nvrtcGetPTX: {e:?}"),
            })?;
            // SAFETY: NVRTC's PTX is NUL-terminated.
            let text = unsafe { CStr::from_ptr(ptx.as_ptr()) }.to_string_lossy();
            Ok(Image::Ptx(text.into_owned()))
        }
    }
}

/// The parameter kinds of every `.entry` of a PTX module, by name (`None` for a parameter of
/// a form the kernel table does not know).
pub fn ptx_signatures(ptx: &str, prec: Precision) -> HashMap<String, Vec<Option<Param>>> {
    let real = match prec {
        Precision::F32 => ".f32",
        Precision::F64 => ".f64",
    };
    let mut out = HashMap::new();
    for entry in ptx.split(".entry ").skip(1) {
        let Some((name, rest)) = entry.split_once('(') else {
            continue;
        };
        let Some((params, _)) = rest.split_once(')') else {
            continue;
        };
        let kinds = params
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(|p| {
                let p = p.trim();
                if p.starts_with(".param .u64") {
                    Some(Param::Ptr)
                } else if p.starts_with(".param .u32") || p.starts_with(".param .s32") {
                    Some(Param::Int)
                } else if p.starts_with(&format!(".param {real}")) {
                    Some(Param::Real)
                } else if p.contains(".b8") && p.ends_with("[8]") {
                    Some(Param::Word8)
                } else if p.contains(".b8") && p.ends_with("[16]") {
                    Some(Param::Word16)
                } else if p.contains(".b8")
                    && p.ends_with(&format!("[{}]", 4 * gpu_kernels::MAX_RANK))
                {
                    Some(Param::Dims)
                } else {
                    None
                }
            })
            .collect();
        out.insert(name.trim().to_string(), kinds);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ptx_parameters_are_classified() {
        let ptx = ".visible .entry k(\n\t.param .u64 k_param_0,\n\t.param .u32 k_param_1,\n\t\
                   .param .f64 k_param_2,\n\t.param .align 8 .b8 k_param_3[8],\n\t\
                   .param .align 4 .b8 k_param_4[32],\n\t.param .f32 k_param_5\n)\n{";
        let s = ptx_signatures(ptx, Precision::F64);
        assert_eq!(
            s["k"],
            vec![
                Some(Param::Ptr),
                Some(Param::Int),
                Some(Param::Real),
                Some(Param::Word8),
                Some(Param::Dims),
                None
            ]
        );
    }
}
