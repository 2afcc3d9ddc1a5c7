"""gf.nn activations through their public tf-named functions: NumPy references, float64 gradients,
sim parity forward and backward (float32, and float16/bfloat16 for the common ones)."""
import math

import numpy as np
import pytest

import gpuflow as gf
from tests.harness import check_grad, check_op, check_parity, rand


def _phi(x):  # the standard normal CDF, from math.erfc (not erf, so it is not the code under test)
    return np.vectorize(lambda v: 0.5 * math.erfc(-v / math.sqrt(2)), otypes=[np.float64])(x)


ACTIVATIONS = {
    "relu": (gf.nn.relu, lambda x: x * (x > 0)),
    "relu6": (gf.nn.relu6, lambda x: np.clip(x, 0, 6)),
    "leaky_relu": (lambda x: gf.nn.leaky_relu(x, alpha=0.1), lambda x: np.where(x >= 0, x, 0.1 * x)),
    "leaky_relu_default": (gf.nn.leaky_relu, lambda x: np.where(x >= 0, x, 0.2 * x)),
    "elu": (gf.nn.elu, lambda x: np.where(x >= 0, x, np.expm1(x))),
    "elu_alpha": (lambda x: gf.nn.elu(x, alpha=0.5), lambda x: np.where(x >= 0, x, 0.5 * np.expm1(x))),
    "gelu": (gf.nn.gelu, lambda x: x * _phi(x)),
    "gelu_tanh": (lambda x: gf.nn.gelu(x, approximate=True),
                  lambda x: 0.5 * x * (1 + np.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))),
    "sigmoid": (gf.nn.sigmoid, lambda x: 0.5 * (1 + np.tanh(x / 2))),
    "tanh": (gf.nn.tanh, lambda x: (np.exp(2 * x) - 1) / (np.exp(2 * x) + 1)),
    "softplus": (gf.nn.softplus, lambda x: np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))),
    "silu": (gf.nn.silu, lambda x: x * 0.5 * (1 + np.tanh(x / 2))),
    "swish": (gf.nn.swish, lambda x: x / (1 + np.exp(-x))),
}
# 7 (one warp-ish), 1001 (odd), 70_000 (many grid-stride rounds), empty, scalar, 3-d
SHAPES = [(), (0, 4), (7,), (3, 4, 5), (1001,), (70_000,)]


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_forward_float64(name):
    fn, ref = ACTIVATIONS[name]
    for shape in SHAPES:
        check_op(fn, [rand(shape, "float64", -7.0, 7.0)], ref, "cpu", rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_grad_float64(name):
    fn, _ = ACTIVATIONS[name]
    # ± away from the kinks at 0 and 6, where the derivative jumps
    x = rand((4, 5), "float64", 0.05, 7.5, seed=3) * np.where(rand((4, 5), "bool", seed=4), 1, -1)
    check_grad(fn, [x])


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_parity_float32(name):
    fn, _ = ACTIVATIONS[name]
    for shape in SHAPES:
        check_parity(fn, [rand(shape, "float32", -8.0, 8.0, seed=5)], "sim", grad=shape == (3, 4, 5))


@pytest.mark.parametrize("name", ["relu", "gelu", "silu", "sigmoid"])
@pytest.mark.parametrize("dtype,tol", [("float16", 3e-3), ("bfloat16", 2e-2)])
def test_parity_half_types(name, dtype, tol):
    fn, _ = ACTIVATIONS[name]
    check_parity(fn, [rand((1001,), dtype, -6.0, 6.0, seed=6)], "sim", grad=False, rtol=tol, atol=tol)


def test_activations_keep_extremes_finite():
    # exp overflows float32 past 88: the kernels must pick the branch that does not
    x = np.array([-1e4, -100.0, -20.0, 20.0, 100.0, 1e4], np.float32)
    with np.errstate(over="ignore"):
        wanted = {name: ACTIVATIONS[name][1](x.astype(np.float64)) for name in ("sigmoid", "softplus", "silu")}
    for device in ("cpu", "sim"):
        with gf.device(device):
            for name, want in wanted.items():
                got = ACTIVATIONS[name][0](gf.constant(x)).numpy()
                assert np.isfinite(got).all(), (name, device)
                np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-40, err_msg=f"{name} on {device}")
