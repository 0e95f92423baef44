"""Multi-source operators (PyEPRI's ``multisrc``): ``K`` source images seen in ``L``
experimental settings.

``u``: list of ``K`` images, ``u[j]`` (Ny_j, Nx_j[, Nz_j]), axes (Y, X[, Z]); ``proj``: list of
``L`` sinograms (P_i, Nb); ``h``: list of ``L`` lists of ``K`` spectra, ``h[i][j]`` (Nb,) the
spectrum of source j in setting i (one row serves every setting); ``fgrad``: list of ``L``
arrays (d, P_i) in G/cm, rows (X, Y[, Z]) (one serves every setting); ``B`` (Nb,) in G shared
by the settings; ``delta`` in cm. Results have the dtype of ``u[0]`` / ``proj[0]``.
``nodes`` and ``notest`` are accepted for compatibility and ignored.
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
