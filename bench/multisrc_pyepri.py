"""PyEPRI baseline of the source separation (tv_multisrc) benchmark, side by side with
`cpu::tv_multisrc::pyepri_tam_tempo` of epri-ops/tests/multisrc.rs.

Workloads (float32, numpy backend, as PyEPRI's gallery examples run them, video and verbose
off):
- tv2d_tam_tempo: datasets/tam-and-tempo-tubes-2d-20210609,
    processing.tv_multisrc((proj,), B, (fgrad,), 0.03, ((htam, htempo),), 5, ((100, 100), (100, 100)),
                           tol=1e-5, nitermax=5000)
- tv3d_tam_insert: datasets/tam-insert-in-tempo-20230929,
    processing.tv_multisrc((proj,), B, (fgrad,), 0.1, ((htam, htempo),), 2e-5,
                           ((30, 15, 15), (50, 20, 20)), tol=1e-5, nitermax=1000)

Timing: median of REPS runs after one warm-up call with nitermax=10 (as reference/BASELINE.md).
PyEPRI gives finufft max(1, physical cores - 1) threads; numpy's FFTs are single-threaded.

Output (stdout): `RESULT<TAB>workload<TAB>median_ms<TAB>iterations`, one line per workload.
Usage: python3 bench/multisrc_pyepri.py REPS [WORKLOAD]
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

DATASETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "datasets")

# name: (dataset, delta, lambda, shapes, nitermax)
WORKLOADS = {
    "tv2d_tam_tempo": ("tam-and-tempo-tubes-2d-20210609", 0.03, 5.0,
                       ((100, 100), (100, 100)), 5000),
    "tv3d_tam_insert": ("tam-insert-in-tempo-20230929", 0.1, 2e-5,
                        ((30, 15, 15), (50, 20, 20)), 1000),
}


def load(dataset, name):
    path = os.path.join(DATASETS, dataset, name + ".npy")
    return np.ascontiguousarray(np.load(path).astype(np.float32))


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    names = sys.argv[2:] or list(WORKLOADS)
    backend = backends.create_numpy_backend()

    iters = [0]
    solver = optimization.tvsolver_cp2016_multisrc

    def counting_solver(*args, **kwargs):
        out = solver(*args, **kwargs)
        iters[0] = out["iter"]
        return out

    processing.optimization.tvsolver_cp2016_multisrc = counting_solver
    for name in names:
        dataset, delta, lam, shapes, nitermax = WORKLOADS[name]
        B, fgrad, proj, htam, htempo = (
            load(dataset, n) for n in ("B", "fgrad", "proj", "htam", "htempo"))
        run = lambda nmax: processing.tv_multisrc(
            (proj,), B, (fgrad,), delta, ((htam, htempo),), lam, shapes,
            backend=backend, tol=1e-5, nitermax=nmax)
        run(10)
        times = []
        for _ in range(reps):
            start = time.perf_counter()
            run(nitermax)
            times.append((time.perf_counter() - start) * 1e3)
        print(f"RESULT\t{name}\t{float(np.median(times)):.3f}\t{iters[0]}", flush=True)


if __name__ == "__main__":
    main()
