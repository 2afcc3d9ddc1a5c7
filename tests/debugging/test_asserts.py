"""gf.debugging.assert_equal / assert_near: None when the condition holds, else InvalidArgumentError with the
message, the shapes and the first differing values, against NumPy references written from TF's definitions;
on every device, eagerly and on every call of a gf.function."""
import re

import ml_dtypes
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.errors import InvalidArgumentError
from tests.harness import rand

HOST_AND_DEVICE = ["cpu", "sim", pytest.param("cuda", marks=pytest.mark.gpu)]
SHAPES = [((), ()), ((5,), (5,)), ((3, 4), (4,)), ((2, 1, 3), (4, 3)), ((0, 3), (3,))]


def _np_dtype(name):
    return ml_dtypes.bfloat16 if name == "bfloat16" else np.dtype(name)


def _reported(text, label):
    """The array printed on the line after `label` in an assert's message, as a flat list of numbers."""
    block = text.split(label + "\n", 1)[1]
    numbers = re.match(r"(\[[^A-Z]*\])", block).group(1)
    return [float(v) for v in re.findall(r"-?[\d.]+(?:e[-+]\d+)?|nan|inf", numbers)]


def _near_reference(x, y, rtol, atol):
    """TF's documented condition |x - y| <= atol + rtol * |y|, in x's dtype; NaN is never near."""
    with np.errstate(invalid="ignore"):
        return np.abs(x - y) <= np.asarray(atol, x.dtype) + np.asarray(rtol, x.dtype) * np.abs(y)


# ---- assert_equal -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dev", HOST_AND_DEVICE)
@pytest.mark.parametrize("dtype", ["float32", "int32", "bool", "bfloat16"])
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_assert_equal_passes_and_fails_like_numpy(dev, dtype, shapes):
    sx, sy = shapes
    # x and y repeat one random row, so they are equal once broadcast against each other.
    row = rand(sy[-1:], low=-9, high=9, seed=1)
    row = row > 0 if dtype == "bool" else row.astype(_np_dtype(dtype))
    x, y = np.broadcast_to(row, sx).copy(), np.broadcast_to(row, sy).copy()
    with gf.device(dev):
        assert gf.debugging.assert_equal(gf.constant(x), gf.constant(y)) is None
        if not x.size:
            return
        changed = x.reshape(-1).copy()
        changed[-1] = ~changed[-1] if dtype == "bool" else changed[-1] + 1
        changed = changed.reshape(sx)
        with pytest.raises(InvalidArgumentError) as info:
            gf.debugging.assert_equal(gf.constant(changed), gf.constant(y), message="values differ")
    text = str(info.value)
    common = np.broadcast_shapes(sx, sy)
    bad = np.broadcast_to(changed, common) != np.broadcast_to(y, common)
    assert text.startswith("values differ\nassert_equal: Condition x == y did not hold")
    assert f"x: shape={sx} dtype={x.dtype}, y: shape={sy} dtype={y.dtype})" in text
    if bad.ndim:
        assert f"at {bad.sum()} of {bad.size} elements" in text
        assert _reported(text, f"Indices of first {min(3, bad.sum())} different values:") == \
            np.argwhere(bad)[:3].reshape(-1).tolist()
        if dtype != "bool":  # bools print as words
            wide = np.broadcast_to(changed, common)[bad][:3].astype(np.float64)
            assert _reported(text, "Corresponding x values:") == pytest.approx(wide.tolist(), rel=1e-5)  # 6 digits


@pytest.mark.parametrize("summarize,shown", [(None, 3), (1, 1), (-1, 6), (0, 0)])
def test_assert_equal_summarize(summarize, shown):
    x = rand((2, 3), seed=4)
    with pytest.raises(InvalidArgumentError) as info:
        gf.debugging.assert_equal(x + 1, x, summarize=summarize)
    text = str(info.value)
    assert "at 6 of 6 elements" in text
    if shown:
        assert _reported(text, "Corresponding x values:") == pytest.approx((x + 1).reshape(-1)[:shown].tolist())
        assert f"First {shown} elements of y:" in text
    else:
        assert "Corresponding" not in text and "First" not in text


def test_assert_equal_takes_python_values_and_nan_never_equals():
    assert gf.debugging.assert_equal(gf.constant([1, 2]), [1, 2]) is None
    assert gf.debugging.assert_equal(3.0, 3.0) is None
    with pytest.raises(InvalidArgumentError, match=r"at 1 of 2 elements"):
        gf.debugging.assert_equal(gf.constant([np.nan, 1.0]), gf.constant([np.nan, 1.0]))


def test_assert_equal_bad_inputs_name_the_op():
    with pytest.raises(InvalidArgumentError, match=r"assert_equal: inputs have different dtypes \(int32\[2\], "
                                                   r"float32\[2\]\).*gf.cast"):
        gf.debugging.assert_equal(gf.constant([1, 2]), gf.constant([1.0, 2.0]))
    with pytest.raises(InvalidArgumentError, match=r"assert_equal: shapes \(2, 3\) and \(2,\) cannot be broadcast"):
        gf.debugging.assert_equal(gf.zeros((2, 3)), gf.zeros((2,)))


# ---- assert_near --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dev", HOST_AND_DEVICE)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_assert_near_default_tolerance_is_ten_eps(dev, dtype, shapes):
    sx, sy = shapes
    eps = float(ml_dtypes.finfo(_np_dtype(dtype)).eps)
    y = rand(sy, low=0.5, high=2, seed=2).astype(_np_dtype(dtype))
    x = np.broadcast_to(y, np.broadcast_shapes(sx, sy)).astype(np.float64)
    within = (x + 2 * eps * np.abs(x)).astype(y.dtype)  # a few ulps away: near at 10 eps
    beyond = (x * (1 + 100 * eps)).astype(y.dtype)       # farther than 10 eps * (1 + |y|)
    with gf.device(dev):
        assert gf.debugging.assert_near(gf.constant(within), gf.constant(y)) is None
        if not x.size:
            return
        assert not _near_reference(beyond, np.broadcast_to(y, beyond.shape), 10 * eps, 10 * eps).any()
        with pytest.raises(InvalidArgumentError) as info:
            gf.debugging.assert_near(gf.constant(beyond), gf.constant(y))
    text = str(info.value)
    assert text.startswith(f"assert_near: x and y not equal to tolerance rtol = {10 * eps:.7g}, atol = {10 * eps:.7g}")
    assert f"x: shape={tuple(beyond.shape)} dtype={y.dtype}, y: shape={sy} dtype={y.dtype})" in text


@pytest.mark.parametrize("dev", HOST_AND_DEVICE)
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4)])
def test_assert_near_reports_the_elements_numpy_finds(dev, shape):
    y = rand(shape, seed=5)
    noise = rand(shape, low=-1e-2, high=1e-2, seed=6)
    x = (y + noise).astype(np.float32)
    rtol, atol = 1e-3, 5e-3
    bad = ~_near_reference(x, y, rtol, atol)
    assert bad.any() and not bad.all()
    with gf.device(dev):
        with pytest.raises(InvalidArgumentError) as info:
            gf.debugging.assert_near(gf.constant(x), gf.constant(y), rtol=rtol, atol=atol, message="close?")
        assert gf.debugging.assert_near(gf.constant(x), gf.constant(y), rtol=rtol, atol=1e-1) is None
    text = str(info.value)
    assert text.startswith("close?\nassert_near: x and y not equal to tolerance rtol = 0.001, atol = 0.005 at "
                           f"{bad.sum()} of {bad.size} elements")
    n = min(3, bad.sum())
    assert _reported(text, f"Indices of first {n} different values:") == np.argwhere(bad)[:3].reshape(-1).tolist()
    assert _reported(text, "Corresponding x values:") == pytest.approx(x[bad][:3].tolist(), rel=1e-6)
    assert _reported(text, "Corresponding y values:") == pytest.approx(y[bad][:3].tolist(), rel=1e-6)


def test_assert_near_edges():
    x = gf.constant([1.0, 2.0])
    assert gf.debugging.assert_near(x, x, rtol=0.0, atol=0.0) is None  # <=, as TF documents
    assert gf.debugging.assert_near(x, [1.0, 2.5], atol=gf.constant(0.5)) is None
    with pytest.raises(InvalidArgumentError, match="at 1 of 2 elements"):
        gf.debugging.assert_near(gf.constant([np.nan, 1.0]), gf.constant([np.nan, 1.0]))
    with pytest.raises(InvalidArgumentError, match="at 1 of 2 elements"):
        gf.debugging.assert_near(gf.constant([np.inf, 1.0]), gf.constant([1.0, 1.0]))


def test_assert_near_needs_floats_of_one_dtype():
    with pytest.raises(InvalidArgumentError, match=r"assert_near: needs floating-point x and y, got int32\[2\] and "
                                                   r"int32\[2\]; cast them with gf.cast"):
        gf.debugging.assert_near(gf.constant([1, 2]), gf.constant([1, 2]))
    with pytest.raises(InvalidArgumentError, match="assert_near: inputs have different dtypes"):
        gf.debugging.assert_near(gf.constant([1.0]), gf.constant([1.0], dtype=gf.float64))


# ---- inside gf.function ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("dev", HOST_AND_DEVICE)
def test_inside_a_function_every_call_checks(dev):
    with gf.device(dev):
        @gf.function
        def scaled(x, y):
            assert gf.debugging.assert_equal(gf.shape(x), gf.shape(y)) is None
            assert gf.debugging.assert_near(x, y, atol=0.1, message="drifted") is None
            return x * 2.0

        y = rand((3, 2), seed=7)
        for delta, fails in ((0.05, False), (0.5, True), (0.0, False), (-0.3, True), (0.01, False)):
            x = gf.constant(y + np.float32(delta) * (np.arange(6).reshape(3, 2) == 4))
            if fails:
                with pytest.raises(InvalidArgumentError, match=r"^drifted\nassert_near: .* at 1 of 6 elements"):
                    scaled(x, gf.constant(y)).numpy()
            else:
                np.testing.assert_allclose(scaled(x, gf.constant(y)).numpy(), 2 * x.numpy())
