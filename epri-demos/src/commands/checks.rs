//! Checks every computing command runs before it allocates or computes anything, and on its
//! result: the job fits in memory, the geometry is on a sensible scale, the data leave headroom
//! in the working precision, and the image written is finite (a warning when it is all zero).

use crate::dispatch::Device;
use crate::error::{Error, Result};
use crate::io::array::dtype_name;
use crate::io::{Acquisition, HostArray};
use backend_core::Precision;

/// The memory-hungry part of a command, for [`check_memory`].
#[derive(Clone, Copy, Debug)]
pub enum Workload<'a> {
    /// `A u` or `A* p` of one image of this shape (one NUFFT plan).
    Operator(&'a [usize]),
    /// Filtered backprojection onto an image of this shape.
    Fbp(&'a [usize]),
    /// TV reconstruction of one image of each shape (one shape: `tv`; several: `separate`,
    /// whose K² cross Toeplitz kernels are counted).
    Tv(&'a [Vec<usize>]),
    /// Spectral-spatial TV reconstruction of an image `(Nb, Ny, Nx, Nz)`.
    Spectral(&'a [usize]),
    /// `A u` or `A* p` of one spectral-spatial image `(Nb, Ny, Nx, Nz)`.
    SpectralOperator(&'a [usize]),
}

const GIB: f64 = (1u64 << 30) as f64;

/// An upper estimate of the peak memory of `work`, bytes, for `p` projections of `nb` field
/// samples in `precision`: the NUFFT fine grids (upsampling 2 per axis, complex), the Toeplitz
/// kernels on the doubled grid, the iterates and duals, the sinograms and their frequency
/// nodes. Computed in `f64`, so absurd shapes give huge numbers instead of overflowing.
pub fn estimated_bytes(work: Workload<'_>, p: usize, nb: usize, precision: Precision) -> f64 {
    let s = match precision {
        Precision::F32 => 4.0,
        Precision::F64 => 8.0,
    };
    let pixels = |shape: &[usize]| shape.iter().map(|&n| n as f64).product::<f64>();
    let two_d = |shape: &[usize]| 2f64.powi(shape.len() as i32);
    let d = match work {
        Workload::Operator(sh) | Workload::Fbp(sh) => sh.len(),
        Workload::Tv(shapes) => shapes.first().map_or(2, Vec::len),
        Workload::Spectral(_) | Workload::SpectralOperator(_) => 3,
    } as f64;
    // Sinogram (real and half-spectrum complex), its frequency nodes, host copies.
    let sino = (p as f64) * (nb as f64) * s * (6.0 + d);
    let image = match work {
        Workload::Operator(sh) => pixels(sh) * s * (3.0 + 2.0 * two_d(sh)),
        Workload::Fbp(sh) => pixels(sh) * s * 3.0,
        Workload::Tv(shapes) => {
            let k = shapes.len() as f64;
            let per_source: f64 = shapes
                .iter()
                .map(|sh| pixels(sh) * s * (10.0 + 4.0 * d + 4.0 * two_d(sh)))
                .sum();
            let doubled = shapes
                .iter()
                .map(|sh| pixels(sh) * two_d(sh))
                .fold(0.0, f64::max);
            // K² kernels on the doubled grid (complex), and the fine grid (upsampling 2,
            // complex) of the NUFFT that computes one of them.
            per_source + (k * k + 2f64.powf(d)) * doubled * 2.0 * s
        }
        Workload::Spectral(sh) => {
            let (nbf, voxels) = (sh[0] as f64, pixels(&sh[1..]));
            let ncols = nbf / 2.0 + 1.0;
            // Iterates, duals, masks, the spectral DFT buffers (complex) and the retained
            // columns; the projector's NUFFT fine grids (one type 1 and one type 2 shared by
            // every column, upsampling 2, complex); the kernel (Nb, 2N...) as real, complex
            // and half spectrum; the transient fine grid of its NUFFT (one column at a time on
            // the doubled grid).
            let per_voxel = nbf * 26.0 + ncols * 2.0 + 2.0 * 2.0 * 8.0 + 2.0 * 64.0;
            voxels * s * (per_voxel + nbf * 8.0 * 4.0)
        }
        Workload::SpectralOperator(sh) => {
            let (nbf, voxels) = (sh[0] as f64, pixels(&sh[1..]));
            let ncols = nbf / 2.0 + 1.0;
            // The image and its host copies (4 real copies), the operator's half spectrum
            // along B (complex, `ncols` slices), the complex (Nb, ...) temporary of the GPU
            // backends' composed transforms along B (transient; the CPU transforms into the
            // half spectrum directly), the slot indices of the slices (one u32 per voxel and
            // slice), and the two NUFFT fine grids every column shares (upsampling 2,
            // complex).
            voxels * (s * (nbf * 4.0 + ncols * 2.0 + nbf * 2.0 + 2.0 * 2.0 * 8.0) + ncols * 4.0)
        }
    };
    sino + image
}

/// Memory the CPU backend can use: `MemAvailable` of `/proc/meminfo`, lowered to the
/// cgroup's limit when one is set. `None` where neither can be read.
fn host_available() -> Option<f64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let available = meminfo.lines().find_map(|l| {
        let kb = l.strip_prefix("MemAvailable:")?.trim().strip_suffix("kB")?;
        kb.trim().parse::<f64>().ok().map(|kb| kb * 1024.0)
    })?;
    let read = |f: &str| -> Option<f64> {
        std::fs::read_to_string(format!("/sys/fs/cgroup/{f}"))
            .ok()?
            .trim()
            .parse::<f64>()
            .ok()
    };
    let cgroup = match (read("memory.max"), read("memory.current")) {
        (Some(max), Some(cur)) => Some((max - cur).max(0.0)),
        _ => None,
    };
    Some(cgroup.map_or(available, |c| c.min(available)))
}

/// Refuses a job whose estimated peak memory exceeds what the device has, before anything is
/// allocated, with both figures.
pub fn check_memory(
    device: &Device,
    work: Workload<'_>,
    acq: &Acquisition,
    precision: Precision,
) -> Result<()> {
    let need = estimated_bytes(work, acq.nproj(), acq.nb(), precision);
    let (have, what) = match device.memory_capacity() {
        Some(bytes) => (bytes as f64, "device memory"),
        None => match host_available() {
            Some(b) => (b, "available memory"),
            None => return Ok(()),
        },
    };
    if need > have {
        let shape = match work {
            Workload::Operator(s)
            | Workload::Fbp(s)
            | Workload::Spectral(s)
            | Workload::SpectralOperator(s) => crate::io::array::fmt_shape(s),
            Workload::Tv(shapes) => shapes
                .iter()
                .map(|s| crate::io::array::fmt_shape(s))
                .collect::<Vec<_>>()
                .join(" + "),
        };
        return Err(Error::data(format!(
            "an image of shape {shape} in {} needs about {:.3} GiB, more than the {:.3} GiB of {what} on {}: choose a smaller --shape{}",
            dtype_name(precision),
            need / GIB,
            have / GIB,
            device.name(),
            if precision == Precision::F64 { " or --precision f32" } else { "" }
        )));
    }
    Ok(())
}

/// Checks that the image's extent in the field domain is on the scale of the sweep: with the
/// largest gradient `|g|`, pixels `δ` and the longest axis of `n` pixels, the image spans
/// `|g| · n · δ` gauss of the `sweep` it must fit in. A span a thousand times the sweep (or
/// below one field step) means a unit mistake in `--delta` or in fgrad, and would only give
/// an image of noise or of zeros: refuse it, naming both.
pub fn check_scale(acq: &Acquisition, shape: &[usize], delta: f64) -> Result<()> {
    let (_, gmax) = acq.fgrad_range();
    let sweep = acq.sweep_width();
    let n = shape.iter().copied().max().unwrap_or(1) as f64;
    let span = gmax * n * delta;
    let ratio = span / sweep;
    if gmax == 0.0 {
        return Err(Error::data(
            "every field gradient is zero (fgrad): the projections hold no spatial information",
        ));
    }
    if !ratio.is_finite() || ratio > 1e3 {
        return Err(Error::data(format!(
            "the image ({n} pixels of --delta {delta:e} cm) at the largest gradient |fgrad| = {gmax:.4e} G/cm spans {span:.4e} G, {ratio:.3e} times the sweep width {sweep:.4} G: check --delta (cm) and fgrad (G/cm); the field of view the sweep allows is {:.4e} cm",
            sweep / gmax
        )));
    }
    if span < acq.db() {
        return Err(Error::data(format!(
            "the image ({n} pixels of --delta {delta:e} cm) at the largest gradient |fgrad| = {gmax:.4e} G/cm spans {span:.4e} G, less than one field step {:.4e} G: nothing could be resolved; check --delta (cm) and fgrad (G/cm)",
            acq.db()
        )));
    }
    Ok(())
}

/// The box of a set of voxel centres, cm: per spatial axis (Y, X, Z) the first and the last
/// centre.
pub type VoxelBox = [(f64, f64); 3];

/// The box of every voxel centre of a spatial grid `(Ny, Nx, Nz)` of voxel size `delta` (cm),
/// voxel `i` of an axis of length `n` at `(i − n/2)·delta`.
pub fn grid_box(shape: &[usize], delta: f64) -> VoxelBox {
    let edge = |n: usize| {
        let half = (n / 2) as f64;
        (-half * delta, (n as f64 - 1.0 - half) * delta)
    };
    [edge(shape[0]), edge(shape[1]), edge(shape[2])]
}

/// The box of the voxels of a spectral-spatial image `(Nb, Ny, Nx, Nz)` whose spectrum is not
/// all zero; `None` when every spectrum is. Reads the image in place (no copy).
pub fn support_box(image: &HostArray, delta: f64) -> Option<VoxelBox> {
    /// First and last index per spatial axis of the non-zero values.
    fn extent<T: Copy + Into<f64>>(u: &ndarray::ArrayD<T>) -> Option<[(usize, usize); 3]> {
        let mut ext: Option<[(usize, usize); 3]> = None;
        for (idx, &v) in u.indexed_iter() {
            if v.into() != 0.0 {
                let e = ext.get_or_insert([(usize::MAX, 0); 3]);
                for (a, (lo, hi)) in e.iter_mut().enumerate() {
                    *lo = (*lo).min(idx[a + 1]);
                    *hi = (*hi).max(idx[a + 1]);
                }
            }
        }
        ext
    }
    let ext = match image {
        HostArray::F32(u) => extent(u),
        HostArray::F64(u) => extent(u),
    }?;
    let spatial = grid_box(&image.shape()[1..], delta);
    Some(std::array::from_fn(|a| {
        let first = spatial[a].0;
        (
            first + ext[a].0 as f64 * delta,
            first + ext[a].1 as f64 * delta,
        )
    }))
}

/// The largest shift `|<γ, r>|` (G) of a voxel's spectrum over the gradients `γ` of `acq` and
/// the voxel centres `r` of `bx` (reached at a corner of the box).
pub fn largest_shift(acq: &Acquisition, bx: &VoxelBox) -> f64 {
    let g = acq.fgrad.to_f64();
    (0..acq.nproj())
        .map(|k| {
            // fgrad rows (x, y, z) against the box axes (Y, X, Z).
            let terms = [(g[[1, k]], bx[0]), (g[[0, k]], bx[1]), (g[[2, k]], bx[2])];
            let (mut most, mut least) = (0.0, 0.0);
            for (gk, (lo, hi)) in terms {
                most += (gk * lo).max(gk * hi);
                least += (gk * lo).min(gk * hi);
            }
            f64::max(most, -least)
        })
        .fold(0.0, f64::max)
}

/// The support rule of spectral-spatial imaging: each voxel's spectrum is shifted by
/// `−<γ, r>` G along the periodic field axis, so the sweep width `ΔB = B[Nb−1] − B[0]` must
/// hold the largest shift of the voxels of `bx` (`what` names them: the field of view of
/// `--shape` and `--delta`, or an image's non-zero voxels). Above `ΔB/2` a line at the centre
/// of the sweep reaches its edge and wraps around: a warning on stderr; above `ΔB` every line
/// of the outermost voxels wraps: an error. Both give the figures.
pub fn check_sweep(acq: &Acquisition, bx: &VoxelBox, what: &str) -> Result<()> {
    let shift = largest_shift(acq, bx);
    let sweep = acq.sweep_width();
    let b = acq.b.to_f64();
    let (_, gmax) = acq.fgrad_range();
    let grid = format!(
        "the sweep width {sweep:.4} G of B ({} samples, {:.4} to {:.4} G)",
        acq.nb(),
        b[0],
        b[acq.nb() - 1]
    );
    // |<γ, r>| ≤ |γ|·|r|: a field of view of diagonal 2·limit/|γ|max keeps every shift below
    // `limit`.
    let diagonal = |limit: f64| 2.0 * limit / gmax;
    if shift > sweep {
        return Err(Error::data(format!(
            "{what}: the gradients of fgrad shift the voxels' spectra by up to {shift:.4} G, more than {grid}: the spectra would wrap around the periodic field axis and the projections cannot hold them; use a smaller --shape or --delta (a field of view of diagonal {:.4} cm at |fgrad| <= {gmax:.4} G/cm fits) or a wider sweep",
            diagonal(sweep)
        )));
    }
    if shift > 0.5 * sweep {
        eprintln!(
            "warning: {what}: the gradients of fgrad shift the voxels' spectra by up to {shift:.4} G, more than half {grid}: a line at the centre of the sweep would wrap around the periodic field axis (a field of view of diagonal {:.4} cm at |fgrad| <= {gmax:.4} G/cm avoids this; above the whole sweep width epri refuses)",
            diagonal(0.5 * sweep)
        );
    }
    Ok(())
}

/// Checks that the projections and the spectrum are not all zero, and that the data leave
/// headroom in the working precision: sums over the samples of the sinogram (and over the
/// pixels of `image`, for `project`) must stay far from the largest finite value of
/// `precision`.
pub fn check_headroom(
    acq: &Acquisition,
    image: Option<&HostArray>,
    precision: Precision,
) -> Result<()> {
    let max_finite = match precision {
        Precision::F32 => f32::MAX as f64,
        Precision::F64 => f64::MAX,
    };
    let mut arrays: Vec<(&str, &HostArray)> = Vec::new();
    if let Some(p) = &acq.proj {
        arrays.push(("proj", p));
    }
    if let Some(h) = &acq.h {
        arrays.push(("h", h));
    }
    if let Some(u) = image {
        arrays.push(("the image", u));
    }
    let pixels = image.map_or(1.0, |u| u.shape().iter().map(|&n| n as f64).product());
    let samples = ((acq.nproj() as f64) * (acq.nb() as f64)).max(pixels);
    let limit = max_finite / (1e3 * samples.max(1.0));
    for (name, a) in arrays {
        let largest = a.max_abs();
        let name = match acq.data_files.iter().find(|(n, _)| *n == name) {
            Some((_, path)) => format!("{name} ({})", path.display()),
            None => name.to_string(),
        };
        if largest == 0.0 && !name.starts_with("the image") {
            return Err(Error::data(format!(
                "{name} is all zero: there is nothing to reconstruct from"
            )));
        }
        if largest > limit {
            return Err(Error::data(format!(
                "{name} holds values up to {largest:.3e}: sums over its {samples} samples would overflow {} (largest {max_finite:.3e}); rescale the data{}{}",
                dtype_name(precision),
                if precision == Precision::F32 { " or use --precision f64" } else { "" },
                if name.to_ascii_lowercase().ends_with(".dta)") {
                    " (values this large in a BES3T file often mean a wrong byte order BSEQ)"
                } else {
                    ""
                }
            )));
        }
    }
    Ok(())
}

/// The checks before a computation: the NUFFT accuracy `eps` (commands that take `--eps`) in
/// the range of the working precision, scale of the geometry for each image shape, headroom of
/// the data in the working precision, memory.
pub fn before_compute(
    acq: &Acquisition,
    device: &Device,
    precision: Precision,
    delta: f64,
    eps: Option<f64>,
    image: Option<&HostArray>,
    work: Workload<'_>,
) -> Result<()> {
    if let Some(eps) = eps {
        let (lo, hi) = backend_core::nufft::eps_range(precision);
        if !(eps >= lo && eps < hi) {
            return Err(Error::usage(format!(
                "--eps {eps:e}: the NUFFT accuracy must lie in [{lo:e}, {hi}) in {}{}",
                dtype_name(precision),
                if precision == Precision::F32 && eps < lo {
                    " (use --precision f64 for more accuracy)"
                } else {
                    ""
                }
            )));
        }
    }
    match work {
        Workload::Operator(shape) | Workload::Fbp(shape) => check_scale(acq, shape, delta)?,
        Workload::Spectral(shape) | Workload::SpectralOperator(shape) => {
            check_scale(acq, &shape[1..], delta)?;
            match image {
                Some(u) => {
                    if let Some(bx) = support_box(u, delta) {
                        let what = format!("the non-zero voxels of --image (--delta {delta} cm)");
                        check_sweep(acq, &bx, &what)?;
                    }
                }
                None => {
                    let what = format!(
                        "the field of view of --shape {} and --delta {delta} cm",
                        crate::io::array::fmt_shape(shape)
                    );
                    check_sweep(acq, &grid_box(&shape[1..], delta), &what)?;
                }
            }
        }
        Workload::Tv(shapes) => {
            for shape in shapes {
                check_scale(acq, shape, delta)?;
            }
        }
    }
    check_headroom(acq, image, precision)?;
    check_memory(device, work, acq, precision)
}

/// Refuses a non-finite result and warns about an all-zero one (adding `hint`, the likely
/// reason), then returns it.
pub fn check_result(
    image: HostArray,
    what: &str,
    precision: Precision,
    hint: &str,
) -> Result<HostArray> {
    if !image.all_finite() {
        return Err(Error::data(format!(
            "the {what} holds NaN or infinite values: the inputs overflow {} (check the scale of proj, h and fgrad; try --precision f64)",
            dtype_name(precision)
        )));
    }
    if image.max_abs() == 0.0 {
        eprintln!("warning: the {what} is all zero{hint}");
    }
    Ok(image)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_grow_with_the_image_and_the_precision() {
        let small = estimated_bytes(Workload::Tv(&[vec![400, 200]]), 113, 2000, Precision::F32);
        // The README's main job: a few hundred MB at most.
        assert!(small > 1e7 && small < 1e9, "{small}");
        let f64_ = estimated_bytes(Workload::Tv(&[vec![400, 200]]), 113, 2000, Precision::F64);
        assert!((f64_ / small - 2.0).abs() < 1e-9);
        let huge = estimated_bytes(
            Workload::Fbp(&[100_000, 100_000]),
            113,
            2000,
            Precision::F32,
        );
        assert!(huge > 1e11, "{huge}");
        let two = estimated_bytes(
            Workload::Tv(&[vec![100, 100], vec![100, 100]]),
            39,
            1200,
            Precision::F32,
        );
        let one = estimated_bytes(Workload::Tv(&[vec![100, 100]]), 39, 1200, Precision::F32);
        assert!(two > 1.5 * one);
        let absurd = estimated_bytes(
            Workload::Operator(&[usize::MAX, usize::MAX]),
            1,
            2,
            Precision::F64,
        );
        assert!(absurd.is_infinite() || absurd > 1e30);
        let op4 = |nb: usize| {
            estimated_bytes(
                Workload::SpectralOperator(&[nb, 16, 16, 16]),
                100,
                nb,
                Precision::F32,
            )
        };
        assert!(op4(64) > 64.0 * 4096.0 * 4.0 && op4(128) > 1.9 * op4(64));
    }

    /// The largest shift over the box's corners equals the maximum of `|<γ, r>|` over every
    /// voxel centre, and the support box holds exactly the non-zero voxels.
    #[test]
    fn largest_shift_is_the_maximum_over_the_voxels() {
        use ndarray::{Array2, ArrayD, IxDyn};
        let p = 7;
        let fgrad = Array2::from_shape_fn((3, p), |(a, k)| {
            let t = 0.9 * k as f64 + 0.3;
            [3.0 * t.cos(), -5.0 * t.sin(), 2.0 + (2.0 * t).cos()][a]
        });
        let acq = Acquisition {
            label: "t".into(),
            proj: None,
            b: HostArray::F64(ArrayD::from_shape_fn(IxDyn(&[8]), |i| i[0] as f64)),
            h: None,
            fgrad: HostArray::F64(fgrad.clone().into_dyn()),
            spectra: Vec::new(),
            dir: None,
            files: Vec::new(),
            data_files: Vec::new(),
        };
        let (shape, delta) = ([5usize, 4, 3], 0.1);
        let brute = |keep: &dyn Fn(usize, usize, usize) -> bool| {
            let mut m = 0.0f64;
            for (i, j, k) in ndarray::indices((5, 4, 3)) {
                if !keep(i, j, k) {
                    continue;
                }
                let r = [i, j, k]
                    .iter()
                    .zip(shape)
                    .map(|(&n, len)| (n as f64 - (len / 2) as f64) * delta)
                    .collect::<Vec<_>>();
                for c in 0..p {
                    let s = fgrad[[0, c]] * r[1] + fgrad[[1, c]] * r[0] + fgrad[[2, c]] * r[2];
                    m = m.max(s.abs());
                }
            }
            m
        };
        let all = largest_shift(&acq, &grid_box(&shape, delta));
        assert!((all - brute(&|_, _, _| true)).abs() < 1e-12, "{all}");
        let u = ArrayD::from_shape_fn(IxDyn(&[8, 5, 4, 3]), |ix| {
            let inside = (1..=2).contains(&ix[1]) && ix[2] == 3 && ix[3] <= 1;
            if inside && ix[0] == 2 {
                1.0
            } else {
                0.0
            }
        });
        let bx = support_box(&HostArray::F64(u), delta).unwrap();
        let part = largest_shift(&acq, &bx);
        let want = brute(&|i, j, k| (1..=2).contains(&i) && j == 3 && k <= 1);
        assert!(
            (part - want).abs() < 1e-12 && part < all,
            "{part} {want} {all}"
        );
        let zero = HostArray::F64(ArrayD::zeros(IxDyn(&[8, 5, 4, 3])));
        assert!(support_box(&zero, delta).is_none());
    }
}
