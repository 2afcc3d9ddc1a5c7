"""where(condition), unique / unique_with_counts and roll: forward vs NumPy on every device (empty,
0-d, odd sizes, NaN), gradients of roll, sim/cuda parity, and the errors."""
from __future__ import annotations

import numpy as np
import pytest

import gpuflow as gf
from tests.harness import check_grad, check_op, check_parity, rand


@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4), (0, 3), (), (1,), (40, 30)], ids=str)
def test_where_one_argument(device, shape):
    cond = np.random.default_rng(len(shape)).random(shape) < 0.4
    check_op(lambda c: gf.where(c), [cond], lambda c: np.argwhere(c), device, dtype="int64")


def test_where_one_argument_numeric_and_none_true(device):
    check_op(lambda c: gf.where(c), [np.array([[0.0, 2.0], [-1.0, 0.0]], np.float32)],
             lambda c: np.argwhere(c), device)
    check_op(lambda c: gf.where(c), [np.zeros((3, 2), bool)], lambda c: np.zeros((0, 2), np.int64), device)
    assert gf.where(True).numpy().shape == (1, 0)
    with pytest.raises(ValueError, match="give both x and y, or neither"):
        gf.where(gf.constant([True]), gf.constant([1.0]))


def ref_unique(x):
    y, first, inverse, counts = np.unique(x, return_index=True, return_inverse=True, return_counts=True)
    order = np.argsort(first, kind="stable")        # by first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return [y[order], rank[inverse.reshape(-1)], counts[order]]


@pytest.mark.parametrize("dtype", ["int32", "int64", "float32", "float16", "bfloat16", "float64"])
@pytest.mark.parametrize("n", [0, 1, 9, 1500])
def test_unique(device, dtype, n):
    x = rand((n,), dtype, low=-4, high=4, seed=n)
    x = x.round() if x.dtype.kind == "f" or x.dtype.name == "bfloat16" else x
    check_op(lambda t: gf.unique_with_counts(t), [x], lambda a: ref_unique(a), device)
    out = gf.unique(gf.constant(x), out_idx=gf.int64)
    assert out.idx.dtype == gf.int64 and np.array_equal(gf.gather(out.y, out.idx).numpy(), x)


def test_unique_bool_and_nan(device):
    check_op(lambda t: list(gf.unique(t)), [np.array([True, False, True, True])],
             lambda a: [np.array([True, False]), np.array([0, 1, 0, 0])], device)
    out = gf.unique(gf.constant([np.nan, 1.0, np.nan, 1.0]))
    assert np.isnan(out.y.numpy()).sum() == 2 and out.idx.numpy()[1] == out.idx.numpy()[3]


def test_unique_errors():
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"unique: x must be 1-D, got float32\[2, 2\]"):
        gf.unique(gf.constant(rand((2, 2))))


ROLLS = [((5,), 2, 0), ((5,), -7, 0), ((3, 4), [1, -1], [0, 1]), ((3, 4), [2, 3], [1, 1]), ((2, 3, 4), 5, -1),
         ((0, 3), 1, 0), ((4,), 0, 0), ((3, 1000), 333, 1)]


@pytest.mark.parametrize("shape,shift,axis", ROLLS, ids=str)
def test_roll(device, shape, shift, axis):
    check_op(lambda t: gf.roll(t, shift, axis), [rand(shape, seed=1)], lambda a: np.roll(a, shift, axis), device)


def test_roll_grad_parity_and_errors(device):
    check_grad(lambda t: gf.roll(t, [1, 2], [0, 1]), [rand((3, 4), seed=2)])
    check_parity(lambda t: gf.roll(t, gf.constant(3), gf.constant(1)), [rand((2, 9), "bfloat16", seed=3)], device)
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"roll: shift \[1, 2\] and axis \[0\] must have the "
                                                             r"same length"):
        gf.roll(gf.constant(rand((3,))), [1, 2], [0])
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"roll: axis 1 is out of range"):
        gf.roll(gf.constant(rand((3,))), 1, 1)
