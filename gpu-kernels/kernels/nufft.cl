/* NUFFT stages (FINUFFT's method) on grids of 1 to 3 axes, padded to 3 axes on the host: a
 * d-dimensional problem uses the last d entries of the padded fine sizes `fine` (the leading
 * ones are 1) and coordinates only for those axes.
 *
 * Points: `xs[a * M + j]` is the coordinate of sorted point j along real axis a (a < dim), in
 * fine-grid cells, folded into [0, nf_a); `perm[j]` is its index in the caller's order.
 * Strengths / values: c[t * M + m], t < ntrans. Fine grids: fine[t * nfine + flat].
 * ES kernel: phi(z) = exp(beta (sqrt(1 - c z^2) - 1)) for 1 - c z^2 >= 0, else 0, over the w
 * cells starting at ceil(x - w / 2), wrapped periodically.
 * Two spreading kernels: nufft_spread (one work item per point, atomic adds: suits GPUs) and
 * nufft_spread_tiles (one work item per tile of the fine grid, no atomics: suits CPU devices
 * such as PoCL, where the compare-and-swap loops dominate).
 */
#define EPRI_MAX_WIDTH 16

/* Kernel values at the w cells from ceil(x - w/2); returns that first cell. */
FUNC int epri_es_weights(REAL x, int w, REAL beta, REAL c, REAL *ker) {
    REAL x0 = ceil(x - (REAL)w * (REAL)0.5);
    for (int q = 0; q < w; q++) {
        REAL z = x0 + (REAL)q - x;
        REAL s = (REAL)1 - c * z * z;
        ker[q] = s >= (REAL)0 ? exp(beta * (sqrt(s) - (REAL)1)) : (REAL)0;
    }
    return (int)x0;
}

FUNC int epri_wrap(int i, int n) { return i < 0 ? i + n : (i >= n ? i - n : i); }

/* Kernel weights and first cells of point j along the 3 padded axes. */
FUNC void epri_point_weights(GLOBAL const REAL *xs, uint M, uint j, int dim, int w,
                             REAL beta, REAL c, REAL *k0, REAL *k1, REAL *k2, int *start,
                             int *width) {
    REAL *ks[3] = {k0, k1, k2};
    for (int a = 0; a < 3; a++) {
        int real_axis = a - (3 - dim);
        if (real_axis < 0) {
            ks[a][0] = (REAL)1;
            start[a] = 0;
            width[a] = 1;
        } else {
            start[a] = epri_es_weights(xs[(uint)real_axis * M + j], w, beta, c, ks[a]);
            width[a] = w;
        }
    }
}

/* Type-1 spreading: fine[t] += c[t, perm[j]] * phi(grid - x_j) by atomic adds (fine zeroed
 * first by the host).
 * Launch: 1D, one work item per (transform t, sorted point j): gid = t * M + j < ntrans * M.
 * Args: xs, perm, c, fine, M, ntrans, dim, fine (padded DIMS), w, beta, c_es. */
KERNEL nufft_spread(GLOBAL const REAL *xs, GLOBAL const uint *perm, GLOBAL const REAL2 *c,
                    GLOBAL REAL2 *fine, uint M, uint ntrans, int dim, DIMS fdims, int w,
                    REAL beta, REAL ces) {
    uint g = GLOBAL_ID(0);
    if (g >= M * ntrans) return;
    uint t = g / M, j = g % M;
    REAL k0[EPRI_MAX_WIDTH], k1[EPRI_MAX_WIDTH], k2[EPRI_MAX_WIDTH];
    int start[3], width[3];
    epri_point_weights(xs, M, j, dim, w, beta, ces, k0, k1, k2, start, width);
    REAL2 v = c[t * M + perm[j]];
    uint nfine = (uint)(fdims.d[0] * fdims.d[1] * fdims.d[2]);
    GLOBAL REAL *base = (GLOBAL REAL *)fine + 2 * (t * nfine);
    for (int q0 = 0; q0 < width[0]; q0++) {
        int i0 = epri_wrap(start[0] + q0, fdims.d[0]);
        for (int q1 = 0; q1 < width[1]; q1++) {
            int i1 = epri_wrap(start[1] + q1, fdims.d[1]);
            REAL k01 = k0[q0] * k1[q1];
            uint row = ((uint)i0 * (uint)fdims.d[1] + (uint)i1) * (uint)fdims.d[2];
            for (int q2 = 0; q2 < width[2]; q2++) {
                int i2 = epri_wrap(start[2] + q2, fdims.d[2]);
                REAL kk = k01 * k2[q2];
                uint at = 2 * (row + (uint)i2);
                ATOMIC_ADD_REAL(base + at, v.x * kk);
                ATOMIC_ADD_REAL(base + at + 1, v.y * kk);
            }
        }
    }
}

/* Colour of tile b among nt tiles along one axis: tiles of one colour are never neighbours,
 * periodically: b % 2 when nt is even, and the last tile alone in colour 2 when nt is odd. */
FUNC int epri_tile_colour(int b, int nt) {
    return (nt % 2 == 1 && nt > 1 && b == nt - 1) ? 2 : b % 2;
}

/* Type-1 spreading without atomics, one colour of tiles at a time: the fine grid is cut into
 * tiles of tile[a] cells per axis (tile[a] divides fine[a] and is at least w, or the axis is a
 * single tile); the host sorted the points by tile ("bin"), bin_start[b] .. bin_start[b + 1]
 * being the sorted points of tile b (row-major over the padded tile grid). The work item of a
 * tile of colour `colour` (per axis, see epri_tile_colour) adds the contributions of its own
 * points into the fine grid with plain read-modify-writes: the cells that two tiles of one
 * colour reach never overlap. The host zeroes fine, then launches every colour present
 * (at most 3 per axis); work items of other colours return at once.
 * Launch: 1D, one work item per (transform t, tile b): gid = t * ntiles + b.
 * Args: xs, perm, bin_start, c, fine, M, ntrans, dim, fine (padded DIMS), tile (padded DIMS),
 * colour (DIMS, 3 entries), w, beta, c_es. */
KERNEL nufft_spread_tiles(GLOBAL const REAL *xs, GLOBAL const uint *perm,
                          GLOBAL const uint *bin_start, GLOBAL const REAL2 *c, GLOBAL REAL2 *fine,
                          uint M, uint ntrans, int dim, DIMS fdims, DIMS tile, DIMS colour, int w,
                          REAL beta, REAL ces) {
    int nt[3];
    uint ntiles = 1;
    for (int a = 0; a < 3; a++) {
        nt[a] = fdims.d[a] / tile.d[a];
        ntiles *= (uint)nt[a];
    }
    uint g = GLOBAL_ID(0);
    if (g >= ntiles * ntrans) return;
    uint t = g / ntiles, bin = g % ntiles, rest = bin;
    for (int a = 2; a >= 0; a--) {
        int b = (int)(rest % (uint)nt[a]);
        rest /= (uint)nt[a];
        if (epri_tile_colour(b, nt[a]) != colour.d[a]) return;
    }
    uint nfine = (uint)(fdims.d[0] * fdims.d[1] * fdims.d[2]);
    GLOBAL REAL2 *f = fine + t * nfine;
    REAL k0[EPRI_MAX_WIDTH], k1[EPRI_MAX_WIDTH], k2[EPRI_MAX_WIDTH];
    int start[3], width[3];
    for (uint j = bin_start[bin]; j < bin_start[bin + 1]; j++) {
        epri_point_weights(xs, M, j, dim, w, beta, ces, k0, k1, k2, start, width);
        REAL2 v = c[t * M + perm[j]];
        for (int q0 = 0; q0 < width[0]; q0++) {
            int i0 = epri_wrap(start[0] + q0, fdims.d[0]);
            for (int q1 = 0; q1 < width[1]; q1++) {
                int i1 = epri_wrap(start[1] + q1, fdims.d[1]);
                REAL k01 = k0[q0] * k1[q1];
                uint row = ((uint)i0 * (uint)fdims.d[1] + (uint)i1) * (uint)fdims.d[2];
                for (int q2 = 0; q2 < width[2]; q2++) {
                    uint at = row + (uint)epri_wrap(start[2] + q2, fdims.d[2]);
                    REAL kk = k01 * k2[q2];
                    REAL2 old = f[at];
                    f[at] = MAKE_REAL2(old.x + v.x * kk, old.y + v.y * kk);
                }
            }
        }
    }
}

/* Type-2 interpolation: c[t, perm[j]] <- sum over the kernel's cells of fine[t] * phi.
 * Launch: 1D, one work item per (t, j): gid = t * M + j < ntrans * M.
 * Args: xs, perm, fine, c, M, ntrans, dim, fine (padded DIMS), w, beta, c_es. */
KERNEL nufft_interp(GLOBAL const REAL *xs, GLOBAL const uint *perm, GLOBAL const REAL2 *fine,
                    GLOBAL REAL2 *c, uint M, uint ntrans, int dim, DIMS fdims, int w, REAL beta,
                    REAL ces) {
    uint g = GLOBAL_ID(0);
    if (g >= M * ntrans) return;
    uint t = g / M, j = g % M;
    REAL k0[EPRI_MAX_WIDTH], k1[EPRI_MAX_WIDTH], k2[EPRI_MAX_WIDTH];
    int start[3], width[3];
    epri_point_weights(xs, M, j, dim, w, beta, ces, k0, k1, k2, start, width);
    uint nfine = (uint)(fdims.d[0] * fdims.d[1] * fdims.d[2]);
    GLOBAL const REAL2 *f = fine + t * nfine;
    REAL2 acc = MAKE_REAL2((REAL)0, (REAL)0);
    for (int q0 = 0; q0 < width[0]; q0++) {
        int i0 = epri_wrap(start[0] + q0, fdims.d[0]);
        for (int q1 = 0; q1 < width[1]; q1++) {
            int i1 = epri_wrap(start[1] + q1, fdims.d[1]);
            REAL k01 = k0[q0] * k1[q1];
            uint row = ((uint)i0 * (uint)fdims.d[1] + (uint)i1) * (uint)fdims.d[2];
            for (int q2 = 0; q2 < width[2]; q2++) {
                int i2 = epri_wrap(start[2] + q2, fdims.d[2]);
                acc = c_add(acc, c_scale(f[row + (uint)i2], k01 * k2[q2]));
            }
        }
    }
    c[t * M + perm[j]] = acc;
}

/* Mode k (centred, array index ka = k + N_a/2 per axis) <-> fine cell k mod nf, with the
 * product of the per-axis factors (factors of axis a start at N_0 + ... + N_{a-1}). */
FUNC uint epri_mode_to_fine(uint k, int dim, DIMS modes, DIMS fine,
                            GLOBAL const REAL *factors, REAL *f) {
    uint off[3];
    uint o = 0;
    for (int a = 0; a < dim; a++) {
        off[a] = o;
        o += (uint)modes.d[a];
    }
    uint rest = k, flat = 0, stride = 1;
    REAL prod = (REAL)1;
    for (int a = dim - 1; a >= 0; a--) {
        int na = modes.d[a], nf = fine.d[a];
        int ka = (int)(rest % (uint)na);
        rest /= (uint)na;
        int kc = ka - na / 2;
        int fi = kc < 0 ? kc + nf : kc;
        flat += (uint)fi * stride;
        stride *= (uint)nf;
        prod *= factors[off[a] + (uint)ka];
    }
    *f = prod;
    return flat;
}

/* Type-1 deconvolution: modes[t, k] <- fine[t, k mod nf] * prod_a factors_a[k_a].
 * Launch: 1D, one work item per mode of every transform: gid = t * nmodes + k.
 * Args: fine, factors, modes, nmodes, nfine, ntrans, dim, modes DIMS, fine DIMS (unpadded). */
KERNEL nufft_deconvolve(GLOBAL const REAL2 *fine, GLOBAL const REAL *factors,
                        GLOBAL REAL2 *modes, uint nmodes, uint nfine, uint ntrans, int dim,
                        DIMS mdims, DIMS fdims) {
    uint g = GLOBAL_ID(0);
    if (g >= nmodes * ntrans) return;
    uint t = g / nmodes;
    REAL f;
    uint at = epri_mode_to_fine(g % nmodes, dim, mdims, fdims, factors, &f);
    modes[g] = c_scale(fine[t * nfine + at], f);
}

/* Type-2 pre-compensation: fine[t, k mod nf] <- modes[t, k] * prod_a factors_a[k_a] (the rest
 * of fine zeroed first by the host). Same arguments and geometry as nufft_deconvolve. */
KERNEL nufft_precompensate(GLOBAL const REAL2 *modes, GLOBAL const REAL *factors,
                           GLOBAL REAL2 *fine, uint nmodes, uint nfine, uint ntrans, int dim,
                           DIMS mdims, DIMS fdims) {
    uint g = GLOBAL_ID(0);
    if (g >= nmodes * ntrans) return;
    uint t = g / nmodes;
    REAL f;
    uint at = epri_mode_to_fine(g % nmodes, dim, mdims, fdims, factors, &f);
    fine[t * nfine + at] = c_scale(modes[g], f);
}
