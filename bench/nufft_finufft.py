"""FINUFFT timings on the cases of `nufft-bench` (run from the repository root).

    python3 bench/nufft_finufft.py [REPS] [FILTER]

finufft.nufft{2,3}d{1,2} (plan + setpts + execute in one call, default options), isign +1 for
type 1 and -1 for type 2, nthreads 1 and 2; median of REPS (default 5) after one warm-up call.
Cases: 2D 256x256 and 3D 64^3 modes with 10^6 points uniform in [-pi, pi) (f32 at eps 1e-6,
f64 at eps 1e-12), and the frequency nodes of the phalanx (400x200, 800x400) and fusillo
(100x50x50, 200x100x100) datasets from PyEPRI's compute_{2,3}d_frequency_nodes, f32 at 1e-6.
With FILTER, only the cases whose "<name> <dtype>" contains it run.
"""

import sys
import time

import finufft
import numpy as np
from pyepri import monosrc

REPS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
FILTER = sys.argv[2] if len(sys.argv) > 2 else ""


def median_ms(f):
    f()
    t = []
    for _ in range(REPS):
        s = time.perf_counter()
        f()
        t.append((time.perf_counter() - s) * 1e3)
    return float(np.median(t))


def nodes(dataset, delta, dim):
    B = np.load(f"datasets/{dataset}/B.npy")
    fgrad = np.load(f"datasets/{dataset}/fgrad.npy")
    if dim == 2:
        n = monosrc.compute_2d_frequency_nodes(B, delta, fgrad, rfft_mode=True)
        return [n["y"], n["x"]]
    n = monosrc.compute_3d_frequency_nodes(B, delta, fgrad, rfft_mode=True)
    return [n["y"], n["x"], n["z"]]


def call(ty, coords, data, modes, eps, nthreads):
    d = len(coords)
    fn = getattr(finufft, f"nufft{d}d{ty}")
    if ty == 1:
        return lambda: fn(*coords, data, modes, eps=eps, isign=1, nthreads=nthreads)
    return lambda: fn(*coords, data, eps=eps, isign=-1, nthreads=nthreads)


def main():
    rng = np.random.default_rng(0)
    m = 1_000_000
    p2 = [rng.uniform(-np.pi, np.pi, m) for _ in range(2)]
    p3 = [rng.uniform(-np.pi, np.pi, m) for _ in range(3)]
    ph = nodes("phalanx-20220203", 8e-3, 2)
    fu = nodes("fusillo-20091002", 0.05, 3)
    mp, mf = len(ph[0]), len(fu[0])
    random = [
        ("2D type 1, 256x256, 1e6 pts", 1, p2, (256, 256)),
        ("2D type 2, 256x256, 1e6 pts", 2, p2, (256, 256)),
        ("3D type 1, 64^3, 1e6 pts", 1, p3, (64, 64, 64)),
        ("3D type 2, 64^3, 1e6 pts", 2, p3, (64, 64, 64)),
    ]
    epr = [
        (f"phalanx nodes (M={mp}), 400x200, type 2 (projection)", 2, ph, (400, 200)),
        (f"phalanx nodes (M={mp}), 400x200, type 1 (backprojection)", 1, ph, (400, 200)),
        (f"phalanx nodes (M={mp}), 800x400, type 1 (Toeplitz kernel)", 1, ph, (800, 400)),
        (f"fusillo nodes (M={mf}), 100x50x50, type 2 (projection)", 2, fu, (100, 50, 50)),
        (f"fusillo nodes (M={mf}), 100x50x50, type 1 (backprojection)", 1, fu, (100, 50, 50)),
        (f"fusillo nodes (M={mf}), 200x100x100, type 1 (Toeplitz kernel)", 1, fu, (200, 100, 100)),
    ]
    runs = [(c, np.float32, 1e-6) for c in random + epr] + [(c, np.float64, 1e-12) for c in random]
    print(f"# finufft {finufft.__version__}, numpy {np.__version__}")
    print("| backend | case | dtype | eps | threads | total (ms) |")
    print("|---|---|---|---|---|---|")
    for nthreads in (1, 2):
        for (name, ty, pts, modes), real, eps in runs:
            dname = "f32" if real == np.float32 else "f64"
            if FILTER not in f"{name} {dname}":
                continue
            cplx = np.complex64 if real == np.float32 else np.complex128
            coords = [np.ascontiguousarray(p, dtype=real) for p in pts]
            n = len(coords[0]) if ty == 1 else int(np.prod(modes))
            shape = (n,) if ty == 1 else modes
            data = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(cplx)
            t = median_ms(call(ty, coords, data, modes, eps, nthreads))
            print(f"| finufft | {name} | {dname} | {eps:g} | {nthreads} | {t:.2f} |", flush=True)


if __name__ == "__main__":
    main()
