/* Elementwise maps on real and complex buffers.
 * Launch geometry of every kernel here: 1D, one work item per element i < n (any work-group
 * size, global size rounded up).
 * Op codes (host enums in this order):
 *   unary:  0 abs, 1 sqrt, 2 exp, 3 sin, 4 cos, 5 neg, 6 square
 *   binary: 0 add, 1 sub, 2 mul, 3 div, 4 max, 5 min
 *   part:   0 re, 1 im, 2 abs
 */

FUNC REAL epri_unary(int op, REAL x) {
    switch (op) {
    case 0: return fabs(x);
    case 1: return sqrt(x);
    case 2: return exp(x);
    case 3: return sin(x);
    case 4: return cos(x);
    case 5: return -x;
    default: return x * x;
    }
}

FUNC REAL epri_binary(int op, REAL a, REAL b) {
    switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: return a / b;
    case 4: return r_max(a, b);
    default: return r_min(a, b);
    }
}

/* x[i] <- op(x[i]).  Args: x, n, op. */
KERNEL map_real(GLOBAL REAL *x, uint n, int op) {
    uint i = GLOBAL_ID(0);
    if (i < n) x[i] = epri_unary(op, x[i]);
}

/* a[i] <- a[i] op b[i % nb].  Args: a, b, n, nb, op. */
KERNEL zip_real(GLOBAL REAL *a, GLOBAL const REAL *b, uint n, uint nb, int op) {
    uint i = GLOBAL_ID(0);
    if (i < n) a[i] = epri_binary(op, a[i], b[i % nb]);
}

/* a[i] <- a[i] op s.  Args: a, n, s, op. */
KERNEL zip_scalar_real(GLOBAL REAL *a, uint n, REAL s, int op) {
    uint i = GLOBAL_ID(0);
    if (i < n) a[i] = epri_binary(op, a[i], s);
}

/* y[i] <- alpha x[i] + beta y[i].  Args: x, y, n, alpha, beta. */
KERNEL axpby_real(GLOBAL const REAL *x, GLOBAL REAL *y, uint n, REAL alpha, REAL beta) {
    uint i = GLOBAL_ID(0);
    if (i < n) y[i] = alpha * x[i] + beta * y[i];
}

/* y[i] <- alpha x[i] + beta y[i], complex.  Args: x, y, n, alpha_re, alpha_im, beta_re, beta_im. */
KERNEL axpby_complex(GLOBAL const REAL2 *x, GLOBAL REAL2 *y, uint n, REAL ar, REAL ai, REAL br,
                     REAL bi) {
    uint i = GLOBAL_ID(0);
    if (i < n) y[i] = c_add(c_mul(MAKE_REAL2(ar, ai), x[i]), c_mul(MAKE_REAL2(br, bi), y[i]));
}

/* x[i] <- alpha x[i].  Args: x, n, alpha. */
KERNEL scale_real(GLOBAL REAL *x, uint n, REAL alpha) {
    uint i = GLOBAL_ID(0);
    if (i < n) x[i] = alpha * x[i];
}

/* x[i] <- alpha x[i], complex.  Args: x, n, alpha_re, alpha_im. */
KERNEL scale_complex(GLOBAL REAL2 *x, uint n, REAL ar, REAL ai) {
    uint i = GLOBAL_ID(0);
    if (i < n) x[i] = c_mul(MAKE_REAL2(ar, ai), x[i]);
}

/* a[i] <- a[i] * b[i % nb] (conj(b) if conj_b).  Args: a, b, n, nb, conj_b. */
KERNEL cmul_complex(GLOBAL REAL2 *a, GLOBAL const REAL2 *b, uint n, uint nb, int conj_b) {
    uint i = GLOBAL_ID(0);
    if (i < n) {
        REAL2 w = b[i % nb];
        a[i] = c_mul(a[i], conj_b ? c_conj(w) : w);
    }
}

/* z[i] <- conj(z[i]).  Args: z, n. */
KERNEL conj_complex(GLOBAL REAL2 *z, uint n) {
    uint i = GLOBAL_ID(0);
    if (i < n) z[i] = c_conj(z[i]);
}

/* out[i] <- x[i] + 0i.  Args: x, out, n. */
KERNEL real_to_complex(GLOBAL const REAL *x, GLOBAL REAL2 *out, uint n) {
    uint i = GLOBAL_ID(0);
    if (i < n) out[i] = MAKE_REAL2(x[i], (REAL)0);
}

/* out[i] <- Re, Im or |z[i]|.  Args: z, out, n, part. */
KERNEL complex_part(GLOBAL const REAL2 *z, GLOBAL REAL *out, uint n, int part) {
    uint i = GLOBAL_ID(0);
    if (i < n) {
        REAL2 v = z[i];
        out[i] = part == 0 ? v.x : part == 1 ? v.y : hypot(v.x, v.y);
    }
}
