/* Index maps, generic over the element size: every kernel is instantiated for 4-, 8- and
 * 16-byte words (uint, uint2, uint4), with suffix _w4, _w8, _w16, so that one program serves
 * f32 / u32 (w4), f64 / complex f32 (w8) and complex f64 (w16) buffers.
 * Launch geometry of every kernel: 1D, one work item per output element (i < n or m).
 *
 * fill_wK(buf, n, value):               buf[i] <- value
 * gather_wK(src, idx, out, m, nsrc):    out[i] <- src[idx[i]] (0 when idx[i] >= nsrc)
 * scatter_wK(src, idx, out, m, nout):   out[idx[i]] <- src[i] (skipped when idx[i] >= nout)
 * remap_wK(src, dst, n, rank, dshape, sshape, delta, wrap):
 *   for every dst position d (row-major over dshape, n elements), the source position is
 *   s = d + delta per axis; with wrap, s is reduced modulo sshape (delta in [0, sshape));
 *   without, dst[d] <- 0 when s falls outside sshape. Serves embed (delta = -offset),
 *   extract (delta = +offset) and roll (wrap, delta = -shift mod n).
 */
#define EPRI_INDEX_KERNELS(W, SUF, ZERO)                                                     \
    KERNEL fill_##SUF(GLOBAL W *buf, uint n, W value) {                                     \
        uint i = GLOBAL_ID(0);                                                              \
        if (i < n) buf[i] = value;                                                          \
    }                                                                                       \
    KERNEL gather_##SUF(GLOBAL const W *src, GLOBAL const uint *idx, GLOBAL W *out, uint m, \
                        uint nsrc) {                                                        \
        uint i = GLOBAL_ID(0);                                                              \
        if (i < m) {                                                                        \
            uint j = idx[i];                                                                \
            out[i] = j < nsrc ? src[j] : ZERO;                                              \
        }                                                                                   \
    }                                                                                       \
    KERNEL scatter_##SUF(GLOBAL const W *src, GLOBAL const uint *idx, GLOBAL W *out, uint m, \
                         uint nout) {                                                       \
        uint i = GLOBAL_ID(0);                                                              \
        if (i < m) {                                                                        \
            uint j = idx[i];                                                                \
            if (j < nout) out[j] = src[i];                                                  \
        }                                                                                   \
    }                                                                                       \
    KERNEL remap_##SUF(GLOBAL const W *src, GLOBAL W *dst, uint n, int rank, DIMS dshape,   \
                       DIMS sshape, DIMS delta, int wrap) {                                 \
        uint i = GLOBAL_ID(0);                                                              \
        if (i >= n) return;                                                                 \
        uint rest = i, sflat = 0, sstride = 1;                                              \
        int inside = 1;                                                                     \
        for (int a = rank - 1; a >= 0; a--) {                                               \
            int d = (int)(rest % (uint)dshape.d[a]);                                        \
            rest /= (uint)dshape.d[a];                                                      \
            int s = d + delta.d[a];                                                         \
            if (wrap) {                                                                     \
                if (s >= sshape.d[a]) s -= sshape.d[a];                                     \
            } else if (s < 0 || s >= sshape.d[a]) {                                         \
                inside = 0;                                                                 \
            }                                                                               \
            sflat += (uint)s * sstride;                                                     \
            sstride *= (uint)sshape.d[a];                                                   \
        }                                                                                   \
        dst[i] = inside ? src[sflat] : ZERO;                                                \
    }

EPRI_INDEX_KERNELS(uint, w4, 0u)
EPRI_INDEX_KERNELS(uint2, w8, MAKE_UINT2(0u, 0u))
EPRI_INDEX_KERNELS(uint4, w16, MAKE_UINT4(0u, 0u, 0u, 0u))
