"""The mono-source and spectral-spatial operators planned once, applied many times."""

from . import _epri
from .backends import resolve


class Projector:
    """The projection operator ``A`` of one experiment, its adjoint and ``A*A``.

    Parameters
    ----------
    B : ndarray, shape (Nb,)
        Homogeneous field grid (G), uniformly spaced and increasing.
    delta : float
        Pixel size (cm).
    fgrad : ndarray, shape (d, P)
        Field gradients (G/cm), one per column, rows (X, Y[, Z]); d = len(shape).
    h : ndarray, shape (Nb,)
        Reference spectrum sampled on ``B``; its dtype (float32 or float64) is the precision
        of the operator.
    shape : tuple of int
        Image shape (Ny, Nx) or (Ny, Nx, Nz).
    backend : epri Backend, str or None
        Device (``None``: the CPU).
    eps : float
        NUFFT relative accuracy (PyEPRI's default 1e-6).
    rfft_mode : bool
        Work on the half spectrum along B (same operator up to rounding).

    Set-up (frequency nodes, NUFFT and FFT plans, device buffers) is done here once; the
    Toeplitz kernel of ``A*A`` on the first call of ``toeplitz``. Inputs of the methods must
    have the operator's dtype (``TypeError`` otherwise).
    """

    def __init__(self, B, delta, fgrad, h, shape, backend=None, eps=1e-6, rfft_mode=True):
        self._op = _epri.PlannedOperator(
            B, delta, fgrad, h, shape, resolve(backend), eps, rfft_mode
        )

    @property
    def shape(self):
        """Image shape (Y, X[, Z]); (Nb, Ny, Nx, Nz) for a :class:`SpectralProjector`."""
        return tuple(self._op.shape)

    @property
    def sino_shape(self):
        """Sinogram shape (P, Nb)."""
        return tuple(self._op.sino_shape)

    @property
    def dtype(self):
        """``"float32"`` or ``"float64"``: the dtype of ``h``."""
        return self._op.dtype

    def proj(self, u):
        """Projections ``A u``, shape (P, Nb), of the image ``u`` (shape ``self.shape``)."""
        return self._op.proj(u)

    def backproj(self, proj):
        """Backprojection ``A* proj``, shape ``self.shape``, of a sinogram (P, Nb)."""
        return self._op.backproj(proj)

    def toeplitz(self, u):
        """``A*A u`` (shape ``self.shape``) as a convolution with the Toeplitz kernel."""
        return self._op.toeplitz(u)

    def __repr__(self):
        return (
            f"epri.Projector(shape={self.shape}, sino_shape={self.sino_shape}, "
            f"dtype={self.dtype})"
        )


class SpectralProjector(Projector):
    """The spectral-spatial projection operator ``A`` of one experiment (PyEPRI's ``proj4d``),
    its adjoint (``backproj4d``) and ``A*A``, for 4D images whose voxels hold spectra.

    Parameters
    ----------
    B : ndarray, shape (Nb,)
        Homogeneous field grid (G), uniformly spaced and increasing; its dtype (float32 or
        float64) is the precision of the operator.
    delta : float
        Pixel size (cm).
    fgrad : ndarray, shape (3, P)
        Field gradients (G/cm), one per column, rows (X, Y, Z).
    shape : tuple of int
        Image shape (Nb, Ny, Nx, Nz): axis 0 the spectral axis sampled on ``B``, then the
        spatial axes (Y, X, Z).
    backend : epri Backend, str or None
        Device (``None``: the CPU).
    eps : float
        NUFFT relative accuracy (PyEPRI's default 1e-6).
    rfft_mode : bool
        Work on the half spectrum along B (same operator up to rounding).
    absorption_mode : bool
        The voxels hold absorption profiles, projected as their derivative along B.

    Set-up is done here once; the Toeplitz kernel of ``A*A`` (circular along B) on the first
    call of ``toeplitz``. Inputs of the methods must have the dtype of ``B`` (``TypeError``
    otherwise).
    """

    def __init__(self, B, delta, fgrad, shape, backend=None, eps=1e-6, rfft_mode=True,
                 absorption_mode=False):
        self._op = _epri.PlannedOperator.spectral(
            B, delta, fgrad, shape, resolve(backend), eps, rfft_mode, absorption_mode
        )

    @property
    def dtype(self):
        """``"float32"`` or ``"float64"``: the dtype of ``B``."""
        return self._op.dtype

    def __repr__(self):
        return (
            f"epri.SpectralProjector(shape={self.shape}, sino_shape={self.sino_shape}, "
            f"dtype={self.dtype})"
        )
