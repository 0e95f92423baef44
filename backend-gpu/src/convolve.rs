//! [`backend_core::Backend::fft_convolve`] fused and pruned: every line transform in local
//! memory, one launch per pass (`fft_conv_*` in `fft.cl`).
//!
//! On a grid `g` of rank `k` (last axis even, `2h`), input block `a`, output block `b`
//! (`a, b <= g` per axis), spectrum shape `s`:
//! 1. `fft_conv_rows_r2c`: one group per row of `u` (`Π a[..k-1]` rows), the real row read
//!    once (zeros implied past `a[k-1]`), its half-length FFT and post-processing in local
//!    memory, the `h + 1` values written at the row's place in `spec`;
//! 2. `fft_conv_lines`, axes `k-2 .. 1` forward: one group per line whose leading indices lie
//!    within `a`, the first `a[d]` values read (zeros implied after);
//! 3. `fft_conv_lines`, axis 0: forward, product with the kernel, inverse, the first `b[0]`
//!    values written back (one launch for the three);
//! 4. `fft_conv_lines`, axes `1 .. k-2` inverse on the lines within `b`, the first `b[d]` values
//!    written back;
//! 5. `fft_conv_rows_c2r`: one group per row of `out`, pre-processing and half-length inverse
//!    FFT in local memory, the first `b[k-1]` values written to `out`.
//!
//! Rows and lines that are zero in the padded input or cropped from the output are neither
//! transformed nor touched (the CPU backend's plan), `pad` is not used, and the doubled 2D
//! Toeplitz grid takes 3 launches (5 in 3D) instead of the composed version's 2 remaps, 2
//! post/pre passes, a product and one launch per radix stage. Grids with an odd last axis, a
//! line longer than the local-memory FFT holds ([`gpu_kernels::fft_local_max`]), a Bluestein
//! length, or a device with less local memory than the kernels declare use the composed
//! version ([`backend_core::fft::convolve_composed`]) over the global Stockham stages.

use crate::backend::GpuBackend;
use crate::buffer::GpuBuffer;
use crate::driver::{dims, Arg, Driver, Range, MAX_RANK};
use crate::fft::{AxisPlan, GpuFftPlan, Method};
use crate::kernels;
use backend_core::{Backend, DeviceBuffer, Precision, Real, Result, C};

/// Work-group size of the local-memory FFT launches (the kernels loop over any size): one
/// warp. On PoCL smaller groups run faster (CPU time of the 800x400 product, 16 / 32 / 64
/// items: 7.9 / 8.4 / 9.8 ms), larger ones would raise a GPU's occupancy, which the kernels'
/// 32 KiB of local memory per group already bounds.
const GROUP: usize = 32;

/// One length transformed in local memory: its stage radices (a `DIMS`, 1 after the last) and
/// twiddles.
struct Line<'p, M> {
    n: usize,
    radices: [i32; MAX_RANK],
    tw: &'p M,
}

/// The local-memory line of `ax`, if its length fits `max` and it runs Stockham stages.
fn line<D: Driver, T: Real>(ax: &AxisPlan<D, T>, max: usize) -> Result<Option<Line<'_, D::Mem>>> {
    match &ax.method {
        Method::Stages { radices, twiddles } if ax.n <= max && radices.len() <= MAX_RANK => {
            Ok(Some(Line {
                n: ax.n,
                radices: dims("fft_convolve", radices, 1)?,
                tw: &twiddles.mem,
            }))
        }
        _ => Ok(None),
    }
}

/// `out <- irfftn(rfftn(pad(u)) · kernel_hat)[..out.shape]` ([`Backend::fft_convolve`]).
pub(crate) fn convolve<D: Driver, T: Real>(
    be: &GpuBackend<D>,
    plan: &GpuFftPlan<D, T>,
    kernel_hat: &GpuBuffer<D, C<T>>,
    u: &GpuBuffer<D, T>,
    out: &mut GpuBuffer<D, T>,
    pad: &mut GpuBuffer<D, T>,
    spec: &mut GpuBuffer<D, C<T>>,
) -> Result<()> {
    let s = plan.spec.spectrum_shape();
    plan.spec.check_convolution(
        kernel_hat.shape(),
        u.shape(),
        out.shape(),
        pad.shape(),
        spec.shape(),
    )?;
    let max = gpu_kernels::fft_local_max(T::PRECISION == Precision::F64);
    let local_bytes = 2 * max * std::mem::size_of::<C<T>>();
    let fits = be.driver().caps().local_mem_bytes >= local_bytes as u64;
    let Some(half) = plan.half.as_ref().filter(|_| fits) else {
        return backend_core::fft::convolve_composed(be, plan, kernel_hat, u, out, pad, spec);
    };
    let k = s.len();
    // The leading axes of more than one point, with their plans (the plan leaves out the others).
    let leading: Vec<usize> = (0..k - 1).filter(|&d| s[d] > 1).collect();
    let mut lines = Vec::with_capacity(leading.len());
    for (&d, ax) in leading.iter().zip(&plan.axes) {
        lines.push((d, line(ax, max)?));
    }
    let rows = line(&half.axis, max)?;
    let (Some(rows), Some(lines)) = (
        rows,
        lines
            .into_iter()
            .map(|(d, l)| l.map(|l| (d, l)))
            .collect::<Option<Vec<_>>>(),
    ) else {
        return backend_core::fft::convolve_composed(be, plan, kernel_hat, u, out, pad, spec);
    };
    if u.is_empty() || out.is_empty() {
        return be.fill(out, T::zero());
    }
    let (a, b) = (u.shape().to_vec(), out.shape().to_vec());
    let prec = T::PRECISION;
    let shape = |x: &[usize]| Arg::dims("fft_convolve", x, 1);
    let lead = |x: &[usize]| x[..k - 1].iter().product::<usize>();
    be.launch(
        prec,
        &kernels::FFT_CONV_ROWS_R2C,
        Range::groups(lead(&a), GROUP),
        &[
            Arg::Mem(&u.mem),
            Arg::Mem(&spec.mem),
            Arg::Mem(rows.tw),
            Arg::Mem(&half.rtw.mem),
            Arg::size(half.h)?,
            Arg::Dims(rows.radices),
            Arg::I32(k as i32),
            shape(&a)?,
            shape(&s)?,
        ],
    )?;
    // Axis `d` over the lines whose leading indices lie within `blk`.
    let pass = |(d, l): &(usize, Line<'_, D::Mem>), blk: &[usize], nin, nout, mode| {
        let inner: usize = s[d + 1..].iter().product();
        let nlines = blk[..*d].iter().product::<usize>() * inner;
        be.launch(
            prec,
            &kernels::FFT_CONV_LINES,
            Range::groups(nlines, GROUP),
            &[
                Arg::Mem(&spec.mem),
                Arg::Mem(&kernel_hat.mem),
                Arg::Mem(l.tw),
                Arg::size(l.n)?,
                Arg::size(inner)?,
                Arg::Dims(l.radices),
                Arg::I32(*d as i32),
                shape(blk)?,
                shape(&s)?,
                Arg::size(nin)?,
                Arg::size(nout)?,
                Arg::I32(mode),
            ],
        )
    };
    if let Some((first, rest)) = lines.split_first() {
        for l in rest.iter().rev() {
            pass(l, &a, a[l.0], l.1.n, 0)?;
        }
        pass(first, &a, a[first.0], b[first.0], 2)?;
        for l in rest {
            pass(l, &b, l.1.n, b[l.0], 1)?;
        }
    }
    let n: usize = plan.spec.shape.iter().product();
    be.launch(
        prec,
        &kernels::FFT_CONV_ROWS_C2R,
        Range::groups(lead(&b), GROUP),
        &[
            Arg::Mem(&spec.mem),
            Arg::Mem(&kernel_hat.mem),
            Arg::Mem(&out.mem),
            Arg::Mem(rows.tw),
            Arg::Mem(&half.rtw.mem),
            Arg::size(half.h)?,
            Arg::Dims(rows.radices),
            Arg::I32(k as i32),
            shape(&b)?,
            shape(&s)?,
            Arg::I32(lines.is_empty() as i32),
            Arg::real_in(prec, 2.0 / n as f64),
        ],
    )
}
