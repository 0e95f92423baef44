//! Lane-SIMD batched FFTs: `W` independent lines (adjacent columns of a strided pass)
//! transformed at once, point `j` of the `W` lines held as `W` lanes (one 512-bit vector of
//! `T`: [`width`]), so that every arithmetic operation of one transform is a vector operation
//! over the lines and no shuffles are needed inside the transform (rustfft vectorises within
//! one line: 2 complex f64 per 256-bit vector, with transposes between its steps).
//!
//! Lane layout of `W` lines of `n` points: a `[T]` buffer of `2·n·W` values, point `j` at
//! `2·j·W`: the `W` real parts, then the `W` imaginary parts.
//!
//! Algorithm: Stockham autosort (out of place between two buffers, output in natural order),
//! radix 4, 2, 3, 5 decimation-in-frequency stages with per-stage twiddles precomputed by the
//! plan. Lengths with another prime factor have no lane plan ([`LaneFft::new`] is `None`): the
//! callers use rustfft for them. The loops are compiled for AVX-512 / AVX2 + FMA at run time
//! ([`dispatch`]).

use crate::par::SharedMut;
use backend_core::{Direction, Real, C};
use std::ops::{Add, Mul, Sub};

/// Longest lines transformed in lanes: the two lane buffers (`2·n·W` values each, 128 bytes
/// per point) then stay within about twice a 48 KiB L1 data cache. Measured (one thread,
/// loaded machine): on longer lines (800, 1000 points) every Stockham pass streams through L2
/// and rustfft on gathered lines is faster; on lines of 100 and 200 the lanes are faster.
pub(super) const LANE_MAX: usize = 256;

/// Lines per lane block: one 512-bit vector of `T` (8 for f64, 16 for f32).
pub(super) const fn width<T>() -> usize {
    64 / std::mem::size_of::<T>()
}

/// One Stockham stage of radix `radix`: `l1` sub-transforms of `radix · ido` points in, `l1 ·
/// radix` of `ido` points out.
struct Stage<T> {
    radix: usize,
    l1: usize,
    ido: usize,
    /// `e^{−2iπ·i·j/(radix·ido)}` for `i < ido`, `1 ≤ j < radix`: (re, im) at `2(i(radix−1) + j−1)`.
    tw: Vec<T>,
}

/// A lane-SIMD complex FFT of `n` points (both directions, unnormalised).
pub(super) struct LaneFft<T> {
    n: usize,
    stages: Vec<Stage<T>>,
}

impl<T: Real> LaneFft<T> {
    /// The plan for `n` points, or `None` when `n` is above [`LANE_MAX`] or has a prime factor
    /// above 5.
    pub(super) fn new(n: usize) -> Option<Self> {
        if n > LANE_MAX {
            return None;
        }
        let mut radices = Vec::new();
        let mut m = n;
        for p in [4, 2, 3, 5] {
            while m > 0 && m.is_multiple_of(p) {
                radices.push(p);
                m /= p;
            }
        }
        if m != 1 {
            return None;
        }
        let mut l1 = 1;
        let stages = radices
            .into_iter()
            .map(|radix| {
                let ido = n / (l1 * radix);
                let len = (radix * ido) as f64;
                let tw = (0..ido)
                    .flat_map(|i| (1..radix).map(move |j| (i * j) as f64))
                    .flat_map(|ij| {
                        let a = -2.0 * std::f64::consts::PI * ij / len;
                        [T::of(a.cos()), T::of(a.sin())]
                    })
                    .collect();
                let s = Stage { radix, l1, ido, tw };
                l1 *= radix;
                s
            })
            .collect();
        Some(LaneFft { n, stages })
    }

    /// Points per line.
    pub(super) fn len(&self) -> usize {
        self.n
    }

    /// Transforms the `W` lines of `a` (lane layout, `2·n·W` values), with `b` as the other
    /// Stockham buffer (as long); returns the buffer that holds the result.
    #[inline(always)]
    fn run<'a, const W: usize, const FWD: bool>(
        &self,
        a: &'a mut [T],
        b: &'a mut [T],
    ) -> &'a mut [T] {
        let (mut src, mut dst) = (a, b);
        for s in &self.stages {
            match s.radix {
                2 => pass::<T, W, 2, FWD, R2>(s, src, dst),
                3 => pass::<T, W, 3, FWD, R3>(s, src, dst),
                4 => pass::<T, W, 4, FWD, R4>(s, src, dst),
                5 => pass::<T, W, 5, FWD, R5>(s, src, dst),
                _ => unreachable!("LaneFft::new plans radices 2, 3, 4, 5 only"),
            }
            std::mem::swap(&mut src, &mut dst);
        }
        src
    }
}

/// The butterfly of a radix-`P` stage: `y[j] = Σ_q a[q] e^{∓2iπ·jq/P}` (− forward).
trait Butterfly<T: Real, const W: usize, const P: usize> {
    fn apply<const FWD: bool>(a: [Z<T, W>; P]) -> [Z<T, W>; P];
}

/// Radix 2.
struct R2;
/// Radix 3 (`e^{∓2iπ/3} = −1/2 ∓ i·√3/2`).
struct R3;
/// Radix 4.
struct R4;
/// Radix 5 (`c_k = cos(2πk/5)`, `s_k = sin(2πk/5)`).
struct R5;

impl<T: Real, const W: usize> Butterfly<T, W, 2> for R2 {
    #[inline(always)]
    fn apply<const FWD: bool>([a0, a1]: [Z<T, W>; 2]) -> [Z<T, W>; 2] {
        [a0 + a1, a0 - a1]
    }
}

impl<T: Real, const W: usize> Butterfly<T, W, 3> for R3 {
    #[inline(always)]
    fn apply<const FWD: bool>([a0, a1, a2]: [Z<T, W>; 3]) -> [Z<T, W>; 3] {
        let t = a1 + a2;
        let m = a0 - t * T::of(0.5);
        let r = rot::<T, W, FWD>((a1 - a2) * T::of(0.75f64.sqrt()));
        [a0 + t, m + r, m - r]
    }
}

impl<T: Real, const W: usize> Butterfly<T, W, 4> for R4 {
    #[inline(always)]
    fn apply<const FWD: bool>([a0, a1, a2, a3]: [Z<T, W>; 4]) -> [Z<T, W>; 4] {
        let (t0, t1, t2) = (a0 + a2, a0 - a2, a1 + a3);
        let r = rot::<T, W, FWD>(a1 - a3);
        [t0 + t2, t1 + r, t0 - t2, t1 - r]
    }
}

impl<T: Real, const W: usize> Butterfly<T, W, 5> for R5 {
    #[inline(always)]
    fn apply<const FWD: bool>([a0, a1, a2, a3, a4]: [Z<T, W>; 5]) -> [Z<T, W>; 5] {
        let tau = 2.0 * std::f64::consts::PI / 5.0;
        let (c1, c2) = (T::of(tau.cos()), T::of((2.0 * tau).cos()));
        let (s1, s2) = (T::of(tau.sin()), T::of((2.0 * tau).sin()));
        let (t1, t2, t3, t4) = (a1 + a4, a2 + a3, a1 - a4, a2 - a3);
        let m1 = a0 + t1 * c1 + t2 * c2;
        let m2 = a0 + t1 * c2 + t2 * c1;
        let r1 = rot::<T, W, FWD>(t3 * s1 + t4 * s2);
        let r2 = rot::<T, W, FWD>(t3 * s2 - t4 * s1);
        [a0 + t1 + t2, m1 + r1, m2 + r2, m2 - r2, m1 - r1]
    }
}

/// `W` lanes of `T`.
#[derive(Clone, Copy)]
struct V<T, const W: usize>([T; W]);

impl<T: Real, const W: usize> V<T, W> {
    #[inline(always)]
    fn map2(self, o: Self, f: impl Fn(T, T) -> T) -> Self {
        let mut r = self;
        for l in 0..W {
            r.0[l] = f(self.0[l], o.0[l]);
        }
        r
    }

    #[inline(always)]
    fn scale(self, s: T) -> Self {
        let mut r = self;
        for v in &mut r.0 {
            *v *= s;
        }
        r
    }
}

/// `W` lanes of complex numbers, split into real and imaginary parts.
#[derive(Clone, Copy)]
struct Z<T, const W: usize> {
    re: V<T, W>,
    im: V<T, W>,
}

impl<T: Real, const W: usize> Add for Z<T, W> {
    type Output = Self;
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        Z {
            re: self.re.map2(o.re, |a, b| a + b),
            im: self.im.map2(o.im, |a, b| a + b),
        }
    }
}

impl<T: Real, const W: usize> Sub for Z<T, W> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        Z {
            re: self.re.map2(o.re, |a, b| a - b),
            im: self.im.map2(o.im, |a, b| a - b),
        }
    }
}

impl<T: Real, const W: usize> Mul<T> for Z<T, W> {
    type Output = Self;
    #[inline(always)]
    fn mul(self, s: T) -> Self {
        Z {
            re: self.re.scale(s),
            im: self.im.scale(s),
        }
    }
}

impl<T: Real, const W: usize> Z<T, W> {
    /// Times `wr + i·wi` (forward) or its conjugate (inverse).
    #[inline(always)]
    fn twiddle<const FWD: bool>(self, wr: T, wi: T) -> Self {
        let wi = if FWD { wi } else { -wi };
        let mut r = self;
        for l in 0..W {
            let (a, b) = (self.re.0[l], self.im.0[l]);
            r.re.0[l] = a * wr - b * wi;
            r.im.0[l] = a * wi + b * wr;
        }
        r
    }
}

/// `−i·z` (forward) or `i·z` (inverse).
#[inline(always)]
fn rot<T: Real, const W: usize, const FWD: bool>(z: Z<T, W>) -> Z<T, W> {
    let mut r = z;
    for l in 0..W {
        let (a, b) = (z.re.0[l], z.im.0[l]);
        (r.re.0[l], r.im.0[l]) = if FWD { (b, -a) } else { (-b, a) };
    }
    r
}

/// Point `e` of a lane buffer.
#[inline(always)]
fn ld<T: Real, const W: usize>(buf: &[T], e: usize) -> Z<T, W> {
    let s = &buf[2 * W * e..2 * W * (e + 1)];
    Z {
        re: V(s[..W].try_into().expect("W lanes")),
        im: V(s[W..].try_into().expect("W lanes")),
    }
}

/// Writes point `e` of a lane buffer.
#[inline(always)]
fn st<T: Real, const W: usize>(buf: &mut [T], e: usize, z: Z<T, W>) {
    let s = &mut buf[2 * W * e..2 * W * (e + 1)];
    s[..W].copy_from_slice(&z.re.0);
    s[W..].copy_from_slice(&z.im.0);
}

/// One Stockham stage of radix `P`: `cc(i, q, k) = cc[i + ido(q + P·k)]` to `ch(i, k, j) =
/// ch[i + ido(k + l1·j)] = w^{ij} · butterfly(cc(i, ·, k))[j]`, `w = e^{∓2iπ/(P·ido)}`.
#[inline(always)]
fn pass<T: Real, const W: usize, const P: usize, const FWD: bool, B: Butterfly<T, W, P>>(
    s: &Stage<T>,
    cc: &[T],
    ch: &mut [T],
) {
    let (l1, ido) = (s.l1, s.ido);
    for k in 0..l1 {
        for i in 0..ido {
            // Filled by a loop, not `std::array::from_fn`: LLVM does not always inline the
            // latter into the target-feature entry points (a 2x slower 3D convolution once).
            let mut a = [ld::<T, W>(cc, i + ido * P * k); P];
            for (q, z) in a.iter_mut().enumerate().skip(1) {
                *z = ld::<T, W>(cc, i + ido * (q + P * k));
            }
            let y = B::apply::<FWD>(a);
            st(ch, i + ido * k, y[0]);
            let tw = &s.tw[2 * (P - 1) * i..2 * (P - 1) * (i + 1)];
            for j in 1..P {
                let z = y[j].twiddle::<FWD>(tw[2 * (j - 1)], tw[2 * (j - 1) + 1]);
                st(ch, i + ido * (k + l1 * j), z);
            }
        }
    }
}

/// Work that runs at one lane width `W` ([`width`] of its `T`), compiled for the best
/// instruction set of the running CPU by [`dispatch`].
pub(super) trait Kernel<T: Real> {
    /// Runs the work (implementations are `#[inline(always)]`, so that they are compiled with
    /// the caller's target features).
    fn run<const W: usize>(self);
}

/// Runs `k` at `W = width::<T>()`, compiled for AVX-512, AVX2 + FMA or the baseline.
pub(super) fn dispatch<T: Real, K: Kernel<T>>(k: K) {
    #[inline(always)]
    fn at_width<T: Real, K: Kernel<T>>(k: K) {
        match width::<T>() {
            8 => k.run::<8>(),
            16 => k.run::<16>(),
            w => unreachable!("lane width {w}"),
        }
    }
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
        fn avx512<T: Real, K: Kernel<T>>(k: K) {
            at_width(k)
        }
        #[target_feature(enable = "avx2,fma")]
        fn avx2<T: Real, K: Kernel<T>>(k: K) {
            at_width(k)
        }
        if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512vl") {
            // SAFETY: the CPU has every feature `avx512` is compiled for.
            return unsafe { avx512(k) };
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has every feature `avx2` is compiled for.
            return unsafe { avx2(k) };
        }
    }
    at_width(k)
}

thread_local! {
    /// Lane buffers of this thread, kept between transforms: a fresh allocation of this size
    /// per task costs page faults and zeroing comparable to the transform itself.
    static BUFFERS: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `f` with the two lane buffers of a transform of `n` points, together (`4·n·W` values of
/// `T`), taken from this thread's cache.
pub(super) fn with_buffers<T: Real, R>(n: usize, f: impl FnOnce(&mut [T]) -> R) -> R {
    assert!(
        std::mem::align_of::<T>() <= 8 && 8 % std::mem::size_of::<T>() == 0,
        "lane buffers hold f32 or f64"
    );
    let len = 4 * n * width::<T>();
    let words = (len * std::mem::size_of::<T>()).div_ceil(8);
    // Taken out while in use, so that a nested call (none today) would allocate its own.
    let mut v = BUFFERS.with(|b| std::mem::take(&mut *b.borrow_mut()));
    if v.len() < words {
        v.resize(words, 0);
    }
    // SAFETY: `v` holds at least `len` values of `T` (size dividing 8, alignment at most 8),
    // any bit pattern of which is a valid f32 / f64.
    let bufs = unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr().cast::<T>(), len) };
    let r = f(bufs);
    BUFFERS.with(|b| *b.borrow_mut() = v);
    r
}

/// The two halves of `bufs` (at least `4·n·W` values) as Stockham buffers.
#[inline(always)]
fn split<T, const W: usize>(bufs: &mut [T], n: usize) -> (&mut [T], &mut [T]) {
    let (a, b) = bufs[..4 * n * W].split_at_mut(2 * n * W);
    (a, b)
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
/// first column's top element at flat position `base`), in place, in lane groups of `W`
/// adjacent columns (no transposes: one row of a group is `W` contiguous elements), scaled by
/// `scale`. The caller guarantees that no other task touches these columns concurrently.
pub(super) struct Columns<'a, T: Real> {
    pub fft: &'a LaneFft<T>,
    pub data: &'a SharedMut<C<T>>,
    pub base: usize,
    pub inner: usize,
    pub cols: usize,
    pub dir: Direction,
    pub scale: Option<T>,
    pub skip: Skip,
    /// At least `4·n·W` values ([`with_buffers`]).
    pub bufs: &'a mut [T],
}

impl<T: Real> Kernel<T> for Columns<'_, T> {
    #[inline(always)]
    fn run<const W: usize>(self) {
        match self.dir {
            Direction::Forward => self.go::<W, true>(),
            Direction::Inverse => self.go::<W, false>(),
        }
    }
}

impl<T: Real> Columns<'_, T> {
    #[inline(always)]
    fn go<const W: usize, const FWD: bool>(self) {
        let n = self.fft.len();
        let (a, b) = split::<T, W>(self.bufs, n);
        let zero = T::zero();
        let (lo, hi) = match self.skip {
            Skip::ZeroInput(lo, hi) | Skip::KeepOutput(lo, hi) => (lo, hi),
            Skip::None => (n, n),
        };
        let zero_input = matches!(self.skip, Skip::ZeroInput(..));
        let keep_output = matches!(self.skip, Skip::KeepOutput(..));
        let s = self.scale.unwrap_or(T::one());
        for g in (0..self.cols).step_by(W) {
            let wg = W.min(self.cols - g);
            let col = self.base + g;
            for i in 0..n {
                let e = &mut a[2 * W * i..2 * W * (i + 1)];
                if zero_input && (lo..hi).contains(&i) {
                    e.fill(zero);
                    continue;
                }
                // SAFETY: these columns belong to this task (see `Columns`).
                let row = unsafe { self.data.slice(col + i * self.inner, wg) };
                if wg == W {
                    for l in 0..W {
                        e[l] = row[l].re;
                        e[W + l] = row[l].im;
                    }
                } else {
                    e.fill(zero);
                    for (l, v) in row.iter().enumerate() {
                        e[l] = v.re;
                        e[W + l] = v.im;
                    }
                }
            }
            let out = self.fft.run::<W, FWD>(a, b);
            for i in 0..n {
                if keep_output && (lo..hi).contains(&i) {
                    continue;
                }
                let e = &out[2 * W * i..2 * W * (i + 1)];
                // SAFETY: as above.
                let row = unsafe { self.data.slice(col + i * self.inner, wg) };
                if wg == W {
                    for l in 0..W {
                        row[l] = C::new(e[l] * s, e[W + l] * s);
                    }
                } else {
                    for (l, v) in row.iter_mut().enumerate() {
                        *v = C::new(e[l] * s, e[W + l] * s);
                    }
                }
            }
        }
    }
}
