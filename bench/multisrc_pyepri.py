"""PyEPRI baseline of the source separation (tv_multisrc) benchmark, side by side with
`cpu::tv_multisrc::pyepri_tam_tempo` of epri-ops/tests/multisrc.rs.

Workload (datasets/tam-and-tempo-tubes-2d-20210609 as .npy, float32, numpy backend, as the
gallery example example_tv_multisrc_tam_and_tempo_tubes_2d.py runs it, video and verbose off):
    processing.tv_multisrc((proj,), B, (fgrad,), 0.03, ((htam, htempo),), 5, ((100, 100), (100, 100)),
                           tol=1e-5, nitermax=5000)

Timing: median of REPS runs after one warm-up call with nitermax=10 (as reference/BASELINE.md).
PyEPRI gives finufft max(1, physical cores - 1) threads; numpy's FFTs are single-threaded.

Output (stdout): `RESULT<TAB>tv2d_tam_tempo<TAB>median_ms<TAB>iterations`.
Usage: python3 bench/multisrc_pyepri.py REPS
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

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "datasets",
                    "tam-and-tempo-tubes-2d-20210609")


def load(name):
    return np.ascontiguousarray(np.load(os.path.join(DATA, name + ".npy")).astype(np.float32))


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    backend = backends.create_numpy_backend()
    B, fgrad, proj, htam, htempo = (load(n) for n in ("B", "fgrad", "proj", "htam", "htempo"))

    iters = [0]
    solver = optimization.tvsolver_cp2016_multisrc

    def counting_solver(*args, **kwargs):
        out = solver(*args, **kwargs)
        iters[0] = out["iter"]
        return out

    processing.optimization.tvsolver_cp2016_multisrc = counting_solver
    run = lambda nmax: processing.tv_multisrc(
        (proj,), B, (fgrad,), 0.03, ((htam, htempo),), 5, ((100, 100), (100, 100)),
        backend=backend, tol=1e-5, nitermax=nmax)
    run(10)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        run(5000)
        times.append((time.perf_counter() - start) * 1e3)
    print(f"RESULT\ttv2d_tam_tempo\t{float(np.median(times)):.3f}\t{iters[0]}")


if __name__ == "__main__":
    main()
