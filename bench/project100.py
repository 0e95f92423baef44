"""`epri project` on a 100^3 image vs PyEPRI's proj3d (issue 12), run from the repository root.

    python3 bench/project100.py [REPS] [EPRI ...]

Inputs (deterministic, float32, written to /tmp/epri-project100/):
* image.npy: 100x100x100, axes (Y, X, Z), three uniform balls (radii 0.3 - 0.6 cm) on zero;
* B.npy: 512 field samples, 340 G to 460 G (dB = 0.235 G);
* h.npy: first derivative of a Lorentzian at 400 G, peak-to-peak width 1.5 G, on B;
* fgrad.npy: 3x1000 gradients of magnitude 14 G/cm (fusillo's), directions on a Fibonacci
  sphere; pixel size delta = 0.03 cm (field of view 3 cm, largest shift
  14 * 3 * sqrt(3) / 2 = 36 G, inside the 120 G sweep).

Times (median of REPS runs, default 7, after one warm-up run):
* epri: the whole process `EPRI project --image .. --B .. --h .. --fgrad .. --delta 0.03
  --out ..` (EPRI defaults to target/release/epri; reading, plan, projection, writing, process
  start and exit), plus the time the command prints for its plan + projection; with several
  EPRI binaries (before / after a change) their runs alternate, so that they see the same load;
* PyEPRI 1.1.1: `pyepri.monosrc.proj3d(u, delta, B, h, fgrad, backend=numpy, eps=1e-6)`
  (nodes, finufft plan and execution, irfft: one call), finufft with PyEPRI's own thread count
  max(1, physical cores - 1).
Each with its CPU time (user + system, all threads; median). Then the relative l2 difference of the two projections (P, Nb) = (1000, 512).
"""

import os
import re
import resource
import subprocess
import sys
import time

import numpy as np
import psutil
import pyepri.backends as backends
import pyepri.monosrc as monosrc

DIR = "/tmp/epri-project100"
DELTA = 0.03
N, NB, P = 100, 512, 1000


def inputs():
    os.makedirs(DIR, exist_ok=True)
    B = np.linspace(340.0, 460.0, NB)
    w = 1.5  # peak-to-peak width of the Lorentzian derivative, G
    g = w * np.sqrt(3) / 2  # its half width at half maximum
    x = B - 400.0
    h = -2 * x * g / np.pi / (g * g + x * x) ** 2
    k = np.arange(P) + 0.5
    theta = np.arccos(1 - 2 * k / P)
    phi = np.pi * (1 + 5**0.5) * k
    fgrad = 14.0 * np.stack(
        [np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)]
    )
    c = (np.arange(N) - N // 2) * DELTA
    yy, xx, zz = np.meshgrid(c, c, c, indexing="ij")
    u = np.zeros((N, N, N))
    for (y0, x0, z0), r, a in [
        ((0.3, -0.4, 0.1), 0.6, 1.0),
        ((-0.6, 0.5, -0.3), 0.45, 2.0),
        ((0.2, 0.7, 0.6), 0.3, 1.5),
    ]:
        u[(yy - y0) ** 2 + (xx - x0) ** 2 + (zz - z0) ** 2 <= r * r] += a
    arrays = {"image": u, "B": B, "h": h, "fgrad": fgrad}
    for name, a in arrays.items():
        np.save(f"{DIR}/{name}.npy", a.astype(np.float32))
    return {k: np.load(f"{DIR}/{k}.npy") for k in arrays}


def median(v):
    return float(np.median(v))


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    epris = sys.argv[2:] or ["target/release/epri"]
    a = inputs()
    out = f"{DIR}/proj_epri.npy"
    args = ["project"]
    for k in ("image", "B", "h", "fgrad"):
        args += [f"--{k}", f"{DIR}/{k}.npy"]
    args += ["--delta", str(DELTA), "--out", out]
    wall = {e: [] for e in epris}
    inner = {e: [] for e in epris}
    cpu = {e: [] for e in epris}
    outs = {}
    for i in range(reps + 1):
        for e in epris:
            if os.path.exists(out):
                os.remove(out)
            ru = resource.getrusage(resource.RUSAGE_CHILDREN)
            s = time.perf_counter()
            r = subprocess.run([e] + args, capture_output=True, text=True, check=True)
            t = time.perf_counter() - s
            ru2 = resource.getrusage(resource.RUSAGE_CHILDREN)
            c = ru2.ru_utime + ru2.ru_stime - ru.ru_utime - ru.ru_stime
            m = re.search(r" in ([0-9.]+) ?(ms|s) ", r.stdout)
            if i > 0:
                wall[e].append(t)
                cpu[e].append(c)
                if m:
                    inner[e].append(float(m.group(1)) * (1e-3 if m.group(2) == "ms" else 1.0))
            outs[e] = np.load(out)
    backend = backends.create_numpy_backend()
    u, B, h, fgrad = a["image"], a["B"], a["h"], a["fgrad"]

    def proj():
        return monosrc.proj3d(u, DELTA, B, h, fgrad, backend=backend, eps=1e-6)

    ref = proj()
    py, pycpu = [], []
    for _ in range(reps):
        c = time.process_time()
        s = time.perf_counter()
        proj()
        py.append(time.perf_counter() - s)
        pycpu.append(time.process_time() - c)
    threads = max(1, psutil.cpu_count(logical=False) - 1)
    print("# EPRI " + " ".join(args))
    print(f"# load: {os.getloadavg()[0]:.2f} (1 min), {psutil.cpu_count(logical=False)} physical cores, "
          f"PyEPRI finufft threads max(1, cores - 1) = {threads}")
    print(f"PyEPRI proj3d\t{median(py):.4f} s\tmin {min(py):.4f}\tCPU {median(pycpu):.4f} s")
    for e in epris:
        err = np.linalg.norm(outs[e].astype(np.float64) - ref) / np.linalg.norm(ref)
        print(f"{e} project (whole process)\t{median(wall[e]):.4f} s\tmin {min(wall[e]):.4f}"
              f"\tCPU {median(cpu[e]):.4f} s\tspeed-up {median(py) / median(wall[e]):.2f}x")
        if inner[e]:
            print(f"{e} plan + projection (printed)\t{median(inner[e]):.4f} s")
        print(f"{e} relative l2 difference to PyEPRI\t{err:.2e}")


if __name__ == "__main__":
    main()
