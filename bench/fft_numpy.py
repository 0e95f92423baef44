"""numpy.fft baseline for `fft-bench`: the same batched real FFTs (forward rfftn and inverse
irfftn over the trailing axes), f32 and f64, median of REPS runs after one warm-up.

Usage: python3 bench/fft_numpy.py [REPS]
"""
import sys
import time

import numpy as np

CASES = [
    ("rfft 113x2000 (axis -1)", (113, 2000), 1),
    ("rfft 961x500 (axis -1)", (961, 500), 1),
    ("rfft2 800x400", (800, 400), 2),
    ("rfftn 200x100x100", (200, 100, 100), 3),
]


def median_ms(reps, f):
    f()
    t = []
    for _ in range(reps):
        start = time.perf_counter()
        f()
        t.append((time.perf_counter() - start) * 1e3)
    return float(np.median(t))


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 21
    rng = np.random.default_rng(7)
    print(f"# numpy {np.__version__}")
    print("| backend | case | dtype | rfft median (ms) | irfft median (ms) |")
    print("|---|---|---|---|---|")
    for name, shape, axes in CASES:
        ax = tuple(range(len(shape) - axes, len(shape)))
        for dtype in (np.float32, np.float64):
            x = rng.random(shape).astype(dtype)
            X = np.fft.rfftn(x, axes=ax)
            f = median_ms(reps, lambda: np.fft.rfftn(x, axes=ax))
            i = median_ms(reps, lambda: np.fft.irfftn(X, s=shape[-axes:], axes=ax))
            print(f"| numpy | {name} | {np.dtype(dtype).name} | {f:.3f} | {i:.3f} |")


if __name__ == "__main__":
    main()
