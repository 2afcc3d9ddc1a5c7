"""cumsum, cumprod and cumulative_logsumexp: forward vs float64 NumPy on every device (short rows,
one tile, several tiles, enough tiles for the totals to be scanned by tiles again, strided axes,
empty), exclusive and reverse, float64 gradients on cpu, sim/cuda parity, and the errors."""
from __future__ import annotations

import numpy as np
import pytest

import gpuflow as gf
from tests.harness import check_grad, check_op, check_parity, rand

OPS = {"cumsum": (gf.math.cumsum, np.add, 0.0), "cumprod": (gf.math.cumprod, np.multiply, 1.0),
       "cumulative_logsumexp": (gf.math.cumulative_logsumexp, np.logaddexp, -np.inf)}
# (shape, axis): a thread per column, one tile, several tiles, a strided axis, empty axes
SHAPES = [((5,), 0), ((3, 40), 1), ((2, 1000), -1), ((2, 2500), 1), ((3, 70, 4), 1), ((4, 3), 0), ((0, 7), 1),
          ((3, 0), 1), ((1, 1), 0)]


def ref(name, x, axis, exclusive=False, reverse=False):
    ufunc, identity = OPS[name][1:]
    x = np.moveaxis(x.astype(np.float64) if x.dtype.kind == "f" else x, axis, -1)
    if reverse:
        x = x[..., ::-1]
    if exclusive and x.shape[-1]:
        x = np.concatenate([np.full(x.shape[:-1] + (1,), identity, x.dtype), x[..., :-1]], -1)
    with np.errstate(invalid="ignore"):  # inf - inf inside logaddexp: NaN, as expected
        out = ufunc.accumulate(x, axis=-1, dtype=x.dtype) if x.size else x
    return np.moveaxis(out[..., ::-1] if reverse else out, -1, axis)


def values(name, shape, dtype="float32", seed=0):
    if name == "cumprod":  # near 1, so long products neither vanish nor overflow
        return rand(shape, dtype, 0.9, 1.1, seed) if dtype != "int32" else rand(shape, dtype, -1, 1, seed)
    return rand(shape, dtype, seed=seed)


@pytest.mark.parametrize("name", list(OPS))
@pytest.mark.parametrize("shape,axis", SHAPES, ids=str)
def test_scan_forward(device, name, shape, axis):
    x = values(name, shape, seed=len(shape))
    for exclusive in (False, True):
        for reverse in (False, True):
            check_op(lambda t: OPS[name][0](t, axis=axis, exclusive=exclusive, reverse=reverse), [x],
                     lambda a: ref(name, a, axis, exclusive, reverse), device, rtol=1e-4, atol=1e-4)


def test_cumsum_long_row_scans_its_tile_totals_by_tiles(device):
    """66 tiles of 1024: the totals row is itself long enough for the tile kernels."""
    x = rand((1, 66 * 1024 + 5), low=-1, high=1, seed=1)
    check_op(lambda t: gf.cumsum(t, axis=1, reverse=True), [x], lambda a: ref("cumsum", a, 1, reverse=True), device,
             rtol=1e-4, atol=2e-3)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64", "int32", "int64"])
def test_scan_dtypes(device, dtype):
    for name in ("cumsum", "cumprod"):
        x = values(name, (3, 300), dtype, seed=2)
        check_op(lambda t: OPS[name][0](t, axis=1, exclusive=True), [x], lambda a: ref(name, a, 1, True).astype(a.dtype)
                 if a.dtype.kind != "f" else ref(name, a, 1, True), device, rtol=3e-2, atol=3e-2)
    if dtype[0] in "fb":
        check_op(lambda t: gf.math.cumulative_logsumexp(t, axis=1), [rand((3, 300), dtype, seed=3)],
                 lambda a: ref("cumulative_logsumexp", a, 1), device)


def test_integer_cumsum_wraps_around(device):
    x = np.array([2**31 - 1, 1, 1], np.int32)
    check_op(gf.cumsum, [x], lambda a: np.cumsum(a, dtype=np.int32), device)


def test_logsumexp_infinities_and_nan(device):
    x = np.array([[-np.inf, -np.inf, 1.0, np.inf, 2.0], [0.0, np.nan, 1.0, -np.inf, 3.0]], np.float32)
    check_op(lambda t: gf.math.cumulative_logsumexp(t, axis=1), [x], lambda a: ref("cumulative_logsumexp", a, 1),
             device)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_scan_parity(device, dtype):
    for name in OPS:
        check_parity(lambda t: OPS[name][0](t, axis=0, reverse=True), [values(name, (90, 3), dtype, seed=4)], device)
        check_parity(lambda t: OPS[name][0](t, axis=-1, exclusive=True), [values(name, (2, 1100), dtype, seed=5)],
                     device)


@pytest.mark.parametrize("name", list(OPS))
@pytest.mark.parametrize("exclusive,reverse", [(False, False), (True, False), (False, True), (True, True)])
def test_scan_grad(name, exclusive, reverse):
    x = values(name, (3, 5), seed=6)
    # An exclusive log-sum-exp starts at -inf, where finite differences are NaN: leave that position out.
    keep = slice(0, -1) if reverse else slice(1, None)
    trim = exclusive and name == "cumulative_logsumexp"
    check_grad(lambda t: OPS[name][0](t, axis=1, exclusive=exclusive, reverse=reverse)[:, keep if trim else slice(None)],
               [x])
    check_grad(lambda t: OPS[name][0](t, axis=0, exclusive=exclusive, reverse=reverse)[keep if trim else slice(None)],
               [x])


def test_logsumexp_second_derivative():
    x = gf.constant(rand((6,), "float64", seed=7))
    with gf.GradientTape() as outer:
        outer.watch(x)
        with gf.GradientTape() as inner:
            inner.watch(x)
            y = gf.reduce_sum(gf.math.cumulative_logsumexp(x, exclusive=True) * gf.constant(np.arange(6.0)))
        g = inner.gradient(y, x)
        gg = gf.reduce_sum(g * g)
    second = outer.gradient(gg, x).numpy()
    assert np.all(np.isfinite(second))

    def total(a):
        with gf.GradientTape() as t:
            t.watch(a)
            y = gf.reduce_sum(gf.math.cumulative_logsumexp(a, exclusive=True) * gf.constant(np.arange(6.0)))
        return float(gf.reduce_sum(t.gradient(y, a) ** 2))
    eps, base = 1e-6, x.numpy()
    numeric = [(total(gf.constant(base + eps * e)) - total(gf.constant(base - eps * e))) / (2 * eps)
               for e in np.eye(6)]
    np.testing.assert_allclose(second, numeric, rtol=1e-5, atol=1e-6)


def test_scan_errors():
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"cumsum: axis 0 is out of range for a tensor of rank 0"):
        gf.cumsum(gf.constant(1.0))
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"cumsum: axis 2 is out of range"):
        gf.math.cumsum(gf.constant(rand((2, 3))), axis=2)
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"cumulative_logsumexp: needs a floating-point input, "
                                                             r"got int32\[3\]"):
        gf.math.cumulative_logsumexp(gf.constant([1, 2, 3]))
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"cumprod: needs a numeric input, got bool\[1\]"):
        gf.math.cumprod(gf.constant([True]))
    assert gf.cumsum(gf.constant([[1, 2], [3, 4]]), axis=gf.constant(1)).numpy().tolist() == [[1, 3], [3, 7]]
