//! The kernels this backend launches, with the parameter list each one declares in
//! `gpu-kernels` (kinds as the PTX sees them). Every launch checks its arguments against this
//! table, and a test compares the table with the PTX that NVRTC makes of the shared sources, so
//! that a change of a kernel's signature cannot go unnoticed on a machine without a GPU.

use backend_core::Precision;

/// The kind of one kernel parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Param {
    /// A device pointer.
    Ptr,
    /// `int` or `uint`.
    Int,
    /// `REAL`: `float` or `double` with the program's precision.
    Real,
    /// `uint2`.
    Word8,
    /// `uint4`.
    Word16,
    /// The prelude's `DIMS`, `int d[EPRI_MAX_RANK]`.
    Dims,
}

/// A kernel entry point and its parameters.
#[derive(Debug)]
pub(crate) struct Kernel {
    pub(crate) name: &'static str,
    pub(crate) params: &'static [Param],
}

use Param::{Dims as D, Int as I, Ptr as P, Real as R, Word16 as W16, Word8 as W8};

macro_rules! kernels {
    ($($konst:ident = $name:literal [$($p:expr),*];)*) => {
        $(pub(crate) const $konst: Kernel = Kernel { name: $name, params: &[$($p),*] };)*
        /// Every kernel of the table.
        #[cfg(test)]
        pub(crate) const ALL: &[Kernel] = &[$($konst),*];
    };
}

kernels! {
    MAP_REAL = "map_real" [P, I, I];
    ZIP_REAL = "zip_real" [P, P, I, I, I];
    ZIP_SCALAR_REAL = "zip_scalar_real" [P, I, R, I];
    AXPBY_REAL = "axpby_real" [P, P, I, R, R];
    AXPBY_COMPLEX = "axpby_complex" [P, P, I, R, R, R, R];
    SCALE_REAL = "scale_real" [P, I, R];
    SCALE_COMPLEX = "scale_complex" [P, I, R, R];
    CMUL_COMPLEX = "cmul_complex" [P, P, I, I, I];
    CONJ_COMPLEX = "conj_complex" [P, I];
    REAL_TO_COMPLEX = "real_to_complex" [P, P, I];
    COMPLEX_PART = "complex_part" [P, P, I, I];
    REDUCE_PARTIAL = "reduce_partial" [P, P, I, I, P];
    FILL_W4 = "fill_w4" [P, I, I];
    FILL_W8 = "fill_w8" [P, I, W8];
    FILL_W16 = "fill_w16" [P, I, W16];
    GATHER_W4 = "gather_w4" [P, P, P, I, I];
    GATHER_W8 = "gather_w8" [P, P, P, I, I];
    GATHER_W16 = "gather_w16" [P, P, P, I, I];
    SCATTER_W4 = "scatter_w4" [P, P, P, I, I];
    SCATTER_W8 = "scatter_w8" [P, P, P, I, I];
    SCATTER_W16 = "scatter_w16" [P, P, P, I, I];
    REMAP_W4 = "remap_w4" [P, P, I, I, D, D, D, I];
    REMAP_W8 = "remap_w8" [P, P, I, I, D, D, D, I];
    REMAP_W16 = "remap_w16" [P, P, I, I, D, D, D, I];
    STENCIL_GRAD = "stencil_grad" [P, P, P, I, I, D, I, D, I];
    STENCIL_DIV = "stencil_div" [P, P, P, I, I, D, I, D, I];
    TV_DUAL_STEP = "tv_dual_step" [P, P, P, I, I, D, R, I];
    TV_PRIMAL_STEP = "tv_primal_step" [P, P, P, P, P, P, I, I, D, R, R, I];
    NUFFT_SPREAD = "nufft_spread" [P, P, P, P, I, I, I, D, I, R, R];
    NUFFT_INTERP = "nufft_interp" [P, P, P, P, I, I, I, D, I, R, R];
    NUFFT_DECONVOLVE = "nufft_deconvolve" [P, P, P, I, I, I, I, D, D];
    NUFFT_PRECOMPENSATE = "nufft_precompensate" [P, P, P, I, I, I, I, D, D];
    INTERP_BACKPROJECT = "interp_backproject" [P, P, P, P, P, P, I, I, I, I, I, I, R, R];
}

/// The parameter kinds of every `.entry` of a PTX module, by name (`None` for a parameter of
/// a form this table does not know).
pub(crate) fn ptx_signatures(
    ptx: &str,
    prec: Precision,
) -> std::collections::HashMap<String, Vec<Option<Param>>> {
    let real = match prec {
        Precision::F32 => ".f32",
        Precision::F64 => ".f64",
    };
    let mut out = std::collections::HashMap::new();
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

    /// Runs wherever libnvrtc loads (no GPU needed): the table matches the PTX of the shared
    /// sources in both precisions, and names every kernel except the OpenCL FFT (cuFFT here).
    #[test]
    fn table_matches_the_kernels_compiled_by_nvrtc() {
        // SAFETY: only tries to dlopen the library.
        if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
            println!("skipped: libnvrtc not found");
            return;
        }
        for prec in [Precision::F32, Precision::F64] {
            let ptx = crate::program::compile(prec, "compute_90")
                .unwrap()
                .to_src();
            let sigs = ptx_signatures(&ptx, prec);
            for k in ALL {
                let want: Vec<Option<Param>> = k.params.iter().map(|&p| Some(p)).collect();
                assert_eq!(sigs.get(k.name), Some(&want), "{prec} {}", k.name);
            }
            for name in gpu_kernels::KERNEL_NAMES {
                assert!(
                    name.starts_with("fft_") || ALL.iter().any(|k| k.name == *name),
                    "kernel {name} has no entry in the CUDA backend's table"
                );
            }
        }
    }

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
