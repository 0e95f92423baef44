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

/* Loads the R inputs of butterfly j and applies the stage twiddles. */
FUNC void epri_fft_load(GLOBAL const REAL2 *in, GLOBAL const REAL2 *tw, uint base, uint inner,
                        uint n, uint R, uint j, uint ns, int inv, REAL2 *v) {
    uint m = n / R;
    uint k = j % ns;
    uint tws = n / (ns * R);
    for (uint r = 0; r < R; r++) {
        REAL2 x = in[base + (j + r * m) * inner];
        if (r > 0 && k > 0) {
            REAL2 w = tw[r * k * tws];
            x = c_mul(x, inv ? c_conj(w) : w);
        }
        v[r] = x;
    }
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

KERNEL fft_radix2(GLOBAL const REAL2 *in, GLOBAL REAL2 *out, GLOBAL const REAL2 *tw, uint n,
                  uint inner, uint ns, uint nthreads, int inv, REAL scale) {
    uint base, j;
    if (!epri_fft_item(nthreads, n, 2, inner, &base, &j)) return;
    REAL2 v[2];
    epri_fft_load(in, tw, base, inner, n, 2, j, ns, inv, v);
    REAL2 a = v[0];
    v[0] = c_add(a, v[1]);
    v[1] = c_sub(a, v[1]);
    epri_fft_store(out, base, inner, 2, j, ns, scale, v);
}

KERNEL fft_radix3(GLOBAL const REAL2 *in, GLOBAL REAL2 *out, GLOBAL const REAL2 *tw, uint n,
                  uint inner, uint ns, uint nthreads, int inv, REAL scale) {
    uint base, j;
    if (!epri_fft_item(nthreads, n, 3, inner, &base, &j)) return;
    REAL2 v[3];
    epri_fft_load(in, tw, base, inner, n, 3, j, ns, inv, v);
    const REAL h = (REAL)0.86602540378443864676; /* sqrt(3) / 2 */
    REAL2 s = c_add(v[1], v[2]);
    REAL2 d = c_scale(c_sub(v[1], v[2]), h);
    REAL2 m = c_sub(v[0], c_scale(s, (REAL)0.5));
    REAL2 id = c_mul_mi(d, inv);
    v[0] = c_add(v[0], s);
    v[1] = c_add(m, id);
    v[2] = c_sub(m, id);
    epri_fft_store(out, base, inner, 3, j, ns, scale, v);
}

KERNEL fft_radix4(GLOBAL const REAL2 *in, GLOBAL REAL2 *out, GLOBAL const REAL2 *tw, uint n,
                  uint inner, uint ns, uint nthreads, int inv, REAL scale) {
    uint base, j;
    if (!epri_fft_item(nthreads, n, 4, inner, &base, &j)) return;
    REAL2 v[4];
    epri_fft_load(in, tw, base, inner, n, 4, j, ns, inv, v);
    REAL2 t0 = c_add(v[0], v[2]);
    REAL2 t1 = c_sub(v[0], v[2]);
    REAL2 t2 = c_add(v[1], v[3]);
    REAL2 t3 = c_mul_mi(c_sub(v[1], v[3]), inv);
    v[0] = c_add(t0, t2);
    v[1] = c_add(t1, t3);
    v[2] = c_sub(t0, t2);
    v[3] = c_sub(t1, t3);
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
            REAL2 w = c_mul(tw[r * k * tws], tw[((q * r) % p) * twp]);
            acc = c_add(acc, c_mul(x, inv ? c_conj(w) : w));
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
 *
 * fft_r2c_post: from Z = FFT_h(z) to the half spectrum X[k], k = 0..h:
 *   X[k] = (Z[k] + conj(Z[h-k])) / 2 - i rtw[k] (Z[k] - conj(Z[h-k])) / 2   (Z[h] = Z[0]).
 * Launch: 1D, one work item per output element (rows * (h + 1)).
 * Args: z (rows, h), x (rows, h + 1), rtw, h, rows. */
KERNEL fft_r2c_post(GLOBAL const REAL2 *z, GLOBAL REAL2 *x, GLOBAL const REAL2 *rtw, uint h,
                    uint rows) {
    uint g = GLOBAL_ID(0);
    if (g >= rows * (h + 1)) return;
    uint r = g / (h + 1), k = g % (h + 1);
    REAL2 a = z[r * h + k % h];
    REAL2 b = c_conj(z[r * h + (h - k) % h]);
    REAL2 e = c_scale(c_add(a, b), (REAL)0.5);
    REAL2 o = c_mul_mi(c_scale(c_sub(a, b), (REAL)0.5), 0); /* (a - b) / (2 i) */
    x[g] = c_add(e, c_mul(rtw[k], o));
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
    REAL2 a = x[r * (h + 1) + k];
    REAL2 b = x[r * (h + 1) + h - k];
    if (k == 0) {
        a.y = (REAL)0;
        b.y = (REAL)0;
    }
    b = c_conj(b);
    REAL2 e = c_scale(c_add(a, b), (REAL)0.5);
    REAL2 o = c_mul(c_conj(rtw[k]), c_scale(c_sub(a, b), (REAL)0.5));
    z[g] = c_scale(c_add(e, c_mul_mi(o, 1)), scale); /* e + i o */
}
