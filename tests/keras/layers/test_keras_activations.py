"""gf.keras.activations against NumPy formulas, plus get/serialize."""
import math

import numpy as np
import pytest

from gpuflow.keras import activations
from tests.harness import check_grad, check_op

X = np.linspace(-7, 7, 29).astype(np.float32).reshape(1, 29)
_erf = np.vectorize(math.erf)
SELU_A, SELU_S = 1.6732632423543772, 1.0507009873554805

REFS = {
    "relu": lambda x: np.maximum(x, 0),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "softmax": lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True),
    "log_softmax": lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True)),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: SELU_S * np.where(x > 0, x, SELU_A * np.expm1(x)),
    "gelu": lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))),
    "silu": lambda x: x / (1 + np.exp(-x)),
    "swish": lambda x: x / (1 + np.exp(-x)),
    "softplus": lambda x: np.log1p(np.exp(x)),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "relu6": lambda x: np.clip(x, 0, 6),
    "exponential": np.exp,
    "linear": lambda x: x,
    "hard_sigmoid": lambda x: np.clip(x / 6 + 0.5, 0, 1),
}


@pytest.mark.parametrize("name", sorted(REFS))
def test_forward(name):
    check_op(activations.get(name), [X], REFS[name], "cpu", rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["selu", "softsign", "hard_sigmoid", "softmax"])
def test_grad(name):
    check_grad(activations.get(name), [np.array([[-3.7, -0.4, 0.3, 2.2, 4.5]])])


def test_relu_arguments():
    def ref(x):
        return np.where(x >= 6, 6.0, np.where(x >= 1, x, 0.1 * (x - 1)))
    check_op(lambda x: activations.relu(x, negative_slope=0.1, max_value=6, threshold=1.0), [X], ref, "cpu")


def test_get_and_serialize():
    assert activations.get(None) is activations.linear
    assert activations.serialize(activations.get("swish")) == "silu"
    assert activations.deserialize(activations.serialize(activations.gelu)) is activations.gelu
    fn = lambda x: x * 2  # noqa: E731
    assert activations.get(fn) is fn
    with pytest.raises(ValueError, match="only gpuflow.keras.activations functions"):
        activations.serialize(fn)
    with pytest.raises(ValueError, match="unknown activation 'rleu'"):
        activations.get("rleu")
