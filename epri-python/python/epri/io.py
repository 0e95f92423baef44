"""Reading Bruker BES3T datasets."""

import numpy as np

from . import _epri


def load(path, backend=None, dtype="float32"):
    """Load a Bruker BES3T dataset (PyEPRI's ``io.load`` for ``.DSC``/``.DTA`` files).

    Parameters
    ----------
    path : str or path-like
        The ``.DSC`` or the ``.DTA`` file (the other one must be in the same folder, its
        extension in any letter case).
    backend : ignored
        Accepted for compatibility: the arrays returned are numpy arrays.
    dtype : str or numpy dtype
        ``float32`` (default) or ``float64``.

    Returns
    -------
    dict
        ``'B'``: field grid (Nb,) in G; ``'DAT'``: the projections (P, Nb) or a spectrum
        (Nb,); ``'FGRAD'`` (projections only): field gradients (d, P) in G/cm, rows
        (X, Y[, Z]); ``'PARAM'``: the descriptor's key/value pairs as strings (device
        blocks as ``'device.key'``).

    Raises ``OSError`` for a missing or unreadable file, ``ValueError`` for a malformed one.
    PyEPRI's ``.PKL`` datasets are not read.
    """
    del backend
    return _epri.load_bes3t(str(path), np.dtype(dtype).name)
