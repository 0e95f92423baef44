"""epri: EPR imaging on CPU, OpenCL and CUDA, with PyEPRI's function names.

Switch a PyEPRI script by changing its imports: ``import epri.monosrc as monosrc``,
``import epri.processing as processing``, ``import epri.backends as backends``... Arrays are
numpy arrays (float32 or float64, C or Fortran order); results have the precision of the main
input. Conventions (PyEPRI's): images are stored (Y, X) or (Y, X, Z), pixel ``i`` of an axis of
length ``N`` centred at ``(i - N//2) * delta``; sinograms (P, Nb), one projection per row,
sampled on the field grid ``B`` (G); field gradients ``fgrad`` (d, P) in G/cm, one gradient per
column, rows (X, Y[, Z]); ``delta`` in cm.

Spectral-spatial (4D) images (``epri.spectralspatial``) are stored (Nb, Ny, Nx, Nz), axis 0 the
spectral axis sampled on ``B``.

``epri.Projector`` and ``epri.SpectralProjector`` plan an operator once for many calls.
"""

from . import backends, io, monosrc, multisrc, processing, spectralspatial
from .projector import Projector, SpectralProjector

__all__ = ["backends", "io", "monosrc", "multisrc", "processing", "spectralspatial",
           "Projector", "SpectralProjector"]
