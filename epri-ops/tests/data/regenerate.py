#!/usr/bin/env python3
"""Rebuilds the PyEPRI reference cases a_proj2d_f32, a_proj2d_f64, b_toeplitz2d and c_proj3d_f64.

These cases were made small so that the tracked tree stays under 40 MiB. The recipe is the one of
the original cases (same PyEPRI calls, same eps, same dtypes, the phalanx geometry for the 2D
ones); only the sizes changed. Each case folder's manifest.json records the calls, shapes and
checks; the README.md beside this script says what changed.

Environment used for the committed files (numpy backend; finufft runs on one thread, so every
output is bitwise reproducible with these versions):

    python3 -m venv /tmp/pyepri-venv
    /tmp/pyepri-venv/bin/pip install numpy==2.4.6 scipy finufft==2.5.1 matplotlib psutil
    /tmp/pyepri-venv/bin/pip install --no-deps pyepri==1.1.1
    OMP_NUM_THREADS=1 /tmp/pyepri-venv/bin/python epri-ops/tests/data/regenerate.py

Run from anywhere; the inputs are datasets/phalanx-20220203/{B,h,fgrad,proj}.npy (float32, as
stored), read from the repository.
"""
import json
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")

import finufft
import numpy as np
import pyepri
import pyepri.backends
import pyepri.monosrc as monosrc

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
PHALANX = os.path.join(ROOT, "datasets", "phalanx-20220203")

backend = pyepri.backends.create_numpy_backend()



def index_runs(idx):
    """The kept node indexes (sorted) as runs of consecutive values: an (R, 2) int32 array of
    [first index, run length], about a hundred times smaller than the list itself."""
    a = np.asarray(idx, dtype=np.int64)
    breaks = np.flatnonzero(np.diff(a) != 1) + 1
    starts = np.concatenate([[0], breaks])
    ends = np.concatenate([breaks, [len(a)]])
    return np.stack([a[starts], ends - starts], axis=1).astype(np.int32)

def save(case, arrays):
    d = os.path.join(HERE, case)
    os.makedirs(d, exist_ok=True)
    files = {}
    for name, a in arrays.items():
        a = np.ascontiguousarray(a)
        np.save(os.path.join(d, name + ".npy"), a)
        files[name + ".npy"] = {"shape": list(a.shape), "dtype": str(a.dtype)}
    return files


def write_manifest(case, manifest):
    env = {
        "numpy": np.__version__,
        "finufft": finufft.__version__,
        "pyepri": getattr(pyepri, "__version__", "1.1.1"),
        "python": sys.version.split()[0],
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "generator": "epri-ops/tests/data/regenerate.py",
    }
    manifest["env"] = env
    with open(os.path.join(HERE, case, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


def relerr(a, b):
    return float(np.linalg.norm((a - b).ravel()) / np.linalg.norm(b.ravel()))


def phalanx_geometry(dtype):
    B = np.load(os.path.join(PHALANX, "B.npy")).astype(dtype)
    h = np.load(os.path.join(PHALANX, "h.npy")).astype(dtype)
    fgrad = np.load(os.path.join(PHALANX, "fgrad.npy")).astype(dtype)
    return B, h, fgrad


# The 2D cases share one 128x128 phantom at delta = 8e-3 cm, stored once (float64) in
# a_proj2d_f64/u.npy; the float32 cases use its float32 rounding.
U_SHAPE = (128, 128)
U_DELTA = 8e-3
U_SEED = 20240
# a_proj2d_f64 keeps every 6th gradient of the phalanx: 19 projections, k = 0, 6, ..., 108.
A64_STEP = 6


def phantom_2d(shape, rng):
    """A sum of 8 random ellipses of random positive weights on a [-1, 1]^2 grid, plus a smooth
    ramp, so that every Fourier coefficient is excited."""
    ny, nx = shape
    y, x = np.meshgrid(np.linspace(-1, 1, ny), np.linspace(-1, 1, nx), indexing="ij")
    u = 0.1 * (1 + 0.3 * x - 0.2 * y)
    for _ in range(8):
        c = rng.uniform(-0.5, 0.5, 2)
        r = rng.uniform(0.1, 0.5, 2)
        t = rng.uniform(0, np.pi)
        w = rng.uniform(0.5, 2.0)
        xr = np.cos(t) * (x - c[1]) + np.sin(t) * (y - c[0])
        yr = -np.sin(t) * (x - c[1]) + np.cos(t) * (y - c[0])
        u = u + w * ((xr / r[1]) ** 2 + (yr / r[0]) ** 2 <= 1)
    return u


def u_f64():
    u = phantom_2d(U_SHAPE, np.random.default_rng(U_SEED))
    return u / (U_DELTA ** 2 * u.sum())


def a_proj2d_f32():
    case, dtype, delta, eps, shape = "a_proj2d_f32", np.float32, U_DELTA, 1e-6, U_SHAPE
    B, h, fgrad = phalanx_geometry(dtype)
    proj_measured = np.load(os.path.join(PHALANX, "proj.npy")).astype(dtype)
    u = u_f64().astype(dtype)
    nodes = monosrc.compute_2d_frequency_nodes(B, delta, fgrad, backend=backend, rfft_mode=True)
    idx = nodes["indexes"]
    proj = monosrc.proj2d(u, delta, B, h, fgrad, backend=backend, eps=eps)
    bp_measured = monosrc.backproj2d(proj_measured, delta, B, h, fgrad, shape, backend=backend, eps=eps)
    bp_proj = monosrc.backproj2d(proj, delta, B, h, fgrad, shape, backend=backend, eps=eps)
    lhs = float(np.sum(proj.astype(np.float64) * proj_measured))
    rhs = float(np.sum(u.astype(np.float64) * bp_measured))
    files = save(case, {
        # Every other projection only (rows 0, 2, ..., 112): the tree-size budget. The tests
        # compare those rows and backproject epri's own full projection against bp_proj.
        "proj": proj[::2], "backproj_measured": bp_measured, "backproj_proj": bp_proj,
        # The kept set only: the coordinates are checked in float64 (a_proj2d_f64).
        "nodes_runs": index_runs(idx),
    })
    write_manifest(case, {
        "workload": case,
        "calls": {
            "nodes": "monosrc.compute_2d_frequency_nodes(B, delta, fgrad, backend=backend, rfft_mode=True)",
            "proj": "proj = monosrc.proj2d(u, delta, B, h, fgrad, backend=backend, eps=eps)  # rfft_mode=True default; stored: proj[::2]",
            "backproj_measured": "monosrc.backproj2d(proj_measured, delta, B, h, fgrad, (128, 128), backend=backend, eps=eps)",
            "backproj_proj": "monosrc.backproj2d(proj, delta, B, h, fgrad, (128, 128), backend=backend, eps=eps)  # of the full proj",
        },
        "params": {
            "delta": delta, "out_shape": list(shape), "eps": eps, "dtype": "float32",
            "geometry": "datasets/phalanx-20220203 B.npy (2000,), h.npy (2000,), fgrad.npy (2, 113), float32 as stored "
                        "(not stored here: the tests read the dataset)",
            "proj_measured": "datasets/phalanx-20220203/proj.npy (113, 2000) float32 (not stored here)",
            "u": "a_proj2d_f64/u.npy cast to float32 (not stored here)",
            "adjointness": {
                "<proj2d(u), proj_measured>": lhs,
                "<u, backproj2d(proj_measured)>": rhs,
                "rel_diff": abs(lhs - rhs) / abs(lhs),
            },
        },
        "files": files,
    })


def a_proj2d_f64():
    case, dtype, delta, eps, shape = "a_proj2d_f64", np.float64, U_DELTA, 1e-12, U_SHAPE
    B, h, fgrad_all = phalanx_geometry(dtype)
    fgrad = np.ascontiguousarray(fgrad_all[:, ::A64_STEP])
    proj_all = np.load(os.path.join(PHALANX, "proj.npy")).astype(dtype)
    proj_measured = np.ascontiguousarray(proj_all[::A64_STEP, :])
    u = u_f64()
    nodes = monosrc.compute_2d_frequency_nodes(B, delta, fgrad, backend=backend, rfft_mode=True)
    x, y, idx = nodes["x"], nodes["y"], nodes["indexes"]
    proj = monosrc.proj2d(u, delta, B, h, fgrad, backend=backend, eps=eps)
    bp_measured = monosrc.backproj2d(proj_measured, delta, B, h, fgrad, shape, backend=backend, eps=eps)
    bp_proj = monosrc.backproj2d(proj, delta, B, h, fgrad, shape, backend=backend, eps=eps)
    lhs = float(np.sum(proj * proj_measured))
    rhs = float(np.sum(u * bp_measured))
    files = save(case, {
        "B": B, "h": h, "fgrad": fgrad, "u": u, "proj": proj,
        "backproj_measured": bp_measured, "backproj_proj": bp_proj,
        "nodes_x": x, "nodes_y": y, "nodes_runs": index_runs(idx),
    })
    write_manifest(case, {
        "workload": case,
        "calls": {
            "nodes": "monosrc.compute_2d_frequency_nodes(B, delta, fgrad, backend=backend, rfft_mode=True)",
            "proj": "proj = monosrc.proj2d(u, delta, B, h, fgrad, backend=backend, eps=eps)  # rfft_mode=True default",
            "backproj_measured": "monosrc.backproj2d(proj_measured, delta, B, h, fgrad, (128, 128), backend=backend, eps=eps)",
            "backproj_proj": "monosrc.backproj2d(proj, delta, B, h, fgrad, (128, 128), backend=backend, eps=eps)",
        },
        "params": {
            "delta": delta, "out_shape": list(shape), "eps": eps, "dtype": "float64",
            "geometry": "datasets/phalanx-20220203 B.npy (2000,), h.npy (2000,) (float32 as stored, cast to float64); "
                        "fgrad = fgrad.npy[:, ::6] cast to float64: 19 of the 113 gradients (k = 0, 6, ..., 108)",
            "proj_measured": "datasets/phalanx-20220203/proj.npy[::6, :] cast to float64 (not stored: the tests read the dataset)",
            "phantom_seed": U_SEED,
            "u": "regenerate.py:phantom_2d((128, 128), numpy.random.default_rng(seed)) (8 random ellipses plus a ramp), "
                 "normalised so that delta^2*sum(u)=1; shared by a_proj2d_f32 and b_toeplitz2d (cast to float32)",
            "adjointness": {
                "<proj2d(u), proj_measured>": lhs,
                "<u, backproj2d(proj_measured)>": rhs,
                "rel_diff": abs(lhs - rhs) / abs(lhs),
            },
        },
        "files": files,
    })


def b_toeplitz2d():
    case, dtype, delta, eps, shape = "b_toeplitz2d", np.float32, U_DELTA, 1e-6, U_SHAPE
    B, h, fgrad = phalanx_geometry(dtype)
    u = u_f64().astype(dtype)
    kshape = (2 * shape[0], 2 * shape[1])
    phi = monosrc.compute_2d_toeplitz_kernel(B, h, h, delta, fgrad, kshape, backend=backend, eps=eps)
    rfft2_phi = monosrc.compute_2d_toeplitz_kernel(B, h, h, delta, fgrad, kshape, backend=backend, eps=eps,
                                                   return_rfft2=True)
    out = monosrc.apply_2d_toeplitz_kernel(u, rfft2_phi, backend=backend)
    direct = monosrc.backproj2d(monosrc.proj2d(u, delta, B, h, fgrad, backend=backend, eps=eps),
                                delta, B, h, fgrad, shape, backend=backend, eps=eps)
    files = save(case, {"phi": phi, "toeplitz_out": out})
    write_manifest(case, {
        "workload": case,
        "calls": {
            "phi": "monosrc.compute_2d_toeplitz_kernel(B, h, h, delta, fgrad, (256, 256), backend=backend, eps=eps)",
            "rfft2_phi": "same with return_rfft2=True (== numpy.fft.rfft2(phi)); not saved",
            "toeplitz_out": "monosrc.apply_2d_toeplitz_kernel(u, rfft2_phi, backend=backend)",
        },
        "params": {
            "delta": delta, "image_shape": list(shape), "kernel_shape": list(kshape), "eps": eps,
            "dtype": "float32",
            "geometry": "datasets/phalanx-20220203 B.npy, h.npy, fgrad.npy (float32 as stored; not stored here)",
            "u": "a_proj2d_f64/u.npy cast to float32 (not stored here)",
            "relerr(toeplitz_out, backproj2d(proj2d(u)))": relerr(out, direct),
            "relerr(rfft2(phi), rfft2_phi)": relerr(np.fft.rfft2(phi), rfft2_phi),
        },
        "files": files,
    })


# c_proj3d_f64: a non-cubic volume, so that a mix-up of the three axes shows.
C_SHAPE = (24, 20, 16)
C_NB = 128
C_NPROJ = 200
C_DELTA = 0.05
C_MU = 20.0
C_SEED = 31415


def phantom_3d(shape, rng):
    """A sum of 6 random ellipsoids of random positive weights on a [-1, 1]^3 grid, plus a
    smooth ramp, so that every Fourier coefficient is excited."""
    ny, nx, nz = shape
    y, x, z = np.meshgrid(np.linspace(-1, 1, ny), np.linspace(-1, 1, nx), np.linspace(-1, 1, nz),
                          indexing="ij")
    u = 0.1 * (1 + 0.3 * x - 0.2 * y + 0.1 * z)
    for _ in range(6):
        c = rng.uniform(-0.5, 0.5, 3)
        r = rng.uniform(0.15, 0.5, 3)
        w = rng.uniform(0.5, 2.0)
        inside = ((y - c[0]) / r[0]) ** 2 + ((x - c[1]) / r[1]) ** 2 + ((z - c[2]) / r[2]) ** 2 <= 1
        u = u + w * inside
    return u


def splitmix64_uniform(n, seed):
    """n values uniform in [-1, 1): SplitMix64 from `seed`, top 53 bits of each output, i.e.
    (z >> 11) * 2^-52 - 1 (exact in float64). epri-ops/tests/pyepri.rs computes the same values,
    so the random sinogram is not stored."""
    m = (1 << 64) - 1
    state = seed
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        state = (state + 0x9E3779B97F4A7C15) & m
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
        z ^= z >> 31
        out[i] = (z >> 11) * 2.0 ** -52 - 1.0
    return out


def c_proj3d_f64():
    case, dtype, eps = "c_proj3d_f64", np.float64, 1e-12
    B = np.linspace(380.0, 420.0, C_NB).astype(dtype)
    Br, sig = 400.0, 0.5
    h = (-(B - Br) / (sig ** 3 * np.sqrt(2 * np.pi)) * np.exp(-(B - Br) ** 2 / (2 * sig ** 2))).astype(dtype)
    i = np.arange(C_NPROJ, dtype=np.float64)
    zz = 1 - (2 * i + 1) / C_NPROJ
    rr = np.sqrt(1 - zz ** 2)
    ph = i * np.pi * (3 - np.sqrt(5))
    fgrad = (C_MU * np.stack([rr * np.cos(ph), rr * np.sin(ph), zz])).astype(dtype)
    rng = np.random.default_rng(C_SEED)
    u = phantom_3d(C_SHAPE, rng).astype(dtype)
    u = u / (C_DELTA ** 3 * u.sum())
    proj = monosrc.proj3d(u, C_DELTA, B, h, fgrad, backend=backend, eps=eps)
    bp_proj = monosrc.backproj3d(proj, C_DELTA, B, h, fgrad, C_SHAPE, backend=backend, eps=eps)
    proj_random = splitmix64_uniform(C_NPROJ * C_NB, C_SEED + 1).reshape(C_NPROJ, C_NB).astype(dtype)
    bp_random = monosrc.backproj3d(proj_random, C_DELTA, B, h, fgrad, C_SHAPE, backend=backend, eps=eps)
    lhs = float(np.sum(proj * proj_random))
    rhs = float(np.sum(u * bp_random))
    files = save(case, {
        "B": B, "h": h, "fgrad": fgrad, "u": u, "proj": proj, "backproj_proj": bp_proj,
        "backproj_random": bp_random,
    })
    shape = ", ".join(str(n) for n in C_SHAPE)
    write_manifest(case, {
        "workload": case,
        "calls": {
            "proj": "monosrc.proj3d(u, delta, B, h, fgrad, backend=backend, eps=eps)",
            "backproj_proj": f"monosrc.backproj3d(proj, delta, B, h, fgrad, ({shape}), backend=backend, eps=eps)",
            "backproj_random": f"monosrc.backproj3d(proj_random, delta, B, h, fgrad, ({shape}), backend=backend, eps=eps)",
        },
        "params": {
            "delta": C_DELTA, "out_shape": list(C_SHAPE), "eps": eps, "dtype": "float64", "seed": C_SEED,
            "B": f"numpy.linspace(380, 420, {C_NB}) [G]",
            "h": "derivative of gaussian, Br=400 G, sig=0.5 G: -(B-Br)/(sig^3 sqrt(2 pi)) exp(-(B-Br)^2/(2 sig^2))",
            "fgrad": f"Fibonacci sphere, {C_NPROJ} directions, |g| = {C_MU} G/cm: i=0..N-1, z=1-(2i+1)/N, "
                     "r=sqrt(1-z^2), phi=i*pi*(3-sqrt(5)), g=mu*(r cos phi, r sin phi, z)",
            "phantom": "regenerate.py:phantom_3d(shape, numpy.random.default_rng(seed)) (6 random ellipsoids "
                       "plus a ramp), normalised so that delta^3*sum(u)=1",
            "proj_random": f"regenerate.py:splitmix64_uniform({C_NPROJ}*{C_NB}, seed+1).reshape({C_NPROJ}, {C_NB}): "
                           "SplitMix64, (z >> 11) * 2^-52 - 1, uniform in [-1, 1); not stored, the test computes it",
            "adjointness": {
                "<proj3d(u), proj_random>": lhs,
                "<u, backproj3d(proj_random)>": rhs,
                "rel_diff": abs(lhs - rhs) / abs(lhs),
            },
        },
        "files": files,
    })


if __name__ == "__main__":
    which = sys.argv[1:] or ["a_proj2d_f32", "a_proj2d_f64", "b_toeplitz2d", "c_proj3d_f64"]
    for name in which:
        globals()[name]()
        print("wrote", name)
