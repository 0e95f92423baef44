"""Compute backends: the device every epri function runs on.

A backend is opened once by name and passed to the functions as ``backend=``; ``None`` means
the CPU. Names: ``"cpu"``, ``"opencl"`` (first OpenCL device), ``"opencl:P:D"`` (platform P,
device D), ``"cuda"`` (device 0), ``"cuda:I"``. OpenCL and CUDA need an extension built with
the ``opencl`` / ``cuda`` features (``MATURIN_PEP517_ARGS="--features opencl,cuda" pip install
./epri-python``); asking for one this build lacks raises a
``RuntimeError`` that names the feature. ``float64`` needs a device with double precision.
"""

from . import _epri

Backend = _epri.Backend

_cpu = None


def create_backend(name="cpu"):
    """Open the backend ``name`` (see the module docstring) and return it.

    Raises ``ValueError`` for an unknown name, ``RuntimeError`` when the device is missing or
    the backend was not compiled into this build.
    """
    return Backend(name)


def create_numpy_backend():
    """The CPU backend (PyEPRI's numpy backend): epri's multi-threaded CPU code."""
    global _cpu
    if _cpu is None:
        _cpu = Backend("cpu")
    return _cpu


def resolve(backend):
    """The backend to use for ``backend=``: ``None`` (the CPU), a name, or a ``Backend``."""
    if backend is None:
        return create_numpy_backend()
    if isinstance(backend, str):
        return create_backend(backend)
    if isinstance(backend, Backend):
        return backend
    raise TypeError(
        f"backend must be None, a backend name or an epri Backend "
        f"(epri.backends.create_backend), got {type(backend).__name__}"
    )
