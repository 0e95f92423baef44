#!/usr/bin/env python3
"""Builds the tiny PyEPRI 1.1.1 reference case g_spectral4d of the spectral-spatial operators.

float64, eps 1e-12, numpy backend, one finufft thread (bitwise reproducible with the versions of
regenerate.py, whose environment this script uses):

    OMP_NUM_THREADS=1 /tmp/pyepri-venv/bin/python epri-ops/tests/data/regenerate_spectral4d.py

Inputs are made here (seeded): B = linspace(390, 410, 16) G, delta = 0.05 cm, 24 gradients
(Fibonacci directions, magnitudes 3 to 15 G/cm, rows X, Y, Z), an image u of shape
(16, 5, 4, 3) (standard normal), a sinogram proj_random (24, 16) (standard normal). Outputs:
proj = proj4d(u), proj_abs = proj4d(u, absorption_mode=True), backproj = backproj4d(proj_random),
backproj_abs (absorption_mode=True), toeplitz = apply_4d_toeplitz_kernel(u,
compute_4d_toeplitz_kernel(..., return_rfft4=True)), all with the default rfft_mode and
memory_usage; nodes_t = the unique spectral frequencies t of compute_4d_frequency_nodes.
"""
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import pyepri.backends
import pyepri.spectralspatial as ss

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "g_spectral4d")
os.makedirs(out, exist_ok=True)
backend = pyepri.backends.create_numpy_backend()
rng = np.random.default_rng(2026)
nb, shape, p, delta, eps = 16, (5, 4, 3), 24, 0.05, 1e-12
B = np.linspace(390.0, 410.0, nb)
i = np.arange(p)
z = 1 - (2 * i + 1) / p
phi = i * np.pi * (3 - np.sqrt(5))
mag = rng.uniform(3.0, 15.0, p)
fgrad = np.stack([np.sqrt(1 - z**2) * np.cos(phi), np.sqrt(1 - z**2) * np.sin(phi), z]) * mag
u = rng.standard_normal((nb,) + shape)
proj_random = rng.standard_normal((p, nb))
out_shape = (nb,) + shape
arrays = {
    "B": B,
    "fgrad": np.ascontiguousarray(fgrad),
    "u": u,
    "proj_random": proj_random,
    "proj": ss.proj4d(u, delta, B, fgrad, backend=backend, eps=eps),
    "proj_abs": ss.proj4d(u, delta, B, fgrad, backend=backend, eps=eps, absorption_mode=True),
    "backproj": ss.backproj4d(proj_random, delta, B, fgrad, out_shape, backend=backend, eps=eps),
    "backproj_abs": ss.backproj4d(
        proj_random, delta, B, fgrad, out_shape, backend=backend, eps=eps, absorption_mode=True
    ),
}
kernel = ss.compute_4d_toeplitz_kernel(
    B, delta, fgrad, tuple(2 * n for n in out_shape), backend=backend, eps=eps, return_rfft4=True
)
arrays["toeplitz"] = ss.apply_4d_toeplitz_kernel(u, kernel, backend=backend)
nodes = ss.compute_4d_frequency_nodes(B, delta, fgrad, backend=backend, rfft_mode=True)
arrays["nodes_t"] = np.asarray(nodes["t"])
arrays["nodes_indexes"] = np.asarray(nodes["indexes"]).astype(np.int64)
for name, a in arrays.items():
    np.save(os.path.join(out, name + ".npy"), a)
print("wrote", ", ".join(sorted(arrays)), "to", out)
