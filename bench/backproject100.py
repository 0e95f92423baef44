"""`epri backproject` of the 100^3 case of bench/project100.py vs PyEPRI's backproj3d, run from
the repository root after bench/project100.py (which writes /tmp/epri-project100/, the
projections proj_epri.npy among them).

    python3 bench/backproject100.py REPS EPRI [EPRI ...]

Times (median of REPS runs after one warm-up): each EPRI binary's whole process `EPRI
backproject --proj .. --B .. --h .. --fgrad .. --delta 0.03 --shape 100,100,100 --out ..`
(runs of the binaries alternate, so that they see the same load), wall and CPU (user + system);
PyEPRI 1.1.1 `pyepri.monosrc.backproj3d(proj, 0.03, B, h, fgrad, (100, 100, 100),
backend=numpy, eps=1e-6)` in the same run; then each output's relative l2 difference to
PyEPRI's.
"""

import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import pyepri.backends as backends
import pyepri.monosrc as monosrc

D = "/tmp/epri-project100"


def main():
    reps, bins = int(sys.argv[1]), sys.argv[2:]
    B, h, fgrad, proj = (
        np.load(f"{D}/{n}.npy").astype(np.float32) for n in ("B", "h", "fgrad", "proj_epri")
    )
    be = backends.create_numpy_backend()

    def py():
        return monosrc.backproj3d(proj, 0.03, B, h, fgrad, (100, 100, 100), backend=be, eps=1e-6)

    ref = py()
    t = []
    for _ in range(reps):
        t0 = time.perf_counter()
        py()
        t.append(time.perf_counter() - t0)
    print(f"PyEPRI backproj3d\t{statistics.median(t) * 1e3:.1f} ms")

    def cmd(b, i):
        return [b, "backproject", "--proj", f"{D}/proj_epri.npy", "--B", f"{D}/B.npy",
                "--h", f"{D}/h.npy", "--fgrad", f"{D}/fgrad.npy", "--delta", "0.03",
                "--shape", "100,100,100", "--out", f"{D}/backproj_{i}.npy"]

    for i, b in enumerate(bins):
        subprocess.run(cmd(b, i), check=True, capture_output=True)
    wall = {b: [] for b in bins}
    cpu = {b: [] for b in bins}
    for _ in range(reps):
        for i, b in enumerate(bins):
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(cmd(b, i), check=True, capture_output=True)
            wall[b].append(time.perf_counter() - t0)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[b].append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
    for i, b in enumerate(bins):
        err = np.linalg.norm(np.load(f"{D}/backproj_{i}.npy") - ref) / np.linalg.norm(ref)
        print(f"{b} backproject (whole process)\t{statistics.median(wall[b]) * 1e3:.1f} ms"
              f"\tCPU {statistics.median(cpu[b]) * 1e3:.1f} ms\trel l2 to PyEPRI {err:.2e}")


if __name__ == "__main__":
    main()
