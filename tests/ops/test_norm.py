"""layer_norm and batch_norm primitives: forward vs NumPy, float64 gradients, sim parity, errors."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.errors import InvalidArgumentError
from gpuflow.ops import norm_prims
from tests.harness import check_grad, check_op, check_parity, rand

EPS = 1e-3
# empty, one element, odd, rows > the simulator's 4 blocks, rows longer than a block
LAYER_SHAPES = [(0, 3), (1, 1), (3, 5), (2, 3, 7), (9, 40), (2, 1500)]
# (300, 2): rows split in 4 chunks on sim (merged by batch_norm_finalize); (17, 33): a half-dead channel tile
BATCH_SHAPES = [(1, 1), (5, 3), (17, 33), (40, 70), (300, 2)]


def ref_norm(x, gamma, beta, axis):
    """The textbook formulas in float64: the independent reference. (check_op widens only NumPy
    'f'-kind arrays; bfloat16 is kind 'V', so widen here.)"""
    x, gamma, beta = (a.astype(np.float64) for a in (x, gamma, beta))
    mean = x.mean(axis=axis, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axis, keepdims=True)
    y = (x - mean) / np.sqrt(var + EPS) * gamma + beta
    return y, mean, var


def ref_layer_norm(x, gamma, beta):
    y, mean, var = ref_norm(x, gamma, beta, -1)
    return [y, mean[..., 0], 1 / np.sqrt(var[..., 0] + EPS)]


def ref_batch_norm(x, gamma, beta):
    y, mean, var = ref_norm(x, gamma, beta, 0)
    return [y, mean[0], var[0]]


def layer_norm(x, g, b):
    return norm_prims.layer_norm(x, g, b, epsilon=EPS)


def batch_norm(x, g, b):
    return norm_prims.batch_norm(x, g, b, epsilon=EPS)


def inputs(shape, axis, dtype="float32", seed=0):
    n = shape[axis]
    # A mean far from 0 checks that the variance is not computed as E[x²] - E[x]².
    return [rand(shape, dtype, 3.0, 7.0, seed), rand((n,), dtype, 0.5, 1.5, seed + 1), rand((n,), dtype, -1, 1, seed + 2)]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("shape", LAYER_SHAPES)
def test_layer_norm_forward(device, shape, dtype):
    if shape[0] == 0:
        args = inputs(shape, -1, dtype)
        with gf.device(device):
            y, mean, rstd = layer_norm(*[gf.constant(a) for a in args])
        assert y.shape == shape and mean.shape == (0,) and rstd.shape == (0,)
        return
    # half/bfloat16 statistics are rounded to the dtype: compare them at its precision.
    tol = {"float16": 4e-3, "bfloat16": 3e-2}.get(dtype)
    check_op(layer_norm, inputs(shape, -1, dtype), ref_layer_norm, device, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("shape", BATCH_SHAPES)
def test_batch_norm_forward(device, shape, dtype):
    tol = {"float16": 4e-3, "bfloat16": 3e-2}.get(dtype)
    check_op(batch_norm, inputs(shape, 1, dtype), ref_batch_norm, device, rtol=tol, atol=tol)


def test_batch_norm_without_rows_gives_nan_statistics(device):
    y, mean, var = batch_norm(*[gf.constant(a) for a in inputs((0, 3), 1)])
    assert y.shape == (0, 3) and np.isnan(mean.numpy()).all() and np.isnan(var.numpy()).all()


@pytest.mark.parametrize("shape", [(1, 3), (2, 3, 4), (4, 1)])
def test_layer_norm_grad(shape):
    # Every output (y, mean, rstd) carries a random cotangent: the statistics' gradients are checked too.
    check_grad(layer_norm, inputs(shape, -1))


@pytest.mark.parametrize("shape", [(2, 3), (5, 2), (1, 4)])
def test_batch_norm_grad(shape):
    check_grad(batch_norm, inputs(shape, 1))


def test_layer_norm_second_order():
    # The grad rule is made of ops: an outer tape differentiates it (d/dx of sum(d sum(y²)/dx)).
    x, g, b = (gf.constant(a.astype(np.float64)) for a in inputs((2, 4), -1))

    def inner_grad(x):
        with gf.GradientTape() as tape:
            tape.watch(x)
            loss = gf.reduce_sum(gf.square(layer_norm(x, g, b)[0]) * gf.range(4, dtype=gf.float64))
        return gf.reduce_sum(tape.gradient(loss, x) ** 2)

    with gf.GradientTape() as outer:
        outer.watch(x)
        value = inner_grad(x)
    analytic = outer.gradient(value, x).numpy()
    numeric = np.zeros((2, 4))
    for i in np.ndindex(2, 4):
        bump = np.zeros((2, 4))
        bump[i] = 1e-6
        numeric[i] = (float(inner_grad(x + bump)) - float(inner_grad(x - bump))) / 2e-6
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fn,shape,axis", [(layer_norm, (9, 40), -1), (batch_norm, (40, 37), 1)])
def test_sim_parity(fn, shape, axis):
    # Forward and backward: an op the grad rules need that sim lacks is a failure, not a skip.
    check_parity(fn, inputs(shape, axis), "sim", grad=True)


def test_wrong_gamma_shape_is_named():
    x, g, b = (gf.constant(a) for a in inputs((2, 5), -1))
    with pytest.raises(InvalidArgumentError, match=r"layer_norm: gamma has shape \[4\].*needs shape \[5\]"):
        layer_norm(x, g[:4], b)
    with pytest.raises(InvalidArgumentError, match=r"batch_norm: x must be \[rows, channels\]"):
        batch_norm(gf.reshape(x, (10,)), g, b)
    with pytest.raises(InvalidArgumentError, match="different dtypes"):
        layer_norm(x, gf.cast(g, gf.float64), b)
