//! Lane-SIMD FFTs: a group of independent lines transformed at once, one line per SIMD lane
//! (x86-64 with AVX2 and FMA: 4 f64 or 8 f32 lines per 256-bit register, [`width`]), so that
//! every butterfly and twiddle product is a register operation over the group and no shuffles
//! are needed inside the transform (rustfft vectorises within one line, with shuffles between its
//! steps). Two users:
//! * [`LaneFft::real_forward`] / [`LaneFft::real_inverse`]: real rows of `2n` points, a group at
//!   a time, through the half-length trick of [`super::real`]: the rows' `n` complex points are transposed into the lane
//!   buffer (`W × W` register transposes), transformed there, and split into (or merged from) the
//!   `n + 1` bins while being transposed back. Measured 2.4x faster than rustfft's AVX plan on
//!   250-point f64 rows.
//! * [`Columns`]: a group of adjacent complex columns of a strided pass (one row of the group is
//!   contiguous), deinterleaved into the lanes and back.
//!
//! Lane buffer of `n` points and `W` lanes: `2·W·n` values, point `j` at `2·W·j`: the `W` real
//! parts, then the `W` imaginary parts. The transform ([`LaneFft`]) is a mixed-radix (4, 2, 3, 5)
//! Sande–Tukey decimation in frequency, in place in that one buffer (16 KB for 250 points, within
//! the L1 cache), whose output comes out in digit-reversed order: the forward users read it
//! through a position table. The inverse runs the adjoint stages in reverse order (conjugate
//! twiddles, then the inverse butterfly) on input placed at the digit-reversed positions, so its
//! output is in natural order.

use crate::par::SharedMut;
use backend_core::{Direction, Real, C};
use std::any::TypeId;

/// Lines per lane group of `T`: one 256-bit register (4 f64, 8 f32).
pub(super) const fn width<T>() -> usize {
    32 / std::mem::size_of::<T>()
}

/// Longest lines transformed in lanes. Measured on real rows of 2000 points (1000-point halves,
/// one thread): f64 0.25–0.29 ms against rustfft's 0.34, f32 0.14–0.16 against 0.19–0.20, even
/// though the 64 KB lane buffer leaves the L1 cache; and on the 800-point columns of an 800x400
/// f32 transform, 0.35 ms against 0.47 for the whole transform.
const MAX_LEN: usize = 1024;

/// One in-place decimation-in-frequency stage: `len / radix`-point butterflies of stride
/// `len / radix` inside each block of `len` consecutive points.
struct Stage<T> {
    radix: usize,
    len: usize,
    /// `e^{−2iπ·j·q/len}` for `j < len/radix`, `1 ≤ q < radix`: (re, im) at `2((radix−1)j + q−1)`.
    tw: Vec<T>,
}

/// A lane-SIMD complex FFT of `n` points (both directions, unnormalised).
pub(super) struct LaneFft<T> {
    n: usize,
    stages: Vec<Stage<T>>,
    /// Where point `k` of the forward transform lies in the lane buffer after the stages (digit
    /// reversal); where the inverse takes its input point `k`.
    pos: Vec<u32>,
}

impl<T: Real> LaneFft<T> {
    /// The plan for `n` points, or `None` when lanes do not apply: not x86-64 with AVX2 and FMA,
    /// `T` neither f32 nor f64, `n` zero, above [`MAX_LEN`] or with a prime factor above 5.
    pub(super) fn new(n: usize) -> Option<Self> {
        if !available::<T>() || !(1..=MAX_LEN).contains(&n) {
            return None;
        }
        let mut radices = Vec::new();
        let mut m = n;
        for p in [4, 2, 3, 5] {
            while m.is_multiple_of(p) {
                radices.push(p);
                m /= p;
            }
        }
        if m != 1 {
            return None;
        }
        let mut len = n;
        let stages = radices
            .iter()
            .map(|&radix| {
                let tw = (0..len / radix)
                    .flat_map(|j| (1..radix).map(move |q| (j * q) as f64))
                    .flat_map(|jq| {
                        let a = -2.0 * std::f64::consts::PI * jq / len as f64;
                        [T::of(a.cos()), T::of(a.sin())]
                    })
                    .collect();
                let s = Stage { radix, len, tw };
                len /= radix;
                s
            })
            .collect();
        // Position `p` holds point `k = q1 + r1·(q2 + r2·(q3 + …))`, `p = Σ q_s · (n / (r1…r_s))`.
        let mut pos = vec![0u32; n];
        for p in 0..n {
            let (mut rest, mut len, mut k, mut weight) = (p, n, 0, 1);
            for &r in &radices {
                len /= r;
                k += rest / len * weight;
                rest %= len;
                weight *= r;
            }
            pos[k] = u32::try_from(p).expect("n is at most MAX_LEN");
        }
        Some(LaneFft { n, stages, pos })
    }

    /// Values of `T` in the lane buffer of one group of lines.
    pub(super) fn buffer_len(&self) -> usize {
        2 * width::<T>() * self.n
    }

    /// This plan with `T` read as `E`, when they are the same type.
    fn cast<E: 'static>(&self) -> Option<&LaneFft<E>> {
        // SAFETY: `T` is `E` (same type id).
        (TypeId::of::<T>() == TypeId::of::<E>())
            .then(|| unsafe { &*(self as *const Self).cast::<LaneFft<E>>() })
    }
}

impl<T: Real> LaneFft<T> {
    /// `output` (`W` rows of `n + 1` bins) `<- rfft(input)` (`W` rows of `2n` reals), unscaled,
    /// `W = width::<T>()`, through this `n`-point transform (the half-length trick of
    /// [`super::real`], whose `w^k / 2` twiddles, `k ≤ n/2`, are `half_tw`).
    pub(super) fn real_forward(
        &self,
        half_tw: &[C<T>],
        input: &[T],
        output: &mut [C<T>],
        buf: &mut [T],
    ) {
        self.check(input.len(), output.len(), buf.len());
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `LaneFft::new` made the plan only for f32 and f64 on a CPU with AVX2 and FMA;
        // the slices hold `W` rows each and the buffer `2·W·n` values (checked above).
        unsafe {
            if let Some(p) = self.cast::<f64>() {
                let tw = parts(half_tw);
                return x86::forward::<f64>(p, tw, cast(input), parts_mut(output), cast_mut(buf));
            }
            if let Some(p) = self.cast::<f32>() {
                let tw = parts(half_tw);
                return x86::forward::<f32>(p, tw, cast(input), parts_mut(output), cast_mut(buf));
            }
        }
        unreachable!("lane plans are made for f32 and f64 on x86-64 only")
    }

    /// `output` (`W` rows of `2n` reals) `<- scale · irfft(input)` (`W` rows of `n + 1` bins),
    /// the imaginary parts of the DC and Nyquist bins ignored (numpy); `half_tw` as in
    /// [`Self::real_forward`].
    pub(super) fn real_inverse(
        &self,
        half_tw: &[C<T>],
        input: &[C<T>],
        output: &mut [T],
        scale: T,
        buf: &mut [T],
    ) {
        self.check(output.len(), input.len(), buf.len());
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as in `real_forward`.
        unsafe {
            if let Some(p) = self.cast::<f64>() {
                let (tw, s) = (parts(half_tw), cast(std::slice::from_ref(&scale))[0]);
                return x86::inverse::<f64>(
                    p,
                    tw,
                    parts(input),
                    cast_mut(output),
                    s,
                    cast_mut(buf),
                );
            }
            if let Some(p) = self.cast::<f32>() {
                let (tw, s) = (parts(half_tw), cast(std::slice::from_ref(&scale))[0]);
                return x86::inverse::<f32>(
                    p,
                    tw,
                    parts(input),
                    cast_mut(output),
                    s,
                    cast_mut(buf),
                );
            }
        }
        let _ = scale;
        unreachable!("lane plans are made for f32 and f64 on x86-64 only")
    }

    fn check(&self, real: usize, complex: usize, buf: usize) {
        let h = self.n;
        assert!(
            real == 2 * width::<T>() * h
                && complex == width::<T>() * (h + 1)
                && buf >= self.buffer_len(),
            "{} rows of {} points",
            width::<T>(),
            2 * h
        );
    }
}

/// Rows `lo..hi` of a column block stay out of a column pass: zero on input
/// ([`Skip::ZeroInput`]) or not written back ([`Skip::KeepOutput`]).
#[derive(Clone, Copy)]
pub(super) enum Skip {
    None,
    ZeroInput(usize, usize),
    KeepOutput(usize, usize),
}

/// The transform of `cols` adjacent columns of an `n × inner` matrix (complex, row-major, the
/// first column's top element at flat position `base`), in place, in lane groups of [`width`]
/// adjacent columns, scaled by `scale`. The caller guarantees that no other task touches these
/// columns concurrently.
pub(super) struct Columns<'a, T: Real> {
    pub fft: &'a LaneFft<T>,
    pub data: &'a SharedMut<C<T>>,
    pub base: usize,
    pub inner: usize,
    pub cols: usize,
    pub dir: Direction,
    pub scale: Option<T>,
    pub skip: Skip,
}

impl<T: Real> Columns<'_, T> {
    /// Runs the pass (see [`Columns`]) with this thread's lane buffer.
    pub(super) fn run(self) {
        with_buffer::<T, _>(self.fft.buffer_len(), |buf| {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `LaneFft::new` made the plan only for f32 and f64 on a CPU with AVX2 and
            // FMA; `buf` holds `2·W·n` values; the rows handed out lie in these columns, which
            // belong to this task.
            unsafe {
                if let Some(p) = self.fft.cast::<f64>() {
                    return self.go::<f64>(p, cast_mut(buf));
                }
                if let Some(p) = self.fft.cast::<f32>() {
                    return self.go::<f32>(p, cast_mut(buf));
                }
            }
            let _ = buf;
            unreachable!("lane plans are made for f32 and f64 on x86-64 only")
        })
    }

    #[cfg(target_arch = "x86_64")]
    unsafe fn go<S: x86::Lanes>(&self, p: &LaneFft<S>, buf: &mut [S]) {
        let s = self.scale.unwrap_or(T::one());
        let s = cast::<T, S>(std::slice::from_ref(&s))[0];
        for g in (0..self.cols).step_by(width::<T>()) {
            let wg = width::<T>().min(self.cols - g);
            let col = self.base + g;
            // SAFETY (of the closure's callers): row `i` of these columns belongs to this task.
            let row = |i: usize| unsafe {
                self.data
                    .slice(col + i * self.inner, wg)
                    .as_mut_ptr()
                    .cast::<S>()
            };
            match self.dir {
                Direction::Forward => x86::columns::<S, true>(p, row, wg, s, self.skip, buf),
                Direction::Inverse => x86::columns::<S, false>(p, row, wg, s, self.skip, buf),
            }
        }
    }
}

/// Whether lanes can run `T` on this CPU.
fn available<T: 'static>() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        let t = TypeId::of::<T>();
        (t == TypeId::of::<f64>() || t == TypeId::of::<f32>())
            && is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

thread_local! {
    /// The lane buffer of this thread, kept between column passes: a fresh allocation per
    /// task costs page faults comparable to the transform itself.
    static BUFFER: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `f` with a lane buffer of `len` values of `T` (f32 or f64), taken from this thread's cache.
fn with_buffer<T: Real, R>(len: usize, f: impl FnOnce(&mut [T]) -> R) -> R {
    assert!(
        std::mem::align_of::<T>() <= 8 && 8 % std::mem::size_of::<T>() == 0,
        "lane buffers hold f32 or f64"
    );
    let words = (len * std::mem::size_of::<T>()).div_ceil(8);
    // Taken out while in use, so that a nested call would allocate its own.
    let mut v = BUFFER.with(|b| std::mem::take(&mut *b.borrow_mut()));
    if v.len() < words {
        v.resize(words, 0);
    }
    // SAFETY: `v` holds at least `len` values of `T` (size dividing 8, alignment at most 8),
    // any bit pattern of which is a valid f32 / f64.
    let buf = unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr().cast::<T>(), len) };
    let r = f(buf);
    BUFFER.with(|b| *b.borrow_mut() = v);
    r
}

/// `x` read as `[E]`; callers have checked that `T` is `E`.
unsafe fn cast<T: 'static, E: 'static>(x: &[T]) -> &[E] {
    debug_assert_eq!(TypeId::of::<T>(), TypeId::of::<E>());
    std::slice::from_raw_parts(x.as_ptr().cast(), x.len())
}

/// [`cast`], mutable.
unsafe fn cast_mut<T: 'static, E: 'static>(x: &mut [T]) -> &mut [E] {
    debug_assert_eq!(TypeId::of::<T>(), TypeId::of::<E>());
    std::slice::from_raw_parts_mut(x.as_mut_ptr().cast(), x.len())
}

/// Complex numbers (`#[repr(C)] { re, im }`) read as their parts in turn, as `E`; callers have
/// checked that `T` is `E`.
unsafe fn parts<T: 'static, E: 'static>(x: &[C<T>]) -> &[E] {
    debug_assert_eq!(TypeId::of::<T>(), TypeId::of::<E>());
    std::slice::from_raw_parts(x.as_ptr().cast(), 2 * x.len())
}

/// [`parts`], mutable.
unsafe fn parts_mut<T: 'static, E: 'static>(x: &mut [C<T>]) -> &mut [E] {
    debug_assert_eq!(TypeId::of::<T>(), TypeId::of::<E>());
    std::slice::from_raw_parts_mut(x.as_mut_ptr().cast(), 2 * x.len())
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{LaneFft, Skip, Stage};
    use backend_core::Real;
    use std::arch::x86_64::*;

    /// `W` lanes of one precision in one 256-bit register (AVX2 + FMA), and the operations the
    /// transforms need. Every method is `#[inline(always)]`, so that it is compiled into the
    /// `avx2,fma` entry points.
    pub(super) trait Lanes: Real {
        /// Lanes per register.
        const W: usize;
        type V: Copy;
        unsafe fn vsplat(x: Self) -> Self::V;
        unsafe fn vload(p: *const Self) -> Self::V;
        unsafe fn vstore(p: *mut Self, v: Self::V);
        unsafe fn vadd(a: Self::V, b: Self::V) -> Self::V;
        unsafe fn vsub(a: Self::V, b: Self::V) -> Self::V;
        unsafe fn vmul(a: Self::V, b: Self::V) -> Self::V;
        /// `a·b + c`.
        unsafe fn vmul_add(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
        /// `a·b − c`.
        unsafe fn vmul_sub(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
        unsafe fn vneg(a: Self::V) -> Self::V;
        /// The `W × W` transpose of `r[..W]`, in place: lane `l` of result `i` is lane `i` of
        /// `r[l]`.
        unsafe fn vtranspose(r: &mut [Self::V; 8]);
        /// `W` complex numbers stored in turn (`a`, then `b`) as real and imaginary lanes.
        unsafe fn deinterleave(a: Self::V, b: Self::V) -> (Self::V, Self::V);
        /// The inverse of [`Lanes::deinterleave`].
        unsafe fn interleave(re: Self::V, im: Self::V) -> (Self::V, Self::V);
    }

    impl Lanes for f64 {
        const W: usize = 4;
        type V = __m256d;
        #[inline(always)]
        unsafe fn vsplat(x: f64) -> __m256d {
            _mm256_set1_pd(x)
        }
        #[inline(always)]
        unsafe fn vload(p: *const f64) -> __m256d {
            _mm256_loadu_pd(p)
        }
        #[inline(always)]
        unsafe fn vstore(p: *mut f64, v: __m256d) {
            _mm256_storeu_pd(p, v)
        }
        #[inline(always)]
        unsafe fn vadd(a: __m256d, b: __m256d) -> __m256d {
            _mm256_add_pd(a, b)
        }
        #[inline(always)]
        unsafe fn vsub(a: __m256d, b: __m256d) -> __m256d {
            _mm256_sub_pd(a, b)
        }
        #[inline(always)]
        unsafe fn vmul(a: __m256d, b: __m256d) -> __m256d {
            _mm256_mul_pd(a, b)
        }
        #[inline(always)]
        unsafe fn vmul_add(a: __m256d, b: __m256d, c: __m256d) -> __m256d {
            _mm256_fmadd_pd(a, b, c)
        }
        #[inline(always)]
        unsafe fn vmul_sub(a: __m256d, b: __m256d, c: __m256d) -> __m256d {
            _mm256_fmsub_pd(a, b, c)
        }
        #[inline(always)]
        unsafe fn vneg(a: __m256d) -> __m256d {
            _mm256_xor_pd(a, _mm256_set1_pd(-0.0))
        }
        #[inline(always)]
        unsafe fn vtranspose(r: &mut [__m256d; 8]) {
            let (a, b) = (
                _mm256_unpacklo_pd(r[0], r[1]),
                _mm256_unpackhi_pd(r[0], r[1]),
            );
            let (c, d) = (
                _mm256_unpacklo_pd(r[2], r[3]),
                _mm256_unpackhi_pd(r[2], r[3]),
            );
            r[0] = _mm256_permute2f128_pd(a, c, 0x20);
            r[1] = _mm256_permute2f128_pd(b, d, 0x20);
            r[2] = _mm256_permute2f128_pd(a, c, 0x31);
            r[3] = _mm256_permute2f128_pd(b, d, 0x31);
        }
        #[inline(always)]
        unsafe fn deinterleave(a: __m256d, b: __m256d) -> (__m256d, __m256d) {
            let (t0, t1) = (
                _mm256_permute2f128_pd(a, b, 0x20),
                _mm256_permute2f128_pd(a, b, 0x31),
            );
            (_mm256_unpacklo_pd(t0, t1), _mm256_unpackhi_pd(t0, t1))
        }
        #[inline(always)]
        unsafe fn interleave(re: __m256d, im: __m256d) -> (__m256d, __m256d) {
            let (t0, t1) = (_mm256_unpacklo_pd(re, im), _mm256_unpackhi_pd(re, im));
            (
                _mm256_permute2f128_pd(t0, t1, 0x20),
                _mm256_permute2f128_pd(t0, t1, 0x31),
            )
        }
    }

    impl Lanes for f32 {
        const W: usize = 8;
        type V = __m256;
        #[inline(always)]
        unsafe fn vsplat(x: f32) -> __m256 {
            _mm256_set1_ps(x)
        }
        #[inline(always)]
        unsafe fn vload(p: *const f32) -> __m256 {
            _mm256_loadu_ps(p)
        }
        #[inline(always)]
        unsafe fn vstore(p: *mut f32, v: __m256) {
            _mm256_storeu_ps(p, v)
        }
        #[inline(always)]
        unsafe fn vadd(a: __m256, b: __m256) -> __m256 {
            _mm256_add_ps(a, b)
        }
        #[inline(always)]
        unsafe fn vsub(a: __m256, b: __m256) -> __m256 {
            _mm256_sub_ps(a, b)
        }
        #[inline(always)]
        unsafe fn vmul(a: __m256, b: __m256) -> __m256 {
            _mm256_mul_ps(a, b)
        }
        #[inline(always)]
        unsafe fn vmul_add(a: __m256, b: __m256, c: __m256) -> __m256 {
            _mm256_fmadd_ps(a, b, c)
        }
        #[inline(always)]
        unsafe fn vmul_sub(a: __m256, b: __m256, c: __m256) -> __m256 {
            _mm256_fmsub_ps(a, b, c)
        }
        #[inline(always)]
        unsafe fn vneg(a: __m256) -> __m256 {
            _mm256_xor_ps(a, _mm256_set1_ps(-0.0))
        }
        #[inline(always)]
        unsafe fn vtranspose(r: &mut [__m256; 8]) {
            // Written out, not with `array::map`: closures are not always inlined into the
            // `avx2,fma` callers, and a call per shuffle made the transforms 4x slower.
            let t = [
                _mm256_unpacklo_ps(r[0], r[1]),
                _mm256_unpacklo_ps(r[2], r[3]),
                _mm256_unpacklo_ps(r[4], r[5]),
                _mm256_unpacklo_ps(r[6], r[7]),
            ];
            let u = [
                _mm256_unpackhi_ps(r[0], r[1]),
                _mm256_unpackhi_ps(r[2], r[3]),
                _mm256_unpackhi_ps(r[4], r[5]),
                _mm256_unpackhi_ps(r[6], r[7]),
            ];
            let q = [
                _mm256_shuffle_ps::<0x44>(t[0], t[1]),
                _mm256_shuffle_ps::<0xEE>(t[0], t[1]),
                _mm256_shuffle_ps::<0x44>(u[0], u[1]),
                _mm256_shuffle_ps::<0xEE>(u[0], u[1]),
                _mm256_shuffle_ps::<0x44>(t[2], t[3]),
                _mm256_shuffle_ps::<0xEE>(t[2], t[3]),
                _mm256_shuffle_ps::<0x44>(u[2], u[3]),
                _mm256_shuffle_ps::<0xEE>(u[2], u[3]),
            ];
            for i in 0..4 {
                r[i] = _mm256_permute2f128_ps::<0x20>(q[i], q[i + 4]);
                r[i + 4] = _mm256_permute2f128_ps::<0x31>(q[i], q[i + 4]);
            }
        }
        #[inline(always)]
        unsafe fn deinterleave(a: __m256, b: __m256) -> (__m256, __m256) {
            let re = _mm256_shuffle_ps::<0x88>(a, b);
            let im = _mm256_shuffle_ps::<0xDD>(a, b);
            (
                _mm256_castpd_ps(_mm256_permute4x64_pd::<0xD8>(_mm256_castps_pd(re))),
                _mm256_castpd_ps(_mm256_permute4x64_pd::<0xD8>(_mm256_castps_pd(im))),
            )
        }
        #[inline(always)]
        unsafe fn interleave(re: __m256, im: __m256) -> (__m256, __m256) {
            let (t0, t1) = (_mm256_unpacklo_ps(re, im), _mm256_unpackhi_ps(re, im));
            (
                _mm256_permute2f128_ps::<0x20>(t0, t1),
                _mm256_permute2f128_ps::<0x31>(t0, t1),
            )
        }
    }

    /// `W` lanes of complex numbers.
    #[derive(Clone, Copy)]
    struct Z<V> {
        re: V,
        im: V,
    }

    #[inline(always)]
    unsafe fn add<S: Lanes>(a: Z<S::V>, b: Z<S::V>) -> Z<S::V> {
        Z {
            re: S::vadd(a.re, b.re),
            im: S::vadd(a.im, b.im),
        }
    }

    #[inline(always)]
    unsafe fn sub<S: Lanes>(a: Z<S::V>, b: Z<S::V>) -> Z<S::V> {
        Z {
            re: S::vsub(a.re, b.re),
            im: S::vsub(a.im, b.im),
        }
    }

    /// `a·s`, `s` real.
    #[inline(always)]
    unsafe fn scale<S: Lanes>(a: Z<S::V>, s: S::V) -> Z<S::V> {
        Z {
            re: S::vmul(a.re, s),
            im: S::vmul(a.im, s),
        }
    }

    /// `c + a·s`, `s` real.
    #[inline(always)]
    unsafe fn scale_add<S: Lanes>(a: Z<S::V>, s: S::V, c: Z<S::V>) -> Z<S::V> {
        Z {
            re: S::vmul_add(a.re, s, c.re),
            im: S::vmul_add(a.im, s, c.im),
        }
    }

    /// `a · (wr + i·wi)` (forward) or `a · (wr − i·wi)` (inverse).
    #[inline(always)]
    unsafe fn twiddle<S: Lanes, const FWD: bool>(a: Z<S::V>, wr: S::V, wi: S::V) -> Z<S::V> {
        if FWD {
            Z {
                re: S::vmul_sub(a.re, wr, S::vmul(a.im, wi)),
                im: S::vmul_add(a.re, wi, S::vmul(a.im, wr)),
            }
        } else {
            Z {
                re: S::vmul_add(a.re, wr, S::vmul(a.im, wi)),
                im: S::vmul_sub(a.im, wr, S::vmul(a.re, wi)),
            }
        }
    }

    /// `−i·z` (forward) or `i·z` (inverse).
    #[inline(always)]
    unsafe fn rot<S: Lanes, const FWD: bool>(z: Z<S::V>) -> Z<S::V> {
        if FWD {
            Z {
                re: z.im,
                im: S::vneg(z.re),
            }
        } else {
            Z {
                re: S::vneg(z.im),
                im: z.re,
            }
        }
    }

    /// Point `e` of a lane buffer.
    #[inline(always)]
    unsafe fn ld<S: Lanes>(buf: *const S, e: usize) -> Z<S::V> {
        Z {
            re: S::vload(buf.add(2 * S::W * e)),
            im: S::vload(buf.add(2 * S::W * e + S::W)),
        }
    }

    /// Writes point `e` of a lane buffer.
    #[inline(always)]
    unsafe fn st<S: Lanes>(buf: *mut S, e: usize, z: Z<S::V>) {
        S::vstore(buf.add(2 * S::W * e), z.re);
        S::vstore(buf.add(2 * S::W * e + S::W), z.im);
    }

    /// The unnormalised DFT of `P` points: `y[j] = Σ_q a[q] e^{∓2iπ·jq/P}` (− forward).
    trait Butterfly<S: Lanes, const P: usize> {
        unsafe fn apply<const FWD: bool>(a: [Z<S::V>; P]) -> [Z<S::V>; P];
    }

    struct R2;
    struct R3;
    struct R4;
    struct R5;

    impl<S: Lanes> Butterfly<S, 2> for R2 {
        #[inline(always)]
        unsafe fn apply<const FWD: bool>([a0, a1]: [Z<S::V>; 2]) -> [Z<S::V>; 2] {
            [add::<S>(a0, a1), sub::<S>(a0, a1)]
        }
    }

    impl<S: Lanes> Butterfly<S, 3> for R3 {
        #[inline(always)]
        unsafe fn apply<const FWD: bool>([a0, a1, a2]: [Z<S::V>; 3]) -> [Z<S::V>; 3] {
            let t = add::<S>(a1, a2);
            let m = scale_add::<S>(t, S::vsplat(S::of(-0.5)), a0);
            let r = rot::<S, FWD>(scale::<S>(
                sub::<S>(a1, a2),
                S::vsplat(S::of(0.75f64.sqrt())),
            ));
            [add::<S>(a0, t), add::<S>(m, r), sub::<S>(m, r)]
        }
    }

    impl<S: Lanes> Butterfly<S, 4> for R4 {
        #[inline(always)]
        unsafe fn apply<const FWD: bool>([a0, a1, a2, a3]: [Z<S::V>; 4]) -> [Z<S::V>; 4] {
            let (t0, t1, t2) = (add::<S>(a0, a2), sub::<S>(a0, a2), add::<S>(a1, a3));
            let r = rot::<S, FWD>(sub::<S>(a1, a3));
            [
                add::<S>(t0, t2),
                add::<S>(t1, r),
                sub::<S>(t0, t2),
                sub::<S>(t1, r),
            ]
        }
    }

    impl<S: Lanes> Butterfly<S, 5> for R5 {
        #[inline(always)]
        unsafe fn apply<const FWD: bool>([a0, a1, a2, a3, a4]: [Z<S::V>; 5]) -> [Z<S::V>; 5] {
            let tau = 2.0 * std::f64::consts::PI / 5.0;
            let (c1, c2) = (
                S::vsplat(S::of(tau.cos())),
                S::vsplat(S::of((2.0 * tau).cos())),
            );
            let (s1, s2) = (
                S::vsplat(S::of(tau.sin())),
                S::vsplat(S::of((2.0 * tau).sin())),
            );
            let (t1, t2) = (add::<S>(a1, a4), add::<S>(a2, a3));
            let (t3, t4) = (sub::<S>(a1, a4), sub::<S>(a2, a3));
            let m1 = scale_add::<S>(t2, c2, scale_add::<S>(t1, c1, a0));
            let m2 = scale_add::<S>(t2, c1, scale_add::<S>(t1, c2, a0));
            let r1 = rot::<S, FWD>(scale_add::<S>(t4, s2, scale::<S>(t3, s1)));
            let r2 = rot::<S, FWD>(sub::<S>(scale::<S>(t3, s2), scale::<S>(t4, s1)));
            [
                add::<S>(add::<S>(a0, t1), t2),
                add::<S>(m1, r1),
                add::<S>(m2, r2),
                sub::<S>(m2, r2),
                sub::<S>(m1, r1),
            ]
        }
    }

    /// One stage over the lane buffer of `h` points: forward, the butterfly then the twiddles;
    /// inverse (the adjoint), the conjugate twiddles then the inverse butterfly.
    #[inline(always)]
    unsafe fn stage<S: Lanes, const P: usize, const FWD: bool, B: Butterfly<S, P>>(
        s: &Stage<S>,
        buf: *mut S,
        h: usize,
    ) {
        let m = s.len / P;
        let tw = s.tw.as_ptr();
        for base in (0..h).step_by(s.len) {
            for j in 0..m {
                let e = base + j;
                let t = tw.add(2 * (P - 1) * j);
                let mut a = [ld::<S>(buf, e); P];
                for (q, z) in a.iter_mut().enumerate().skip(1) {
                    *z = ld::<S>(buf, e + q * m);
                    if !FWD {
                        let (wr, wi) = (*t.add(2 * (q - 1)), *t.add(2 * (q - 1) + 1));
                        *z = twiddle::<S, false>(*z, S::vsplat(wr), S::vsplat(wi));
                    }
                }
                let y = B::apply::<FWD>(a);
                st::<S>(buf, e, y[0]);
                for (q, &z) in y.iter().enumerate().skip(1) {
                    let z = if FWD {
                        let (wr, wi) = (*t.add(2 * (q - 1)), *t.add(2 * (q - 1) + 1));
                        twiddle::<S, true>(z, S::vsplat(wr), S::vsplat(wi))
                    } else {
                        z
                    };
                    st::<S>(buf, e + q * m, z);
                }
            }
        }
    }

    #[inline(always)]
    unsafe fn run_stage<S: Lanes, const FWD: bool>(s: &Stage<S>, buf: *mut S, h: usize) {
        match s.radix {
            2 => stage::<S, 2, FWD, R2>(s, buf, h),
            3 => stage::<S, 3, FWD, R3>(s, buf, h),
            4 => stage::<S, 4, FWD, R4>(s, buf, h),
            5 => stage::<S, 5, FWD, R5>(s, buf, h),
            r => unreachable!("radix {r}"),
        }
    }

    /// The forward split of bins `k` and `h − k` of the `W` rows (`Z` in lanes, read at their
    /// digit-reversed positions): `(X[k], X[h−k])`.
    #[inline(always)]
    unsafe fn split<S: Lanes>(p: &LaneFft<S>, tw: &[S], buf: *const S, k: usize) -> [Z<S::V>; 2] {
        let a = ld::<S>(buf, p.pos[k] as usize);
        let b = ld::<S>(buf, p.pos[p.n - k] as usize);
        let (tr, ti) = (S::vsplat(tw[2 * k]), S::vsplat(tw[2 * k + 1]));
        let half = S::vsplat(S::of(0.5));
        // E = (Z[k] + conj Z[h−k]) / 2, o = Z[k] − conj Z[h−k], w^k O = t · (−i o).
        let (er, ei) = (
            S::vmul(half, S::vadd(a.re, b.re)),
            S::vmul(half, S::vsub(a.im, b.im)),
        );
        let (or, oi) = (S::vsub(a.re, b.re), S::vadd(a.im, b.im));
        let wr = S::vmul_add(tr, oi, S::vmul(ti, or));
        let wi = S::vmul_sub(ti, oi, S::vmul(tr, or));
        [
            Z {
                re: S::vadd(er, wr),
                im: S::vadd(ei, wi),
            },
            Z {
                re: S::vsub(er, wr),
                im: S::vsub(wi, ei),
            },
        ]
    }

    /// The inverse merge of bins `a = X[k]` and `b = X[h−k]` (lanes), scaled by `s`, into
    /// `(2s·Z[k], 2s·Z[h−k])` of the half-length transform.
    #[inline(always)]
    unsafe fn merge<S: Lanes>(tw: &[S], k: usize, a: Z<S::V>, b: Z<S::V>, s: S::V) -> [Z<S::V>; 2] {
        let (tr, ti) = (S::vsplat(tw[2 * k]), S::vsplat(tw[2 * k + 1]));
        let two = S::vadd(s, s);
        let (sr, si) = (
            S::vmul(S::vadd(a.re, b.re), s),
            S::vmul(S::vsub(a.im, b.im), s),
        );
        let (fr, fi) = (
            S::vmul(S::vsub(a.re, b.re), two),
            S::vmul(S::vadd(a.im, b.im), two),
        );
        let dr = S::vmul_add(tr, fr, S::vmul(ti, fi));
        let di = S::vmul_sub(tr, fi, S::vmul(ti, fr));
        [
            Z {
                re: S::vsub(sr, di),
                im: S::vadd(si, dr),
            },
            Z {
                re: S::vadd(sr, di),
                im: S::vsub(dr, si),
            },
        ]
    }

    /// The lanes of `z`, real parts then imaginary parts, as scalars (`2W` of the 16).
    #[inline(always)]
    unsafe fn spill<S: Lanes>(z: Z<S::V>) -> [S; 16] {
        let mut a = [S::zero(); 16];
        st::<S>(a.as_mut_ptr(), 0, z);
        a
    }

    /// `W` complex numbers gathered from scalars: `(re(l), im(l))` for lane `l`, zero where
    /// `l ≥ lanes`.
    #[inline(always)]
    unsafe fn gather<S: Lanes>(
        lanes: usize,
        re: impl Fn(usize) -> S,
        im: impl Fn(usize) -> S,
    ) -> Z<S::V> {
        let mut a = [S::zero(); 16];
        for l in 0..lanes {
            (a[l], a[S::W + l]) = (re(l), im(l));
        }
        ld::<S>(a.as_ptr(), 0)
    }

    /// See [`super::LaneFft::real_forward`] (`half_tw` as reals); `input`, `output` and `buf`
    /// as reals.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn forward<S: Lanes>(
        p: &LaneFft<S>,
        half_tw: &[S],
        input: &[S],
        output: &mut [S],
        buf: &mut [S],
    ) {
        let (w, half) = (S::W, S::W / 2);
        let (h, n, m) = (p.n, 2 * p.n, 2 * (p.n + 1));
        let (x, out, b) = (input.as_ptr(), output.as_mut_ptr(), buf.as_mut_ptr());
        // Point j of row l is (x[l·n + 2j], x[l·n + 2j + 1]): W/2 points of each of the W rows
        // per register, transposed.
        let mut r = [S::vsplat(S::zero()); 8];
        let mut j = 0;
        while j + half <= h {
            for (l, v) in r.iter_mut().take(w).enumerate() {
                *v = S::vload(x.add(l * n + 2 * j));
            }
            S::vtranspose(&mut r);
            for i in 0..half {
                st::<S>(
                    b,
                    j + i,
                    Z {
                        re: r[2 * i],
                        im: r[2 * i + 1],
                    },
                );
            }
            j += half;
        }
        for j in j..h {
            let z = gather::<S>(w, |l| *x.add(l * n + 2 * j), |l| *x.add(l * n + 2 * j + 1));
            st::<S>(b, j, z);
        }
        for s in &p.stages {
            run_stage::<S, true>(s, b, h);
        }
        // Bins 0 and h from Z[0]; then the pairs (k, h − k), W/2 consecutive k at a time while
        // the last of them stays below its partner.
        let z0 = spill::<S>(ld::<S>(b, p.pos[0] as usize));
        for l in 0..w {
            let (re, im) = (z0[l], z0[w + l]);
            let o = out.add(l * m);
            (*o, *o.add(1)) = (re + im, S::zero());
            (*o.add(2 * h), *o.add(2 * h + 1)) = (re - im, S::zero());
        }
        let mut k = 1;
        while k + half - 1 < h - (k + half - 1) {
            let (mut lo, mut hi) = ([S::vsplat(S::zero()); 8], [S::vsplat(S::zero()); 8]);
            for i in 0..half {
                let [x, y] = split::<S>(p, half_tw, b, k + i);
                (lo[2 * i], lo[2 * i + 1]) = (x.re, x.im);
                (hi[2 * (half - 1 - i)], hi[2 * (half - 1 - i) + 1]) = (y.re, y.im);
            }
            S::vtranspose(&mut lo);
            S::vtranspose(&mut hi);
            for l in 0..w {
                S::vstore(out.add(l * m + 2 * k), lo[l]);
                S::vstore(out.add(l * m + 2 * (h - k - half + 1)), hi[l]);
            }
            k += half;
        }
        while k <= h - k {
            let [x0, y0] = split::<S>(p, half_tw, b, k);
            let (x0, y0) = (spill::<S>(x0), spill::<S>(y0));
            for l in 0..w {
                let o = out.add(l * m);
                (*o.add(2 * k), *o.add(2 * k + 1)) = (x0[l], x0[w + l]);
                (*o.add(2 * (h - k)), *o.add(2 * (h - k) + 1)) = (y0[l], y0[w + l]);
            }
            k += 1;
        }
    }

    /// See [`super::LaneFft::real_inverse`] (`half_tw` as reals); `input`, `output` and `buf`
    /// as reals.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn inverse<S: Lanes>(
        p: &LaneFft<S>,
        half_tw: &[S],
        input: &[S],
        output: &mut [S],
        scale: S,
        buf: &mut [S],
    ) {
        let (w, half) = (S::W, S::W / 2);
        let (h, n, m) = (p.n, 2 * p.n, 2 * (p.n + 1));
        let (x, out, b) = (input.as_ptr(), output.as_mut_ptr(), buf.as_mut_ptr());
        let s = S::vsplat(scale);
        // Z[0] from the real parts of bins 0 and h.
        let z0 = gather::<S>(
            w,
            |l| (*x.add(l * m) + *x.add(l * m + 2 * h)) * scale,
            |l| (*x.add(l * m) - *x.add(l * m + 2 * h)) * scale,
        );
        st::<S>(b, p.pos[0] as usize, z0);
        let mut k = 1;
        while k + half - 1 < h - (k + half - 1) {
            let (mut lo, mut hi) = ([S::vsplat(S::zero()); 8], [S::vsplat(S::zero()); 8]);
            for l in 0..w {
                lo[l] = S::vload(x.add(l * m + 2 * k));
                hi[l] = S::vload(x.add(l * m + 2 * (h - k - half + 1)));
            }
            S::vtranspose(&mut lo);
            S::vtranspose(&mut hi);
            for i in 0..half {
                let a = Z {
                    re: lo[2 * i],
                    im: lo[2 * i + 1],
                };
                let c = 2 * (half - 1 - i);
                let bb = Z {
                    re: hi[c],
                    im: hi[c + 1],
                };
                let [za, zb] = merge::<S>(half_tw, k + i, a, bb, s);
                st::<S>(b, p.pos[k + i] as usize, za);
                st::<S>(b, p.pos[h - k - i] as usize, zb);
            }
            k += half;
        }
        while k <= h - k {
            let a = gather::<S>(w, |l| *x.add(l * m + 2 * k), |l| *x.add(l * m + 2 * k + 1));
            let bb = gather::<S>(
                w,
                |l| *x.add(l * m + 2 * (h - k)),
                |l| *x.add(l * m + 2 * (h - k) + 1),
            );
            let [za, zb] = merge::<S>(half_tw, k, a, bb, s);
            st::<S>(b, p.pos[k] as usize, za);
            st::<S>(b, p.pos[h - k] as usize, zb);
            k += 1;
        }
        for st_ in p.stages.iter().rev() {
            run_stage::<S, false>(st_, b, h);
        }
        // Natural order: point j of the lanes is (out[l·n + 2j], out[l·n + 2j + 1]).
        let mut r = [S::vsplat(S::zero()); 8];
        let mut j = 0;
        while j + half <= h {
            for i in 0..half {
                let z = ld::<S>(b, j + i);
                (r[2 * i], r[2 * i + 1]) = (z.re, z.im);
            }
            S::vtranspose(&mut r);
            for (l, v) in r.iter().take(w).enumerate() {
                S::vstore(out.add(l * n + 2 * j), *v);
            }
            j += half;
        }
        for j in j..h {
            let z = spill::<S>(ld::<S>(b, j));
            for l in 0..w {
                (*out.add(l * n + 2 * j), *out.add(l * n + 2 * j + 1)) = (z[l], z[w + l]);
            }
        }
    }

    /// One group of `wg ≤ W` adjacent complex columns of `p.n` rows (`row(i)`: row `i`'s first
    /// element, as reals), transformed in place (`FWD`: forward, else inverse), scaled by `s`.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn columns<S: Lanes, const FWD: bool>(
        p: &LaneFft<S>,
        row: impl Fn(usize) -> *mut S,
        wg: usize,
        s: S,
        skip: Skip,
        buf: &mut [S],
    ) {
        let n = p.n;
        let b = buf.as_mut_ptr();
        let (lo, hi) = match skip {
            Skip::ZeroInput(lo, hi) | Skip::KeepOutput(lo, hi) => (lo, hi),
            Skip::None => (n, n),
        };
        let zero_input = matches!(skip, Skip::ZeroInput(..));
        let keep_output = matches!(skip, Skip::KeepOutput(..));
        let zero = S::vsplat(S::zero());
        // The inverse takes its input at the digit-reversed positions, the forward gives its
        // output there.
        for i in 0..n {
            let e = if FWD { i } else { p.pos[i] as usize };
            let z = if zero_input && (lo..hi).contains(&i) {
                Z { re: zero, im: zero }
            } else if wg == S::W {
                let r = row(i);
                let (re, im) = S::deinterleave(S::vload(r), S::vload(r.add(S::W)));
                Z { re, im }
            } else {
                let r = row(i);
                gather::<S>(wg, |l| *r.add(2 * l), |l| *r.add(2 * l + 1))
            };
            st::<S>(b, e, z);
        }
        if FWD {
            for st_ in &p.stages {
                run_stage::<S, true>(st_, b, n);
            }
        } else {
            for st_ in p.stages.iter().rev() {
                run_stage::<S, false>(st_, b, n);
            }
        }
        let sv = S::vsplat(s);
        for k in 0..n {
            if keep_output && (lo..hi).contains(&k) {
                continue;
            }
            let e = if FWD { p.pos[k] as usize } else { k };
            let z = ld::<S>(b, e);
            let (re, im) = (S::vmul(z.re, sv), S::vmul(z.im, sv));
            let r = row(k);
            if wg == S::W {
                let (a, c) = S::interleave(re, im);
                S::vstore(r, a);
                S::vstore(r.add(S::W), c);
            } else {
                let z = spill::<S>(Z { re, im });
                for l in 0..wg {
                    (*r.add(2 * l), *r.add(2 * l + 1)) = (z[l], z[S::W + l]);
                }
            }
        }
    }
}
