"""Bad inputs raise Python exceptions that name what is wrong; no crash, inputs untouched."""

import numpy as np
import pytest

import epri
from conftest import DATASETS, Acquisition


@pytest.fixture
def acq():
    return Acquisition(0, 2, np.float32)


def proj2d(a, u=None, **kw):
    args = dict(u=a.u if u is None else u, delta=a.delta, B=a.B, h=a.h, fgrad=a.fgrad)
    args.update(kw)
    return epri.monosrc.proj2d(**args)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.complex64, np.complex128, np.bool_,
                                   np.float16])
def test_wrong_dtype(acq, dtype):
    with pytest.raises(TypeError, match=r"u has dtype .*expected float32 or float64"):
        proj2d(acq, u=acq.u.astype(dtype))


def test_not_an_array(acq):
    with pytest.raises(TypeError, match="u must be a numpy array"):
        proj2d(acq, u=acq.u.tolist())


@pytest.mark.parametrize("bad", [lambda u: u[None], lambda u: u[0], lambda u: np.float32(1.0)])
def test_wrong_ndim(acq, bad):
    with pytest.raises((ValueError, TypeError), match="u "):
        proj2d(acq, u=bad(acq.u))


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite(acq, value):
    u = acq.u.copy()
    u[1, 2] = value
    with pytest.raises(ValueError, match="u holds non-finite values"):
        proj2d(acq, u=u)
    h = acq.h.copy()
    h[3] = value
    with pytest.raises(ValueError, match="h holds non-finite"):
        proj2d(acq, h=h)


def test_layouts_and_views_give_the_same_result(acq):
    """Fortran order, non-contiguous and negative-stride views are read as their values."""
    ref = proj2d(acq)
    wide = np.zeros((acq.u.shape[0], 2 * acq.u.shape[1]), np.float32)
    wide[:, ::2] = acq.u
    for u in (np.asfortranarray(acq.u), wide[:, ::2], acq.u[::-1, ::-1][::-1, ::-1]):
        np.testing.assert_array_equal(proj2d(acq, u=u), ref)
    np.testing.assert_array_equal(proj2d(acq, fgrad=np.asfortranarray(acq.fgrad)), ref)


def test_inputs_are_not_modified(acq):
    copies = [x.copy() for x in (acq.u, acq.B, acq.h, acq.fgrad)]
    proj2d(acq)
    for x, c in zip((acq.u, acq.B, acq.h, acq.fgrad), copies):
        np.testing.assert_array_equal(x, c)


def test_mixed_precisions_follow_the_image(acq):
    out = proj2d(acq, u=acq.u.astype(np.float64))
    assert out.dtype == np.float64
    assert proj2d(acq, h=acq.h.astype(np.float64)).dtype == np.float32


def test_shape_errors(acq):
    with pytest.raises(ValueError, match="spectrum h has"):
        proj2d(acq, h=acq.h[:-1])
    with pytest.raises(ValueError, match="fgrad has shape .* needs 2 rows"):
        proj2d(acq, fgrad=np.vstack([acq.fgrad, acq.fgrad[:1]]))
    with pytest.raises(ValueError, match="sinogram"):
        epri.monosrc.backproj2d(np.zeros((3, 5), np.float32), acq.delta, acq.B, acq.h,
                                acq.fgrad, acq.shape)
    with pytest.raises(ValueError, match="out_shape"):
        epri.monosrc.backproj2d(np.zeros((acq.fgrad.shape[1], len(acq.B)), np.float32),
                                acq.delta, acq.B, acq.h, acq.fgrad, (1, 4))
    with pytest.raises(ValueError, match="kernel's shape"):
        epri.monosrc.compute_2d_toeplitz_kernel(acq.B, acq.h, acq.h, acq.delta, acq.fgrad,
                                                (7, 8))
    with pytest.raises(ValueError, match="Toeplitz kernel spectrum of shape"):
        epri.monosrc.apply_2d_toeplitz_kernel(acq.u, np.zeros((4, 4), np.complex64))
    with pytest.raises(TypeError, match="complex64"):
        epri.monosrc.apply_2d_toeplitz_kernel(acq.u, np.zeros((4, 4), np.complex128))


def test_value_errors(acq):
    with pytest.raises(ValueError, match="delta"):
        proj2d(acq, delta=-1.0)
    with pytest.raises(ValueError, match="uniformly spaced"):
        b = acq.B.copy()
        b[5] += 0.3 * (b[1] - b[0])
        proj2d(acq, B=b)
    p = proj2d(acq)
    with pytest.raises(ValueError, match="lambda"):
        epri.processing.tv_monosrc(p, acq.B, acq.fgrad, acq.delta, acq.h, -1.0, acq.shape)
    with pytest.raises(ValueError, match="lipschitz_const"):
        epri.processing.tv_monosrc(p, acq.B, acq.fgrad, acq.delta, acq.h, 1.0, acq.shape,
                                   lipschitz_const="tight")
    with pytest.raises(ValueError, match="mask"):
        epri.processing.tv_monosrc(p, acq.B, acq.fgrad, acq.delta, acq.h, 1.0, acq.shape,
                                   mask=np.ones((3, 3), np.float32))
    with pytest.raises(ValueError, match="interp1"):
        epri.processing.eprfbp2d(p, acq.fgrad, acq.h, acq.B, np.arange(4.0), np.arange(4.0),
                                 lambda xp, fp, x: np.interp(x, xp, fp))
    with pytest.raises(ValueError, match="cutoff"):
        epri.processing.eprfbp2d(p, acq.fgrad, acq.h, acq.B, np.arange(4.0), np.arange(4.0),
                                 "linear", frequency_cutoff=0.0)


def test_multisrc_errors(acq):
    with pytest.raises(TypeError, match="list or tuple"):
        epri.multisrc.proj2d(acq.u, acq.delta, acq.B, [[acq.h]], [acq.fgrad])
    with pytest.raises(ValueError, match="spectra for 2 sources"):
        epri.multisrc.proj2d([acq.u, acq.u], acq.delta, acq.B, [[acq.h]], [acq.fgrad])


def test_backends():
    assert epri.backends.create_numpy_backend().name == "cpu"
    with pytest.raises(ValueError, match="unknown backend"):
        epri.backends.create_backend("tpu")
    import pyepri.backends
    with pytest.raises(TypeError, match="epri Backend"):
        epri.monosrc.proj2d(np.zeros((4, 4), np.float32), 0.1, np.arange(8.0), np.ones(8),
                            np.ones((2, 3)), backend=pyepri.backends.create_numpy_backend())


def test_projector_dtype_and_shape(acq):
    op = epri.Projector(acq.B, acq.delta, acq.fgrad, acq.h, acq.shape)
    with pytest.raises(TypeError, match="planned in float32"):
        op.proj(acq.u.astype(np.float64))
    with pytest.raises(ValueError, match="planned for"):
        op.proj(acq.u[:-1])
    with pytest.raises(ValueError, match="u holds non-finite"):
        op.toeplitz(np.full(acq.shape, np.nan, np.float32))


def test_load_errors(tmp_path):
    with pytest.raises(OSError, match="no such file"):
        epri.io.load(tmp_path / "missing.DSC")
    dsc = tmp_path / "bad.DSC"
    dsc.write_text("#DESC 1.2\nXPTS 10\n")
    (tmp_path / "bad.DTA").write_bytes(b"\0" * 7)
    with pytest.raises((ValueError, OSError)):
        epri.io.load(dsc)
    with pytest.raises(ValueError, match="dtype"):
        epri.io.load(DATASETS / "phalanx-20220203" / "bes3t" / "phalanx-20220203-proj.DSC",
                     dtype="int32")
