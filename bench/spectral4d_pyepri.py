"""PyEPRI baseline of `spectral-bench` (the spectral-spatial 4D operators), same case:
Nb = 64 field samples (390-410 G), a 32^3 volume of delta = 0.025 cm, P = 400 gradients
(Fibonacci-sphere directions, magnitudes 15 * ((7919 k) mod 1000) / 1000 G/cm, the first 4
zero: the same table as spectral-bench), float32, eps 1e-6, numpy backend.

Each line: the call, its memory_usage and the median of REPS runs after a warm-up call. No
memory figure: the calls share one process, whose allocator keeps what an earlier call freed,
so a call's peak growth depends on the calls before it (the project's reference figures of
PyEPRI's peak memory were measured one call per process). finufft runs with its default thread count (OpenMP: every core) for memory_usage 0/1 and one
thread for memory_usage 2 (PyEPRI's wrappers), numpy's FFTs on one thread.

Output (stdout): `RESULT<TAB>call<TAB>memory_usage<TAB>median_ms`.
Usage: python3 bench/spectral4d_pyepri.py [REPS] [--kernel-modes=0,1]
--peak=CALL,MODE (proj4d or backproj4d): one first call, `PEAK<TAB>call<TAB>mode<TAB>MiB`,
the growth of VmHWM over it (reset before; Linux), as spectral-bench's plan + call.
"""
import sys
import time

import numpy as np
import pyepri.backends as backends
import pyepri.spectralspatial as ss


def measure(name, mode, reps, call):
    call()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
    print(f"RESULT\t{name}\t{mode}\t{1e3 * float(np.median(times)):.1f}", flush=True)


def peak_growth_mib(call):
    def hwm():
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) / 1024
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = hwm()
    call()
    return hwm() - before


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 3
    kmodes = [0, 1]
    for a in sys.argv[1:]:
        if a.startswith("--kernel-modes="):
            kmodes = [int(m) for m in a.split("=")[1].split(",") if m]
    nb, n, p = 64, 32, 400
    B = np.linspace(390.0, 410.0, nb).astype(np.float32)
    golden = np.pi * (3.0 - np.sqrt(5.0))
    fgrad = np.zeros((3, p))
    for k in range(4, p):
        z = 1.0 - (2 * k + 1) / p
        r = np.sqrt(1.0 - z * z)
        ph = golden * k
        mag = 15.0 * (((k * 7919) % 1000) / 1000.0)
        fgrad[:, k] = mag * np.array([r * np.cos(ph), r * np.sin(ph), z])
    fgrad = fgrad.astype(np.float32)
    delta, eps = 0.025, 1e-6
    shape = (nb, n, n, n)
    backend = backends.create_numpy_backend()
    rng = np.random.default_rng(1)
    u = rng.random(shape, dtype=np.float32)
    peak = [a.split("=")[1].split(",") for a in sys.argv[1:] if a.startswith("--peak=")]
    if peak:
        name, mode = peak[0][0], int(peak[0][1])
        proj = rng.random((p, nb), dtype=np.float32)
        call = {"proj4d": lambda: ss.proj4d(u, delta, B, fgrad, backend=backend, eps=eps,
                                            memory_usage=mode),
                "backproj4d": lambda: ss.backproj4d(proj, delta, B, fgrad, shape, eps=eps,
                                                    backend=backend, memory_usage=mode)}[name]
        print(f"PEAK\t{name}\t{mode}\t{peak_growth_mib(call):.1f}", flush=True)
        return
    proj = ss.proj4d(u, delta, B, fgrad, backend=backend, eps=eps)
    for mode in (0, 1, 2):
        measure("proj4d", mode, reps, lambda: ss.proj4d(
            u, delta, B, fgrad, backend=backend, eps=eps, memory_usage=mode))
        measure("backproj4d", mode, reps, lambda: ss.backproj4d(
            proj, delta, B, fgrad, shape, backend=backend, eps=eps, memory_usage=mode))
    kshape = (2 * nb, 2 * n, 2 * n, 2 * n)
    for mode in kmodes:
        measure("toeplitz_kernel", mode, reps, lambda: ss.compute_4d_toeplitz_kernel(
            B, delta, fgrad, kshape, backend=backend, eps=eps, return_rfft4=True,
            memory_usage=mode))
    phi = ss.compute_4d_toeplitz_kernel(B, delta, fgrad, kshape, backend=backend, eps=eps,
                                        return_rfft4=True)
    measure("toeplitz_apply", "-", reps, lambda: ss.apply_4d_toeplitz_kernel(
        u, phi, backend=backend))


if __name__ == "__main__":
    main()
