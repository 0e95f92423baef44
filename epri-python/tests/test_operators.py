"""Every mono- and multi-source operator and FBP against PyEPRI 1.1.1 on random acquisitions
(20 per operator, dimension and precision)."""

import numpy as np
import pytest
import pyepri.monosrc as pmono
import pyepri.multisrc as pmulti
import pyepri.processing as pproc

import epri
from conftest import SEEDS, Acquisition, linear_interp1, rel

CASES = [
    pytest.param(seed, dim, dtype, id=f"{dim}d-{np.dtype(dtype).name}-{seed}")
    for dim in (2, 3)
    for dtype in (np.float32, np.float64)
    for seed in SEEDS
]

MONO = {2: (pmono.proj2d, epri.monosrc.proj2d), 3: (pmono.proj3d, epri.monosrc.proj3d)}
BACK = {2: (pmono.backproj2d, epri.monosrc.backproj2d),
        3: (pmono.backproj3d, epri.monosrc.backproj3d)}
NODES = {2: (pmono.compute_2d_frequency_nodes, epri.monosrc.compute_2d_frequency_nodes),
         3: (pmono.compute_3d_frequency_nodes, epri.monosrc.compute_3d_frequency_nodes)}
KERNEL = {2: (pmono.compute_2d_toeplitz_kernel, epri.monosrc.compute_2d_toeplitz_kernel),
          3: (pmono.compute_3d_toeplitz_kernel, epri.monosrc.compute_3d_toeplitz_kernel)}
APPLY = {2: (pmono.apply_2d_toeplitz_kernel, epri.monosrc.apply_2d_toeplitz_kernel),
         3: (pmono.apply_3d_toeplitz_kernel, epri.monosrc.apply_3d_toeplitz_kernel)}


@pytest.mark.parametrize("seed,dim,dtype", CASES)
def test_frequency_nodes(seed, dim, dtype, pyepri_cpu):
    a = Acquisition(seed, dim, dtype)
    ref_fn, fn = NODES[dim]
    for rfft_mode in (True, False):
        want = ref_fn(a.B, a.delta, a.fgrad, backend=pyepri_cpu, rfft_mode=rfft_mode)
        got = fn(a.B, a.delta, a.fgrad, rfft_mode=rfft_mode)
        np.testing.assert_array_equal(got["indexes"], want["indexes"])
        for axis in "xyz"[:dim]:
            assert got[axis].dtype == dtype
            scale = np.abs(want[axis]).max()
            assert np.abs(got[axis] - want[axis]).max() <= 4 * np.finfo(dtype).eps * scale


@pytest.mark.parametrize("seed,dim,dtype", CASES)
def test_proj(seed, dim, dtype, pyepri_cpu):
    a = Acquisition(seed, dim, dtype)
    ref_fn, fn = MONO[dim]
    for rfft_mode in (True, False):
        want = ref_fn(a.u, a.delta, a.B, a.h, a.fgrad, backend=pyepri_cpu, eps=a.eps,
                      rfft_mode=rfft_mode)
        got = fn(a.u, a.delta, a.B, a.h, a.fgrad, eps=a.eps, rfft_mode=rfft_mode)
        assert got.dtype == dtype and got.shape == (a.fgrad.shape[1], len(a.B))
        assert rel(got, want) < a.tol


@pytest.mark.parametrize("seed,dim,dtype", CASES)
def test_backproj(seed, dim, dtype, pyepri_cpu):
    a = Acquisition(seed, dim, dtype)
    ref_fn, fn = BACK[dim]
    p = a.sino()
    for rfft_mode in (True, False):
        want = ref_fn(p, a.delta, a.B, a.h, a.fgrad, a.shape, backend=pyepri_cpu, eps=a.eps,
                      rfft_mode=rfft_mode)
        got = fn(p, a.delta, a.B, a.h, a.fgrad, a.shape, eps=a.eps, rfft_mode=rfft_mode)
        assert got.dtype == dtype and got.shape == a.shape
        assert rel(got, want) < a.tol


@pytest.mark.parametrize("seed,dim,dtype", CASES)
def test_toeplitz_kernel(seed, dim, dtype, pyepri_cpu):
    a = Acquisition(seed, dim, dtype)
    ref_fn, fn = KERNEL[dim]
    apply_ref, apply = APPLY[dim]
    h2 = np.roll(a.h, 1)
    grid = tuple(2 * n for n in a.shape)
    for return_rfft in (False, True):
        want = ref_fn(a.B, a.h, h2, a.delta, a.fgrad, grid, backend=pyepri_cpu, eps=a.eps,
                      **{f"return_rfft{dim}": return_rfft})
        got = fn(a.B, a.h, h2, a.delta, a.fgrad, grid, eps=a.eps,
                 **{f"return_rfft{dim}": return_rfft})
        assert got.dtype == want.dtype
        assert rel(got, want) < a.toeplitz_tol
    # Application of PyEPRI's kernel spectrum to a random image.
    want = apply_ref(a.u, want, backend=pyepri_cpu)
    got = apply(a.u, got)
    assert got.dtype == dtype and rel(got, want) < a.toeplitz_tol


@pytest.mark.parametrize("seed,dim,dtype", CASES)
def test_projector_object(seed, dim, dtype, pyepri_cpu):
    """epri.Projector: the plan reused for A, A* and A*A over several calls."""
    a = Acquisition(seed, dim, dtype)
    op = epri.Projector(a.B, a.delta, a.fgrad, a.h, a.shape, eps=a.eps)
    assert op.shape == a.shape and op.sino_shape == (a.fgrad.shape[1], len(a.B))
    proj, back = MONO[dim][0], BACK[dim][0]
    for _ in range(2):
        u = a.rng.random(a.shape).astype(dtype)
        p = proj(u, a.delta, a.B, a.h, a.fgrad, backend=pyepri_cpu, eps=a.eps)
        assert rel(op.proj(u), p) < a.tol
        want = back(p, a.delta, a.B, a.h, a.fgrad, a.shape, backend=pyepri_cpu, eps=a.eps)
        assert rel(op.backproj(p), want) < a.tol
        assert rel(op.toeplitz(u), want) < a.toeplitz_tol


MULTI = {2: (pmulti.proj2d, epri.multisrc.proj2d, pmulti.backproj2d, epri.multisrc.backproj2d),
         3: (pmulti.proj3d, epri.multisrc.proj3d, pmulti.backproj3d, epri.multisrc.backproj3d)}
MULTI_KERNELS = {
    2: (pmulti.compute_2d_toeplitz_kernels, epri.multisrc.compute_2d_toeplitz_kernels,
        pmulti.apply_2d_toeplitz_kernels, epri.multisrc.apply_2d_toeplitz_kernels),
    3: (pmulti.compute_3d_toeplitz_kernels, epri.multisrc.compute_3d_toeplitz_kernels,
        pmulti.apply_3d_toeplitz_kernels, epri.multisrc.apply_3d_toeplitz_kernels)}


def two_settings(a):
    """Two sources seen in two settings: the halves of the random gradient table, spectra h
    and shifted copies; the second source one pixel smaller along each axis."""
    p = a.fgrad.shape[1]
    fgrad = [a.fgrad[:, : max(1, p // 2)], a.fgrad[:, max(1, p // 2):] if p > 1 else a.fgrad]
    h = [[a.h, np.roll(a.h, 2)], [np.roll(a.h, -1), a.h]]
    shape2 = tuple(max(4, n - 1) for n in a.shape)
    return fgrad, h, [a.shape, shape2]


@pytest.mark.parametrize("seed,dim,dtype", CASES)
def test_multisrc(seed, dim, dtype, pyepri_cpu):
    a = Acquisition(seed, dim, dtype)
    fgrad, h, (_, shape2) = two_settings(a)
    u = [a.u, a.rng.random(shape2).astype(dtype)]
    ref_proj, proj, ref_back, back = MULTI[dim]
    want = ref_proj(u, a.delta, a.B, h, fgrad, backend=pyepri_cpu, eps=a.eps)
    got = proj(u, a.delta, a.B, h, fgrad, eps=a.eps)
    assert len(got) == 2
    for g, w in zip(got, want):
        assert g.dtype == dtype and rel(g, w) < a.tol
    want_b = ref_back(want, a.delta, a.B, h, fgrad, [a.shape, shape2], backend=pyepri_cpu,
                      eps=a.eps)
    got_b = back(want, a.delta, a.B, h, fgrad, [a.shape, shape2], eps=a.eps)
    for g, w in zip(got_b, want_b):
        assert g.dtype == dtype and rel(g, w) < a.tol


def well_conditioned_cutoff(a):
    """The largest of PyEPRI's usual cutoffs whose kept bins of the absorption spectrum
    (rfft of cumsum(h) dB) stay above 1e-2 of its maximum: beyond, FBP divides by values near
    zero and both implementations only amplify their rounding differently."""
    g = np.abs(np.fft.rfft(np.fft.ifftshift(np.cumsum(a.h, dtype=np.float64)
                                            * float(a.B[1] - a.B[0]))))
    nb = len(a.B)
    for cutoff in (1.0, 0.5, 0.3, 0.2, 0.1):
        m = max(1, int(round(cutoff * nb)))
        if g[: m // 2 + 1].min() >= 1e-2 * g.max():
            return cutoff
    return 0.05


@pytest.mark.parametrize("seed,dim,dtype", CASES)
def test_fbp(seed, dim, dtype, pyepri_cpu):
    a = Acquisition(seed, dim, dtype)
    p = MONO[dim][0](a.u, a.delta, a.B, a.h, a.fgrad, backend=pyepri_cpu, eps=a.eps)
    grids = a.grids()
    cutoff = well_conditioned_cutoff(a)
    if dim == 2:
        y, x = grids
        want = pproc.eprfbp2d(p, a.fgrad, a.h, a.B, x, y, linear_interp1, backend=pyepri_cpu,
                              frequency_cutoff=cutoff)
        got = epri.processing.eprfbp2d(p, a.fgrad, a.h, a.B, x, y, "linear",
                                       frequency_cutoff=cutoff)
    else:
        y, x, z = grids
        want = pproc.eprfbp3d(p, a.fgrad, a.h, a.B, x, y, z, linear_interp1,
                              backend=pyepri_cpu, frequency_cutoff=cutoff)
        got = epri.processing.eprfbp3d(p, a.fgrad, a.h, a.B, x, y, z, "linear",
                                       frequency_cutoff=cutoff)
    assert got.dtype == dtype and got.shape == a.shape
    assert rel(got, want) < (1e-4 if dtype == np.float32 else 1e-10)


@pytest.mark.parametrize("seed,dim,dtype", CASES)
def test_multisrc_toeplitz(seed, dim, dtype, pyepri_cpu):
    a = Acquisition(seed, dim, dtype)
    fgrad, h, shapes = two_settings(a)
    ref_kernels, kernels, ref_apply, apply = MULTI_KERNELS[dim]
    want = ref_kernels(a.B, h, a.delta, fgrad, shapes, backend=pyepri_cpu, eps=a.eps)
    got = kernels(a.B, h, a.delta, fgrad, shapes, eps=a.eps)
    for k in range(2):
        for j in range(2):
            assert got[k][j].dtype == dtype and rel(got[k][j], want[k][j]) < a.toeplitz_tol
    rfft_phi = [[np.fft.rfftn(phi).astype(np.result_type(dtype, np.complex64)) for phi in row]
                for row in want]
    u = [a.u, a.rng.random(shapes[1]).astype(dtype)]
    want_u = ref_apply(u, rfft_phi, backend=pyepri_cpu)
    got_u = apply(u, rfft_phi)
    for g, w in zip(got_u, want_u):
        assert g.dtype == dtype and rel(g, w) < a.toeplitz_tol
