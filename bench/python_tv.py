"""The cost of calling epri from Python: the README's phalanx TV (400x200, delta 8e-3 cm,
lambda 1, tol 1e-5, at most 1000 iterations, float32) timed in one run through

* the Rust call (`target/release/recon-bench --case tv2d_phalanx`, built with
  `cargo build --release -p epri-ops --bins`; skipped when absent),
* `epri.processing.tv_monosrc` (the installed Python package),
* `pyepri.processing.tv_monosrc` (PyEPRI 1.1.1, numpy backend),

each after a warm-up call capped at 10 iterations, median of REPS calls (default 3).
Usage, from the repository root with the package installed: python bench/python_tv.py [REPS]
"""

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REPS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
THREADS = os.environ.setdefault("RAYON_NUM_THREADS", "2")
DATA = ROOT / "datasets" / "phalanx-20220203"
proj, B, fgrad, h = (np.load(DATA / f"{f}.npy") for f in ("proj", "B", "fgrad", "h"))
ARGS = (proj, B, fgrad, 0.008, h, 1.0, (400, 200))


def median_ms(call):
    call(10)
    runs = []
    for _ in range(REPS):
        start = time.perf_counter()
        call(1000)
        runs.append(1e3 * (time.perf_counter() - start))
    return statistics.median(runs)


def rust_ms():
    exe = ROOT / "target" / "release" / "recon-bench"
    if not exe.exists():
        return None
    out = subprocess.run([str(exe), "--case", "tv2d_phalanx", "--threads", THREADS, "--reps",
                          str(REPS)], cwd=ROOT, capture_output=True, text=True, check=True)
    line = next(l for l in out.stdout.splitlines() if l.startswith("RESULT\t"))
    return float(line.split("\t")[2])


def main():
    import epri
    import pyepri.backends
    import pyepri.processing

    numpy_backend = pyepri.backends.create_numpy_backend()
    rows = [
        ("Rust (recon-bench)", rust_ms()),
        ("epri from Python", median_ms(lambda n: epri.processing.tv_monosrc(
            *ARGS, nitermax=n))),
        ("PyEPRI 1.1.1", median_ms(lambda n: pyepri.processing.tv_monosrc(
            *ARGS, backend=numpy_backend, nitermax=n))),
    ]
    print(f"phalanx TV, 1000 iterations at most, float32, {THREADS} threads, median of {REPS}")
    print("| call | ms |\n|---|---|")
    for name, ms in rows:
        print(f"| {name} | {'absent' if ms is None else f'{ms:.0f}'} |")
    rust, py, ref = (ms for _, ms in rows)
    if rust is not None:
        print(f"Python over Rust: {100 * (py / rust - 1):+.1f} %")
    print(f"speed-up over PyEPRI: {ref / py:.1f}x")


if __name__ == "__main__":
    main()
