//! The [`Backend`] trait: device memory and the primitives the EPR operators are built from.

use crate::error::Result;
use crate::fft::{FftSpec, Pruning};
use crate::nufft::SpreadParams;
use crate::ops::{Binary, Direction, Part, PrimalStep, Reduce, StepSums, Unary};
use crate::scalar::{Element, Field, Real, C};
use ndarray::{ArrayD, ArrayViewD, IxDyn};

/// A buffer of device memory that knows its shape (row-major, C order).
///
/// Its contents are only reachable through [`Backend::upload`] / [`Backend::download`].
pub trait DeviceBuffer: Send + Sync {
    /// The logical shape.
    fn shape(&self) -> &[usize];
    /// Number of elements.
    fn len(&self) -> usize {
        self.shape().iter().product()
    }
    /// True when the buffer holds no element.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Changes the logical shape without moving data; fails unless the element count matches.
    fn reshape(&mut self, shape: &[usize]) -> Result<()>;
}

/// A compute device: it owns its context, one in-order queue, device buffers, cached kernels
/// and FFT plans.
///
/// Conventions shared by every method:
/// * arrays are row-major (C order); shapes travel with buffers and are checked, a mismatch is
///   [`crate::Error::ShapeMismatch`];
/// * in-place methods update their first `&mut` argument;
/// * all work is queued in order on the backend's single queue: a method returns once the work
///   is enqueued, downloads and reductions wait for it.
pub trait Backend: Clone + Send + Sync + 'static {
    /// Device buffer of elements `E`.
    type Buffer<E: Element>: DeviceBuffer;
    /// A planned FFT (sizes, twiddles, scratch), executed many times.
    type FftPlan<T: Real>: Send + Sync;
    /// Non-uniform points prepared for spreading and interpolation (folded, binned, sorted).
    type NufftPoints<T: Real>: Send + Sync;

    /// Human-readable device name, e.g. `cpu (2 threads)` or `opencl:0:0 (pthread-skylake...)`.
    fn name(&self) -> String;
    /// Whether the device computes in `f64` (OpenCL devices without `cl_khr_fp64` do not).
    fn supports_f64(&self) -> bool;
    /// Waits until every queued operation has finished.
    fn synchronize(&self) -> Result<()>;
    /// Bytes of device memory when the device has its own (a GPU's global memory), so that
    /// callers can refuse jobs that cannot fit; `None` for host memory.
    fn memory_capacity(&self) -> Option<u64> {
        None
    }
    /// Launches, allocations and host transfers so far when the backend counts them (device
    /// backends under `EPRI_PROFILE=1`, see [`crate::Profile`]); `None` otherwise.
    fn profile(&self) -> Option<crate::Profile> {
        None
    }

    // ---- memory -------------------------------------------------------------------------

    /// A buffer of the given shape filled with zeros.
    fn zeros<E: Element>(&self, shape: &[usize]) -> Result<Self::Buffer<E>>;
    /// Copies a host array (any memory layout) to a new device buffer of the same shape.
    fn upload<E: Element>(&self, host: ArrayViewD<'_, E>) -> Result<Self::Buffer<E>>;
    /// Copies a device buffer to a new host array of the same shape.
    fn download<E: Element>(&self, buf: &Self::Buffer<E>) -> Result<ArrayD<E>>;
    /// `dst <- src` (same number of elements; `dst` keeps its shape).
    fn copy<E: Element>(&self, src: &Self::Buffer<E>, dst: &mut Self::Buffer<E>) -> Result<()>;
    /// Every element of `buf` set to `value`.
    fn fill<E: Element>(&self, buf: &mut Self::Buffer<E>, value: E) -> Result<()>;

    // ---- elementwise ----------------------------------------------------------------------

    /// `x[i] <- op(x[i])` on a real buffer.
    fn map<T: Real>(&self, op: Unary, x: &mut Self::Buffer<T>) -> Result<()>;
    /// `a[i] <- a[i] op b[i % b.len()]`: `b` has `a`'s length or divides it (then it is repeated
    /// along the leading axes, numpy broadcasting of a trailing block).
    fn zip<T: Real>(&self, op: Binary, a: &mut Self::Buffer<T>, b: &Self::Buffer<T>) -> Result<()>;
    /// `a[i] <- a[i] op s`.
    fn zip_scalar<T: Real>(&self, op: Binary, a: &mut Self::Buffer<T>, s: T) -> Result<()>;
    /// `y <- alpha x + beta y`, real or complex (same length).
    fn axpby<E: Field>(
        &self,
        alpha: E,
        x: &Self::Buffer<E>,
        beta: E,
        y: &mut Self::Buffer<E>,
    ) -> Result<()>;
    /// `x <- alpha x`, real or complex.
    fn scale<E: Field>(&self, x: &mut Self::Buffer<E>, alpha: E) -> Result<()>;
    /// `a[i] <- a[i] * b[i % b.len()]` (or `* conj(b[..])`), complex; `b.len()` divides
    /// `a.len()` (e.g. a spectrum `H` of shape `(Nb,)` applied to every row of `(P, Nb)`).
    fn cmul<T: Real>(
        &self,
        a: &mut Self::Buffer<C<T>>,
        b: &Self::Buffer<C<T>>,
        conj_b: bool,
    ) -> Result<()>;
    /// `z <- conj(z)`.
    fn conj<T: Real>(&self, z: &mut Self::Buffer<C<T>>) -> Result<()>;
    /// `out[i] <- x[i] + 0i` (same length).
    fn to_complex<T: Real>(&self, x: &Self::Buffer<T>, out: &mut Self::Buffer<C<T>>) -> Result<()>;
    /// `out[i] <- Re, Im or |z[i]|` (same length).
    fn complex_part<T: Real>(
        &self,
        z: &Self::Buffer<C<T>>,
        part: Part,
        out: &mut Self::Buffer<T>,
    ) -> Result<()>;

    // ---- index maps -----------------------------------------------------------------------

    /// `out[m] <- src[idx[m]]` over flat (row-major) positions.
    fn gather<E: Element>(
        &self,
        src: &Self::Buffer<E>,
        idx: &Self::Buffer<u32>,
        out: &mut Self::Buffer<E>,
    ) -> Result<()>;
    /// `out[idx[m]] <- src[m]`; other entries of `out` untouched. Indices must be distinct.
    fn scatter<E: Element>(
        &self,
        src: &Self::Buffer<E>,
        idx: &Self::Buffer<u32>,
        out: &mut Self::Buffer<E>,
    ) -> Result<()>;
    /// Zero-padding: `dst` is zeroed, then `src` is written as the block of `dst` starting at
    /// `offset` (same rank, `offset + src.shape <= dst.shape` per axis).
    fn embed<E: Element>(
        &self,
        src: &Self::Buffer<E>,
        dst: &mut Self::Buffer<E>,
        offset: &[usize],
    ) -> Result<()>;
    /// Cropping: `dst <- src[offset .. offset + dst.shape]` (same rank).
    fn extract<E: Element>(
        &self,
        src: &Self::Buffer<E>,
        offset: &[usize],
        dst: &mut Self::Buffer<E>,
    ) -> Result<()>;
    /// Circular shift: `dst[(i + shift) mod n] <- src[i]` along every axis (numpy's `roll`);
    /// `fftshift` is a shift of `n/2`, `ifftshift` of `-(n/2)`. Same shape in and out.
    fn roll<E: Element>(
        &self,
        src: &Self::Buffer<E>,
        shifts: &[isize],
        dst: &mut Self::Buffer<E>,
    ) -> Result<()>;

    // ---- reductions (the result comes back to the host) ------------------------------------

    /// Sum, sum of squares, max or min of a real buffer.
    fn reduce<T: Real>(&self, op: Reduce, x: &Self::Buffer<T>) -> Result<T>;
    /// `Σ a[i] b[i]`.
    fn dot<T: Real>(&self, a: &Self::Buffer<T>, b: &Self::Buffer<T>) -> Result<T>;
    /// `Σ (a[i] - b[i])²`.
    fn sq_dist<T: Real>(&self, a: &Self::Buffer<T>, b: &Self::Buffer<T>) -> Result<T>;

    // ---- stencils -------------------------------------------------------------------------

    /// Forward-difference gradient of `u` along `axes` (in that order), zero at the last index
    /// of each axis: `out[a](k) = u(k + e_axes[a]) - u(k)`. `out` has shape
    /// `(axes.len(), u.shape...)`. With `masks` (same shape as `out`), `out <- masks ⊙ ∇u`.
    fn grad<T: Real>(
        &self,
        u: &Self::Buffer<T>,
        axes: &[usize],
        masks: Option<&Self::Buffer<T>>,
        out: &mut Self::Buffer<T>,
    ) -> Result<()>;
    /// Divergence, the negative adjoint of [`Backend::grad`] (`<∇u, p> = -<u, div p>`):
    /// `p` has shape `(axes.len(), out.shape...)`; with `masks`, `out <- div(masks ⊙ p)`.
    fn div<T: Real>(
        &self,
        p: &Self::Buffer<T>,
        axes: &[usize],
        masks: Option<&Self::Buffer<T>>,
        out: &mut Self::Buffer<T>,
    ) -> Result<()>;
    /// Fused dual step of the TV solvers, gradient over every axis of
    /// `ubar`: `p <- p + step ∇ū` (masked by `masks` if given), then each pixel's vector
    /// `p[:, k]` divided by `max(1, |p[:, k]|₂)`.
    fn tv_dual_step<T: Real>(
        &self,
        p: &mut Self::Buffer<T>,
        ubar: &Self::Buffer<T>,
        step: T,
        masks: Option<&Self::Buffer<T>>,
    ) -> Result<()>;
    /// Fused primal step of the TV solvers, divergence over every axis of `u`:
    /// `u_new = u + τ (λ div(masks ⊙ p) − gradf)`, then `u_new *= [mask > 0]` if `mask` (a NaN
    /// mask entry counts as `<= 0`), then `u_new = max(u_new, 0)` if `step.positivity`; finally
    /// `ubar <- 2 u_new − u` and `u <- u_new`. `p` and `masks` have shape `(u.ndim, u...)`
    /// (`masks` as in [`Backend::div`]), `ubar`, `gradf` and `mask` the shape of `u`; `ubar` is
    /// only written.
    ///
    /// With `step.sums` the same pass also returns [`StepSums`]
    /// (`Σ (u_new − u_old)²`, `Σ u_new²`, accumulated in `f64`), the two norms of the
    /// relative-change stopping rule; otherwise `None`.
    #[allow(clippy::too_many_arguments)]
    fn tv_primal_step<T: Real>(
        &self,
        u: &mut Self::Buffer<T>,
        ubar: &mut Self::Buffer<T>,
        p: &Self::Buffer<T>,
        gradf: &Self::Buffer<T>,
        step: &PrimalStep<T>,
        mask: Option<&Self::Buffer<T>>,
        masks: Option<&Self::Buffer<T>>,
    ) -> Result<Option<StepSums>>;

    // ---- FFT (numpy "backward" normalisation) ------------------------------------------------

    /// Plans an FFT (sizes, twiddles, scratch); plans are cheap to execute many times.
    fn fft_plan<T: Real>(&self, spec: &FftSpec) -> Result<Self::FftPlan<T>>;
    /// In-place complex FFT over the plan's axes; `data` has the plan's shape.
    fn fft_c2c<T: Real>(
        &self,
        plan: &Self::FftPlan<T>,
        data: &mut Self::Buffer<C<T>>,
        dir: Direction,
    ) -> Result<()>;
    /// Real-to-complex forward FFT: `input` has the plan's shape, `out` its spectrum shape
    /// (last axis `n/2 + 1`).
    fn fft_r2c<T: Real>(
        &self,
        plan: &Self::FftPlan<T>,
        input: &Self::Buffer<T>,
        out: &mut Self::Buffer<C<T>>,
    ) -> Result<()>;
    /// Complex-to-real inverse FFT (scaled by `1/N`), numpy's `irfftn` with `s = shape`: the
    /// imaginary parts of the DC and Nyquist bins are ignored. `input` is used as scratch: its
    /// contents are unspecified afterwards.
    fn fft_c2r<T: Real>(
        &self,
        plan: &Self::FftPlan<T>,
        input: &mut Self::Buffer<C<T>>,
        out: &mut Self::Buffer<T>,
    ) -> Result<()>;

    /// [`Self::fft_c2c`] when part of the data does not matter: with [`Pruning::ZeroInput`] the
    /// input is zero outside the box of `band` (one entry per transformed axis, see [`Pruning`])
    /// and the lines known to be zero need not be transformed; with [`Pruning::KeepOutput`] only
    /// the output inside the box is needed. The NUFFT's fine-grid transforms are both kinds
    /// (type 2: zero-padded modes in, type 1: modes out). The provided body transforms
    /// everything.
    fn fft_c2c_pruned<T: Real>(
        &self,
        plan: &Self::FftPlan<T>,
        data: &mut Self::Buffer<C<T>>,
        dir: Direction,
        band: &[usize],
        pruning: Pruning,
    ) -> Result<()> {
        let _ = pruning;
        crate::fft::check_band(data.shape(), band)?;
        self.fft_c2c(plan, data, dir)
    }

    /// The DFT along axis 0 alone of `data` (shape `(n, rest...)`, rank 2 to 4), in place:
    /// [`Direction::Forward`] unscaled `Σ_l x[l] e^{−2iπ c l / n}`, [`Direction::Inverse`]
    /// `e^{+2iπ c l / n}` scaled by `1/n` (numpy's `fft` / `ifft` along axis 0; the spectral axis
    /// of a spectral-spatial image). `all` is a C2C plan of every axis of that shape, `trailing`
    /// of every axis but the first. The provided body composes the two (`all` in direction
    /// `dir`, `trailing` in the other: the transforms of the trailing axes cancel, for twice the
    /// work of a full transform); a backend may transform axis 0 alone.
    fn fft_c2c_leading<T: Real>(
        &self,
        all: &Self::FftPlan<T>,
        trailing: &Self::FftPlan<T>,
        data: &mut Self::Buffer<C<T>>,
        dir: Direction,
    ) -> Result<()> {
        match dir {
            Direction::Forward => {
                self.fft_c2c(all, data, Direction::Forward)?;
                self.fft_c2c(trailing, data, Direction::Inverse)
            }
            Direction::Inverse => {
                self.fft_c2c(trailing, data, Direction::Forward)?;
                self.fft_c2c(all, data, Direction::Inverse)
            }
        }
    }

    /// numpy's `rfft` along axis 0: `input` real `(n, rest...)`, `out` `(n/2 + 1, rest...)`;
    /// plans as [`Self::fft_c2c_leading`]. The provided body allocates a complex temporary.
    fn fft_r2c_leading<T: Real>(
        &self,
        all: &Self::FftPlan<T>,
        trailing: &Self::FftPlan<T>,
        input: &Self::Buffer<T>,
        out: &mut Self::Buffer<C<T>>,
    ) -> Result<()> {
        crate::fft::r2c_leading_composed(self, all, trailing, input, out)
    }

    /// numpy's `irfft(input, n, axis=0)` (`1/n`), inverse of [`Self::fft_r2c_leading`];
    /// `input` is scratch.
    fn fft_c2r_leading<T: Real>(
        &self,
        all: &Self::FftPlan<T>,
        trailing: &Self::FftPlan<T>,
        input: &mut Self::Buffer<C<T>>,
        out: &mut Self::Buffer<T>,
    ) -> Result<()> {
        crate::fft::c2r_leading_composed(self, all, trailing, input, out)
    }

    /// Prepares a convolution kernel for [`Self::fft_convolve`] with `plan`: `kernel_hat` holds
    /// the real FFT of the kernel on the plan's grid (spectrum shape) and is rearranged in place
    /// into the layout the backend's `fft_convolve` reads (scaled, transposed...); only
    /// `fft_convolve` with the same plan may read it afterwards. The provided body leaves it as
    /// it is (the layout of [`crate::fft::convolve_composed`]).
    fn fft_convolve_prepare<T: Real>(
        &self,
        plan: &Self::FftPlan<T>,
        kernel_hat: &mut Self::Buffer<C<T>>,
    ) -> Result<()> {
        let _ = (plan, kernel_hat);
        Ok(())
    }

    /// Linear convolution by FFT on a zero-padded grid (the Toeplitz product `A*A u` of the EPR
    /// operators): `out <- irfftn(rfftn(pad(u)) · K̂)[..out.shape]`, `pad(u)` being `u` written
    /// at the start of the grid (zeros elsewhere) and `[..out.shape]` the leading block.
    ///
    /// `plan` is an R2C plan of the whole grid (no batch axes); `u` and `out` have the grid's
    /// rank and at most its size along every axis; `kernel_hat` is `K̂` (the grid's spectrum
    /// shape) passed through [`Self::fft_convolve_prepare`] with the same plan.
    /// `pad` (grid shape) and `spec` (spectrum shape) are working memory, their contents
    /// unspecified afterwards. The provided body chains [`Self::embed`], [`Self::fft_r2c`],
    /// [`Self::cmul`], [`Self::fft_c2r`] and [`Self::extract`]
    /// ([`crate::fft::convolve_composed`]); a backend may fuse the passes and skip the rows
    /// that are zero in the padded input or cropped from the output.
    fn fft_convolve<T: Real>(
        &self,
        plan: &Self::FftPlan<T>,
        kernel_hat: &Self::Buffer<C<T>>,
        u: &Self::Buffer<T>,
        out: &mut Self::Buffer<T>,
        pad: &mut Self::Buffer<T>,
        spec: &mut Self::Buffer<C<T>>,
    ) -> Result<()> {
        crate::fft::convolve_composed(self, plan, kernel_hat, u, out, pad, spec)
    }

    /// [`Self::fft_convolve`] of `K` channels through a `K × K` matrix of kernels (the
    /// block-Toeplitz product `A*A` of the multi-source operators):
    /// `out[k] <- Σ_j irfftn(rfftn(pad(u[j])) · K̂[k·K + j])[..out[k].shape]`.
    ///
    /// `u` holds `K ≥ 1` inputs and `out` `K` outputs, each of its own shape within the grid
    /// (as in `fft_convolve`), `kernel_hat` the `K²` kernels row by row (output `k`,
    /// input `j`), each passed through [`Self::fft_convolve_prepare`] with `plan`. `pad` (grid
    /// shape) and `spec` (`K + 2` buffers of the spectrum shape) are working memory. The
    /// provided body ([`crate::fft::convolve_matrix_composed`]) transforms each input once and
    /// sums the products of a row before one inverse transform (`2K` FFTs); a backend may fuse
    /// and prune the passes as in `fft_convolve`.
    fn fft_convolve_matrix<T: Real>(
        &self,
        plan: &Self::FftPlan<T>,
        kernel_hat: &[Self::Buffer<C<T>>],
        u: &[Self::Buffer<T>],
        out: &mut [Self::Buffer<T>],
        pad: &mut Self::Buffer<T>,
        spec: &mut [Self::Buffer<C<T>>],
    ) -> Result<()> {
        crate::fft::convolve_matrix_composed(self, plan, kernel_hat, u, out, pad, spec)
    }

    // ---- NUFFT stages (the plan logic is generic: crate::nufft) ------------------------------

    /// Prepares non-uniform points: `coords[a][m]` is the coordinate of point `m` along grid axis
    /// `a` (radians, any real value, folded modulo 2π), all of the same length M.
    fn nufft_setpts<T: Real>(
        &self,
        coords: &[ndarray::ArrayView1<'_, T>],
        params: &SpreadParams,
    ) -> Result<Self::NufftPoints<T>>;
    /// Type-1 spreading: `fine` (shape `(n_trans, fine...)`) is overwritten with
    /// `Σ_m c[t, m] φ(grid - x_m)`, the ES kernel `φ` wrapped periodically; `c` has shape
    /// `(n_trans, M)`.
    fn nufft_spread<T: Real>(
        &self,
        pts: &Self::NufftPoints<T>,
        params: &SpreadParams,
        c: &Self::Buffer<C<T>>,
        fine: &mut Self::Buffer<C<T>>,
    ) -> Result<()>;
    /// Type-2 interpolation: `c[t, m] <- Σ_grid fine[t, grid] φ(grid - x_m)`.
    fn nufft_interp<T: Real>(
        &self,
        pts: &Self::NufftPoints<T>,
        params: &SpreadParams,
        fine: &Self::Buffer<C<T>>,
        c: &mut Self::Buffer<C<T>>,
    ) -> Result<()>;
    /// Type-1 deconvolution: copies the fine grid (FFT order) to the centred mode grid,
    /// `modes[t, k] <- fine[t, k mod nf] · Π_a factors_a[k_a]`. `factors` holds, axis after
    /// axis, the `modes[a]` real correction factors of each axis (centred order).
    fn nufft_deconvolve<T: Real>(
        &self,
        params: &SpreadParams,
        factors: &Self::Buffer<T>,
        fine: &Self::Buffer<C<T>>,
        modes: &mut Self::Buffer<C<T>>,
    ) -> Result<()>;
    /// Type-2 pre-compensation: `fine` is zeroed, then
    /// `fine[t, k mod nf] <- modes[t, k] · Π_a factors_a[k_a]` (same factor layout).
    fn nufft_precompensate<T: Real>(
        &self,
        params: &SpreadParams,
        factors: &Self::Buffer<T>,
        modes: &Self::Buffer<C<T>>,
        fine: &mut Self::Buffer<C<T>>,
    ) -> Result<()>;

    /// Whether the backend has the half-spectrum NUFFT stages ([`Self::nufft_precompensate_r2c`],
    /// [`Self::nufft_interp_half`], [`Self::nufft_spread_half`], [`Self::nufft_c2r_deconvolve`])
    /// that plans of real modes ([`crate::nufft::NufftPlan::new_real`]) run on. The provided
    /// answer is `false`: such plans then run the complex stages on complex modes (made complex
    /// for type 2, real part taken for type 1: same result, twice the fine grid).
    fn nufft_half_spectrum(&self) -> bool {
        false
    }
    /// Type-1 spreading onto the half spectrum `half` (shape as in
    /// [`Self::nufft_precompensate_r2c`]) of the fine grid `G` that [`Self::nufft_spread`]
    /// writes: `half` is overwritten with `G[k] + conj G[−k mod nf]` where
    /// `0 < k_{d−1} < nf_{d−1}/2`, and with `G[k]` on the planes `k_{d−1} = 0` and
    /// `nf_{d−1}/2` (each cell of `G` beyond `nf_{d−1}/2` is added, conjugated, to its mirror
    /// `−k mod nf`). The provided body fails: only backends with
    /// [`Self::nufft_half_spectrum`] implement it.
    fn nufft_spread_half<T: Real>(
        &self,
        pts: &Self::NufftPoints<T>,
        params: &SpreadParams,
        c: &Self::Buffer<C<T>>,
        half: &mut Self::Buffer<C<T>>,
    ) -> Result<()> {
        let _ = (pts, params, c, half);
        Err(no_half_spectrum("nufft_spread_half", &self.name()))
    }
    /// The real part of the type-1 result from the half spectrum that
    /// [`Self::nufft_spread_half`] wrote: `modes[t, k] <- Re(IDFT(G)[k mod nf]) · Π_a
    /// factors_a[k_a]` (as [`Self::nufft_deconvolve`], real part; `IDFT` scaled by `1/N`):
    /// the planes `k_{d−1} = 0, nf_{d−1}/2` made Hermitian, a real inverse FFT of the half
    /// spectrum (`plan`: R2C of the fine grids over the grid axes), halved. `half` is scratch.
    /// The provided body fails: only backends with [`Self::nufft_half_spectrum`] implement it.
    fn nufft_c2r_deconvolve<T: Real>(
        &self,
        params: &SpreadParams,
        factors: &Self::Buffer<T>,
        plan: &Self::FftPlan<T>,
        half: &mut Self::Buffer<C<T>>,
        modes: &mut Self::Buffer<T>,
    ) -> Result<()> {
        let _ = (params, factors, plan, half, modes);
        Err(no_half_spectrum("nufft_c2r_deconvolve", &self.name()))
    }
    /// Type-2 pre-compensation of real modes fused with the fine grid's real FFT:
    /// `half <- rfftn(fine)` over the grid axes, `fine[t, k mod nf] = modes[t, k] · Π_a
    /// factors_a[k_a]` and zero elsewhere (the grid [`Self::nufft_precompensate`] writes, real).
    /// `modes` has shape `(n_trans, modes...)`, `plan` is an R2C plan of the real fine grids
    /// `(n_trans, fine...)` over the grid axes, `half` its spectrum `(n_trans, fine[..d−1],
    /// fine[d−1]/2 + 1)`: the fine grid's spectrum for `k_{d−1} ∈ [0, nf_{d−1}/2]`, the rest
    /// being `F(−k) = conj F(k)`. The provided body fails: only backends with
    /// [`Self::nufft_half_spectrum`] implement it.
    fn nufft_precompensate_r2c<T: Real>(
        &self,
        params: &SpreadParams,
        factors: &Self::Buffer<T>,
        plan: &Self::FftPlan<T>,
        modes: &Self::Buffer<T>,
        half: &mut Self::Buffer<C<T>>,
    ) -> Result<()> {
        let _ = (params, factors, plan, modes, half);
        Err(no_half_spectrum("nufft_precompensate_r2c", &self.name()))
    }
    /// Type-2 interpolation from a Hermitian fine grid given by its half spectrum `half`
    /// (shape as in [`Self::nufft_precompensate_r2c`]): as [`Self::nufft_interp`] on the full
    /// grid, each cell `k` with `k_{d−1} mod nf_{d−1} > nf_{d−1}/2` read as `conj half[−k mod
    /// nf]`. The provided body fails: only backends with [`Self::nufft_half_spectrum`]
    /// implement it.
    fn nufft_interp_half<T: Real>(
        &self,
        pts: &Self::NufftPoints<T>,
        params: &SpreadParams,
        half: &Self::Buffer<C<T>>,
        c: &mut Self::Buffer<C<T>>,
    ) -> Result<()> {
        let _ = (pts, params, half, c);
        Err(no_half_spectrum("nufft_interp_half", &self.name()))
    }

    // ---- filtered backprojection (its last step) ----------------------------------

    /// Linear-interpolation backprojection: for every grid point `x` (row-major over `grids`, one
    /// 1D coordinate array per image axis, in image axis order (Y, X[, Z])),
    /// `out[x] = Σ_n interp(f[n, :], -<g_n, x>)` where `f` (shape `(N, Nb)`) is sampled at
    /// `r_l = r0 + l·dr`, linear interpolation, zero outside `[r_0, r_{Nb-1}]`, and `g` (shape
    /// `(N, d)`) holds each projection's gradient in image axis order.
    fn interp_backproject<T: Real>(
        &self,
        f: &Self::Buffer<T>,
        g: &Self::Buffer<T>,
        grids: &[&Self::Buffer<T>],
        r0: T,
        dr: T,
        out: &mut Self::Buffer<T>,
    ) -> Result<()>;

    // ---- provided: creation helpers written once on top of upload ----------------------------

    /// A buffer filled with `value`.
    fn full<E: Element>(&self, shape: &[usize], value: E) -> Result<Self::Buffer<E>> {
        let mut b = self.zeros(shape)?;
        self.fill(&mut b, value)?;
        Ok(b)
    }
    /// A buffer of ones.
    fn ones<T: Real>(&self, shape: &[usize]) -> Result<Self::Buffer<T>> {
        self.full(shape, T::one())
    }
    /// `[start, start + step, ...)` below `stop` (numpy's `arange`).
    fn arange<T: Real>(&self, start: T, stop: T, step: T) -> Result<Self::Buffer<T>> {
        let host = crate::host::arange(start, stop, step)?;
        self.upload(host.view().into_dyn())
    }
    /// `n` evenly spaced samples from `start` to `stop` inclusive (numpy's `linspace`).
    fn linspace<T: Real>(&self, start: T, stop: T, n: usize) -> Result<Self::Buffer<T>> {
        let host = crate::host::linspace(start, stop, n);
        self.upload(host.view().into_dyn())
    }
    /// numpy's `meshgrid(x0, x1, ..., indexing='xy')`: for 2 or 3 inputs the first two output
    /// axes are swapped, giving arrays of shape `(len(x1), len(x0)[, len(x2)])`.
    fn meshgrid<T: Real>(
        &self,
        axes: &[ndarray::ArrayView1<'_, T>],
    ) -> Result<Vec<Self::Buffer<T>>> {
        crate::host::meshgrid_xy(axes)?
            .iter()
            .map(|a| self.upload(a.view()))
            .collect()
    }
    /// Uniform samples in `[0, 1)` from a seeded generator (reproducible across backends).
    fn rand<T: Real>(&self, shape: &[usize], seed: u64) -> Result<Self::Buffer<T>> {
        let host = crate::host::rand::<T>(shape, seed);
        self.upload(host.view())
    }
    /// Normal samples `N(mean, std²)` from a seeded generator (reproducible across backends).
    fn randn<T: Real>(
        &self,
        shape: &[usize],
        mean: T,
        std: T,
        seed: u64,
    ) -> Result<Self::Buffer<T>> {
        let host = crate::host::randn::<T>(shape, mean, std, seed)?;
        self.upload(host.view())
    }
    /// Copies a buffer to a new one.
    fn duplicate<E: Element>(&self, src: &Self::Buffer<E>) -> Result<Self::Buffer<E>> {
        let mut b = self.zeros(src.shape())?;
        self.copy(src, &mut b)?;
        Ok(b)
    }
    /// Uploads an array of any dimension given as shape + flat data (row-major). By default a
    /// copy, as [`Backend::upload`]; a host backend may take `data` itself as the buffer.
    ///
    /// Errors: [`crate::Error::InvalidArgument`] when `data.len()` is not the product of `shape`.
    fn upload_flat<E: Element>(&self, shape: &[usize], data: Vec<E>) -> Result<Self::Buffer<E>> {
        let a = ArrayD::from_shape_vec(IxDyn(shape), data).map_err(|e| {
            crate::Error::InvalidArgument(format!("upload of shape {shape:?}: {e}"))
        })?;
        self.upload(a.view())
    }
    /// Moves a buffer the caller no longer needs to the host, as an array of its shape. By
    /// default [`Backend::download`] (a copy; the buffer is freed after it); a host backend may
    /// return the buffer's own memory.
    fn download_owned<E: Element>(&self, buf: Self::Buffer<E>) -> Result<ArrayD<E>> {
        self.download(&buf)
    }
}

/// The error of a half-spectrum NUFFT stage `op` called on a backend without them (the provided
/// bodies of [`Backend::nufft_spread_half`] and its three siblings).
fn no_half_spectrum(op: &str, backend: &str) -> crate::Error {
    crate::Error::InvalidArgument(format!(
        "{op}: backend {backend} has no half-spectrum NUFFT stages"
    ))
}
