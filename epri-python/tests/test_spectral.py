"""The spectral-spatial (4D) operators against PyEPRI 1.1.1's ``spectralspatial`` on random
small acquisitions (20 per operator and precision), rfft and full modes, absorption mode; the
planned ``epri.SpectralProjector``; ``epri.processing.tv_spectral`` (epri only); bad inputs.

Tolerances are those of epri's Rust 4D tests against PyEPRI: relative l2 error 1e-4 in float32
(NUFFT accuracy eps = 1e-6), 1e-9 in float64 (eps = 1e-12)."""

import numpy as np
import pytest
import pyepri.spectralspatial as pss

import epri
from conftest import SEEDS, rel

ss = epri.spectralspatial

# (eps, tolerance) per dtype.
ACCURACY_4D = {np.float32: (1e-6, 1e-4), np.float64: (1e-12, 1e-9)}

CASES = [
    pytest.param(seed, dtype, id=f"{np.dtype(dtype).name}-{seed}")
    for dtype in (np.float32, np.float64)
    for seed in SEEDS
]

# PyEPRI's reference computed with memory_usage=2 (one NUFFT per spectral sample): the same
# operator, and ten times faster than its default at these tiny sizes.
REF = dict(memory_usage=2)

MODES = [(rfft_mode, absorption) for rfft_mode in (True, False) for absorption in (False, True)]


class Acquisition4D:
    """A random spectral-spatial acquisition: field grid B (Nb,) in G, pixel size delta in cm,
    gradients fgrad (3, P) in G/cm whose largest magnitude keeps the image inside the sweep,
    an image shape (Nb, Ny, Nx, Nz) and a random image u of that shape. Tiny: Nb 8 to 20,
    spatial axes 2 to 5, P 3 to 9."""

    def __init__(self, seed, dtype):
        rng = np.random.default_rng(4000 + seed)
        self.rng = rng
        self.dtype = dtype
        nb = int(rng.integers(8, 21))
        db = rng.uniform(0.05, 0.5)
        self.B = (3400.0 + db * np.arange(nb)).astype(dtype)
        self.delta = float(rng.uniform(0.005, 0.05))
        self.shape = (nb,) + tuple(int(n) for n in rng.integers(2, 6, size=3))
        p = int(rng.integers(3, 10))
        directions = rng.normal(size=(3, p))
        directions /= np.linalg.norm(directions, axis=0)
        extent = max(self.shape[1:]) * self.delta
        mu = rng.uniform(0.2, 1.0, size=p) * (nb * db) / extent
        self.fgrad = (directions * mu).astype(dtype)
        self.u = rng.random(self.shape).astype(dtype)
        self.eps, self.tol = ACCURACY_4D[dtype]

    def sino(self):
        """A random sinogram (P, Nb)."""
        return self.rng.random((self.fgrad.shape[1], len(self.B))).astype(self.dtype)

    def kernel_shape(self):
        return tuple(2 * n for n in self.shape)


@pytest.mark.parametrize("seed,dtype", CASES)
def test_frequency_nodes(seed, dtype, pyepri_cpu):
    a = Acquisition4D(seed, dtype)
    for rfft_mode in (True, False):
        want = pss.compute_4d_frequency_nodes(a.B, a.delta, a.fgrad, backend=pyepri_cpu,
                                              rfft_mode=rfft_mode)
        got = ss.compute_4d_frequency_nodes(a.B, a.delta, a.fgrad, rfft_mode=rfft_mode)
        assert got["rfft_mode"] == rfft_mode
        for key in ("indexes", "idt", "idt0"):
            assert got[key].dtype == np.int64
            np.testing.assert_array_equal(got[key], want[key], err_msg=key)
        for key in ("x", "y", "z", "xi", "t", "lt"):
            assert got[key].dtype == dtype and got[key].shape == want[key].shape, key
            scale = max(np.abs(want[key]).max(), np.finfo(dtype).tiny)
            assert np.abs(got[key] - want[key]).max() <= 4 * np.finfo(dtype).eps * scale, key


@pytest.mark.parametrize("seed,dtype", CASES)
def test_proj4d(seed, dtype, pyepri_cpu):
    a = Acquisition4D(seed, dtype)
    for rfft_mode, absorption in MODES:
        kw = dict(eps=a.eps, rfft_mode=rfft_mode, absorption_mode=absorption)
        want = pss.proj4d(a.u, a.delta, a.B, a.fgrad, backend=pyepri_cpu, **REF, **kw)
        got = ss.proj4d(a.u, a.delta, a.B, a.fgrad, **kw)
        assert got.dtype == dtype and got.shape == (a.fgrad.shape[1], len(a.B))
        assert rel(got, want) < a.tol, (rfft_mode, absorption)


@pytest.mark.parametrize("seed,dtype", CASES)
def test_backproj4d(seed, dtype, pyepri_cpu):
    a = Acquisition4D(seed, dtype)
    p = a.sino()
    for rfft_mode, absorption in MODES:
        kw = dict(eps=a.eps, rfft_mode=rfft_mode, absorption_mode=absorption)
        want = pss.backproj4d(p, a.delta, a.B, a.fgrad, a.shape, backend=pyepri_cpu, **REF, **kw)
        got = ss.backproj4d(p, a.delta, a.B, a.fgrad, a.shape, **kw)
        assert got.dtype == dtype and got.shape == a.shape
        assert rel(got, want) < a.tol, (rfft_mode, absorption)


@pytest.mark.parametrize("seed,dtype", CASES)
def test_adjointness(seed, dtype):
    """<A u, p> = <u, A* p> for epri's own pair, in every mode, relative to ||A u|| ||p||
    (the inner products themselves may nearly cancel, absorption mode's zero-mean
    projections especially)."""
    a = Acquisition4D(seed, dtype)
    p = a.sino()
    for rfft_mode, absorption in MODES:
        kw = dict(eps=a.eps, rfft_mode=rfft_mode, absorption_mode=absorption)
        au = ss.proj4d(a.u, a.delta, a.B, a.fgrad, **kw).astype(np.float64)
        lhs = np.vdot(au, p)
        rhs = np.vdot(a.u, ss.backproj4d(p, a.delta, a.B, a.fgrad, a.shape, **kw)
                      .astype(np.float64))
        scale = np.linalg.norm(au) * np.linalg.norm(p)
        assert abs(lhs - rhs) <= a.tol * scale, (rfft_mode, absorption)


@pytest.mark.parametrize("seed,dtype", CASES)
def test_toeplitz_kernel(seed, dtype, pyepri_cpu):
    a = Acquisition4D(seed, dtype)
    rfft_mode = seed % 2 == 0
    cdtype = np.result_type(dtype, np.complex64)
    for absorption in (False, True):
        kw = dict(eps=a.eps, rfft_mode=rfft_mode, absorption_mode=absorption)
        for return_rfft4 in (False, True):
            want = pss.compute_4d_toeplitz_kernel(a.B, a.delta, a.fgrad, a.kernel_shape(),
                                                  backend=pyepri_cpu,
                                                  return_rfft4=return_rfft4, **REF, **kw)
            got = ss.compute_4d_toeplitz_kernel(a.B, a.delta, a.fgrad, a.kernel_shape(),
                                                return_rfft4=return_rfft4, **kw)
            assert got.dtype == (cdtype if return_rfft4 else dtype) and got.shape == want.shape
            assert rel(got, want) < a.tol, (absorption, return_rfft4)
        # A*A u from PyEPRI's kernel spectrum, and from epri's.
        ref = pss.apply_4d_toeplitz_kernel(a.u, want, backend=pyepri_cpu)
        for spectrum in (want, got):
            out = ss.apply_4d_toeplitz_kernel(a.u, spectrum)
            assert out.dtype == dtype and out.shape == a.shape
            assert rel(out, ref) < a.tol, absorption


@pytest.mark.parametrize("seed,dtype", CASES)
def test_spectral_projector(seed, dtype, pyepri_cpu):
    """epri.SpectralProjector: the plan reused for A, A* and A*A over several calls."""
    a = Acquisition4D(seed, dtype)
    absorption, rfft_mode = seed % 2 == 1, seed % 4 < 2
    kw = dict(eps=a.eps, rfft_mode=rfft_mode, absorption_mode=absorption)
    op = epri.SpectralProjector(a.B, a.delta, a.fgrad, a.shape, **kw)
    assert op.shape == a.shape and op.sino_shape == (a.fgrad.shape[1], len(a.B))
    assert op.dtype == np.dtype(dtype).name
    for _ in range(2):
        u = a.rng.random(a.shape).astype(dtype)
        p = pss.proj4d(u, a.delta, a.B, a.fgrad, backend=pyepri_cpu, **REF, **kw)
        assert rel(op.proj(u), p) < a.tol
        want = pss.backproj4d(p, a.delta, a.B, a.fgrad, a.shape, backend=pyepri_cpu, **REF, **kw)
        assert rel(op.backproj(p), want) < a.tol
        got = op.toeplitz(u)
        assert got.dtype == dtype and rel(got, want) < a.tol


# ---- tv_spectral (epri only) ----

def spectral_phantom(dtype):
    """A tiny 4D phantom (Nb 16, 4 x 4 x 3 voxels): a Gaussian line in a 2 x 2 x 2 block, its
    16 projections (eps 1e-6) and the acquisition."""
    rng = np.random.default_rng(7)
    nb, db, delta = 16, 0.4, 0.05
    B = (3400.0 + db * np.arange(nb)).astype(dtype)
    directions = rng.normal(size=(3, 16))
    directions /= np.linalg.norm(directions, axis=0)
    fgrad = (directions * 8.0).astype(dtype)
    line = np.exp(-0.5 * ((np.arange(nb) - nb / 2) / 1.5) ** 2)
    u = np.zeros((nb, 4, 4, 3))
    u[:, 1:3, 1:3, 1:3] = line[:, None, None, None]
    u = u.astype(dtype)
    proj = ss.proj4d(u, delta, B, fgrad)
    return u, proj, B, fgrad, delta


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tv_spectral(dtype):
    """The reconstruction fits the data better as it iterates, and every argument acts: the
    weights (a larger spatial weight fits worse, a spectral one flattens the spectra), the
    initial image, positivity."""
    u, proj, B, fgrad, delta = spectral_phantom(dtype)

    def tv(lbda, **kw):
        return epri.processing.tv_spectral(proj, B, fgrad, delta, lbda, u.shape, tol=0.0, **kw)

    def misfit(v):
        return rel(ss.proj4d(v, delta, B, fgrad), proj)

    def tv_b(v):
        return np.abs(np.diff(v.astype(np.float64), axis=0)).sum()

    out = tv(1e-5, nitermax=100, positivity=True)
    assert out.dtype == dtype and out.shape == u.shape and np.isfinite(out).all()
    assert out.min() >= 0
    assert misfit(out) < 0.1 and misfit(out) < 0.8 * misfit(tv(1e-5, nitermax=5))
    assert misfit(tv(1e-2, nitermax=100)) > 1.5 * misfit(out)
    assert tv_b(tv(1e-5, lbda_spectral=1e-3, nitermax=100)) < 0.5 * tv_b(out)
    # One iteration from the true image stays near it.
    assert rel(tv(1e-5, init=u, nitermax=1), u) < 0.02


def test_tv_spectral_mask_and_absorption():
    u, proj, B, fgrad, delta = spectral_phantom(np.float64)
    mask = np.zeros(u.shape[1:])
    mask[1:3, 1:3, 1:3] = 1
    outs = []
    for absorption in (False, True):
        out = epri.processing.tv_spectral(proj, B, fgrad, delta, 1e-3, u.shape, mask=mask,
                                          absorption_mode=absorption, nitermax=20)
        assert out.shape == u.shape and np.isfinite(out).all()
        assert np.all(out[:, mask == 0] == 0)
        outs.append(out)
    assert rel(outs[1], outs[0]) > 0.1


# ---- bad inputs ----

@pytest.fixture
def acq4():
    return Acquisition4D(0, np.float32)


def test_wrong_ndim(acq4):
    a = acq4
    with pytest.raises(ValueError, match="u has 3 dimensions"):
        ss.proj4d(a.u[0], a.delta, a.B, a.fgrad)
    with pytest.raises(ValueError, match="proj has 1 dimensions"):
        ss.backproj4d(a.sino()[0], a.delta, a.B, a.fgrad, a.shape)
    with pytest.raises(ValueError, match="out_shape"):
        ss.backproj4d(a.sino(), a.delta, a.B, a.fgrad, a.shape[1:])
    with pytest.raises(ValueError, match="u has 5 dimensions"):
        epri.SpectralProjector(a.B, a.delta, a.fgrad, a.shape).proj(a.u[None])


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.complex64, np.float16])
def test_wrong_dtype(acq4, dtype):
    a = acq4
    with pytest.raises(TypeError, match="u has dtype .*expected float32 or float64"):
        ss.proj4d(a.u.astype(dtype), a.delta, a.B, a.fgrad)
    with pytest.raises(TypeError, match="B has dtype"):
        ss.compute_4d_toeplitz_kernel(a.B.astype(dtype), a.delta, a.fgrad, a.kernel_shape())
    with pytest.raises(TypeError, match="B has dtype"):
        epri.SpectralProjector(a.B.astype(dtype), a.delta, a.fgrad, a.shape)


def test_not_an_array(acq4):
    a = acq4
    with pytest.raises(TypeError, match="u must be a numpy array"):
        ss.proj4d(a.u.tolist(), a.delta, a.B, a.fgrad)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite(acq4, value):
    a = acq4
    u = a.u.copy()
    u[1, 0, 1, 0] = value
    with pytest.raises(ValueError, match="u holds non-finite values"):
        ss.proj4d(u, a.delta, a.B, a.fgrad)
    p = a.sino()
    p[0, 2] = value
    with pytest.raises(ValueError, match="proj holds non-finite values"):
        ss.backproj4d(p, a.delta, a.B, a.fgrad, a.shape)
    fgrad = a.fgrad.copy()
    fgrad[1, 0] = value
    with pytest.raises(ValueError, match="fgrad holds non-finite"):
        ss.compute_4d_toeplitz_kernel(a.B, a.delta, fgrad, a.kernel_shape())
    with pytest.raises(ValueError, match="proj holds non-finite"):
        epri.processing.tv_spectral(p, a.B, a.fgrad, a.delta, 1e-3, a.shape, nitermax=2)


def test_mismatched_sizes(acq4):
    a = acq4
    nb = len(a.B)
    with pytest.raises(ValueError, match="spectral axis has"):
        ss.proj4d(a.u[:-1], a.delta, a.B, a.fgrad)
    with pytest.raises(ValueError, match="spectral axis has"):
        ss.backproj4d(a.sino(), a.delta, a.B, a.fgrad, (nb + 1,) + a.shape[1:])
    with pytest.raises(ValueError):
        ss.backproj4d(a.sino()[:, :-1], a.delta, a.B, a.fgrad, a.shape)
    with pytest.raises(ValueError, match="fgrad has shape .*3 rows"):
        ss.proj4d(a.u, a.delta, a.B, a.fgrad[:2])
    with pytest.raises(ValueError, match="first length must be 2 len"):
        ss.compute_4d_toeplitz_kernel(a.B, a.delta, a.fgrad, (2 * nb + 2,) + a.kernel_shape()[1:])
    with pytest.raises(ValueError, match="out_shape"):
        ss.compute_4d_toeplitz_kernel(a.B, a.delta, a.fgrad, a.shape)  # odd lengths / not doubled
    phi = ss.compute_4d_toeplitz_kernel(a.B, a.delta, a.fgrad, a.kernel_shape(), return_rfft4=True)
    with pytest.raises(ValueError, match="Toeplitz kernel spectrum of shape"):
        ss.apply_4d_toeplitz_kernel(a.u[:, :, :, :-1] if a.shape[3] > 2 else a.u[:, :-1], phi)
    with pytest.raises(TypeError, match="expected complex64"):
        ss.apply_4d_toeplitz_kernel(a.u, phi.astype(np.complex128))
    with pytest.raises(ValueError, match="rfft4_phi has 3 dimensions"):
        ss.apply_4d_toeplitz_kernel(a.u, phi[0])
    op = epri.SpectralProjector(a.B, a.delta, a.fgrad, a.shape)
    with pytest.raises(ValueError, match="planned for"):
        op.backproj(a.sino()[:-1])
    with pytest.raises(TypeError, match="planned in float32"):
        op.proj(a.u.astype(np.float64))
    with pytest.raises(ValueError, match="memory_usage"):
        ss.proj4d(a.u, a.delta, a.B, a.fgrad, memory_usage=3)


def test_layouts_give_the_same_result(acq4):
    """Fortran order and strided views of a 4D image or sinogram are read as their values."""
    a = acq4
    ref = ss.proj4d(a.u, a.delta, a.B, a.fgrad)
    wide = np.zeros(a.shape[:3] + (2 * a.shape[3],), np.float32)
    wide[..., ::2] = a.u
    for u in (np.asfortranarray(a.u), wide[..., ::2], a.u[::-1, :, ::-1][::-1, :, ::-1]):
        np.testing.assert_array_equal(ss.proj4d(u, a.delta, a.B, np.asfortranarray(a.fgrad)),
                                      ref)
    p = a.sino()
    np.testing.assert_array_equal(
        ss.backproj4d(np.asfortranarray(p), a.delta, a.B, a.fgrad, a.shape),
        ss.backproj4d(p, a.delta, a.B, a.fgrad, a.shape))


def test_inputs_untouched(acq4):
    a = acq4
    u, p, B, fgrad = a.u.copy(), a.sino(), a.B.copy(), a.fgrad.copy()
    p0 = p.copy()
    ss.proj4d(u, a.delta, B, fgrad)
    ss.backproj4d(p, a.delta, B, fgrad, a.shape)
    phi = ss.compute_4d_toeplitz_kernel(B, a.delta, fgrad, a.kernel_shape(), return_rfft4=True)
    phi0 = phi.copy()
    ss.apply_4d_toeplitz_kernel(u, phi)
    for x, x0 in ((u, a.u), (p, p0), (B, a.B), (fgrad, a.fgrad), (phi, phi0)):
        np.testing.assert_array_equal(x, x0)


# ---- other backends against the CPU ----

def opencl_or_skip():
    """The first OpenCL device; the test is skipped when this build or machine has none (CI
    builds the wheel without the ``opencl`` feature; epri's Rust suites cover OpenCL there)."""
    try:
        return epri.backends.create_backend("opencl")
    except RuntimeError as e:
        pytest.skip(f"no OpenCL backend: {e}")


@pytest.mark.parametrize("seed,dtype", [pytest.param(s, d, id=f"{np.dtype(d).name}-{s}")
                                        for d in (np.float32, np.float64) for s in range(4)])
def test_opencl_matches_cpu(seed, dtype):
    """Every 4D function on OpenCL against the CPU backend (the same code, other kernels):
    the kernel's 4D rfft, the application of a kernel on the (2Nb, 2Ny, 2Nx, 2Nz) grid and 20
    iterations of tv_spectral included."""
    backend = opencl_or_skip()
    a = Acquisition4D(seed, dtype)
    p = a.sino()
    kw = dict(eps=a.eps, rfft_mode=seed % 2 == 0, absorption_mode=seed % 4 >= 2)
    pairs = [
        (lambda b: ss.proj4d(a.u, a.delta, a.B, a.fgrad, backend=b, **kw)),
        (lambda b: ss.backproj4d(p, a.delta, a.B, a.fgrad, a.shape, backend=b, **kw)),
        (lambda b: ss.compute_4d_toeplitz_kernel(a.B, a.delta, a.fgrad, a.kernel_shape(),
                                                 backend=b, **kw)),
        (lambda b: ss.apply_4d_toeplitz_kernel(
            a.u, ss.compute_4d_toeplitz_kernel(a.B, a.delta, a.fgrad, a.kernel_shape(),
                                               backend=b, return_rfft4=True, **kw),
            backend=b)),
        (lambda b: epri.SpectralProjector(a.B, a.delta, a.fgrad, a.shape, backend=b,
                                          **kw).toeplitz(a.u)),
        (lambda b: epri.processing.tv_spectral(
            ss.proj4d(a.u, a.delta, a.B, a.fgrad), a.B, a.fgrad, a.delta, 1e-4, a.shape,
            backend=b, lbda_spectral=1e-4, positivity=True, nitermax=20, tol=0.0,
            absorption_mode=kw["absorption_mode"], eps=a.eps)),
    ]
    for i, f in enumerate(pairs):
        want, got = f(None), f(backend)
        assert got.dtype == want.dtype and rel(got, want) < a.tol, i
