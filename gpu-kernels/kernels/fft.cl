/* Batched Stockham autosort FFT (mixed radix 2, 3, 4, 5, 7 and a generic odd radix), along one
 * axis of a row-major array seen as (outer, n, inner): element e of transform (b, i) lives at
 * (b * n + e) * inner + i. A transform of length n = R_1 R_2 ... runs one stage per factor,
 * ping-ponging between two buffers; `ns` is the product of the radices of the earlier stages
 * (1 for the first). The result is in natural order after the last stage.
 *
 * Twiddles: `tw[m] = exp(-2 i pi m / n)`, m < n, computed on the host in f64; inverse
 * transforms use conj(tw). Every stage multiplies its output by `scale` (1, or 1/N on the
 * last stage of an inverse transform).
 *
 * Stage kernels, all with the same arguments and launch geometry:
 *   Args: in, out, tw, n, inner, ns, nthreads, inverse, scale   (generic: + radix p)
 *   Launch: 1D, one work item per butterfly: nthreads = outer * inner * (n / R), the inner index
 *   varying fastest.
 */

/* x tw[t] (conj if inverse). */
FUNC REAL2 epri_twiddle(REAL2 x, GLOBAL const REAL2 *tw, uint t, int inv) {
    if (t == 0) return x;
    REAL2 w = tw[t];
    return c_mul(x, inv ? c_conj(w) : w);
}

/* Root of input r, output q of a radix-p DFT butterfly: tw[r k tws] W_p^{qr}, twp = n / p. */
FUNC REAL2 epri_dft_root(GLOBAL const REAL2 *tw, uint r, uint k, uint tws, uint q, uint p,
                         uint twp, int inv) {
    REAL2 w = c_mul(tw[r * k * tws], tw[((q * r) % p) * twp]);
    return inv ? c_conj(w) : w;
}

/* -1 forward, +1 inverse: the sign sg of the butterflies' sg i products,
 * sg i (a + i b) = -sg b + i sg a. */
FUNC REAL epri_sg(int inv) { return inv ? (REAL)1 : (REAL)-1; }

/* Butterflies of radix 2, 3, 4 and odd R <= 7 on the split parts xr[r], xi[r] (r < R) of type
 * T, and the real-FFT pre/post-processing steps, made by EPRI_BUTTERFLIES for T = REAL (suffix
 * _s: the global stage kernels) and T = LANE (suffix _l: the local-memory kernels, one line per
 * lane). Odd R by symmetric pairs: X_q = A_q + sg i B_q, X_{R-q} = A_q - sg i B_q, with the
 * constants W_R^m = tw[m n / R] of the twiddle table. */
#define EPRI_BUTTERFLIES(T, SUF)                                                             \
    FUNC void epri_bfly2_##SUF(T *xr, T *xi) {                                               \
        T ar = xr[0], ai = xi[0];                                                            \
        xr[0] = ar + xr[1];                                                                  \
        xi[0] = ai + xi[1];                                                                  \
        xr[1] = ar - xr[1];                                                                  \
        xi[1] = ai - xi[1];                                                                  \
    }                                                                                        \
    FUNC void epri_bfly3_##SUF(T *xr, T *xi, REAL sg) {                                      \
        const REAL h = (REAL)0.86602540378443864676; /* sqrt(3) / 2 */                       \
        T sr = xr[1] + xr[2], si = xi[1] + xi[2];                                            \
        T dr = (xr[1] - xr[2]) * h, di = (xi[1] - xi[2]) * h;                                \
        T mr = xr[0] - sr * (REAL)0.5, mi = xi[0] - si * (REAL)0.5;                          \
        T idr = di * -sg, idi = dr * sg;                                                     \
        xr[0] = xr[0] + sr;                                                                  \
        xi[0] = xi[0] + si;                                                                  \
        xr[1] = mr + idr;                                                                    \
        xi[1] = mi + idi;                                                                    \
        xr[2] = mr - idr;                                                                    \
        xi[2] = mi - idi;                                                                    \
    }                                                                                        \
    FUNC void epri_bfly4_##SUF(T *xr, T *xi, REAL sg) {                                      \
        T t0r = xr[0] + xr[2], t0i = xi[0] + xi[2];                                          \
        T t1r = xr[0] - xr[2], t1i = xi[0] - xi[2];                                          \
        T t2r = xr[1] + xr[3], t2i = xi[1] + xi[3];                                          \
        T t3r = (xi[1] - xi[3]) * -sg, t3i = (xr[1] - xr[3]) * sg;                           \
        xr[0] = t0r + t2r;                                                                   \
        xi[0] = t0i + t2i;                                                                   \
        xr[1] = t1r + t3r;                                                                   \
        xi[1] = t1i + t3i;                                                                   \
        xr[2] = t0r - t2r;                                                                   \
        xi[2] = t0i - t2i;                                                                   \
        xr[3] = t1r - t3r;                                                                   \
        xi[3] = t1i - t3i;                                                                   \
    }                                                                                        \
    FUNC void epri_bfly_odd_##SUF(T *xr, T *xi, uint R, REAL sg, GLOBAL const REAL2 *tw,     \
                                  uint n) {                                                  \
        T yr[7], yi[7];                                                                      \
        uint h = R / 2, tws = n / R;                                                         \
        yr[0] = xr[0];                                                                       \
        yi[0] = xi[0];                                                                       \
        for (uint r = 1; r <= h; r++) {                                                      \
            yr[0] = yr[0] + (xr[r] + xr[R - r]);                                             \
            yi[0] = yi[0] + (xi[r] + xi[R - r]);                                             \
        }                                                                                    \
        for (uint q = 1; q <= h; q++) {                                                      \
            T ar = xr[0], ai = xi[0];                                                        \
            T br = ar - ar, bi = ar - ar;                                                    \
            for (uint r = 1; r <= h; r++) {                                                  \
                REAL2 w = tw[((q * r) % R) * tws];                                           \
                REAL c = w.x, s = -w.y; /* cos, sin of 2 pi q r / R */                       \
                ar = ar + (xr[r] + xr[R - r]) * c;                                           \
                ai = ai + (xi[r] + xi[R - r]) * c;                                           \
                br = br + (xr[r] - xr[R - r]) * s;                                           \
                bi = bi + (xi[r] - xi[R - r]) * s;                                           \
            }                                                                                \
            T ibr = bi * -sg, ibi = br * sg;                                                 \
            yr[q] = ar + ibr;                                                                \
            yi[q] = ai + ibi;                                                                \
            yr[R - q] = ar - ibr;                                                            \
            yi[R - q] = ai - ibi;                                                            \
        }                                                                                    \
        for (uint r = 0; r < R; r++) {                                                       \
            xr[r] = yr[r];                                                                   \
            xi[r] = yi[r];                                                                   \
        }                                                                                    \
    }                                                                                        \
    /* Real FFT of length 2h from the complex FFT Z of length h: X[k] = e + w (a - conj b) / \
     * (2 i), e = (a + conj b) / 2, from a = Z[k mod h], b = Z[(h - k) mod h], w = rtw[k]. */  \
    FUNC void epri_r2c_combine_##SUF(T ar, T ai, T br, T bi, REAL2 w, T *xr, T *xi) {        \
        T er = (ar + br) * (REAL)0.5, ei = (ai - bi) * (REAL)0.5;                            \
        T dr = (ar - br) * (REAL)0.5, di = (ai + bi) * (REAL)0.5;                            \
        *xr = er + di * w.x + dr * w.y;                                                      \
        *xi = ei + di * w.y - dr * w.x;                                                      \
    }                                                                                        \
    /* Its inverse: Z[k] = scale (e + i conj(w) d), e = (a + conj b) / 2, d = (a - conj b) / \
     * 2, from a = X[k], b = X[h - k], w = rtw[k] (the caller drops the imaginary parts of   \
     * X[0] and X[h]). */                                                                    \
    FUNC void epri_c2r_combine_##SUF(T ar, T ai, T br, T bi, REAL2 w, REAL scale, T *zr,     \
                                     T *zi) {                                                \
        T er = (ar + br) * (REAL)0.5, ei = (ai - bi) * (REAL)0.5;                            \
        T dr = (ar - br) * (REAL)0.5, di = (ai + bi) * (REAL)0.5;                            \
        T o_r = dr * w.x + di * w.y, o_i = di * w.x - dr * w.y;                              \
        *zr = (er - o_i) * scale;                                                            \
        *zi = (ei + o_r) * scale;                                                            \
    }

EPRI_BUTTERFLIES(REAL, s)
EPRI_BUTTERFLIES(LANE, l)

/* Loads the R inputs of butterfly j, applies the stage twiddles and splits them into xr, xi. */
FUNC void epri_fft_load(GLOBAL const REAL2 *in, GLOBAL const REAL2 *tw, uint base, uint inner,
                        uint n, uint R, uint j, uint ns, int inv, REAL *xr, REAL *xi) {
    uint m = n / R;
    uint k = j % ns;
    uint tws = n / (ns * R);
    for (uint r = 0; r < R; r++) {
        REAL2 v = epri_twiddle(in[base + (j + r * m) * inner], tw, r * k * tws, inv);
        xr[r] = v.x;
        xi[r] = v.y;
    }
}

/* Stores the R outputs of butterfly j at their autosorted places. */
FUNC void epri_fft_store(GLOBAL REAL2 *out, uint base, uint inner, uint R, uint j, uint ns,
                         REAL scale, REAL *xr, REAL *xi) {
    uint d = (j / ns) * ns * R + j % ns;
    for (uint r = 0; r < R; r++)
        out[base + (d + r * ns) * inner] = MAKE_REAL2(xr[r] * scale, xi[r] * scale);
}

/* Splits the work item into (outer b, butterfly j, inner i); returns 0 past the end. */
FUNC int epri_fft_item(uint nthreads, uint n, uint R, uint inner, uint *base, uint *j) {
    uint gid = GLOBAL_ID(0);
    if (gid >= nthreads) return 0;
    uint m = n / R;
    uint i = gid % inner;
    uint t = gid / inner;
    *j = t % m;
    *base = (t / m) * n * inner + i;
    return 1;
}

KERNEL fft_radix2(GLOBAL const REAL2 *in, GLOBAL REAL2 *out, GLOBAL const REAL2 *tw, uint n,
                  uint inner, uint ns, uint nthreads, int inv, REAL scale) {
    uint base, j;
    if (!epri_fft_item(nthreads, n, 2, inner, &base, &j)) return;
    REAL xr[2], xi[2];
    epri_fft_load(in, tw, base, inner, n, 2, j, ns, inv, xr, xi);
    epri_bfly2_s(xr, xi);
    epri_fft_store(out, base, inner, 2, j, ns, scale, xr, xi);
}

KERNEL fft_radix3(GLOBAL const REAL2 *in, GLOBAL REAL2 *out, GLOBAL const REAL2 *tw, uint n,
                  uint inner, uint ns, uint nthreads, int inv, REAL scale) {
    uint base, j;
    if (!epri_fft_item(nthreads, n, 3, inner, &base, &j)) return;
    REAL xr[3], xi[3];
    epri_fft_load(in, tw, base, inner, n, 3, j, ns, inv, xr, xi);
    epri_bfly3_s(xr, xi, epri_sg(inv));
    epri_fft_store(out, base, inner, 3, j, ns, scale, xr, xi);
}

KERNEL fft_radix4(GLOBAL const REAL2 *in, GLOBAL REAL2 *out, GLOBAL const REAL2 *tw, uint n,
                  uint inner, uint ns, uint nthreads, int inv, REAL scale) {
    uint base, j;
    if (!epri_fft_item(nthreads, n, 4, inner, &base, &j)) return;
    REAL xr[4], xi[4];
    epri_fft_load(in, tw, base, inner, n, 4, j, ns, inv, xr, xi);
    epri_bfly4_s(xr, xi, epri_sg(inv));
    epri_fft_store(out, base, inner, 4, j, ns, scale, xr, xi);
}

KERNEL fft_radix5(GLOBAL const REAL2 *in, GLOBAL REAL2 *out, GLOBAL const REAL2 *tw, uint n,
                  uint inner, uint ns, uint nthreads, int inv, REAL scale) {
    uint base, j;
    if (!epri_fft_item(nthreads, n, 5, inner, &base, &j)) return;
    REAL xr[5], xi[5];
    epri_fft_load(in, tw, base, inner, n, 5, j, ns, inv, xr, xi);
    epri_bfly_odd_s(xr, xi, 5, epri_sg(inv), tw, n);
    epri_fft_store(out, base, inner, 5, j, ns, scale, xr, xi);
}

KERNEL fft_radix7(GLOBAL const REAL2 *in, GLOBAL REAL2 *out, GLOBAL const REAL2 *tw, uint n,
                  uint inner, uint ns, uint nthreads, int inv, REAL scale) {
    uint base, j;
    if (!epri_fft_item(nthreads, n, 7, inner, &base, &j)) return;
    REAL xr[7], xi[7];
    epri_fft_load(in, tw, base, inner, n, 7, j, ns, inv, xr, xi);
    epri_bfly_odd_s(xr, xi, 7, epri_sg(inv), tw, n);
    epri_fft_store(out, base, inner, 7, j, ns, scale, xr, xi);
}

/* Any odd radix p (a prime > 7): a direct DFT of the p twiddled inputs, read again from
 * global memory for each output (O(p^2) per butterfly, no private array). Extra arg: p. */
KERNEL fft_radix_generic(GLOBAL const REAL2 *in, GLOBAL REAL2 *out, GLOBAL const REAL2 *tw,
                         uint n, uint inner, uint ns, uint nthreads, int inv, REAL scale,
                         uint p) {
    uint base, j;
    if (!epri_fft_item(nthreads, n, p, inner, &base, &j)) return;
    uint m = n / p, k = j % ns, tws = n / (ns * p), twp = n / p;
    uint d = (j / ns) * ns * p + k;
    for (uint q = 0; q < p; q++) {
        REAL2 acc = MAKE_REAL2((REAL)0, (REAL)0);
        for (uint r = 0; r < p; r++) {
            REAL2 x = in[base + (j + r * m) * inner];
            acc = c_add(acc, c_mul(x, epri_dft_root(tw, r, k, tws, q, p, twp, inv)));
        }
        out[base + (d + q * ns) * inner] = c_scale(acc, scale);
    }
}

/* Bluestein's algorithm for a length n with a prime factor above the generic radix's limit:
 * X_k = w_k sum_j (x_j w_j) conj(w_{k-j}), w_k = exp(-i pi k^2 / n), the sum a circular
 * convolution of length m >= 2n - 1 (a power of two) done by FFTs of length m. The inverse
 * transform is conj(forward(conj(x))). `chirp[k] = w_k`, k < n, computed on the host in f64.
 *
 * fft_bluestein_pre: work[l, k] <- x_l[k] w_k for k < n (conj(x_l[k]) w_k if inverse), 0 for
 * n <= k < m, line l = b * inner + i of `in` seen as (outer, n, inner).
 * Launch: 1D, one work item per work element (lines * m).
 * Args: in, work (lines, m), chirp, n, inner, m, lines, inverse. */
KERNEL fft_bluestein_pre(GLOBAL const REAL2 *in, GLOBAL REAL2 *work, GLOBAL const REAL2 *chirp,
                         uint n, uint inner, uint m, uint lines, int inv) {
    uint g = GLOBAL_ID(0);
    if (g >= lines * m) return;
    uint l = g / m, k = g % m;
    REAL2 v = MAKE_REAL2((REAL)0, (REAL)0);
    if (k < n) {
        REAL2 x = in[((l / inner) * n + k) * inner + l % inner];
        v = c_mul(inv ? c_conj(x) : x, chirp[k]);
    }
    work[g] = v;
}

/* fft_bluestein_post: x_l[k] <- scale w_k work[l, k] (conjugated if inverse), k < n; `scale`
 * includes the 1/m of the unscaled inverse FFT of length m that produced `work`.
 * Launch: 1D, one work item per output element (lines * n).
 * Args: work (lines, m), out, chirp, n, inner, m, lines, inverse, scale. */
KERNEL fft_bluestein_post(GLOBAL const REAL2 *work, GLOBAL REAL2 *out, GLOBAL const REAL2 *chirp,
                          uint n, uint inner, uint m, uint lines, int inv, REAL scale) {
    uint g = GLOBAL_ID(0);
    if (g >= lines * n) return;
    uint l = g / n, k = g % n;
    REAL2 y = c_mul(work[l * m + k], chirp[k]);
    out[((l / inner) * n + k) * inner + l % inner] = c_scale(inv ? c_conj(y) : y, scale);
}

/* Hermitian extension for the complex-to-real transform: `spec` has shape
 * (batch, dims[0], ..., dims[naxes-2], dims[naxes-1]/2 + 1), `full` (batch, dims...);
 * full[.., i, l] = spec[.., i, l] for l <= n/2, conj(spec[.., -i mod dims, n - l]) above.
 * Launch: 1D, one work item per full element (n_full).
 * Args: spec (the half spectrum), full, n_full, naxes, dims. */
KERNEL fft_hermitian_extend(GLOBAL const REAL2 *spec, GLOBAL REAL2 *full, uint n_full,
                            int naxes, DIMS dims) {
    uint g = GLOBAL_ID(0);
    if (g >= n_full) return;
    uint nl = (uint)dims.d[naxes - 1];
    uint nh = nl / 2 + 1;
    uint il = g % nl;
    uint rest = g / nl;
    if (il < nh) {
        full[g] = spec[rest * nh + il];
        return;
    }
    uint src = 0, stride = 1;
    for (int a = naxes - 2; a >= 0; a--) {
        uint na = (uint)dims.d[a];
        uint ia = rest % na;
        rest /= na;
        src += ((na - ia) % na) * stride;
        stride *= na;
    }
    src += rest * stride;
    full[g] = c_conj(spec[src * nh + (nl - il)]);
}

/* Real FFT of even length n = 2h along the last (contiguous) axis through a complex FFT of
 * length h: the real row x is read as the complex row z[k] = x[2k] + i x[2k+1].
 * rtw[k] = exp(-2 i pi k / n), k <= h.
 */

/* fft_r2c_post: from Z = FFT_h(z) to the half spectrum X[k], k = 0..h:
 *   X[k] = (Z[k] + conj(Z[h-k])) / 2 - i rtw[k] (Z[k] - conj(Z[h-k])) / 2   (Z[h] = Z[0]).
 * Launch: 1D, one work item per output element (rows * (h + 1)).
 * Args: z (rows, h), x (rows, h + 1), rtw, h, rows. */
KERNEL fft_r2c_post(GLOBAL const REAL2 *z, GLOBAL REAL2 *x, GLOBAL const REAL2 *rtw, uint h,
                    uint rows) {
    uint g = GLOBAL_ID(0);
    if (g >= rows * (h + 1)) return;
    uint r = g / (h + 1), k = g % (h + 1);
    REAL2 a = z[r * h + k % h], b = z[r * h + (h - k) % h];
    REAL xr, xi;
    epri_r2c_combine_s(a.x, a.y, b.x, b.y, rtw[k], &xr, &xi);
    x[g] = MAKE_REAL2(xr, xi);
}

/* fft_c2r_pre: from the half spectrum X (imaginary parts of X[0] and X[h] ignored) to
 * Z[k] = scale (E[k] + i O[k]), k < h, with E[k] = (X[k] + conj(X[h-k])) / 2 and
 * O[k] = conj(rtw[k]) (X[k] - conj(X[h-k])) / 2; the inverse FFT of length h of Z (unscaled)
 * is then z[k] = x[2k] + i x[2k+1] times scale * h.
 * Launch: 1D, one work item per output element (rows * h).
 * Args: x (rows, h + 1), z (rows, h), rtw, h, rows, scale. */
KERNEL fft_c2r_pre(GLOBAL const REAL2 *x, GLOBAL REAL2 *z, GLOBAL const REAL2 *rtw, uint h,
                   uint rows, REAL scale) {
    uint g = GLOBAL_ID(0);
    if (g >= rows * h) return;
    uint r = g / h, k = g % h;
    REAL2 a = x[r * (h + 1) + k], b = x[r * (h + 1) + h - k];
    if (k == 0) {
        a.y = (REAL)0;
        b.y = (REAL)0;
    }
    REAL zr, zi;
    epri_c2r_combine_s(a.x, a.y, b.x, b.y, rtw[k], scale, &zr, &zi);
    z[g] = MAKE_REAL2(zr, zi);
}

/* Line FFTs in local memory, EPRI_FFT_LANES lines per work group (any group size): each
 * line (n <= EPRI_FFT_LOCAL_MAX) read once into its lane of split real / imaginary LANE arrays,
 * every stage between the halves of these arrays, written once. `radices`: the stage radices
 * in order, 1 after the last (primes > 7: direct DFT). They make the zero-padded convolution
 * (Backend::fft_convolve) on a grid of rank k, last axis 2h, spectrum shape s, input block a,
 * output block b: rows of u (fft_conv_rows_r2c), axes k-2..1 forward on the lines within a,
 * axis 0 forward * K inverse, axes 1..k-2 inverse on the lines within b, rows of out
 * (fft_conv_rows_c2r); nothing else of the grid is touched. Group g holds the lines
 * g EPRI_FFT_LANES + l, lane l; lanes past the last line compute zeros and store nothing. */
#ifdef REAL_IS_DOUBLE
#define EPRI_FFT_LOCAL_MAX 1024
#else
#define EPRI_FFT_LOCAL_MAX 2048
#endif

/* The butterflies j = LOCAL_ID(0), + LOCAL_SIZE(0), ... of a stage of radix R (2, 3, 4, 5 or 7:
 * a constant where inlined, so that the loops over r unroll and x stays in registers):
 * in[j + r m] times its twiddle -> out[d + r ns], m = n / R, ns = product of the earlier
 * radices, on all lanes at once. j = q ns + k split by a multiply-high (q = mul_hi(j, 2^32 / ns
 * + 1), exact for j, ns < 2^16) instead of a division per butterfly. */
FUNC void epri_fft_stage_local_r(LOCAL_SPACE const LANE *ir, LOCAL_SPACE const LANE *ii,
                                 LOCAL_SPACE LANE *outr, LOCAL_SPACE LANE *outi,
                                 GLOBAL const REAL2 *tw, uint n, uint R, uint ns, int inv) {
    uint m = n / R, tws = n / (ns * R), magic = 0xffffffffu / ns + 1u;
    REAL sg = epri_sg(inv);
    for (uint j = LOCAL_ID(0); j < m; j += LOCAL_SIZE(0)) {
        uint q = ns == 1 ? j : MUL_HI(j, magic);
        uint k = j - q * ns;
        LANE xr[7], xi[7];
        xr[0] = ir[j];
        xi[0] = ii[j];
        for (uint r = 1; r < R; r++) {
            REAL2 w = tw[r * k * tws];
            REAL wi = w.y * -sg; /* conj(w) if inverse */
            LANE a = ir[j + r * m], b = ii[j + r * m];
            xr[r] = a * w.x - b * wi;
            xi[r] = a * wi + b * w.x;
        }
        if (R == 2) epri_bfly2_l(xr, xi);
        else if (R == 3) epri_bfly3_l(xr, xi, sg);
        else if (R == 4) epri_bfly4_l(xr, xi, sg);
        else epri_bfly_odd_l(xr, xi, R, sg, tw, n);
        uint d = j + q * ns * (R - 1);
        for (uint r = 0; r < R; r++) {
            outr[d + r * ns] = xr[r];
            outi[d + r * ns] = xi[r];
        }
    }
}

/* One stage of radix R: in -> out, ns = product of the earlier radices. A loop per radix, with
 * the radix a constant in it (PoCL, which runs a group's items as a loop on one CPU thread,
 * then runs unrolled butterflies with no per-butterfly radix switch). */
FUNC void epri_fft_stage_local(LOCAL_SPACE const LANE *ir, LOCAL_SPACE const LANE *ii,
                               LOCAL_SPACE LANE *outr, LOCAL_SPACE LANE *outi,
                               GLOBAL const REAL2 *tw, uint n, uint R, uint ns, int inv) {
    if (R == 4) {
        epri_fft_stage_local_r(ir, ii, outr, outi, tw, n, 4, ns, inv);
        return;
    }
    if (R == 2) {
        epri_fft_stage_local_r(ir, ii, outr, outi, tw, n, 2, ns, inv);
        return;
    }
    if (R == 3) {
        epri_fft_stage_local_r(ir, ii, outr, outi, tw, n, 3, ns, inv);
        return;
    }
    if (R == 5) {
        epri_fft_stage_local_r(ir, ii, outr, outi, tw, n, 5, ns, inv);
        return;
    }
    if (R == 7) {
        epri_fft_stage_local_r(ir, ii, outr, outi, tw, n, 7, ns, inv);
        return;
    }
    /* A prime R > 7: direct DFT, starting from the r = 0 term (its root is 1). */
    uint m = n / R, tws = n / (ns * R), twp = n / R;
    for (uint j = LOCAL_ID(0); j < m; j += LOCAL_SIZE(0)) {
        uint k = j % ns;
        uint d = (j / ns) * ns * R + k;
        for (uint q = 0; q < R; q++) {
            LANE accr = ir[j], acci = ii[j];
            for (uint r = 1; r < R; r++) {
                REAL2 w = epri_dft_root(tw, r, k, tws, q, R, twp, inv);
                LANE a = ir[j + r * m], b = ii[j + r * m];
                accr = accr + (a * w.x - b * w.y);
                acci = acci + (a * w.y + b * w.x);
            }
            outr[d + q * ns] = accr;
            outi[d + q * ns] = acci;
        }
    }
}

/* All stages of the lines in half `cur` of (br, bi); returns the half holding the result.
 * Called by every item, after a barrier. */
FUNC uint epri_fft_line_local(LOCAL_SPACE LANE *br, LOCAL_SPACE LANE *bi, uint cur,
                              GLOBAL const REAL2 *tw, uint n, DIMS radices, int inv) {
    uint ns = 1;
    for (int st = 0; st < EPRI_MAX_RANK && radices.d[st] > 1; st++) {
        uint R = (uint)radices.d[st];
        uint a = cur * EPRI_FFT_LOCAL_MAX, b = (1 - cur) * EPRI_FFT_LOCAL_MAX;
        epri_fft_stage_local(br + a, bi + a, br + b, bi + b, tw, n, R, ns, inv);
        BARRIER;
        ns *= R;
        cur = 1 - cur;
    }
    return cur;
}

/* Index in shape `dims` of entry `row` of a block `blk` (both over their axes < naxes). */
FUNC uint epri_block_row(uint row, int naxes, DIMS blk, DIMS dims) {
    uint g = 0, stride = 1;
    for (int a = naxes - 1; a >= 0; a--) {
        uint e = (uint)blk.d[a];
        g += (row % e) * stride;
        row /= e;
        stride *= (uint)dims.d[a];
    }
    return g;
}

/* Product of the first `naxes` entries of `blk`. */
FUNC uint epri_block_count(int naxes, DIMS blk) {
    uint c = 1;
    for (int a = 0; a < naxes; a++) c *= (uint)blk.d[a];
    return c;
}

/* Offsets in spec (shape s) of the rows row0 + l of a block blk (rank `rank`), (h + 1) complex
 * values each; 0 for the lanes past the `rows` rows. */
FUNC void epri_lane_rows(uint *off, uint row0, uint rows, int rank, DIMS blk, DIMS s, uint h) {
    for (uint l = 0; l < EPRI_FFT_LANES; l++)
        off[l] = row0 + l < rows ? epri_block_row(row0 + l, rank - 1, blk, s) * (h + 1) : 0;
}

/* fft_conv_rows_r2c: rfft (zero-padded to 2h) of each row of u (shape blk, rank `rank`) into
 * its row of spec (shape s). Launch: a group per EPRI_FFT_LANES rows of u.
 * Args: u, spec, tw (of h), rtw (h + 1), h, radices (of h), rank, blk, s. */
KERNEL fft_conv_rows_r2c(GLOBAL const REAL *u, GLOBAL REAL2 *spec, GLOBAL const REAL2 *tw,
                         GLOBAL const REAL2 *rtw, uint h, DIMS radices, int rank, DIMS blk,
                         DIMS s) {
    LOCAL LANE br[2 * EPRI_FFT_LOCAL_MAX];
    LOCAL LANE bi[2 * EPRI_FFT_LOCAL_MAX];
    uint row0 = GROUP_ID(0) * EPRI_FFT_LANES, lid = LOCAL_ID(0), L = LOCAL_SIZE(0);
    uint len = (uint)blk.d[rank - 1], rows = epri_block_count(rank - 1, blk);
    uint off[EPRI_FFT_LANES];
    epri_lane_rows(off, row0, rows, rank, blk, s, h);
    for (uint j = lid; j < h; j += L) {
        uint e = 2 * j;
        for (uint l = 0; l < EPRI_FFT_LANES; l++) {
            uint x = (row0 + l) * len + e;
            int ok = row0 + l < rows;
            LANE_AT(br + j, l) = ok && e < len ? u[x] : (REAL)0;
            LANE_AT(bi + j, l) = ok && e + 1 < len ? u[x + 1] : (REAL)0;
        }
    }
    BARRIER;
    uint c = epri_fft_line_local(br, bi, 0, tw, h, radices, 0) * EPRI_FFT_LOCAL_MAX;
    for (uint k = lid; k <= h; k += L) {
        uint k1 = c + k % h, k2 = c + (h - k) % h;
        LANE xr, xi;
        epri_r2c_combine_l(br[k1], bi[k1], br[k2], bi[k2], rtw[k], &xr, &xi);
        for (uint l = 0; l < EPRI_FFT_LANES && row0 + l < rows; l++)
            spec[off[l] + k] = MAKE_REAL2(LANE_PRIV(xr, l), LANE_PRIV(xi, l));
    }
}

/* fft_conv_rows_c2r: each row of out (shape blk) <- irfft of its row of spec (times khat if
 * `mul`), cropped, times scale h (2 / N: irfftn's 1 / N). Needs h < EPRI_FFT_LOCAL_MAX (the
 * h + 1 values X[k] of a row are gathered into the second half of the local arrays first).
 * Launch: a group per EPRI_FFT_LANES rows of out.
 * Args: spec, khat, out, tw (of h), rtw (h + 1), h, radices (of h), rank, blk, s, mul, scale. */
KERNEL fft_conv_rows_c2r(GLOBAL const REAL2 *spec, GLOBAL const REAL2 *khat, GLOBAL REAL *out,
                         GLOBAL const REAL2 *tw, GLOBAL const REAL2 *rtw, uint h, DIMS radices,
                         int rank, DIMS blk, DIMS s, int mul, REAL scale) {
    LOCAL LANE br[2 * EPRI_FFT_LOCAL_MAX];
    LOCAL LANE bi[2 * EPRI_FFT_LOCAL_MAX];
    uint row0 = GROUP_ID(0) * EPRI_FFT_LANES, lid = LOCAL_ID(0), L = LOCAL_SIZE(0);
    uint len = (uint)blk.d[rank - 1], rows = epri_block_count(rank - 1, blk);
    uint off[EPRI_FFT_LANES];
    epri_lane_rows(off, row0, rows, rank, blk, s, h);
    LOCAL_SPACE LANE *xr = br + EPRI_FFT_LOCAL_MAX, *xi = bi + EPRI_FFT_LOCAL_MAX;
    for (uint k = lid; k <= h; k += L)
        for (uint l = 0; l < EPRI_FFT_LANES; l++) {
            REAL2 a = MAKE_REAL2((REAL)0, (REAL)0);
            if (row0 + l < rows) {
                a = spec[off[l] + k];
                if (mul) a = c_mul(a, khat[off[l] + k]);
            }
            LANE_AT(xr + k, l) = a.x;
            LANE_AT(xi + k, l) = (k == 0 || k == h) ? (REAL)0 : a.y;
        }
    BARRIER;
    for (uint k = lid; k < h; k += L) {
        LANE zr, zi;
        epri_c2r_combine_l(xr[k], xi[k], xr[h - k], xi[h - k], rtw[k], scale, &zr, &zi);
        br[k] = zr;
        bi[k] = zi;
    }
    BARRIER;
    uint c = epri_fft_line_local(br, bi, 0, tw, h, radices, 1) * EPRI_FFT_LOCAL_MAX;
    for (uint e = lid; e < len; e += L) {
        LOCAL_SPACE const LANE *z = ((e & 1u) ? bi : br) + c + e / 2;
        for (uint l = 0; l < EPRI_FFT_LANES && row0 + l < rows; l++)
            out[(row0 + l) * len + e] = LANE_AT(z, l);
    }
}

/* fft_conv_lines: lines along `axis` of data (shape s, n = s[axis], inner = prod s[axis+1..])
 * with leading indices within blk: the first nin values read (zeros after), transformed (mode
 * 0 forward, 1 inverse, 2 forward * khat inverse; unscaled), the first nout written back.
 * Launch: a group per EPRI_FFT_LANES lines (line l: leading index l / inner within blk, inner
 * index l % inner, so that adjacent lanes are adjacent in memory).
 * Args: data, khat, tw, n, inner, radices, axis, blk, s, nin, nout, mode. */
KERNEL fft_conv_lines(GLOBAL REAL2 *data, GLOBAL const REAL2 *khat, GLOBAL const REAL2 *tw,
                      uint n, uint inner, DIMS radices, int axis, DIMS blk, DIMS s, uint nin,
                      uint nout, int mode) {
    LOCAL LANE br[2 * EPRI_FFT_LOCAL_MAX];
    LOCAL LANE bi[2 * EPRI_FFT_LOCAL_MAX];
    uint l0 = GROUP_ID(0) * EPRI_FFT_LANES, lid = LOCAL_ID(0), L = LOCAL_SIZE(0);
    uint lines = epri_block_count(axis, blk) * inner;
    uint base[EPRI_FFT_LANES];
    for (uint l = 0; l < EPRI_FFT_LANES; l++) {
        uint t = l0 + l < lines ? l0 + l : 0;
        base[l] = epri_block_row(t / inner, axis, blk, s) * n * inner + t % inner;
    }
    /* All lanes valid and in one block row: the lines' elements m are adjacent in memory. */
    int contig = l0 % inner + EPRI_FFT_LANES <= inner && l0 + EPRI_FFT_LANES <= lines;
    for (uint m = lid; m < n; m += L) {
        if (contig) {
            LANE re = LANE_ZERO, im = LANE_ZERO;
            if (m < nin) LANE_LOAD_C(data + base[0] + m * inner, re, im);
            br[m] = re;
            bi[m] = im;
            continue;
        }
        for (uint l = 0; l < EPRI_FFT_LANES; l++) {
            REAL2 v = MAKE_REAL2((REAL)0, (REAL)0);
            if (m < nin && l0 + l < lines) v = data[base[l] + m * inner];
            LANE_AT(br + m, l) = v.x;
            LANE_AT(bi + m, l) = v.y;
        }
    }
    BARRIER;
    uint c = epri_fft_line_local(br, bi, 0, tw, n, radices, mode == 1);
    if (mode == 2) {
        uint o = c * EPRI_FFT_LOCAL_MAX;
        for (uint m = lid; m < n; m += L) {
            LANE kr, ki;
            if (contig) {
                LANE_LOAD_C(khat + base[0] + m * inner, kr, ki);
            } else {
                for (uint l = 0; l < EPRI_FFT_LANES; l++) {
                    REAL2 kv = khat[base[l] + m * inner];
                    LANE_PRIV(kr, l) = kv.x;
                    LANE_PRIV(ki, l) = kv.y;
                }
            }
            LANE zr = br[o + m], zi = bi[o + m];
            br[o + m] = zr * kr - zi * ki;
            bi[o + m] = zr * ki + zi * kr;
        }
        BARRIER;
        c = epri_fft_line_local(br, bi, c, tw, n, radices, 1);
    }
    uint o = c * EPRI_FFT_LOCAL_MAX;
    for (uint m = lid; m < nout; m += L) {
        if (contig) {
            LANE_STORE_C(data + base[0] + m * inner, br[o + m], bi[o + m]);
            continue;
        }
        for (uint l = 0; l < EPRI_FFT_LANES && l0 + l < lines; l++)
            data[base[l] + m * inner] = MAKE_REAL2(LANE_AT(br + o + m, l), LANE_AT(bi + o + m, l));
    }
}
