//! [`backend_core::Backend::fft_convolve`] fused and pruned (`fft_conv_*` in `fft.cl`): every
//! line transformed in local memory, one launch per axis. Forward: the rows of `u`, then the
//! axes `k-2 .. 1` on the lines within `u`'s block; axis 0 forward, times the kernel, inverse in
//! one launch; then the axes `1 .. k-2` inverse and the rows of `out`, on `out`'s block only.
//! Zero rows of the padded input and cropped ones are never touched, `pad` is unused: 3
//! launches in 2D, 5 in 3D. A work group transforms [`crate::Caps::fft_lanes`] adjacent lines
//! at once (one per vector lane on CPU devices). An odd last axis, a line longer than
//! [`gpu_kernels::fft_local_max`], a Bluestein length or too little local memory: the composed
//! version.

use crate::backend::GpuBackend;
use crate::buffer::GpuBuffer;
use crate::driver::{dims, Arg, Driver, Range, MAX_RANK};
use crate::fft::{AxisPlan, GpuFftPlan, Method};
use crate::kernels::{FFT_CONV_LINES, FFT_CONV_ROWS_C2R, FFT_CONV_ROWS_R2C};
use backend_core::{fft::convolve_composed, Backend, DeviceBuffer, Precision, Real, Result, C};

/// Work-group size (the kernels take any) on a GPU: one warp.
const GROUP: usize = 32;

/// Work-group size of the line kernels: [`GROUP`], or one item on a CPU device
/// ([`crate::Caps::cpu`]: PoCL runs a group's items as a loop on one thread, and each item's
/// loop over the butterflies is then the whole stage). CPU time of the 800x400 product on PoCL,
/// one run: 7.8–7.9 ms with 1 item, 7.6–7.9 with 8, 8.1–8.3 with 16, 9.0–9.3 with 32.
fn group_size(cpu: bool) -> usize {
    if cpu {
        1
    } else {
        GROUP
    }
}

/// A length transformed in local memory: radices (a `DIMS`, 1 after the last), twiddles.
struct Line<'p, M> {
    n: usize,
    radices: [i32; MAX_RANK],
    tw: &'p M,
}

fn line<D: Driver, T: Real>(ax: &AxisPlan<D, T>, max: usize) -> Result<Option<Line<'_, D::Mem>>> {
    Ok(match &ax.method {
        Method::Stages { radices, twiddles } if ax.n <= max && radices.len() <= MAX_RANK => {
            let radices = dims("fft_convolve", radices, 1)?;
            Some(Line {
                n: ax.n,
                radices,
                tw: &twiddles.mem,
            })
        }
        _ => None,
    })
}

/// [`Backend::fft_convolve`].
pub(crate) fn convolve<D: Driver, T: Real>(
    be: &GpuBackend<D>,
    plan: &GpuFftPlan<D, T>,
    kernel_hat: &GpuBuffer<D, C<T>>,
    u: &GpuBuffer<D, T>,
    out: &mut GpuBuffer<D, T>,
    pad: &mut GpuBuffer<D, T>,
    spec: &mut GpuBuffer<D, C<T>>,
) -> Result<()> {
    let sp = &plan.spec;
    sp.check_convolution(
        kernel_hat.shape(),
        u.shape(),
        out.shape(),
        pad.shape(),
        spec.shape(),
    )?;
    let max = gpu_kernels::fft_local_max(T::PRECISION == Precision::F64);
    let caps = be.driver().caps();
    let lanes = caps.fft_lanes;
    let fits = caps.local_mem_bytes >= (2 * max * lanes * size_of::<C<T>>()) as u64;
    let composed = |out, pad, spec| convolve_composed(be, plan, kernel_hat, u, out, pad, spec);
    let (Some(half), true) = (&plan.half, fits) else {
        return composed(out, pad, spec);
    };
    let s = sp.spectrum_shape();
    let k = s.len();
    // `fft_conv_rows_c2r` gathers the h + 1 values of a row into one half of local memory.
    let Some(rows) = line(&half.axis, max - 1)? else {
        return composed(out, pad, spec);
    };
    // The axes of more than one point before the last (the plan leaves out the others).
    let mut lines = Vec::new();
    for (d, ax) in (0..k - 1).filter(|&d| s[d] > 1).zip(&plan.axes) {
        match line(ax, max)? {
            Some(l) => lines.push((d, l)),
            None => return composed(out, pad, spec),
        }
    }
    if u.is_empty() || out.is_empty() {
        return be.fill(out, T::zero());
    }
    let (a, b) = (u.shape(), out.shape());
    let prec = T::PRECISION;
    let group = group_size(caps.cpu);
    let shape = |x: &[usize]| Arg::dims("fft_convolve", x, 1);
    // A group per `lanes` lines.
    let groups = |lines: usize| Range::groups(lines.div_ceil(lanes), group);
    let rows_of = |x: &[usize]| groups(x[..k - 1].iter().product());
    let row_args = |blk| -> Result<[Arg<'_, D::Mem>; 7]> {
        let h = Arg::size(half.h)?;
        let (rank, radices) = (Arg::I32(k as i32), Arg::Dims(rows.radices));
        Ok([
            Arg::Mem(rows.tw),
            Arg::Mem(&half.rtw.mem),
            h,
            radices,
            rank,
            shape(blk)?,
            shape(&s)?,
        ])
    };
    let mut args = vec![Arg::Mem(&u.mem), Arg::Mem(&spec.mem)];
    args.extend(row_args(a)?);
    be.launch(prec, &FFT_CONV_ROWS_R2C, rows_of(a), &args)?;
    // Axis `d` on the lines whose leading indices lie within `blk`.
    let pass = |(d, l): &(usize, Line<'_, D::Mem>), blk: &[usize], nin, nout, mode| {
        let inner: usize = s[d + 1..].iter().product();
        let lines = groups(blk[..*d].iter().product::<usize>() * inner);
        let (mem, khat) = (Arg::Mem(&spec.mem), Arg::Mem(&kernel_hat.mem));
        let (n, inner, radices) = (Arg::size(l.n)?, Arg::size(inner)?, Arg::Dims(l.radices));
        let (blk, s, nin, nout) = (shape(blk)?, shape(&s)?, Arg::size(nin)?, Arg::size(nout)?);
        let args = [
            mem,
            khat,
            Arg::Mem(l.tw),
            n,
            inner,
            radices,
            Arg::I32(*d as i32),
        ];
        let args: Vec<_> = args
            .into_iter()
            .chain([blk, s, nin, nout, Arg::I32(mode)])
            .collect();
        be.launch(prec, &FFT_CONV_LINES, lines, &args)
    };
    if let Some((first, rest)) = lines.split_first() {
        for l in rest.iter().rev() {
            pass(l, a, a[l.0], l.1.n, 0)?;
        }
        pass(first, a, a[first.0], b[first.0], 2)?;
        for l in rest {
            pass(l, b, l.1.n, b[l.0], 1)?;
        }
    }
    let n: usize = sp.shape.iter().product();
    let mut args = vec![
        Arg::Mem(&spec.mem),
        Arg::Mem(&kernel_hat.mem),
        Arg::Mem(&out.mem),
    ];
    args.extend(row_args(b)?);
    args.extend([
        Arg::I32(lines.is_empty() as i32),
        Arg::real_in(prec, 2.0 / n as f64),
    ]);
    be.launch(prec, &FFT_CONV_ROWS_C2R, rows_of(b), &args)
}
