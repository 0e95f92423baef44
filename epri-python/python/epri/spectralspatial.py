"""Spectral-spatial operators (PyEPRI's ``spectralspatial``): projection ``A``, backprojection
``A*`` and the Toeplitz kernel of ``A*A`` for 4D images, each voxel holding a spectrum.

Shapes and units: ``u`` 4D image (Nb, Ny, Nx, Nz), axes (B, Y, X, Z): axis 0 is the spectral
axis, sampled on ``B`` (``u[l]`` at ``B[l]``), axes 1-3 the spatial axes; ``proj`` sinogram
(P, Nb); ``B`` field grid (Nb,) in G, uniformly spaced; ``fgrad`` (3, P) in G/cm, rows
(X, Y, Z); ``delta`` pixel size in cm. The projection for the gradient ``g`` is
``p_g(B) = delta^3 sum_r u(B + <g, r>, r)`` (each voxel's spectrum shifted by ``-<g, r>`` G,
band-limited and circular along B); with ``absorption_mode=True`` the voxels hold absorption
profiles and the projection is that of their derivative along B. Results have the dtype of the
first array argument (float32 or float64; ``B``'s for the nodes and the kernel); the others are
converted to it.

Arguments kept for compatibility with PyEPRI that change nothing in epri: ``nodes`` and
``weights`` (epri plans its own nodes and spectral weights: use
:class:`epri.SpectralProjector` to set an operator up once for many calls), ``memory_usage``
(epri always works one spectral column at a time; must still be 0, 1 or 2), ``notest`` (inputs
are always checked); ``rfft_mode`` does not change the Toeplitz kernel. Errors: ``TypeError``
(not a float array), ``ValueError`` (shapes, values, NaN, ``memory_usage``), ``RuntimeError``
(device).
"""

from . import _epri
from .backends import resolve


def _check_memory_usage(memory_usage):
    if memory_usage not in (0, 1, 2):
        raise ValueError(f"memory_usage = {memory_usage!r}: must be 0, 1 or 2")


def compute_4d_frequency_nodes(B, delta, fgrad, backend=None, rfft_mode=True, notest=False):
    """Frequency nodes of the 4D operators.

    Returns a dict: ``'x'``, ``'y'``, ``'z'`` (M,) the 3D node coordinates in radians per
    pixel and ``'indexes'`` (M,) int64 their flat positions in the (P, ncols) Fourier sinogram,
    as :func:`epri.monosrc.compute_3d_frequency_nodes` (``ncols = Nb//2 + 1`` in rfft mode,
    ``Nb`` otherwise); ``'rfft_mode'``; along the spectral axis: ``'xi'`` (ncols,)
    ``2 pi alpha / Nb`` for the integer frequency ``alpha`` of each column, ``'t'`` the distinct
    values of ``-xi`` over the nodes (increasing), ``'idt'`` (M,) int64 such that ``t[idt]``
    belongs to each node, ``'idt0'`` (1, 1) int64 the position of ``t == 0``, ``'lt'``
    (Nb, len(t)) ``l * t[k]``. Floats in the dtype of ``B``.
    """
    return _epri.spectral_nodes(B, delta, fgrad, rfft_mode)


def proj4d(u, delta, B, fgrad, backend=None, weights=None, eps=1e-06, rfft_mode=True,
           absorption_mode=False, nodes=None, memory_usage=1, notest=False):
    """Projections ``A u`` (P, Nb) of the 4D image ``u`` (Nb, Ny, Nx, Nz).

    ``eps``: NUFFT relative accuracy; ``rfft_mode``: work on the half spectrum along B (same
    operator up to rounding); ``absorption_mode``: the voxels hold absorption profiles.
    """
    _check_memory_usage(memory_usage)
    return _epri.spectral_project(u, delta, B, fgrad, resolve(backend), eps, rfft_mode,
                                  absorption_mode)


def backproj4d(proj, delta, B, fgrad, out_shape, backend=None, weights=None, eps=1e-06,
               absorption_mode=False, rfft_mode=True, nodes=None, memory_usage=1,
               notest=False):
    """Backprojection ``A* proj`` of a sinogram (P, Nb) onto a 4D image of shape
    ``out_shape`` (Nb, Ny, Nx, Nz): the adjoint of :func:`proj4d`."""
    _check_memory_usage(memory_usage)
    return _epri.spectral_backproject(proj, delta, B, fgrad, out_shape, resolve(backend), eps,
                                      rfft_mode, absorption_mode)


def compute_4d_toeplitz_kernel(B, delta, fgrad, out_shape, backend=None, absorption_mode=False,
                               eps=1e-06, rfft_mode=True, nodes=None, return_rfft4=False,
                               notest=False, memory_usage=1):
    """Toeplitz kernel ``phi`` of ``A*A`` (:func:`backproj4d` after :func:`proj4d`):
    ``out_shape`` is the kernel's shape (2Nb, 2Ny, 2Nx, 2Nz), twice the shape
    (Nb, Ny, Nx, Nz) of the images it applies to. ``phi`` is real: along B two identical
    periods (index ``l`` the spectral offset ``l mod Nb``: ``A*A`` is circular along B), along
    the spatial axes the centred offset ``k`` at index ``k + N``. With ``return_rfft4``,
    returns ``numpy.fft.rfftn(phi)`` (2Nb, 2Ny, 2Nx, Nz + 1), complex, the input of
    :func:`apply_4d_toeplitz_kernel`. ``out_shape[0]`` must be ``2 * len(B)``."""
    _check_memory_usage(memory_usage)
    return _epri.spectral_toeplitz_kernel(B, delta, fgrad, out_shape, resolve(backend),
                                          absorption_mode, eps, return_rfft4)


def apply_4d_toeplitz_kernel(u, rfft4_phi, backend=None, notest=False):
    """``A*A u`` for the 4D image ``u`` (Nb, Ny, Nx, Nz): the convolution with the kernel
    whose ``rfftn`` is ``rfft4_phi`` (2Nb, 2Ny, 2Nx, Nz + 1), complex64 for a float32 ``u``,
    complex128 for float64 (from :func:`compute_4d_toeplitz_kernel` with
    ``return_rfft4=True``)."""
    return _epri.apply_toeplitz(u, rfft4_phi, 4, resolve(backend))
