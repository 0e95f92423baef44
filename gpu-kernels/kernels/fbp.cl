/* Filtered backprojection (SPEC 2.13 step 7).
 * out[x] = sum_n interp(f[n, :], -<g_n, x>) with f (nproj, nb) sampled at r_l = r0 + l dr,
 * linear interpolation, zero outside [r_0, r_{nb-1}]; x runs row-major over the grid of
 * sizes (n0, n1, n2), d = 1, 2 or 3 axes (unused sizes 1, unused grids never read: pass any
 * buffer), coordinates grid_a[i_a]; g is (nproj, d) in image axis order.
 * Launch: 1D, one work item per output point (n0 * n1 * n2).
 * Args: f, g, grid0, grid1, grid2, out, nproj, nb, d, n0, n1, n2, r0, dr. */
KERNEL interp_backproject(GLOBAL const REAL *f, GLOBAL const REAL *g, GLOBAL const REAL *grid0,
                          GLOBAL const REAL *grid1, GLOBAL const REAL *grid2, GLOBAL REAL *out,
                          uint nproj, uint nb, int d, uint n0, uint n1, uint n2, REAL r0,
                          REAL dr) {
    uint i = GLOBAL_ID(0);
    if (i >= n0 * n1 * n2) return;
    uint i2 = i % n2, i1 = (i / n2) % n1, i0 = i / (n1 * n2);
    REAL x0 = grid0[i0];
    REAL x1 = d >= 2 ? grid1[i1] : (REAL)0;
    REAL x2 = d == 3 ? grid2[i2] : (REAL)0;
    REAL last = (REAL)(nb - 1);
    REAL s = (REAL)0;
    for (uint p = 0; p < nproj; p++) {
        GLOBAL const REAL *gp = g + p * (uint)d;
        REAL r = gp[0] * x0;
        if (d >= 2) r += gp[1] * x1;
        if (d == 3) r += gp[2] * x2;
        r = -r;
        REAL t = (r - r0) / dr;
        if (t >= (REAL)0 && t <= last) {
            uint l = (uint)floor(t);
            if (l >= nb - 1) {
                s += f[p * nb + nb - 1];
            } else {
                REAL w = t - (REAL)l;
                s += ((REAL)1 - w) * f[p * nb + l] + w * f[p * nb + l + 1];
            }
        }
    }
    out[i] = s;
}
