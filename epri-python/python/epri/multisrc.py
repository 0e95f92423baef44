"""Multi-source operators (PyEPRI's ``multisrc``): ``K`` source images seen in ``L``
experimental settings.

``u``: list of ``K`` images, ``u[j]`` (Ny_j, Nx_j[, Nz_j]), axes (Y, X[, Z]); ``proj``: list of
``L`` sinograms (P_i, Nb); ``h``: list of ``L`` lists of ``K`` spectra, ``h[i][j]`` (Nb,) the
spectrum of source j in setting i (one row serves every setting); ``fgrad``: list of ``L``
arrays (d, P_i) in G/cm, rows (X, Y[, Z]) (one serves every setting); ``B`` (Nb,) in G shared
by the settings; ``delta`` in cm. Results have the dtype of ``u[0]`` / ``proj[0]``.
``nodes`` and ``notest`` are accepted for compatibility and ignored. The Toeplitz kernels of
``A*A`` pair every two sources: :func:`compute_2d_toeplitz_kernels`,
:func:`apply_2d_toeplitz_kernels` and their 3D twins.
"""

from . import _epri
from .backends import resolve


def proj2d(u, delta, B, h, fgrad, backend=None, eps=1e-06, rfft_mode=True, nodes=None,
           notest=False):
    """Projections of a mixture: list of ``L`` sinograms,
    ``proj[i] = sum_j A_{h[i][j], fgrad[i]} u[j]``, for 2D sources."""
    return _epri.multi_project(u, delta, B, h, fgrad, 2, resolve(backend), eps, rfft_mode)


def proj3d(u, delta, B, h, fgrad, backend=None, eps=1e-06, rfft_mode=True, nodes=None,
           notest=False):
    """As :func:`proj2d`, for 3D sources."""
    return _epri.multi_project(u, delta, B, h, fgrad, 3, resolve(backend), eps, rfft_mode)


def backproj2d(proj, delta, B, h, fgrad, out_shape, backend=None, eps=1e-06, rfft_mode=True,
               nodes=None, notest=False):
    """Adjoint of :func:`proj2d`: list of ``K`` images,
    ``out[j] = sum_i A*_{h[i][j], fgrad[i]} proj[i]``, ``out[j]`` of shape ``out_shape[j]``."""
    return _epri.multi_backproject(proj, delta, B, h, fgrad, out_shape, 2, resolve(backend),
                                   eps, rfft_mode)


def backproj3d(proj, delta, B, h, fgrad, out_shape, backend=None, eps=1e-06, rfft_mode=True,
               nodes=None, notest=False):
    """Adjoint of :func:`proj3d`."""
    return _epri.multi_backproject(proj, delta, B, h, fgrad, out_shape, 3, resolve(backend),
                                   eps, rfft_mode)


def compute_2d_toeplitz_kernels(B, h, delta, fgrad, src_shape, backend=None, eps=1e-06,
                                rfft_mode=True, nodes=None, notest=False):
    """Cross-source Toeplitz kernels of 2D sources: ``phi[k][j]`` (real, shape
    ``src_shape[k] + src_shape[j]`` axis by axis) such that
    ``(A*A u)[k] = sum_j u[j] * phi[k][j]`` (convolution; ``A*`` with the spectra of source k,
    ``A`` with those of source j, summed over the settings). ``src_shape``: list of the ``K``
    image shapes. ``rfft_mode`` does not change the kernels."""
    return _epri.multi_toeplitz_kernels(B, h, delta, fgrad, src_shape, 2, resolve(backend), eps)


def compute_3d_toeplitz_kernels(B, h, delta, fgrad, src_shape, backend=None, eps=1e-06,
                                rfft_mode=True, nodes=None, notest=False):
    """As :func:`compute_2d_toeplitz_kernels`, for 3D sources."""
    return _epri.multi_toeplitz_kernels(B, h, delta, fgrad, src_shape, 3, resolve(backend), eps)


def apply_2d_toeplitz_kernels(u, rfft2_phi, backend=None, notest=False):
    """``A*A u`` for the list ``u`` of ``K`` 2D source images, from
    ``rfft2_phi[k][j] = numpy.fft.rfft2(phi[k][j])`` (complex64 for float32 sources,
    complex128 for float64; ``phi`` from :func:`compute_2d_toeplitz_kernels`). Returns the
    list of ``K`` images."""
    return _epri.multi_apply_toeplitz(u, rfft2_phi, 2, resolve(backend))


def apply_3d_toeplitz_kernels(u, rfft3_phi, backend=None, notest=False):
    """As :func:`apply_2d_toeplitz_kernels`, for 3D sources (``rfftn`` of the kernels)."""
    return _epri.multi_apply_toeplitz(u, rfft3_phi, 3, resolve(backend))
