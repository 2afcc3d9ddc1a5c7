"""Reductions: sum, mean, max, min, prod, logsumexp, argmax, argmin.

Forward against float64 NumPy references on every device (every axis subset of a few shapes,
empty and size-1 axes, one full reduction and one row reduction long enough for several blocks
and the two-pass path), float64 finite-difference gradients on cpu, and sim/cuda parity against
cpu across dtypes."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import gpuflow as gf
from tests.harness import TOL, check_grad, check_op, check_parity, rand


@pytest.fixture(params=["sim", pytest.param("cuda", marks=pytest.mark.gpu)])
def other(request):
    """A device compared with cpu by check_parity."""
    return request.param


def _lowest(x):
    return -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min


def _highest(x):
    return np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).max


def np_logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


REFERENCES = {
    "reduce_sum": np.sum,
    "reduce_prod": np.prod,
    "reduce_max": lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims, initial=_lowest(x)),
    "reduce_min": lambda x, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims, initial=_highest(x)),
    "reduce_logsumexp": np_logsumexp,
}
NAMES = list(REFERENCES)


def _inputs(name, shape, dtype="float32", seed=0):
    # Products of many factors stay finite near 1; the others use the harness's [-2, 2).
    return rand(shape, dtype, *((0.9, 1.1) if name == "reduce_prod" else ()), seed=seed)


def _tol(name, x, axes):
    """float32 accumulation error grows like sqrt(count) (per-thread runs, then a tree)."""
    count = x.size // max(1, np.sum(np.zeros(x.shape), axis=axes).size)
    return 2e-5 * max(1.0, math.sqrt(count) / 4)


def _check_forward(device, name, shape, axes, keepdims=False):
    x = _inputs(name, shape)
    tol = _tol(name, x, axes)
    check_op(lambda t: getattr(gf, name)(t, axis=axes, keepdims=keepdims), [x],
             lambda a: REFERENCES[name](a, axis=axes, keepdims=keepdims), device, rtol=tol, atol=tol)


def _subsets(rank):
    return [s for k in range(rank + 1) for s in itertools.combinations(range(rank), k)]


CASES = ([((), None), ((), 0), ((0,), None), ((1,), None), ((7,), 0), ((7,), -1)]
         + [((0, 5), a) for a in (0, 1, None, (0, 1))]
         + [((3, 1, 5), s) for s in _subsets(3)]
         + [((4, 33, 9), s) for s in _subsets(3)]
         + [((70_000,), None),                # full reduction: two passes through the partials
            ((3, 50_000), 1),                 # long rows: split across blocks
            ((1000, 3), 0),                   # tall columns: split across threads
            ((2, 3000, 5), 1),                # middle axis with outer > 1, split
            ((5, 300, 7), (0, 2)),            # non-adjacent axes: transposed first
            ((6, 40), 1)])                    # short rows: a warp each


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape,axes", CASES, ids=[f"{s}-{a}" for s, a in CASES])
def test_forward(device, name, shape, axes):
    _check_forward(device, name, shape, axes)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape,axes", [((4, 33, 9), (1,)), ((4, 33, 9), (0, 2)), ((0, 5), (0,)), ((), None)])
def test_keepdims(device, name, shape, axes):
    _check_forward(device, name, shape, axes, keepdims=True)


def test_mean(device):
    x = rand((4, 33, 9))
    for axes in [None, 0, (1, 2), -1]:
        check_op(lambda t: gf.reduce_mean(t, axis=axes), [x], lambda a: np.mean(a, axis=axes), device)
    check_op(lambda t: gf.reduce_mean(t, axis=0), [rand((0, 3))], lambda a: np.full(3, np.nan), device)


def test_special_values(device):
    inf, nan = np.inf, np.nan
    x = np.array([[-inf, -inf, -inf], [1.0, -inf, 2.0], [inf, 0.0, 1.0], [nan, 0.0, 5.0], [3.0, inf, inf]], "float32")
    for name in NAMES:
        with np.errstate(invalid="ignore"):
            check_op(lambda t: getattr(gf, name)(t, axis=1), [x],
                     lambda a: REFERENCES[name](a, axis=1, keepdims=False), device)


@pytest.mark.parametrize("dtype", ["int32", "int64"])
@pytest.mark.parametrize("name", ["reduce_sum", "reduce_max", "reduce_min", "reduce_prod"])
@pytest.mark.parametrize("shape,axes", [((70_000,), None), ((4, 33, 9), (1,)), ((4, 33, 9), (0,)),
                                        ((4, 33, 9), (0, 2)), ((0, 5), 0)])
def test_integers(device, dtype, name, shape, axes):
    x = rand(shape, dtype, -3, 3, seed=4)
    check_op(lambda t: getattr(gf, name)(t, axis=axes), [x],
             lambda a: REFERENCES[name](a, axis=axes, keepdims=False).astype(dtype), device)


def test_int32_sum_wraps_like_numpy(device):
    x = np.full((70_000,), 2**30 + 12345, np.int32)
    check_op(lambda t: gf.reduce_sum(t), [x], lambda a: np.sum(a).astype(np.int32), device)
    check_op(lambda t: gf.reduce_prod(t, axis=1), [rand((5, 40), "int32", 2, 9)],
             lambda a: np.prod(a, axis=1).astype(np.int32), device)


# ---- parity on sim/cuda vs cpu ----------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape,axes", [((4, 33, 9), (1,)), ((4, 33, 9), (0,)), ((4, 33, 9), (0, 2)),
                                        ((3, 1, 5), None), ((3, 5000), 1)])
def test_parity_float32(other, name, shape, axes):
    x = _inputs(name, shape, seed=3)
    tol = _tol(name, x, axes)
    check_parity(lambda t: getattr(gf, name)(t, axis=axes), [x], other, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64", "int32", "int64"])
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape,axes", [((70_000,), None), ((4, 33, 9), (1,)), ((4, 33, 9), (0, 2))])
def test_parity_dtypes(other, dtype, name, shape, axes):
    if dtype.startswith("int") and name == "reduce_logsumexp":
        pytest.skip("logsumexp is defined for floating-point inputs only")
    x = _inputs(name, shape, dtype, seed=5)
    # Within one rounding of the dtype.
    rtol, atol = TOL.get(dtype, (None, None))
    check_parity(lambda t: getattr(gf, name)(t, axis=axes), [x], other, grad=False, rtol=rtol, atol=atol)


# ---- argmax / argmin -------------------------------------------------------------------
ARG_CASES = [((7,), 0), ((1,), 0), ((4, 33, 9), 0), ((4, 33, 9), 1), ((4, 33, 9), 2), ((3, 1, 5), 1),
             ((70_000,), 0), ((3, 50_000), 1), ((1000, 3), 0), ((0, 5), 1)]


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "float64", "int32", "int64"])
@pytest.mark.parametrize("shape,axis", ARG_CASES)
def test_argmax_argmin(device, dtype, shape, axis):
    x = rand(shape, dtype, -50, 50, seed=6)  # few distinct values in the int and half dtypes: many ties
    for name, ref in (("argmax", np.argmax), ("argmin", np.argmin)):
        check_op(lambda t: getattr(gf, name)(t, axis=axis), [x], lambda a: ref(x, axis=axis), device, dtype="int64")


def test_arg_ties_nan_and_output_type(device):
    x = np.array([[1, 3, 3, 0], [2, 2, 2, 2], [0, np.nan, 5, np.nan], [-np.inf] * 4], "float32")
    for name, ref in (("argmax", np.argmax), ("argmin", np.argmin)):
        for out in ("int32", "int64"):
            check_op(lambda t: getattr(gf, name)(t, axis=1, output_type=out), [x], lambda a: ref(x, axis=1),
                     device, dtype=out)
    # Ties along a column in a layout the column kernel handles: first index wins.
    col = np.array([[1, 4], [5, 4], [5, 0]], "int32")
    check_op(lambda t: gf.argmax(t, axis=0), [col], lambda a: np.argmax(col, axis=0), device)


# ---- gradients (cpu, float64 finite differences) ------------------------------------------
GRAD_AXES = [None, 0, 1, (0, 2), (1, 2), -1]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axes", GRAD_AXES)
@pytest.mark.parametrize("name", NAMES + ["reduce_mean"])
def test_grad(name, axes, keepdims):
    # Distinct values: max/min are differentiable away from ties.
    x = np.random.default_rng(8).permutation(np.linspace(-2, 2, 24)).reshape(2, 3, 4)
    if name == "reduce_prod":
        x = x + 0.1  # no exact zero here; zeros have their own test
    check_grad(lambda t: getattr(gf, name)(t, axis=axes, keepdims=keepdims), [x])


def test_prod_grad_with_zeros():
    # One zero in a row: only it gets a gradient (the product of the others); two zeros: none.
    x = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 4.0], [1.5, -2.0, 0.5]])
    check_grad(lambda t: gf.reduce_prod(t, axis=1), [x])
    check_grad(lambda t: gf.reduce_prod(t, axis=0), [x])
    with gf.GradientTape() as tape:
        t = gf.constant(x)
        tape.watch(t)
        y = gf.reduce_prod(t, axis=1)
    np.testing.assert_allclose(tape.gradient(y, t).numpy(), [[6, 0, 0], [0, 0, 0], [-1, 0.75, -3]])


def test_extreme_grad_shares_ties():
    with gf.GradientTape() as tape:
        t = gf.constant(np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]]))
        tape.watch(t)
        y = gf.reduce_max(t, axis=1)
    np.testing.assert_allclose(tape.gradient(y, t).numpy(), [[0, 0.5, 0.5], [1, 0, 0]])


@pytest.mark.parametrize("name", NAMES + ["reduce_mean"])
def test_grad_parity(other, name):
    x = _inputs(name, (4, 33, 9), seed=9)
    for axes in [(1,), (0, 2), None]:
        check_parity(lambda t: getattr(gf, name)(t, axis=axes, keepdims=True), [x], other, rtol=1e-4, atol=1e-4)


# ---- errors ----------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [gf.reduce_sum, gf.reduce_max, gf.reduce_logsumexp, gf.reduce_mean])
def test_axis_errors(device, fn):
    x = gf.constant(rand((2, 3)))
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"axis 2 is out of range.*rank 2"):
        fn(x, axis=2)
    with pytest.raises(gf.errors.InvalidArgumentError, match="names an axis twice"):
        fn(x, axis=[1, -1])


def test_arg_and_dtype_errors(device):
    with pytest.raises(gf.errors.InvalidArgumentError, match="argmax: axis -3"):
        gf.argmax(gf.constant(rand((2, 3))), axis=-3)
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"argmin: axis 1 of float32\[2, 0\] is empty"):
        gf.argmin(gf.constant(rand((2, 0))), axis=1)
    with pytest.raises(gf.errors.InvalidArgumentError, match="reduce_logsumexp: needs a floating-point input"):
        gf.reduce_logsumexp(gf.constant(np.arange(3, dtype=np.int32)))
