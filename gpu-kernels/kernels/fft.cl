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

/* Loads the R inputs of butterfly j and applies the stage twiddles. */
FUNC void epri_fft_load(GLOBAL const REAL2 *in, GLOBAL const REAL2 *tw, uint base, uint inner,
                        uint n, uint R, uint j, uint ns, int inv, REAL2 *v) {
    uint m = n / R;
    uint k = j % ns;
    uint tws = n / (ns * R);
    for (uint r = 0; r < R; r++)
        v[r] = epri_twiddle(in[base + (j + r * m) * inner], tw, r * k * tws, inv);
}

/* Stores the R outputs of butterfly j at their autosorted places. */
FUNC void epri_fft_store(GLOBAL REAL2 *out, uint base, uint inner, uint R, uint j, uint ns,
                         REAL scale, REAL2 *v) {
    uint d = (j / ns) * ns * R + j % ns;
    for (uint r = 0; r < R; r++) out[base + (d + r * ns) * inner] = c_scale(v[r], scale);
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

/* Odd radix R <= 7 by symmetric pairs: X_q = A_q -/+ i B_q, X_{R-q} = A_q +/- i B_q; the
 * constants W_R^m = tw[m * n / R] come from the twiddle table. */
FUNC void epri_bfly_odd(REAL2 *v, uint R, int inv, GLOBAL const REAL2 *tw, uint n) {
    REAL2 y[7];
    uint h = R / 2, tws = n / R;
    REAL2 v0 = v[0];
    REAL2 sum = v0;
    for (uint r = 1; r <= h; r++) sum = c_add(sum, c_add(v[r], v[R - r]));
    y[0] = sum;
    for (uint q = 1; q <= h; q++) {
        REAL2 A = v0;
        REAL2 B = MAKE_REAL2((REAL)0, (REAL)0);
        for (uint r = 1; r <= h; r++) {
            REAL2 w = tw[((q * r) % R) * tws];
            REAL c = w.x, s = -w.y; /* cos, sin of 2 pi q r / R */
            A = c_add(A, c_scale(c_add(v[r], v[R - r]), c));
            B = c_add(B, c_scale(c_sub(v[r], v[R - r]), s));
        }
        REAL2 iB = c_mul_mi(B, inv);
        y[q] = c_add(A, iB);
        y[R - q] = c_sub(A, iB);
    }
    for (uint r = 0; r < R; r++) v[r] = y[r];
}

/* Butterflies of radix 2, 3, 4 on v. */
FUNC void epri_bfly2(REAL2 *v) {
    REAL2 a = v[0];
    v[0] = c_add(a, v[1]);
    v[1] = c_sub(a, v[1]);
}

FUNC void epri_bfly3(REAL2 *v, int inv) {
    const REAL h = (REAL)0.86602540378443864676; /* sqrt(3) / 2 */
    REAL2 s = c_add(v[1], v[2]);
    REAL2 d = c_scale(c_sub(v[1], v[2]), h);
    REAL2 m = c_sub(v[0], c_scale(s, (REAL)0.5));
    REAL2 id = c_mul_mi(d, inv);
    v[0] = c_add(v[0], s);
    v[1] = c_add(m, id);
    v[2] = c_sub(m, id);
}

FUNC void epri_bfly4(REAL2 *v, int inv) {
    REAL2 t0 = c_add(v[0], v[2]);
    REAL2 t1 = c_sub(v[0], v[2]);
    REAL2 t2 = c_add(v[1], v[3]);
    REAL2 t3 = c_mul_mi(c_sub(v[1], v[3]), inv);
    v[0] = c_add(t0, t2);
    v[1] = c_add(t1, t3);
    v[2] = c_sub(t0, t2);
    v[3] = c_sub(t1, t3);
}

KERNEL fft_radix2(GLOBAL const REAL2 *in, GLOBAL REAL2 *out, GLOBAL const REAL2 *tw, uint n,
                  uint inner, uint ns, uint nthreads, int inv, REAL scale) {
    uint base, j;
    if (!epri_fft_item(nthreads, n, 2, inner, &base, &j)) return;
    REAL2 v[2];
    epri_fft_load(in, tw, base, inner, n, 2, j, ns, inv, v);
    epri_bfly2(v);
    epri_fft_store(out, base, inner, 2, j, ns, scale, v);
}

KERNEL fft_radix3(GLOBAL const REAL2 *in, GLOBAL REAL2 *out, GLOBAL const REAL2 *tw, uint n,
                  uint inner, uint ns, uint nthreads, int inv, REAL scale) {
    uint base, j;
    if (!epri_fft_item(nthreads, n, 3, inner, &base, &j)) return;
    REAL2 v[3];
    epri_fft_load(in, tw, base, inner, n, 3, j, ns, inv, v);
    epri_bfly3(v, inv);
    epri_fft_store(out, base, inner, 3, j, ns, scale, v);
}

KERNEL fft_radix4(GLOBAL const REAL2 *in, GLOBAL REAL2 *out, GLOBAL const REAL2 *tw, uint n,
                  uint inner, uint ns, uint nthreads, int inv, REAL scale) {
    uint base, j;
    if (!epri_fft_item(nthreads, n, 4, inner, &base, &j)) return;
    REAL2 v[4];
    epri_fft_load(in, tw, base, inner, n, 4, j, ns, inv, v);
    epri_bfly4(v, inv);
    epri_fft_store(out, base, inner, 4, j, ns, scale, v);
}

KERNEL fft_radix5(GLOBAL const REAL2 *in, GLOBAL REAL2 *out, GLOBAL const REAL2 *tw, uint n,
                  uint inner, uint ns, uint nthreads, int inv, REAL scale) {
    uint base, j;
    if (!epri_fft_item(nthreads, n, 5, inner, &base, &j)) return;
    REAL2 v[5];
    epri_fft_load(in, tw, base, inner, n, 5, j, ns, inv, v);
    epri_bfly_odd(v, 5, inv, tw, n);
    epri_fft_store(out, base, inner, 5, j, ns, scale, v);
}

KERNEL fft_radix7(GLOBAL const REAL2 *in, GLOBAL REAL2 *out, GLOBAL const REAL2 *tw, uint n,
                  uint inner, uint ns, uint nthreads, int inv, REAL scale) {
    uint base, j;
    if (!epri_fft_item(nthreads, n, 7, inner, &base, &j)) return;
    REAL2 v[7];
    epri_fft_load(in, tw, base, inner, n, 7, j, ns, inv, v);
    epri_bfly_odd(v, 7, inv, tw, n);
    epri_fft_store(out, base, inner, 7, j, ns, scale, v);
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

/* X[k] from a = Z[k mod h], b = Z[(h - k) mod h], w = rtw[k]. */
FUNC REAL2 epri_r2c_combine(REAL2 a, REAL2 b, REAL2 w) {
    b = c_conj(b);
    REAL2 e = c_scale(c_add(a, b), (REAL)0.5);
    REAL2 o = c_mul_mi(c_scale(c_sub(a, b), (REAL)0.5), 0); /* (a - b) / (2 i) */
    return c_add(e, c_mul(w, o));
}

/* Z[k] from a = X[k], b = X[h - k], w = rtw[k] (k = 0: imaginary parts dropped). */
FUNC REAL2 epri_c2r_combine(REAL2 a, REAL2 b, REAL2 w, uint k, REAL scale) {
    if (k == 0) {
        a.y = (REAL)0;
        b.y = (REAL)0;
    }
    b = c_conj(b);
    REAL2 e = c_scale(c_add(a, b), (REAL)0.5);
    REAL2 o = c_mul(c_conj(w), c_scale(c_sub(a, b), (REAL)0.5));
    return c_scale(c_add(e, c_mul_mi(o, 1)), scale); /* e + i o */
}

/* fft_r2c_post: from Z = FFT_h(z) to the half spectrum X[k], k = 0..h:
 *   X[k] = (Z[k] + conj(Z[h-k])) / 2 - i rtw[k] (Z[k] - conj(Z[h-k])) / 2   (Z[h] = Z[0]).
 * Launch: 1D, one work item per output element (rows * (h + 1)).
 * Args: z (rows, h), x (rows, h + 1), rtw, h, rows. */
KERNEL fft_r2c_post(GLOBAL const REAL2 *z, GLOBAL REAL2 *x, GLOBAL const REAL2 *rtw, uint h,
                    uint rows) {
    uint g = GLOBAL_ID(0);
    if (g >= rows * (h + 1)) return;
    uint r = g / (h + 1), k = g % (h + 1);
    x[g] = epri_r2c_combine(z[r * h + k % h], z[r * h + (h - k) % h], rtw[k]);
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
    z[g] = epri_c2r_combine(x[r * (h + 1) + k], x[r * (h + 1) + h - k], rtw[k], k, scale);
}

/* Line FFTs in local memory, one work group per line (any group size): the line (n <=
 * EPRI_FFT_LOCAL_MAX) read once, every stage between the halves of a local buffer, written
 * once. `radices`: the stage radices in order, 1 after the last (primes > 7: direct DFT).
 * They make the zero-padded convolution (Backend::fft_convolve) on a grid of rank k, last axis
 * 2h, spectrum shape s, input block a, output block b: rows of u (fft_conv_rows_r2c), axes
 * k-2..1 forward on the lines within a, axis 0 forward * K inverse, axes 1..k-2 inverse on the
 * lines within b, rows of out (fft_conv_rows_c2r); nothing else of the grid is touched. */
#ifdef REAL_IS_DOUBLE
#define EPRI_FFT_LOCAL_MAX 1024
#else
#define EPRI_FFT_LOCAL_MAX 2048
#endif

/* The butterflies j = LOCAL_ID(0), + LOCAL_SIZE(0), ... of a stage of radix R (2, 3, 4, 5 or 7:
 * a constant where inlined, so that the loops over r unroll and v stays in registers):
 * in[j + r m] times its twiddle -> out[d + r ns], m = n / R, ns = product of the earlier
 * radices. j = q ns + k split by a multiply-high (q = mul_hi(j, 2^32 / ns + 1), exact for j, ns
 * < 2^16) instead of a division per butterfly. */
FUNC void epri_fft_stage_local_r(LOCAL_SPACE const REAL2 *in, LOCAL_SPACE REAL2 *out,
                                 GLOBAL const REAL2 *tw, uint n, uint R, uint ns, int inv) {
    uint m = n / R, tws = n / (ns * R), magic = 0xffffffffu / ns + 1u;
    for (uint j = LOCAL_ID(0); j < m; j += LOCAL_SIZE(0)) {
        uint q = ns == 1 ? j : MUL_HI(j, magic);
        uint k = j - q * ns;
        REAL2 v[7];
        v[0] = in[j];
        for (uint r = 1; r < R; r++) {
            REAL2 w = tw[r * k * tws];
            v[r] = c_mul(in[j + r * m], inv ? c_conj(w) : w);
        }
        if (R == 2) epri_bfly2(v);
        else if (R == 3) epri_bfly3(v, inv);
        else if (R == 4) epri_bfly4(v, inv);
        else epri_bfly_odd(v, R, inv, tw, n);
        uint d = j + q * ns * (R - 1);
        for (uint r = 0; r < R; r++) out[d + r * ns] = v[r];
    }
}

/* One stage of radix R: in -> out, ns = product of the earlier radices. A loop per radix, with
 * the radix a constant in it (PoCL, which runs a group's items as a loop on one CPU thread,
 * then runs unrolled butterflies with no per-butterfly radix switch). */
FUNC void epri_fft_stage_local(LOCAL_SPACE const REAL2 *in, LOCAL_SPACE REAL2 *out,
                               GLOBAL const REAL2 *tw, uint n, uint R, uint ns, int inv) {
    if (R == 4) {
        epri_fft_stage_local_r(in, out, tw, n, 4, ns, inv);
        return;
    }
    if (R == 2) {
        epri_fft_stage_local_r(in, out, tw, n, 2, ns, inv);
        return;
    }
    if (R == 3) {
        epri_fft_stage_local_r(in, out, tw, n, 3, ns, inv);
        return;
    }
    if (R == 5) {
        epri_fft_stage_local_r(in, out, tw, n, 5, ns, inv);
        return;
    }
    if (R == 7) {
        epri_fft_stage_local_r(in, out, tw, n, 7, ns, inv);
        return;
    }
    uint m = n / R, tws = n / (ns * R), twp = n / R;
    for (uint j = LOCAL_ID(0); j < m; j += LOCAL_SIZE(0)) {
        uint k = j % ns;
        uint d = (j / ns) * ns * R + k;
        for (uint q = 0; q < R; q++) {
            REAL2 acc = MAKE_REAL2((REAL)0, (REAL)0);
            for (uint r = 0; r < R; r++) {
                REAL2 w = epri_dft_root(tw, r, k, tws, q, R, twp, inv);
                acc = c_add(acc, c_mul(in[j + r * m], w));
            }
            out[d + q * ns] = acc;
        }
    }
}

/* All stages of the line in half `cur` of buf; returns the half holding the result. Called by
 * every item, after a barrier. */
FUNC uint epri_fft_line_local(LOCAL_SPACE REAL2 *buf, uint cur, GLOBAL const REAL2 *tw, uint n,
                              DIMS radices, int inv) {
    uint ns = 1;
    for (int st = 0; st < EPRI_MAX_RANK && radices.d[st] > 1; st++) {
        uint R = (uint)radices.d[st];
        epri_fft_stage_local(buf + cur * EPRI_FFT_LOCAL_MAX, buf + (1 - cur) * EPRI_FFT_LOCAL_MAX,
                             tw, n, R, ns, inv);
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

/* fft_conv_rows_r2c: rfft (zero-padded to 2h) of each row of u (shape blk, rank `rank`) into
 * its row of spec (shape s). Launch: a group per row of u.
 * Args: u, spec, tw (of h), rtw (h + 1), h, radices (of h), rank, blk, s. */
KERNEL fft_conv_rows_r2c(GLOBAL const REAL *u, GLOBAL REAL2 *spec, GLOBAL const REAL2 *tw,
                         GLOBAL const REAL2 *rtw, uint h, DIMS radices, int rank, DIMS blk,
                         DIMS s) {
    LOCAL REAL2 buf[2 * EPRI_FFT_LOCAL_MAX];
    uint row = GROUP_ID(0), lid = LOCAL_ID(0), L = LOCAL_SIZE(0);
    uint len = (uint)blk.d[rank - 1];
    GLOBAL const REAL *x = u + row * len;
    for (uint j = lid; j < h; j += L) {
        uint e = 2 * j;
        buf[j] = MAKE_REAL2(e < len ? x[e] : (REAL)0, e + 1 < len ? x[e + 1] : (REAL)0);
    }
    BARRIER;
    uint c = epri_fft_line_local(buf, 0, tw, h, radices, 0);
    LOCAL_SPACE const REAL2 *z = buf + c * EPRI_FFT_LOCAL_MAX;
    GLOBAL REAL2 *X = spec + epri_block_row(row, rank - 1, blk, s) * (h + 1);
    for (uint k = lid; k <= h; k += L)
        X[k] = epri_r2c_combine(z[k % h], z[(h - k) % h], rtw[k]);
}

/* fft_conv_rows_c2r: each row of out (shape blk) <- irfft of its row of spec (times khat if
 * `mul`), cropped, times scale h (2 / N: irfftn's 1 / N). Launch: a group per row of out.
 * Args: spec, khat, out, tw (of h), rtw (h + 1), h, radices (of h), rank, blk, s, mul, scale. */
KERNEL fft_conv_rows_c2r(GLOBAL const REAL2 *spec, GLOBAL const REAL2 *khat, GLOBAL REAL *out,
                         GLOBAL const REAL2 *tw, GLOBAL const REAL2 *rtw, uint h, DIMS radices,
                         int rank, DIMS blk, DIMS s, int mul, REAL scale) {
    LOCAL REAL2 buf[2 * EPRI_FFT_LOCAL_MAX];
    uint row = GROUP_ID(0), lid = LOCAL_ID(0), L = LOCAL_SIZE(0);
    uint off = epri_block_row(row, rank - 1, blk, s) * (h + 1);
    for (uint k = lid; k < h; k += L) {
        REAL2 a = spec[off + k], b = spec[off + h - k];
        if (mul) {
            a = c_mul(a, khat[off + k]);
            b = c_mul(b, khat[off + h - k]);
        }
        buf[k] = epri_c2r_combine(a, b, rtw[k], k, scale);
    }
    BARRIER;
    uint c = epri_fft_line_local(buf, 0, tw, h, radices, 1);
    LOCAL_SPACE const REAL2 *z = buf + c * EPRI_FFT_LOCAL_MAX;
    uint len = (uint)blk.d[rank - 1];
    GLOBAL REAL *y = out + row * len;
    for (uint e = lid; e < len; e += L) {
        REAL2 v = z[e / 2];
        y[e] = (e & 1u) ? v.y : v.x;
    }
}

/* fft_conv_lines: lines along `axis` of data (shape s, n = s[axis], inner = prod s[axis+1..])
 * with leading indices within blk: the first nin values read (zeros after), transformed (mode
 * 0 forward, 1 inverse, 2 forward * khat inverse; unscaled), the first nout written back.
 * Launch: a group per line. Args: data, khat, tw, n, inner, radices, axis, blk, s, nin, nout,
 * mode. */
KERNEL fft_conv_lines(GLOBAL REAL2 *data, GLOBAL const REAL2 *khat, GLOBAL const REAL2 *tw,
                      uint n, uint inner, DIMS radices, int axis, DIMS blk, DIMS s, uint nin,
                      uint nout, int mode) {
    LOCAL REAL2 buf[2 * EPRI_FFT_LOCAL_MAX];
    uint l = GROUP_ID(0), lid = LOCAL_ID(0), L = LOCAL_SIZE(0);
    uint base = epri_block_row(l / inner, axis, blk, s) * n * inner + l % inner;
    for (uint m = lid; m < n; m += L)
        buf[m] = m < nin ? data[base + m * inner] : MAKE_REAL2((REAL)0, (REAL)0);
    BARRIER;
    uint c = epri_fft_line_local(buf, 0, tw, n, radices, mode == 1);
    if (mode == 2) {
        LOCAL_SPACE REAL2 *z = buf + c * EPRI_FFT_LOCAL_MAX;
        for (uint m = lid; m < n; m += L) z[m] = c_mul(z[m], khat[base + m * inner]);
        BARRIER;
        c = epri_fft_line_local(buf, c, tw, n, radices, 1);
    }
    LOCAL_SPACE const REAL2 *z = buf + c * EPRI_FFT_LOCAL_MAX;
    for (uint m = lid; m < nout; m += L) data[base + m * inner] = z[m];
}
