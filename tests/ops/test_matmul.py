"""matmul (batched, broadcast batch dims, transpose flags) and tensordot: forward vs NumPy on
every device and dtype, float64 gradients for every flag combination, sim/cuda parity, errors."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import gpuflow as gf
from tests.harness import check_grad, check_op, check_parity, rand

FLAGS = list(itertools.product([False, True], repeat=2))
SHAPES = [  # a, b as written (before the flags swap their last two axes)
    ((3, 4), (4, 5)), ((1, 1), (1, 1)), ((2, 1, 3, 4), (5, 4, 6)), ((0, 3), (3, 2)), ((2, 0), (0, 3)),
    ((3, 5, 7), (3, 7, 2)), ((4, 9), (2, 9, 3)), ((70, 100), (100, 70)),
]


def _ref(ta, tb):
    return lambda a, b: np.matmul(np.swapaxes(a, -1, -2) if ta else a, np.swapaxes(b, -1, -2) if tb else b)


def _operands(a_shape, b_shape, ta, tb, dtype="float32"):
    a = rand(a_shape, dtype, seed=1)
    b = rand(b_shape, dtype, seed=2)
    return (np.swapaxes(a, -1, -2).copy() if ta else a), (np.swapaxes(b, -1, -2).copy() if tb else b)


@pytest.mark.parametrize("ta,tb", FLAGS)
@pytest.mark.parametrize("a_shape,b_shape", SHAPES)
def test_matmul_forward(device, a_shape, b_shape, ta, tb):
    a, b = _operands(a_shape, b_shape, ta, tb)
    out = check_op(lambda x, y: gf.matmul(x, y, transpose_a=ta, transpose_b=tb), [a, b], _ref(ta, tb), device,
                   rtol=1e-4, atol=1e-4)
    assert out.dtype == gf.float32


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64", "int32", "int64"])
def test_matmul_dtypes(device, dtype):
    a, b = _operands((2, 3, 17), (17, 5), False, False, dtype)
    out = gf.matmul(gf.constant(a), gf.constant(b))
    assert out.dtype == gf.as_dtype(dtype)
    expected = np.matmul(a.astype(np.float64), b.astype(np.float64))
    if gf.as_dtype(dtype).is_integer:
        np.testing.assert_array_equal(out.numpy(), expected.astype(dtype))
    else:  # one rounding of an exact float32 product: within half an ulp of the dtype, plus float32 noise
        tol = {"float16": 1e-3, "bfloat16": 8e-3, "float64": 1e-12}[dtype]
        np.testing.assert_allclose(out.numpy().astype(np.float64), expected, rtol=tol, atol=tol * 4)


@pytest.mark.parametrize("ta,tb", FLAGS)
@pytest.mark.parametrize("a_shape,b_shape", [((3, 4), (4, 2)), ((2, 1, 3, 4), (5, 4, 6)), ((2, 3), (2, 3, 2))])
def test_matmul_grad(a_shape, b_shape, ta, tb):
    a, b = _operands(a_shape, b_shape, ta, tb)
    check_grad(lambda x, y: gf.matmul(x, y, transpose_a=ta, transpose_b=tb), [a, b])


@pytest.mark.parametrize("ta,tb", FLAGS)
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "int32", "int64"])
def test_matmul_parity(device, dtype, ta, tb):
    a, b = _operands((2, 1, 3, 8), (5, 8, 6), ta, tb, dtype)
    check_parity(lambda x, y: gf.matmul(x, y, transpose_a=ta, transpose_b=tb), [a, b], device)


def test_matmul_operator_and_python_values(device):
    a = rand((2, 3))
    check_op(lambda x: x @ gf.transpose(x), [a], lambda x: x @ x.T, device)
    check_op(lambda x: gf.matmul(x, [[1.0], [2.0], [0.5]]), [a], lambda x: x @ np.array([[1.0], [2.0], [0.5]]), device)


def test_tensordot(device):
    a, b = rand((2, 3, 4), seed=1), rand((4, 3, 5), seed=2)
    check_op(lambda x, y: gf.tensordot(x, y, [[1, 2], [1, 0]]), [a, b],
             lambda x, y: np.tensordot(x, y, [[1, 2], [1, 0]]), device, rtol=1e-4, atol=1e-4)
    check_op(lambda x, y: gf.tensordot(x, y, 1), [a, b], lambda x, y: np.tensordot(x, y, 1), device,
             rtol=1e-4, atol=1e-4)
    check_grad(lambda x, y: gf.tensordot(x, y, [[1, 2], [1, 0]]), [a, b])


def test_matmul_errors():
    a, b = gf.constant(rand((2, 3))), gf.constant(rand((4, 5)))
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"matmul: inner dimensions differ: \[2, 3\] @ \[4, 5\] "
                                                            r"has 3 vs 4"):
        gf.matmul(a, b)
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"\[4, 5\]ᵀ has 3 vs 5"):
        gf.matmul(a, b, transpose_b=True)
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"matmul: both inputs need rank >= 2.*float32\[3\]"):
        gf.matmul(a, gf.constant(rand((3,))))
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"matmul: inputs have different dtypes"):
        gf.matmul(a, gf.constant(rand((3, 2), "float64")))
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"matmul: shapes \(2,\) and \(3,\) cannot be broadcast"):
        gf.matmul(gf.constant(rand((2, 2, 3))), gf.constant(rand((3, 3, 2))))
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"matmul: needs a numeric input, got bool"):
        gf.matmul(gf.constant(np.ones((2, 2), bool)), gf.constant(np.ones((2, 2), bool)))
