//! # gpu-kernels
//!
//! epri's device kernels, written once in a C dialect that both OpenCL C and CUDA C (NVRTC)
//! compile. `kernels/prelude.h` maps a few macros to each dialect (chosen by `__CUDACC__`,
//! which NVRTC defines): `KERNEL`, `FUNC`, `GLOBAL`, `LOCAL`, `GLOBAL_ID(d)`, `LOCAL_ID(d)`,
//! `GROUP_ID(d)`, `LOCAL_SIZE(d)`, `GLOBAL_SIZE(d)`, `BARRIER`, `REAL` / `REAL2` (float or
//! double, chosen by `#define REAL_IS_DOUBLE`), `MAKE_REAL2`, `ATOMIC_ADD_REAL` (CUDA
//! `atomicAdd`; OpenCL a compare-and-swap loop), `uint` / `ulong` for CUDA, and complex
//! helpers (`c_add`, `c_mul`, ...), and `LANE`: one `REAL` of each of the `EPRI_FFT_LANES`
//! lines that a work group of the local-memory FFT kernels transforms (`REAL` when 1; a
//! `floatN` / `doubleN` vector on OpenCL CPU devices). Each kernel file documents, above every
//! kernel, its arguments in order and its launch geometry (all launches are 1D).
//!
//! [`source`] returns the prelude and every kernel file for one dialect, precision and lane
//! count: one program per precision on a device. Kernels whose name ends in `_w4`, `_w8`,
//! `_w16` move 4-, 8- or 16-byte words and do not depend on the precision.

/// The two C dialects the kernels are written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// OpenCL C (1.2 or later).
    OpenCl,
    /// CUDA C++ compiled by NVRTC (which defines `__CUDACC__`).
    Cuda,
}

/// The prelude header (macros for both dialects, complex helpers).
pub const PRELUDE: &str = include_str!("../kernels/prelude.h");

/// The kernel files, by topic, in the order [`source`] concatenates them.
pub const FILES: [(&str, &str); 7] = [
    ("elementwise.cl", include_str!("../kernels/elementwise.cl")),
    ("reduce.cl", include_str!("../kernels/reduce.cl")),
    ("index.cl", include_str!("../kernels/index.cl")),
    ("stencil.cl", include_str!("../kernels/stencil.cl")),
    ("fft.cl", include_str!("../kernels/fft.cl")),
    ("nufft.cl", include_str!("../kernels/nufft.cl")),
    ("fbp.cl", include_str!("../kernels/fbp.cl")),
];

/// Work-group (block) size that `reduce_partial` requires.
pub const REDUCE_GROUP_SIZE: usize = 256;
/// Longest line of the local-memory FFT kernels (`fft_conv_*`), f32 or f64 (`double`): two
/// lines of local memory, 32 KiB.
pub const fn fft_local_max(double: bool) -> usize {
    if double {
        1024
    } else {
        2048
    }
}
/// Largest rank a `DIMS` argument holds.
pub const MAX_RANK: usize = 8;
/// Largest NUFFT kernel width the spreading kernels hold.
pub const MAX_NUFFT_WIDTH: usize = 16;

/// Every kernel entry point of the program, for loaders that want the list (CUDA modules).
pub const KERNEL_NAMES: &[&str] = &[
    "map_real",
    "zip_real",
    "zip_scalar_real",
    "axpby_real",
    "axpby_complex",
    "scale_real",
    "scale_complex",
    "cmul_complex",
    "conj_complex",
    "real_to_complex",
    "complex_part",
    "reduce_partial",
    "fill_w4",
    "gather_w4",
    "scatter_w4",
    "remap_w4",
    "fill_w8",
    "gather_w8",
    "scatter_w8",
    "remap_w8",
    "fill_w16",
    "gather_w16",
    "scatter_w16",
    "remap_w16",
    "stencil_grad",
    "stencil_div",
    "tv_dual_step",
    "tv_primal_step",
    "fft_radix2",
    "fft_radix3",
    "fft_radix4",
    "fft_radix5",
    "fft_radix7",
    "fft_radix_generic",
    "fft_bluestein_pre",
    "fft_bluestein_post",
    "fft_hermitian_extend",
    "fft_r2c_post",
    "fft_c2r_pre",
    "fft_conv_rows_r2c",
    "fft_conv_rows_c2r",
    "fft_conv_lines",
    "nufft_spread",
    "nufft_spread_tiles",
    "nufft_interp",
    "nufft_deconvolve",
    "nufft_precompensate",
    "interp_backproject",
];

/// The full program text for one dialect and precision: `#define REAL_IS_DOUBLE` when
/// `double`, `#define EPRI_FFT_LANES fft_lanes` (lines per work group of the local-memory FFT
/// kernels: 1, or in OpenCL C only 2, 4 or 8), then the prelude, then every kernel file (each
/// preceded by a `#line`-style comment naming it, for readable compiler logs).
///
/// The dialect only changes the header comment: the prelude itself chooses the spelling from
/// `__CUDACC__`. NVRTC needs no include path.
pub fn source(dialect: Dialect, double: bool, fft_lanes: usize) -> String {
    let mut s = String::with_capacity(64 * 1024);
    s.push_str(match dialect {
        Dialect::OpenCl => "/* epri kernels: OpenCL C */\n",
        Dialect::Cuda => "/* epri kernels: CUDA C (NVRTC) */\n",
    });
    if double {
        s.push_str("#define REAL_IS_DOUBLE 1\n");
    }
    s.push_str(&format!("#define EPRI_FFT_LANES {fft_lanes}\n"));
    s.push_str("/* ---- prelude.h ---- */\n");
    s.push_str(PRELUDE);
    for (name, text) in FILES {
        s.push_str("\n/* ---- ");
        s.push_str(name);
        s.push_str(" ---- */\n");
        s.push_str(text);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_fft_length_matches_the_kernels() {
        let [d, f] = [true, false].map(fft_local_max);
        let def = "#define EPRI_FFT_LOCAL_MAX";
        let want = format!("#ifdef REAL_IS_DOUBLE\n{def} {d}\n#else\n{def} {f}\n");
        assert!(source(Dialect::OpenCl, false, 1).contains(&want), "{want}");
    }

    #[test]
    fn every_listed_kernel_is_defined_once() {
        let src = source(Dialect::OpenCl, false, 1);
        for name in KERNEL_NAMES {
            let plain = src.matches(&format!("KERNEL {name}(")).count();
            // index kernels are instantiated by a macro: `KERNEL fill_##SUF(` + `(uint, w4, ..)`
            let macro_made = ["_w4", "_w8", "_w16"]
                .iter()
                .find_map(|suf| name.strip_suffix(suf))
                .map_or(0, |stem| {
                    src.matches(&format!("KERNEL {stem}_##SUF(")).count()
                });
            assert_eq!(plain + macro_made, 1, "{name}");
        }
        let defined = src
            .lines()
            .filter(|l| l.trim_start().starts_with("KERNEL ") && l.contains('('))
            .count();
        // 3 word sizes share 4 macro-made definitions: 12 names, 4 lines.
        assert_eq!(defined, KERNEL_NAMES.len() - 8);
    }

    #[test]
    fn reduce_group_size_is_the_prelude_s() {
        let define = format!("#define EPRI_REDUCE_WG {REDUCE_GROUP_SIZE}\n");
        assert_eq!(PRELUDE.matches(&define).count(), 1);
    }

    #[test]
    fn the_fft_lanes_are_defined_before_the_prelude() {
        for lanes in [1, 8] {
            let src = source(Dialect::OpenCl, true, lanes);
            let define = src
                .find(&format!("#define EPRI_FFT_LANES {lanes}\n"))
                .unwrap();
            assert!(define < src.find("---- prelude.h ----").unwrap(), "{lanes}");
        }
    }

    #[test]
    fn precision_define_only_for_double() {
        assert!(source(Dialect::Cuda, true, 1)
            .starts_with("/* epri kernels: CUDA C (NVRTC) */\n#define REAL_IS_DOUBLE"));
        assert!(!source(Dialect::OpenCl, false, 1).contains("#define REAL_IS_DOUBLE 1"));
    }
}
