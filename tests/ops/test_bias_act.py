"""bias_act (Dense's fused epilogue): forward vs NumPy, float64 gradients, sim parity, errors."""
import numpy as np
import pytest

from gpuflow.errors import InvalidArgumentError
from gpuflow.ops.dense_prims import bias_act
import gpuflow as gf
from tests.harness import check_grad, check_op, check_parity, rand

REFS = {"linear": lambda z: z, "relu": lambda z: np.maximum(z, 0), "relu6": lambda z: np.clip(z, 0, 6),
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh, "elu": lambda z: np.where(z > 0, z, np.expm1(z))}
SHAPES = [(0, 3), (1, 1), (3, 5), (2, 3, 7), (70, 33)]


def inputs(shape, dtype="float32"):
    return [rand(shape, dtype, -8, 8), rand(shape[-1:], dtype, -1, 1, seed=1)]


# Every activation in float32; two in the other dtypes (each pair is one more kernel to compile on sim).
CASES = [(a, "float32") for a in sorted(REFS)] + [(a, d) for a in ("relu", "sigmoid")
                                                 for d in ("float64", "float16", "bfloat16")]


@pytest.mark.parametrize("activation,dtype", CASES)
@pytest.mark.parametrize("shape", SHAPES)
def test_forward(device, shape, activation, dtype):
    def ref(x, b):  # bfloat16 arrives unwidened (NumPy kind 'V'): compute in float64 here
        return REFS[activation](x.astype(np.float64) + b.astype(np.float64))
    tol = 1.6e-2 if dtype == "bfloat16" else None  # the harness cannot tell bfloat16 (kind 'V') apart
    check_op(lambda x, b: bias_act(x, b, activation=activation), inputs(shape, dtype), ref, device, rtol=tol, atol=tol)


@pytest.mark.parametrize("activation", sorted(REFS))
def test_grad(activation):
    x, b = inputs((3, 4))
    x[np.abs(x) < 0.05] = 0.5
    x[np.abs(x - 6) < 0.05] = 5.0  # keep finite differences off relu's and relu6's kinks
    check_grad(lambda x, b: bias_act(x, b, activation=activation), [x, b])


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_sim_parity(activation):
    check_parity(lambda x, b: bias_act(x, b, activation=activation), inputs((9, 40)), "sim")


def test_errors():
    x, b = (gf.constant(a) for a in inputs((2, 3)))
    with pytest.raises(InvalidArgumentError, match=r"bias_act: b float32\[2\] must be a vector the size of the last"):
        bias_act(x, b[:2], activation="relu")
    with pytest.raises(InvalidArgumentError, match="activation 'gelu' is not fused"):
        bias_act(x, b, activation="gelu")
