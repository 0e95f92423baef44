/* Finite-difference stencils of the TV solvers (SPEC 2.10, 2.11) on row-major arrays of
 * `rank` axes and n elements (shape in a DIMS). Gradient components are stacked along a
 * leading axis: component a of pixel k lives at a * n + k.
 * Forward differences, zero on the last slice of each axis; the divergence is the negative
 * adjoint: along an axis, div[i] = q[i] (i < N-1) - q[i-1] (i > 0), with q = masks * p.
 */

/* Stride of axis `ax` (product of the later axes). */
FUNC uint epri_stride(int rank, DIMS shape, int ax) {
    uint s = 1;
    for (int b = ax + 1; b < rank; b++) s *= (uint)shape.d[b];
    return s;
}

/* Divergence at pixel k of the stacked field p (naxes components over `axes`), masked by
 * `masks` (same layout as p) when has_masks. */
FUNC REAL epri_div_at(GLOBAL const REAL *p, GLOBAL const REAL *masks, int has_masks, uint n,
                      int rank, DIMS shape, int naxes, DIMS axes, uint k) {
    REAL s = (REAL)0;
    for (int a = 0; a < naxes; a++) {
        int ax = axes.d[a];
        uint st = epri_stride(rank, shape, ax);
        uint len = (uint)shape.d[ax];
        uint i = (k / st) % len;
        uint here = (uint)a * n + k;
        if (i + 1 < len) s += has_masks ? masks[here] * p[here] : p[here];
        if (i > 0) s -= has_masks ? masks[here - st] * p[here - st] : p[here - st];
    }
    return s;
}

/* out[a * n + k] <- (masks ⊙) (u(k + e_axes[a]) - u(k)), zero on the last slice.
 * Launch: 1D, one work item per output element (naxes * n).
 * Args: u, masks (pass u when has_masks = 0), out, n, rank, shape, naxes, axes, has_masks. */
KERNEL stencil_grad(GLOBAL const REAL *u, GLOBAL const REAL *masks, GLOBAL REAL *out, uint n, int rank,
                    DIMS shape, int naxes, DIMS axes, int has_masks) {
    uint g = GLOBAL_ID(0);
    if (g >= n * (uint)naxes) return;
    uint a = g / n, k = g % n;
    int ax = axes.d[a];
    uint st = epri_stride(rank, shape, ax);
    uint len = (uint)shape.d[ax];
    uint i = (k / st) % len;
    REAL v = i + 1 < len ? u[k + st] - u[k] : (REAL)0;
    out[g] = has_masks ? masks[g] * v : v;
}

/* out[k] <- div(masks ⊙ p)(k).
 * Launch: 1D, one work item per output element (n).
 * Args: p, masks (pass p when has_masks = 0), out, n, rank, shape, naxes, axes, has_masks. */
KERNEL stencil_div(GLOBAL const REAL *p, GLOBAL const REAL *masks, GLOBAL REAL *out, uint n, int rank,
           DIMS shape, int naxes, DIMS axes, int has_masks) {
    uint k = GLOBAL_ID(0);
    if (k >= n) return;
    out[k] = epri_div_at(p, masks, has_masks, n, rank, shape, naxes, axes, k);
}

/* Fused TV dual step over every axis of ubar: p <- p + step (masks ⊙) grad(ubar), then
 * p[:, k] <- p[:, k] / max(1, |p[:, k]|_2).
 * Launch: 1D, one work item per pixel k < n (each owns its rank components).
 * Args: p, ubar, masks (pass ubar when has_masks = 0), n, rank, shape, step, has_masks. */
KERNEL tv_dual_step(GLOBAL REAL *p, GLOBAL const REAL *ubar, GLOBAL const REAL *masks, uint n,
                    int rank, DIMS shape, REAL step, int has_masks) {
    uint k = GLOBAL_ID(0);
    if (k >= n) return;
    REAL v[EPRI_MAX_RANK];
    REAL norm2 = (REAL)0;
    REAL u0 = ubar[k];
    for (int a = 0; a < rank; a++) {
        uint st = epri_stride(rank, shape, a);
        uint len = (uint)shape.d[a];
        uint i = (k / st) % len;
        uint here = (uint)a * n + k;
        REAL g = i + 1 < len ? ubar[k + st] - u0 : (REAL)0;
        if (has_masks) g *= masks[here];
        v[a] = p[here] + step * g;
        norm2 += v[a] * v[a];
    }
    REAL inv = (REAL)1 / fmax((REAL)1, sqrt(norm2));
    for (int a = 0; a < rank; a++) p[(uint)a * n + k] = v[a] * inv;
}

/* Fused TV primal step: u_new = u + tau (lambda div(masks ⊙ p) - gradf); u_new *= [mask > 0]
 * (flag 2); u_new = max(u_new, 0) (flag 1); ubar <- 2 u_new - u; u <- u_new. With flag 8, also
 * the stopping rule's sums over the pixels of each work group: partial[g] <- Σ (u_new - u)^2,
 * partial[G + g] <- Σ u_new^2 for group g of G (the host adds them up in f64).
 * Launch: 1D. Without flag 8, one work item per pixel k < n (any group size); with it, G groups
 * of exactly EPRI_REDUCE_WG (256) items, each item striding over the pixels k, k + 256 G, ...
 * Args: u, ubar, p, gradf, mask (pass u when unused), masks (pass p when unused), n, rank,
 * shape, tau, lambda, flags (bit 0 positivity, bit 1 mask, bit 2 masks, bit 3 sums), partial
 * (2 G values; pass u without flag 8). */
KERNEL tv_primal_step(GLOBAL REAL *u, GLOBAL REAL *ubar, GLOBAL const REAL *p,
                      GLOBAL const REAL *gradf, GLOBAL const REAL *mask,
                      GLOBAL const REAL *masks, uint n, int rank, DIMS shape, REAL tau,
                      REAL lambda, int flags, GLOBAL REAL *partial) {
    LOCAL REAL change[EPRI_REDUCE_WG];
    LOCAL REAL norm[EPRI_REDUCE_WG];
    DIMS axes;
    for (int a = 0; a < EPRI_MAX_RANK; a++) axes.d[a] = a;
    REAL sc = (REAL)0, sn = (REAL)0;
    for (uint k = GLOBAL_ID(0); k < n; k += GLOBAL_SIZE(0)) {
        REAL d = epri_div_at(p, masks, (flags & 4) != 0, n, rank, shape, rank, axes, k);
        REAL u_old = u[k];
        REAL v = u_old + tau * (lambda * d - gradf[k]);
        if ((flags & 2) && !(mask[k] > (REAL)0)) v = (REAL)0;
        if (flags & 1) v = fmax(v, (REAL)0);
        ubar[k] = (REAL)2 * v - u_old;
        u[k] = v;
        sc += (v - u_old) * (v - u_old);
        sn += v * v;
    }
    /* The flag is the same for every item of the launch: no item skips a barrier alone. */
    if (!(flags & 8)) return;
    uint lid = LOCAL_ID(0);
    change[lid] = sc;
    norm[lid] = sn;
    BARRIER;
    for (uint h = EPRI_REDUCE_WG / 2; h > 0; h >>= 1) {
        if (lid < h) {
            change[lid] += change[lid + h];
            norm[lid] += norm[lid + h];
        }
        BARRIER;
    }
    if (lid == 0) {
        partial[GROUP_ID(0)] = change[0];
        partial[NUM_GROUPS(0) + GROUP_ID(0)] = norm[0];
    }
}
