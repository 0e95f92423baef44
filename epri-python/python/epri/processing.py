"""Reconstructions (PyEPRI's ``processing``): TV-regularised least squares for one source
(:func:`tv_monosrc`), several (:func:`tv_multisrc`) or a spectral-spatial image
(:func:`tv_spectral`, epri only), filtered backprojection (:func:`eprfbp2d`,
:func:`eprfbp3d`).

Units and axes as in :mod:`epri.monosrc`. The solvers run with the GIL released and stop on
Ctrl-C (``KeyboardInterrupt``, checked between iterations). ``verbose=True`` prints the
iteration and the relative change every ``Ndisplay`` iterations (and the energy with
``eval_energy=True``). PyEPRI's display arguments (``video``, ``displayer``) and ``notest`` are
accepted and ignored.
"""

import operator
import time

from . import _epri
from .backends import resolve


def tv_monosrc(proj, B, fgrad, delta, h, lbda, out_shape, backend=None, init=None,
               positivity=False, mask=None, tol=1e-05, nitermax=1000000, eval_energy=False,
               verbose=False, video=False, displayer=None, Ndisplay=20, eps=1e-06,
               disable_toeplitz_kernel=False, lipschitz_const='auto', notest=False,
               check_every=1):
    """TV-regularised reconstruction of one source from its projections.

    Minimises ``0.5 * ||A u - proj||^2 + lbda_unrm * TV(u)`` (+ ``u >= 0`` with
    ``positivity``, + ``u = 0`` where ``mask <= 0``) with the Condat-Vu / Chambolle-Pock
    primal-dual scheme, stopping when ``||u - u_prev|| < tol * ||u||`` or after ``nitermax``
    iterations. ``lbda`` is PyEPRI's dimensionless weight, ``lbda_unrm = (max h - min h) * P /
    (2^(d-1) pi) * Nb / (B[-1] - B[0]) * delta^(d-1) * lbda``.

    ``proj`` (P, Nb); ``fgrad`` (d, P) with d = len(out_shape); ``out_shape`` (Ny, Nx[, Nz]);
    ``init``, ``mask``: images of shape ``out_shape``; ``lipschitz_const``: ``'auto'`` (power
    iteration), ``'upper-bound'`` or a number. Returns the image (``out_shape``) in the dtype of
    ``proj``.

    ``check_every`` (epri only, integer >= 1): evaluate the stopping rule on every
    ``check_every``-th iteration only, so the run stops at most ``check_every - 1`` iterations
    after the one PyEPRI would stop at. On a GPU the rule's norm is the only value read back
    to the host during an iteration; ``check_every = 10`` removes 9 read-backs in 10.
    """
    return _epri.tv_mono(proj, B, fgrad, delta, h, lbda, out_shape, resolve(backend), init,
                         positivity, mask, tol, nitermax, eval_energy, verbose, Ndisplay, eps,
                         disable_toeplitz_kernel, lipschitz_const, _check_every(check_every))


def tv_multisrc(proj, B, fgrad, delta, h, lbda, out_shape, backend=None, init=None, tol=1e-05,
                nitermax=1000000, eval_energy=False, disable_toeplitz_kernel=False,
                verbose=False, video=False, Ndisplay=20, displayer=None, eps=1e-06,
                lipschitz_const='auto', notest=False, check_every=1):
    """TV-regularised source separation: ``K`` source images from the projections of ``L``
    settings.

    ``proj``: list of ``L`` sinograms (P_i, Nb); ``fgrad``: list of ``L`` (d, P_i) arrays;
    ``h``: list of ``L`` lists of ``K`` spectra (Nb,); ``out_shape``: list of ``K`` image
    shapes; ``init``: list of ``K`` images. Minimises
    ``0.5 * sum_i ||sum_j A_{h[i][j]} u_j - proj[i]||^2 + lbda_unrm * sum_j TV(u_j)``.
    Returns the list of the ``K`` images in the dtype of ``proj[0]``. ``check_every`` as in
    :func:`tv_monosrc`.
    """
    return _epri.tv_multi(proj, B, fgrad, delta, h, lbda, out_shape, resolve(backend), init,
                          tol, nitermax, eval_energy, disable_toeplitz_kernel, verbose,
                          Ndisplay, eps, lipschitz_const, _check_every(check_every))


def tv_spectral(proj, B, fgrad, delta, lbda, out_shape, backend=None, lbda_spectral=0.0,
                init=None, positivity=False, mask=None, absorption_mode=False, tol=1e-05,
                nitermax=1000000, eval_energy=False, verbose=False, Ndisplay=20, eps=1e-06,
                disable_toeplitz_kernel=False, lipschitz_const='auto', check_every=1):
    """TV-regularised reconstruction of a spectral-spatial image (epri only: PyEPRI 1.1.1 has
    no such function).

    Minimises ``0.5 * ||A u - proj||^2 + lbda_unrm * TV_xyz(u) + lbda_spectral_unrm * TV_B(u)``
    (+ ``u >= 0`` with ``positivity``, + ``u = 0`` where ``mask <= 0``) over 4D images ``u``
    (Nb, Ny, Nx, Nz), ``A`` the operator of :func:`epri.spectralspatial.proj4d`:
    ``TV_xyz`` the isotropic spatial TV of every spectral slice, ``TV_B`` the total variation
    of each voxel's spectrum (``lbda_spectral = 0`` leaves the spectra free). Both weights are
    dimensionless, ``x_unrm = (max u_bp - min u_bp) * P / (4 pi) * Nb / (B[-1] - B[0]) *
    delta^2 * x`` with ``u_bp`` the scaled backprojection of ``proj``.

    ``proj`` (P, Nb); ``fgrad`` (3, P) in G/cm; ``out_shape`` (Nb, Ny, Nx, Nz) with
    ``Nb = len(B)``; ``init`` of shape ``out_shape`` (default: the scaled backprojection);
    ``mask`` spatial (Ny, Nx, Nz) or of shape ``out_shape``; ``absorption_mode``: the voxels
    hold absorption profiles; other arguments (``check_every`` too) as :func:`tv_monosrc`.
    Returns the image
    (``out_shape``, axes (B, Y, X, Z)) in the dtype of ``proj``.
    """
    return _epri.tv_spec(proj, B, fgrad, delta, lbda, lbda_spectral, out_shape,
                         resolve(backend), init, positivity, mask, absorption_mode, tol,
                         nitermax, eval_energy, verbose, Ndisplay, eps, disable_toeplitz_kernel,
                         lipschitz_const, _check_every(check_every))


def _check_every(check_every):
    try:
        k = None if isinstance(check_every, bool) else operator.index(check_every)
    except TypeError:
        k = None
    if k is None or k < 1:
        raise ValueError(f"check_every = {check_every!r}: expected an integer >= 1 (evaluate "
                         "the stopping rule every that many iterations)")
    return k


def _check_interp1(interp1):
    if not (isinstance(interp1, str) and interp1 == "linear"):
        raise ValueError(
            f"interp1 = {interp1!r}: epri's filtered backprojection interpolates linearly, with "
            "zero outside the sampled range (PyEPRI's usual interp1, "
            "lambda xp, fp, x: numpy.interp(x, xp.ravel(), fp.ravel(), left=0., right=0.)): pass 'linear'"
        )


def _fbp(name, proj, fgrad, h, B, grids, backend, frequency_cutoff, verbose):
    start = time.perf_counter()
    out = _epri.eprfbp(proj, fgrad, h, B, grids, resolve(backend), frequency_cutoff)
    if verbose:
        print(f"{name}: {out.shape} image from {len(proj)} projections in "
              f"{time.perf_counter() - start:.3f} s")
    return out


def eprfbp2d(proj, fgrad, h, B, xgrid, ygrid, interp1, backend=None, frequency_cutoff=1.0,
             verbose=False, video=False, displayer=None, Ndisplay=1, shuffle=False,
             notest=False):
    """Filtered backprojection of a 2D acquisition.

    ``proj`` (P, Nb); ``fgrad`` (2, P) in G/cm (zero gradients skipped); ``h`` (Nb,) the
    reference spectrum and ``B`` (Nb,) its field grid in G; ``xgrid``, ``ygrid`` the sample
    positions (cm) of the image's X and Y axes; ``interp1`` must be the string ``"linear"``:
    linear interpolation with zero outside the sampled range, what PyEPRI's examples pass as
    ``lambda xp, fp, x: numpy.interp(x, xp.ravel(), fp.ravel(), left=0., right=0.)`` (Python callables are not
    supported). ``frequency_cutoff`` in (0, 1]: fraction of the Fourier coefficients kept.
    Returns the image (len(ygrid), len(xgrid)) in the dtype of ``proj``.
    """
    _check_interp1(interp1)
    return _fbp("eprfbp2d", proj, fgrad, h, B, [ygrid, xgrid], backend, frequency_cutoff,
                verbose)


def eprfbp3d(proj, fgrad, h, B, xgrid, ygrid, zgrid, interp1, backend=None,
             frequency_cutoff=1.0, verbose=False, video=False, displayer=None, Ndisplay=1,
             shuffle=False, notest=False):
    """Filtered backprojection of a 3D acquisition: as :func:`eprfbp2d` with ``fgrad`` (3, P)
    and ``zgrid``; returns the volume (len(ygrid), len(xgrid), len(zgrid))."""
    _check_interp1(interp1)
    return _fbp("eprfbp3d", proj, fgrad, h, B, [ygrid, xgrid, zgrid], backend,
                frequency_cutoff, verbose)
