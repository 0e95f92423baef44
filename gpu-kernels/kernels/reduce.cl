/* Reductions to one number per work group; the host adds up the partial results (in f64).
 * Op codes: 0 sum, 1 sum of squares, 2 max, 3 min, 4 dot(a, b), 5 squared distance |a - b|^2.
 */
FUNC REAL epri_reduce_identity(int op) {
    return op == 2 ? -REAL_INF : op == 3 ? REAL_INF : (REAL)0;
}

FUNC REAL epri_reduce_join(int op, REAL s, REAL v) {
    return op == 2 ? r_max(s, v) : op == 3 ? r_min(s, v) : s + v;
}

/* partial[g] <- reduction of a (and b for ops 4, 5) over the elements i = gid, gid + G, ...
 * Launch: 1D, work-group size exactly EPRI_REDUCE_WG (256, prelude.h), any number of groups G' <= n;
 * grid-stride loop over n elements; one output per group.
 * Args: a, b (ignored unless op is 4 or 5: pass a), n, op, partial. */
KERNEL reduce_partial(GLOBAL const REAL *a, GLOBAL const REAL *b, uint n, int op,
                      GLOBAL REAL *partial) {
    LOCAL REAL scratch[EPRI_REDUCE_WG];
    uint lid = LOCAL_ID(0);
    uint stride = GLOBAL_SIZE(0);
    REAL s = epri_reduce_identity(op);
    for (uint i = GLOBAL_ID(0); i < n; i += stride) {
        REAL v = a[i];
        if (op == 1) v = v * v;
        else if (op == 4) v = v * b[i];
        else if (op == 5) { v = v - b[i]; v = v * v; }
        s = epri_reduce_join(op, s, v);
    }
    scratch[lid] = s;
    BARRIER;
    for (uint h = EPRI_REDUCE_WG / 2; h > 0; h >>= 1) {
        if (lid < h) scratch[lid] = epri_reduce_join(op, scratch[lid], scratch[lid + h]);
        BARRIER;
    }
    if (lid == 0) partial[GROUP_ID(0)] = scratch[0];
}
