//! The kernels the host launches, each with the parameter list its kernel file declares (kinds
//! as both APIs see them). Every launch is checked against this table before it reaches the
//! driver, on OpenCL as on CUDA; the CUDA backend's tests compare the table with the PTX that
//! NVRTC makes of the shared sources, so a kernel signature cannot drift from the host code.

use crate::driver::Arg;
use backend_core::{Error, Precision, Result};

/// The kind of one kernel parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param {
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
#[derive(Debug, PartialEq, Eq)]
pub struct Kernel {
    /// The entry point's name in the sources.
    pub name: &'static str,
    /// Its parameters, in order.
    pub params: &'static [Param],
}

use Param::{Dims as D, Int as I, Ptr as P, Real as R, Word16 as W16, Word8 as W8};

macro_rules! kernels {
    ($($konst:ident = $name:literal [$($p:expr),*];)*) => {
        $(
            #[doc = concat!("`", $name, "`.")]
            pub const $konst: Kernel = Kernel { name: $name, params: &[$($p),*] };
        )*
        /// Every kernel of the table.
        pub const ALL: &[Kernel] = &[$($konst),*];
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
    TV_PRIMAL_STEP = "tv_primal_step" [P, P, P, P, P, P, I, I, D, R, R, I, P];
    FFT_RADIX2 = "fft_radix2" [P, P, P, I, I, I, I, I, R];
    FFT_RADIX3 = "fft_radix3" [P, P, P, I, I, I, I, I, R];
    FFT_RADIX4 = "fft_radix4" [P, P, P, I, I, I, I, I, R];
    FFT_RADIX5 = "fft_radix5" [P, P, P, I, I, I, I, I, R];
    FFT_RADIX7 = "fft_radix7" [P, P, P, I, I, I, I, I, R];
    FFT_RADIX_GENERIC = "fft_radix_generic" [P, P, P, I, I, I, I, I, R, I];
    FFT_BLUESTEIN_PRE = "fft_bluestein_pre" [P, P, P, I, I, I, I, I];
    FFT_BLUESTEIN_POST = "fft_bluestein_post" [P, P, P, I, I, I, I, I, R];
    FFT_HERMITIAN_EXTEND = "fft_hermitian_extend" [P, P, I, I, D];
    FFT_R2C_POST = "fft_r2c_post" [P, P, P, I, I];
    FFT_C2R_PRE = "fft_c2r_pre" [P, P, P, I, I, R];
    FFT_CONV_ROWS_R2C = "fft_conv_rows_r2c" [P, P, P, P, I, D, I, D, D];
    FFT_CONV_ROWS_C2R = "fft_conv_rows_c2r" [P, P, P, P, P, I, D, I, D, D, I, R];
    FFT_CONV_LINES = "fft_conv_lines" [P, P, P, I, I, D, I, D, D, I, I, I];
    NUFFT_SPREAD = "nufft_spread" [P, P, P, P, I, I, I, D, I, R, R];
    NUFFT_SPREAD_TILES = "nufft_spread_tiles" [P, P, P, P, P, I, I, I, D, D, D, I, R, R];
    NUFFT_INTERP = "nufft_interp" [P, P, P, P, I, I, I, D, I, R, R];
    NUFFT_DECONVOLVE = "nufft_deconvolve" [P, P, P, I, I, I, I, D, D];
    NUFFT_PRECOMPENSATE = "nufft_precompensate" [P, P, P, I, I, I, I, D, D];
    INTERP_BACKPROJECT = "interp_backproject" [P, P, P, P, P, P, I, I, I, I, I, I, R, R];
}

impl<M> Arg<'_, M> {
    /// The parameter kind this argument fills, and for a real scalar its precision.
    fn kind(&self) -> (Param, Option<Precision>) {
        match self {
            Arg::Mem(_) => (Param::Ptr, None),
            Arg::I32(_) | Arg::U32(_) => (Param::Int, None),
            Arg::F32(_) => (Param::Real, Some(Precision::F32)),
            Arg::F64(_) => (Param::Real, Some(Precision::F64)),
            Arg::W8(_) => (Param::Word8, None),
            Arg::W16(_) => (Param::Word16, None),
            Arg::Dims(_) => (Param::Dims, None),
        }
    }
}

/// Fails unless `args` fill `kernel`'s parameters (reals in the program's precision `prec`).
pub(crate) fn check_args<M>(kernel: &Kernel, prec: Precision, args: &[Arg<'_, M>]) -> Result<()> {
    let fits = args.len() == kernel.params.len()
        && args.iter().zip(kernel.params).all(|(a, &p)| {
            let (kind, real) = a.kind();
            kind == p && real.is_none_or(|r| r == prec)
        });
    if fits {
        Ok(())
    } else {
        let got: Vec<_> = args.iter().map(|a| a.kind()).collect();
        Err(Error::Device(format!(
            "host arguments {got:?} do not fit kernel {} ({prec}) parameters {:?}",
            kernel.name, kernel.params
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_names_every_kernel_of_the_sources_once() {
        let mut names: Vec<&str> = ALL.iter().map(|k| k.name).collect();
        names.sort_unstable();
        let mut want = gpu_kernels::KERNEL_NAMES.to_vec();
        want.sort_unstable();
        assert_eq!(names, want);
    }
}
