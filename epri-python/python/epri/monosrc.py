"""Mono-source operators (PyEPRI's ``monosrc``): projection ``A``, backprojection ``A*`` and
the Toeplitz kernel of ``A*A``, in 2D and 3D.

Shapes and units: ``u`` image (Ny, Nx) or (Ny, Nx, Nz), axes (Y, X[, Z]); ``proj`` sinogram
(P, Nb); ``B`` field grid (Nb,) in G, uniformly spaced; ``h`` reference spectrum (Nb,) sampled
on ``B``; ``fgrad`` (d, P) in G/cm, rows (X, Y[, Z]); ``delta`` pixel size in cm. Results have
the dtype of the first array argument (float32 or float64); the others are converted to it.

Arguments kept for compatibility with PyEPRI and ignored: ``nodes`` (epri plans its own nodes:
use :class:`epri.Projector` to set an operator up once for many calls) and ``notest`` (inputs
are always checked). Errors: ``TypeError`` (not a float array), ``ValueError`` (shapes,
values, NaN), ``RuntimeError`` (device).
"""

from . import _epri
from .backends import resolve


def compute_2d_frequency_nodes(B, delta, fgrad, backend=None, rfft_mode=True, notest=False):
    """Frequency nodes of the 2D operators.

    Returns a dict: ``'x'``, ``'y'`` (M,) node coordinates in radians per pixel (from the X and
    Y rows of ``fgrad``), ``'indexes'`` (M,) int64 flat positions of the nodes in the
    (P, ncols) Fourier sinogram (``ncols = Nb//2 + 1`` in rfft mode, ``Nb`` otherwise),
    ``'rfft_mode'``. Node ``(k, a)`` (projection k, integer frequency a) is kept when
    ``|fgrad[:, k]| * |a| < Nb * dB / (2 * delta)`` and ``|a| < Nb / 2``.
    """
    return _epri.frequency_nodes(B, delta, fgrad, 2, rfft_mode)


def compute_3d_frequency_nodes(B, delta, fgrad, backend=None, rfft_mode=True, notest=False):
    """Frequency nodes of the 3D operators: as the 2D ones, with ``'z'`` as well."""
    return _epri.frequency_nodes(B, delta, fgrad, 3, rfft_mode)


def proj2d(u, delta, B, h, fgrad, backend=None, eps=1e-06, rfft_mode=True, nodes=None,
           notest=False):
    """Projections ``A u`` (P, Nb) of the 2D image ``u`` (Ny, Nx).

    ``eps``: NUFFT relative accuracy; ``rfft_mode``: work on the half spectrum along B.
    """
    return _epri.project(u, delta, B, h, fgrad, 2, resolve(backend), eps, rfft_mode)


def proj3d(u, delta, B, h, fgrad, backend=None, eps=1e-06, rfft_mode=True, nodes=None,
           notest=False):
    """Projections ``A u`` (P, Nb) of the 3D image ``u`` (Ny, Nx, Nz)."""
    return _epri.project(u, delta, B, h, fgrad, 3, resolve(backend), eps, rfft_mode)


def backproj2d(proj, delta, B, h, fgrad, out_shape, backend=None, eps=1e-06, rfft_mode=True,
               nodes=None, notest=False):
    """Backprojection ``A* proj`` of a sinogram (P, Nb) onto an image of shape ``out_shape``
    (Ny, Nx): the adjoint of :func:`proj2d`."""
    return _epri.backproject(proj, delta, B, h, fgrad, out_shape, 2, resolve(backend), eps,
                             rfft_mode)


def backproj3d(proj, delta, B, h, fgrad, out_shape, backend=None, eps=1e-06, rfft_mode=True,
               nodes=None, notest=False):
    """Backprojection ``A* proj`` onto an image of shape ``out_shape`` (Ny, Nx, Nz)."""
    return _epri.backproject(proj, delta, B, h, fgrad, out_shape, 3, resolve(backend), eps,
                             rfft_mode)


def compute_2d_toeplitz_kernel(B, h1, h2, delta, fgrad, out_shape, backend=None, eps=1e-06,
                               rfft_mode=True, nodes=None, return_rfft2=False, notest=False):
    """Toeplitz kernel ``phi`` of ``A*_{h2} A_{h1}``: ``out_shape`` is the kernel's shape
    (2Ny, 2Nx), twice the shape (Ny, Nx) of the images it applies to. ``phi`` is real, the
    centred offset ``k`` at index ``k + N``, so that ``A*_{h2} A_{h1} u`` is the convolution of
    ``u`` with ``phi``. With ``return_rfft2``, returns ``numpy.fft.rfft2(phi)`` (2Ny, Nx + 1),
    complex, the input of :func:`apply_2d_toeplitz_kernel`. ``rfft_mode`` does not change the
    kernel."""
    return _epri.toeplitz_kernel(B, h1, h2, delta, fgrad, out_shape, 2, resolve(backend), eps,
                                 return_rfft2)


def compute_3d_toeplitz_kernel(B, h1, h2, delta, fgrad, out_shape, backend=None, eps=1e-06,
                               rfft_mode=True, nodes=None, return_rfft3=False, notest=False):
    """3D Toeplitz kernel of shape ``out_shape`` = (2Ny, 2Nx, 2Nz), or its ``rfftn``
    (2Ny, 2Nx, Nz + 1) with ``return_rfft3``."""
    return _epri.toeplitz_kernel(B, h1, h2, delta, fgrad, out_shape, 3, resolve(backend), eps,
                                 return_rfft3)


def apply_2d_toeplitz_kernel(u, rfft2_phi, backend=None, notest=False):
    """``A*A u`` for the image ``u`` (Ny, Nx): the convolution with the kernel whose
    ``rfft2`` is ``rfft2_phi`` (2Ny, Nx + 1), complex64 for a float32 ``u``, complex128 for
    float64 (from :func:`compute_2d_toeplitz_kernel` with ``return_rfft2=True``)."""
    return _epri.apply_toeplitz(u, rfft2_phi, 2, resolve(backend))


def apply_3d_toeplitz_kernel(u, rfft3_phi, backend=None, notest=False):
    """``A*A u`` for the image ``u`` (Ny, Nx, Nz), ``rfft3_phi`` of shape (2Ny, 2Nx, Nz + 1)."""
    return _epri.apply_toeplitz(u, rfft3_phi, 3, resolve(backend))
