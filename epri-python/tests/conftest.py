"""Shared helpers of the tests: PyEPRI's numpy backend, random acquisitions, relative errors.

The tests compare epri with PyEPRI 1.1.1 (installed from the package registry) computed in the
same run. Tolerances are those of epri's Rust test-suite against PyEPRI: relative l2 error
2e-5 for the float32 operators (NUFFT accuracy eps = 1e-6), 1e-4 for the float32 Toeplitz
kernel, 1e-9 for float64 with eps = 1e-12.
"""

from pathlib import Path

import numpy as np
import pyepri.backends as pyepri_backends
import pytest

DATASETS = Path(__file__).resolve().parents[2] / "datasets"

# (eps, operator tolerance, Toeplitz tolerance) per dtype.
ACCURACY = {
    np.float32: (1e-6, 2e-5, 1e-4),
    np.float64: (1e-12, 1e-9, 1e-9),
}

SEEDS = range(20)


@pytest.fixture(scope="session")
def pyepri_cpu():
    """PyEPRI's numpy backend."""
    return pyepri_backends.create_numpy_backend()


def rel(got, want):
    """Relative l2 error ||got - want|| / ||want||, computed in float64."""
    got = np.asarray(got, dtype=np.float64 if np.isrealobj(got) else np.complex128)
    want = np.asarray(want, dtype=np.float64 if np.isrealobj(want) else np.complex128)
    assert got.shape == want.shape, (got.shape, want.shape)
    return np.linalg.norm(got - want) / np.linalg.norm(want)


class Acquisition:
    """A random acquisition: field grid B (Nb,) in G, spectrum h (Nb,), pixel size delta in cm,
    gradients fgrad (d, P) in G/cm whose largest magnitude keeps the image inside the sweep,
    an image shape (Y, X[, Z]) and a random image u of that shape."""

    def __init__(self, seed, dim, dtype):
        rng = np.random.default_rng(1000 * dim + seed)
        self.rng = rng
        self.dtype = dtype
        nb = int(rng.integers(24, 97))
        db = rng.uniform(0.05, 0.5)
        self.B = (3400.0 + db * np.arange(nb)).astype(dtype)
        centre, width = self.B[nb // 2] + rng.uniform(-2, 2) * db, rng.uniform(2, 6) * db
        t = (self.B.astype(np.float64) - centre) / width
        self.h = (-2 * t * np.exp(-t**2)).astype(dtype)
        self.delta = float(rng.uniform(0.005, 0.05))
        if dim == 2:
            self.shape = tuple(int(n) for n in rng.integers(6, 33, size=2))
        else:
            self.shape = tuple(int(n) for n in rng.integers(4, 13, size=3))
        p = int(rng.integers(4, 31))
        directions = rng.normal(size=(dim, p))
        directions /= np.linalg.norm(directions, axis=0)
        # |g| · max extent ≈ a fraction of the sweep, as in real acquisitions.
        extent = max(self.shape) * self.delta
        mu = rng.uniform(0.2, 1.0, size=p) * (nb * db) / extent
        self.fgrad = (directions * mu).astype(dtype)
        self.u = rng.random(self.shape).astype(dtype)
        self.eps, self.tol, self.toeplitz_tol = ACCURACY[dtype]

    def sino(self):
        """A random sinogram (P, Nb)."""
        return self.rng.random((self.fgrad.shape[1], len(self.B))).astype(self.dtype)

    def grids(self):
        """PyEPRI's grids (-(n//2) + arange(n)) * delta for the axes Y, X[, Z]."""
        return [((-(n // 2) + np.arange(n)) * self.delta).astype(self.dtype) for n in self.shape]


def linear_interp1(xp, fp, x):
    """PyEPRI's usual interp1: linear interpolation, zero outside."""
    return np.interp(x, xp.ravel(), fp.ravel(), left=0.0, right=0.0)
