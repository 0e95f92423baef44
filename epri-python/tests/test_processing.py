"""The reconstructions on the embedded datasets against PyEPRI 1.1.1 computed in the same run
(few iterations, with the same Lipschitz constant so that both run the same iterations), and
the solver's interruption and progress output."""

import signal
import threading
import _thread
import time

import numpy as np
import pytest
import pyepri.processing as pproc

import epri
from conftest import DATASETS, Acquisition, linear_interp1, rel


def dataset(name, *files):
    return [np.load(DATASETS / name / f"{f}.npy") for f in files]


@pytest.fixture(scope="module")
def phalanx():
    """PyEPRI's phalanx example: float32 projections (113, 2000), delta 0.008 cm, 400 x 200."""
    proj, B, fgrad, h = dataset("phalanx-20220203", "proj", "B", "fgrad", "h")
    return proj, B, fgrad, h, 0.008, (400, 200)


def test_tv_monosrc_phalanx(phalanx, pyepri_cpu):
    proj, B, fgrad, h, delta, shape = phalanx
    kw = dict(nitermax=30, tol=0.0, lipschitz_const="upper-bound")
    want = pproc.tv_monosrc(proj, B, fgrad, delta, h, 1.0, shape, backend=pyepri_cpu, **kw)
    got = epri.processing.tv_monosrc(proj, B, fgrad, delta, h, 1.0, shape, **kw)
    assert got.dtype == np.float32 and got.shape == shape
    assert rel(got, want) < 1e-4


@pytest.mark.parametrize("dim", [2, 3])
def test_tv_monosrc_options_f64(dim, pyepri_cpu):
    """float64, positivity, a support mask, an initial image."""
    a = Acquisition(7, dim, np.float64)
    p = epri.monosrc.proj2d if dim == 2 else epri.monosrc.proj3d
    proj = p(a.u, a.delta, a.B, a.h, a.fgrad)
    mask = (a.rng.random(a.shape) > 0.2).astype(np.float64)
    init = a.rng.random(a.shape)
    kw = dict(nitermax=40, tol=0.0, positivity=True, mask=mask, init=init,
              lipschitz_const="upper-bound")
    want = pproc.tv_monosrc(proj, a.B, a.fgrad, a.delta, a.h, 0.5, a.shape, backend=pyepri_cpu,
                            **kw)
    got = epri.processing.tv_monosrc(proj, a.B, a.fgrad, a.delta, a.h, 0.5, a.shape, **kw)
    assert got.dtype == np.float64 and got.min() >= 0 and np.all(got[mask == 0] == 0)
    assert rel(got, want) < 1e-5


def test_tv_multisrc_tubes(pyepri_cpu):
    proj, B, fgrad, htam, htempo = dataset("tam-and-tempo-tubes-2d-20210609", "proj", "B",
                                            "fgrad", "htam", "htempo")
    args = ([proj], B, [fgrad], 0.03, [[htam, htempo]], 5.0, [(100, 100), (100, 100)])
    kw = dict(nitermax=30, tol=0.0, lipschitz_const="upper-bound")
    want = pproc.tv_multisrc(*args, backend=pyepri_cpu, **kw)
    got = epri.processing.tv_multisrc(*args, **kw)
    assert len(got) == 2
    for g, w in zip(got, want):
        assert g.dtype == np.float32 and rel(g, w) < 1e-4


def test_eprfbp2d_phalanx(phalanx, pyepri_cpu):
    proj, B, fgrad, h, delta, (ny, nx) = phalanx
    x = ((-(nx // 2) + np.arange(nx, dtype=np.float32)) * delta).astype(np.float32)
    y = ((-(ny // 2) + np.arange(ny, dtype=np.float32)) * delta).astype(np.float32)
    want = pproc.eprfbp2d(proj, fgrad, h, B, x, y, linear_interp1, backend=pyepri_cpu,
                          frequency_cutoff=0.1)
    got = epri.processing.eprfbp2d(proj, fgrad, h, B, x, y, "linear", frequency_cutoff=0.1)
    assert got.dtype == np.float32 and got.shape == (ny, nx)
    assert rel(got, want) < 1e-3


def test_eprfbp3d_fusillo(pyepri_cpu):
    proj, B, fgrad, h = dataset("fusillo-20091002", "proj", "B", "fgrad", "h")
    proj, fgrad = proj[::8], fgrad[:, ::8]
    delta = 0.05
    grids = [((-(n // 2) + np.arange(n)) * delta).astype(np.float32) for n in (40, 20, 20)]
    y, x, z = grids
    want = pproc.eprfbp3d(proj, fgrad, h, B, x, y, z, linear_interp1, backend=pyepri_cpu,
                          frequency_cutoff=0.1)
    got = epri.processing.eprfbp3d(proj, fgrad, h, B, x, y, z, "linear", frequency_cutoff=0.1)
    assert got.shape == (40, 20, 20) and rel(got, want) < 1e-3


def test_load_bes3t_matches_pyepri():
    import pyepri.io as pio
    path = DATASETS / "phalanx-20220203" / "bes3t" / "phalanx-20220203-proj.DSC"
    want = pio.load(str(path), dtype="float32")
    got = epri.io.load(path)
    for key in ("B", "DAT", "FGRAD"):
        assert got[key].dtype == np.float32
        np.testing.assert_allclose(got[key], np.asarray(want[key]), rtol=1e-6, atol=1e-6)
    assert epri.io.load(path, dtype="float64")["DAT"].dtype == np.float64


def test_tv_is_interrupted_by_ctrl_c(phalanx):
    """A KeyboardInterrupt during a long TV run stops it promptly."""
    proj, B, fgrad, h, delta, shape = phalanx
    # Python's own Ctrl-C handler, which a process started in the background of a
    # non-interactive shell does not get (SIGINT ignored: `interrupt_main` would do nothing).
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(1.0, _thread.interrupt_main)
    start = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            epri.processing.tv_monosrc(proj, B, fgrad, delta, h, 1.0, shape, nitermax=10**7,
                                       tol=0.0)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, handler)
    assert time.perf_counter() - start < 10.0


def test_verbose_prints_progress(capsys):
    a = Acquisition(3, 2, np.float32)
    proj = epri.monosrc.proj2d(a.u, a.delta, a.B, a.h, a.fgrad)
    epri.processing.tv_monosrc(proj, a.B, a.fgrad, a.delta, a.h, 1.0, a.shape, nitermax=10,
                               tol=0.0, verbose=True, Ndisplay=5, eval_energy=True)
    out = capsys.readouterr().out
    assert "iteration 5/10" in out and "iteration 10/10" in out and "energy" in out


def test_check_every_stops_at_the_next_checked_iteration(capsys):
    """epri's ``check_every = K`` evaluates the stopping rule on every K-th iteration: the run
    stops at the first multiple of K at or after the iteration where K = 1 stops."""
    a = Acquisition(3, 2, np.float32)
    proj = epri.monosrc.proj2d(a.u, a.delta, a.B, a.h, a.fgrad)

    def iterations(**kw):
        epri.processing.tv_monosrc(proj, a.B, a.fgrad, a.delta, a.h, 1.0, a.shape,
                                   nitermax=500, tol=1e-3, verbose=True, Ndisplay=1, **kw)
        return capsys.readouterr().out.count("iteration ")

    n1 = iterations()
    assert 1 < n1 < 500
    k = next(k for k in (7, 6, 5, 4) if n1 % k)
    nk = iterations(check_every=k)
    assert nk % k == 0 and n1 < nk < n1 + k
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="check_every"):
            iterations(check_every=bad)
