"""PyEPRI baseline for `ops-bench`: the mono-source operators on the same cases, numpy backend,
float32, eps 1e-6, median of REPS runs after one warm-up call.

Cases (datasets/ as .npy, float32):
* 2D, phalanx geometry (113 gradients x 2000 field samples), 256x256 image, delta 8e-3 cm:
  proj2d, backproj2d (of the measured sinogram), compute_2d_toeplitz_kernel (512x512,
  return_rfft2=True), apply_2d_toeplitz_kernel.
* 3D, fusillo geometry (961 gradients x 500 field samples), 64^3 volume, delta 0.05 cm:
  proj3d, backproj3d (of the measured sinogram), compute_3d_toeplitz_kernel (128^3,
  return_rfft3=True), apply_3d_toeplitz_kernel.

Frequency nodes are computed once and passed to every call (as PyEPRI's own TV solver does),
checks are off (notest=True). PyEPRI gives finufft max(1, physical cores - 1) threads: one on a
2-core machine; numpy's FFTs are single-threaded.

Output: one line per case, `case<TAB>median_ms`, then nothing else on stdout.
Usage: python3 bench/ops_pyepri.py [REPS2D] [REPS3D]
"""
import os
import sys
import time

import numpy as np
import pyepri.backends as backends
import pyepri.monosrc as monosrc

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "datasets")


def load(dataset, name):
    return np.ascontiguousarray(np.load(os.path.join(ROOT, dataset, name + ".npy")).astype(np.float32))


def median_ms(reps, f):
    f()
    t = []
    for _ in range(reps):
        start = time.perf_counter()
        f()
        t.append((time.perf_counter() - start) * 1e3)
    return float(np.median(t))


def run(dataset, delta, shape, reps, backend, eps=1e-6):
    B, h, fgrad, proj = (load(dataset, n) for n in ("B", "h", "fgrad", "proj"))
    rng = np.random.default_rng(7)
    u = rng.random(shape).astype(np.float32)
    d = len(shape)
    kshape = tuple(2 * n for n in shape)
    tag = f"{d}D {'x'.join(map(str, shape))}"
    if d == 2:
        nodes = monosrc.compute_2d_frequency_nodes(B, delta, fgrad, backend=backend, rfft_mode=True)
        proj_op, backproj_op = monosrc.proj2d, monosrc.backproj2d
        kernel_op, apply_op = monosrc.compute_2d_toeplitz_kernel, monosrc.apply_2d_toeplitz_kernel
        ret = {"return_rfft2": True}
    else:
        nodes = monosrc.compute_3d_frequency_nodes(B, delta, fgrad, backend=backend, rfft_mode=True)
        proj_op, backproj_op = monosrc.proj3d, monosrc.backproj3d
        kernel_op, apply_op = monosrc.compute_3d_toeplitz_kernel, monosrc.apply_3d_toeplitz_kernel
        ret = {"return_rfft3": True}
    kw = dict(backend=backend, eps=eps, nodes=nodes, notest=True)
    out = {}
    out[f"proj {tag}"] = median_ms(reps, lambda: proj_op(u, delta, B, h, fgrad, **kw))
    out[f"backproj {tag}"] = median_ms(reps, lambda: backproj_op(proj, delta, B, h, fgrad, shape, **kw))
    out[f"toeplitz kernel {tag}"] = median_ms(
        max(3, reps // 4),
        lambda: kernel_op(B, h, h, delta, fgrad, kshape, rfft_mode=True, **kw, **ret),
    )
    phi = kernel_op(B, h, h, delta, fgrad, kshape, rfft_mode=True, **kw, **ret)
    out[f"toeplitz apply {tag}"] = median_ms(reps, lambda: apply_op(u, phi, backend=backend, notest=True))
    return out


def main():
    reps2 = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    reps3 = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    backend = backends.create_numpy_backend()
    res = run("phalanx-20220203", 8e-3, (256, 256), reps2, backend)
    res.update(run("fusillo-20091002", 0.05, (64, 64, 64), reps3, backend))
    for k, v in res.items():
        print(f"{k}\t{v:.4f}")


if __name__ == "__main__":
    main()
