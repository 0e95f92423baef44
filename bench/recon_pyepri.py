"""PyEPRI baseline for `recon-bench`: one reconstruction workload per process, numpy backend,
float32, as PyEPRI's examples run them (video and verbose off).

Workloads (datasets/ as .npy, float32):
* tv2d_phalanx:  processing.tv_monosrc(proj, B, fgrad, 8e-3, h, 1.0, (400, 200), tol=1e-5, nitermax=1000)
* tv3d_fusillo:  processing.tv_monosrc(proj, B, fgrad, 0.05, h, 500., (100, 50, 50), tol=1e-4, nitermax=500)
* fbp2d_phalanx: processing.eprfbp2d(proj, fgrad, h, B, xgrid, ygrid, interp1, frequency_cutoff=0.1), 400x200, delta 8e-3
* fbp3d_fusillo: processing.eprfbp3d(..., frequency_cutoff=0.1), 100x50x50, delta 0.05
* tv3d_cubeN:    tv_monosrc(proj, B, fgrad, 5/N, h, 500., (N, N, N), tol=1e-4 for the Lipschitz
                 power iteration, then 15 solver iterations at tol 0 (recon-bench --scale);
                 prints `RESULT<TAB>case<TAB>median ms per iteration (4 to 14)<TAB>11<TAB>plan ms`

Timing: median of REPS runs after one warm-up call (for TV the warm-up is the same call with
nitermax=10, as in reference/BASELINE.md). PyEPRI gives finufft max(1, physical cores - 1)
threads (one on a 2-core machine); numpy's FFTs are single-threaded.

Output (stdout): `RESULT<TAB>case<TAB>median_ms<TAB>iterations` (iterations 0 for FBP).
Usage: python3 bench/recon_pyepri.py CASE REPS
"""
import os
import sys
import time
import types

# processing imports pyvista (3D display only); stub it when it is not installed.
try:
    import pyvista  # noqa: F401
except ImportError:
    sys.modules["pyvista"] = types.ModuleType("pyvista")

import numpy as np
import pyepri.backends as backends
import pyepri.optimization as optimization
import pyepri.processing as processing

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "datasets")


def load(dataset, name):
    return np.ascontiguousarray(np.load(os.path.join(ROOT, dataset, name + ".npy")).astype(np.float32))


def grid(n, delta):
    return (-(n // 2) + np.arange(n, dtype=np.float32)) * delta


def main():
    case, reps = sys.argv[1], int(sys.argv[2])
    backend = backends.create_numpy_backend()
    dataset = "phalanx-20220203" if case.endswith("phalanx") else "fusillo-20091002"
    B, h, fgrad, proj = (load(dataset, n) for n in ("B", "h", "fgrad", "proj"))

    iters = [0]
    solver = optimization.tvsolver_cp2016

    def counting_solver(*args, **kwargs):
        out = solver(*args, **kwargs)
        iters[0] = out["iter"]
        return out

    processing.optimization.tvsolver_cp2016 = counting_solver

    if case.startswith("tv3d_cube"):
        n = int(case[len("tv3d_cube"):])
        stamps = []

        def timed_solver(init, gradf, *args, **kwargs):
            stamps.append(time.perf_counter())  # plan done
            kwargs.update(tol=0.0, nitermax=15)

            def timed_gradf(u):  # called once per iteration
                stamps.append(time.perf_counter())
                return gradf(u)

            return solver(init, timed_gradf, *args, **kwargs)

        processing.optimization.tvsolver_cp2016 = timed_solver
        start = time.perf_counter()
        processing.tv_monosrc(proj, B, fgrad, 5.0 / n, h, 500.0, (n, n, n),
                              backend=backend, tol=1e-4)
        steps = np.diff(stamps[1 + 3:])
        print(f"RESULT\t{case}\t{float(np.median(steps)) * 1e3:.3f}\t{len(steps)}\t"
              f"{(stamps[0] - start) * 1e3:.3f}")
        return

    interp1 = lambda xp, fp, x: np.interp(x, xp.ravel(), fp.ravel(), left=0.0, right=0.0)
    if case == "tv2d_phalanx":
        run = lambda nmax: processing.tv_monosrc(
            proj, B, fgrad, 8e-3, h, 1.0, (400, 200), backend=backend, tol=1e-5, nitermax=nmax)
        full = 1000
    elif case == "tv3d_fusillo":
        run = lambda nmax: processing.tv_monosrc(
            proj, B, fgrad, 0.05, h, 500.0, (100, 50, 50), backend=backend, tol=1e-4, nitermax=nmax)
        full = 500
    elif case == "fbp2d_phalanx":
        x, y = grid(200, np.float32(8e-3)), grid(400, np.float32(8e-3))
        run = lambda _: processing.eprfbp2d(
            proj, fgrad, h, B, x, y, interp1, backend=backend, frequency_cutoff=0.1)
        full = None
    elif case == "fbp3d_fusillo":
        x, y, z = grid(50, np.float32(0.05)), grid(100, np.float32(0.05)), grid(50, np.float32(0.05))
        run = lambda _: processing.eprfbp3d(
            proj, fgrad, h, B, x, y, z, interp1, backend=backend, frequency_cutoff=0.1)
        full = None
    else:
        sys.exit(f"unknown case {case}")

    run(10 if full else None)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        run(full)
        times.append((time.perf_counter() - start) * 1e3)
    print(f"RESULT\t{case}\t{float(np.median(times)):.3f}\t{iters[0]}")


if __name__ == "__main__":
    main()
