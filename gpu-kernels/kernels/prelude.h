/* epri kernel prelude: one spelling for OpenCL C and CUDA C (NVRTC).
 *
 * The host prepends `#define REAL_IS_DOUBLE` for the f64 program; without it REAL is float.
 * NVRTC defines __CUDACC__; everything else is OpenCL C 1.2+.
 *
 * Conventions of every kernel file:
 * - one KERNEL per function, 1D launches only: GLOBAL_ID(0) is the work item, kernels test it
 *   against their element count (the host rounds the global size up to the work-group size);
 * - sizes and counts are `uint`, flags and small codes `int`, scalars `REAL`;
 * - complex numbers are REAL2 (x = re, y = im) and only the FUNC helpers below do complex
 *   arithmetic (CUDA has no vector operators), or kernels on split real / imaginary parts;
 * - shapes of up to EPRI_MAX_RANK axes travel by value in a DIMS struct (unused entries 1/0);
 * - FUNC helpers are always inlined (so that constant arguments specialise them);
 * - MUL_HI(a, b): the high 32 bits of the 64-bit product of two uints;
 * - LOCAL declares a work-group array in a kernel; LOCAL_SPACE qualifies a pointer into one
 *   (OpenCL's __local; nothing in CUDA, whose pointers are generic).
 */
#define EPRI_MAX_RANK 8
/* Work-group size of the kernels that reduce in local memory (reduce_partial, tv_primal_step
 * with sums); REDUCE_GROUP_SIZE on the host. */
#define EPRI_REDUCE_WG 256

#ifdef __CUDACC__
/* ------------------------------------------------------------------ CUDA (NVRTC) */
typedef unsigned int uint;
typedef unsigned long long ulong;
#define KERNEL extern "C" __global__ void
#define FUNC static __device__ __forceinline__
#define GLOBAL
#define LOCAL __shared__
#define LOCAL_SPACE
#define GLOBAL_ID(d) ((d) == 0 ? blockIdx.x * blockDim.x + threadIdx.x : (d) == 1 ? blockIdx.y * blockDim.y + threadIdx.y : blockIdx.z * blockDim.z + threadIdx.z)
#define LOCAL_ID(d) ((d) == 0 ? threadIdx.x : (d) == 1 ? threadIdx.y : threadIdx.z)
#define GROUP_ID(d) ((d) == 0 ? blockIdx.x : (d) == 1 ? blockIdx.y : blockIdx.z)
#define LOCAL_SIZE(d) ((d) == 0 ? blockDim.x : (d) == 1 ? blockDim.y : blockDim.z)
#define GLOBAL_SIZE(d) ((d) == 0 ? gridDim.x * blockDim.x : (d) == 1 ? gridDim.y * blockDim.y : gridDim.z * blockDim.z)
#define NUM_GROUPS(d) ((d) == 0 ? gridDim.x : (d) == 1 ? gridDim.y : gridDim.z)
#define BARRIER __syncthreads()
#define MUL_HI(a, b) __umulhi((a), (b))
#define MAKE_UINT2(a, b) make_uint2((a), (b))
#define MAKE_UINT4(a, b, c, d) make_uint4((a), (b), (c), (d))
#ifdef REAL_IS_DOUBLE
typedef double REAL;
typedef double2 REAL2;
#define MAKE_REAL2(a, b) make_double2((a), (b))
#else
typedef float REAL;
typedef float2 REAL2;
#define MAKE_REAL2(a, b) make_float2((a), (b))
#endif
#define REAL_INF ((REAL)__int_as_float(0x7f800000))
#define ATOMIC_ADD_REAL(ptr, v) atomicAdd((ptr), (v))

#else
/* ------------------------------------------------------------------ OpenCL C */
#define KERNEL __kernel void
#define FUNC static inline __attribute__((always_inline))
#define GLOBAL __global
#define LOCAL __local
#define LOCAL_SPACE __local
#define GLOBAL_ID(d) ((uint)get_global_id(d))
#define LOCAL_ID(d) ((uint)get_local_id(d))
#define GROUP_ID(d) ((uint)get_group_id(d))
#define LOCAL_SIZE(d) ((uint)get_local_size(d))
#define GLOBAL_SIZE(d) ((uint)get_global_size(d))
#define NUM_GROUPS(d) ((uint)get_num_groups(d))
#define BARRIER barrier(CLK_LOCAL_MEM_FENCE)
#define MUL_HI(a, b) mul_hi((a), (b))
#define MAKE_UINT2(a, b) ((uint2)((a), (b)))
#define MAKE_UINT4(a, b, c, d) ((uint4)((a), (b), (c), (d)))
#ifdef REAL_IS_DOUBLE
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#pragma OPENCL EXTENSION cl_khr_int64_base_atomics : enable
typedef double REAL;
typedef double2 REAL2;
#define EPRI_REAL_NAME double
#define MAKE_REAL2(a, b) ((double2)((a), (b)))
/* No float atomics on PoCL: compare-and-swap on the 64-bit pattern. */
FUNC void epri_atomic_add_real(volatile GLOBAL REAL *p, REAL v) {
    union { ulong u; double f; } old_v, new_v;
    do {
        old_v.f = *p;
        new_v.f = old_v.f + v;
    } while (atom_cmpxchg((volatile GLOBAL ulong *)p, old_v.u, new_v.u) != old_v.u);
}
#else
typedef float REAL;
typedef float2 REAL2;
#define EPRI_REAL_NAME float
#define MAKE_REAL2(a, b) ((float2)((a), (b)))
FUNC void epri_atomic_add_real(volatile GLOBAL REAL *p, REAL v) {
    union { uint u; float f; } old_v, new_v;
    do {
        old_v.f = *p;
        new_v.f = old_v.f + v;
    } while (atomic_cmpxchg((volatile GLOBAL uint *)p, old_v.u, new_v.u) != old_v.u);
}
#endif
#define REAL_INF ((REAL)INFINITY)
#define ATOMIC_ADD_REAL(ptr, v) epri_atomic_add_real((ptr), (v))
#endif

/* ------------------------------------------------------------------ shared helpers */
/* EPRI_FFT_LANES (the host's `#define`, 1 if absent): lines per work group of the local-memory
 * FFT kernels (fft_conv_*). A LANE holds one REAL of each of these lines: REAL itself when 1;
 * otherwise (OpenCL only, n = 2, 4 or 8) the vector REALn, so that every butterfly runs on n
 * lines at once in vector registers (CPU devices, whose compilers do not vectorise across work
 * items here).
 * LANE_AT(p, l): lane l of the LANE at local address p; LANE_PRIV(v, l): of a private LANE. */
#ifndef EPRI_FFT_LANES
#define EPRI_FFT_LANES 1
#endif
#if EPRI_FFT_LANES == 1
typedef REAL LANE;
/* LANE_LOAD_C(p, re, im): the EPRI_FFT_LANES complex values at global p split into the LANEs
 * re, im; LANE_STORE_C(p, re, im): the reverse. */
#define LANE_LOAD_C(p, re, im) do { REAL2 v_ = *(p); re = v_.x; im = v_.y; } while (0)
#define LANE_STORE_C(p, re, im) (*(p) = MAKE_REAL2((re), (im)))
#elif defined(__CUDACC__)
#error "EPRI_FFT_LANES must be 1 on CUDA"
#else
#define EPRI_CAT_(a, b) a##b
#define EPRI_CAT(a, b) EPRI_CAT_(a, b)
typedef EPRI_CAT(EPRI_REAL_NAME, EPRI_FFT_LANES) LANE;
#if EPRI_FFT_LANES == 2
#define EPRI_LANES2 4
#elif EPRI_FFT_LANES == 4
#define EPRI_LANES2 8
#elif EPRI_FFT_LANES == 8
#define EPRI_LANES2 16
#else
#error "EPRI_FFT_LANES must be 1, 2, 4 or 8"
#endif
typedef EPRI_CAT(EPRI_REAL_NAME, EPRI_LANES2) EPRI_LANE_PAIR;
#define LANE_LOAD_C(p, re, im) do {                                                        \
        EPRI_LANE_PAIR v_ = EPRI_CAT(vload, EPRI_LANES2)(0, (GLOBAL const REAL *)(p));    \
        re = v_.even;                                                                      \
        im = v_.odd;                                                                       \
    } while (0)
#define LANE_STORE_C(p, re, im) do {                                                       \
        EPRI_LANE_PAIR v_;                                                                 \
        v_.even = (re);                                                                    \
        v_.odd = (im);                                                                     \
        EPRI_CAT(vstore, EPRI_LANES2)(v_, 0, (GLOBAL REAL *)(p));                          \
    } while (0)
#endif
#define LANE_ZERO ((LANE)((REAL)0))
#define LANE_AT(p, l) (((LOCAL_SPACE REAL *)(p))[l])
#define LANE_PRIV(v, l) (((REAL *)&(v))[l])

/* A shape (or offsets, or axis list) of up to EPRI_MAX_RANK entries, passed by value. */
typedef struct { int d[EPRI_MAX_RANK]; } DIMS;

FUNC REAL2 c_add(REAL2 a, REAL2 b) { return MAKE_REAL2(a.x + b.x, a.y + b.y); }
FUNC REAL2 c_sub(REAL2 a, REAL2 b) { return MAKE_REAL2(a.x - b.x, a.y - b.y); }
FUNC REAL2 c_mul(REAL2 a, REAL2 b) { return MAKE_REAL2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }
FUNC REAL2 c_conj(REAL2 a) { return MAKE_REAL2(a.x, -a.y); }
FUNC REAL2 c_scale(REAL2 a, REAL s) { return MAKE_REAL2(a.x * s, a.y * s); }
/* numpy-style max / min: NaN propagates */
FUNC REAL r_max(REAL a, REAL b) { return (a >= b || a != a) ? a : b; }
FUNC REAL r_min(REAL a, REAL b) { return (a <= b || a != a) ? a : b; }
