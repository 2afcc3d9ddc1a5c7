"""bias_act on NumPy (half/bfloat16 computed in float32 and rounded once, as the kernel does)."""
from __future__ import annotations

import numpy as np

from ._registry import impl, narrow, quiet, widen

# Each takes z = x + b, a fresh array of its own: an activation may write into it.
ACTIVATIONS = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0, out=z),
    "relu6": lambda z: np.clip(z, 0, 6),
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
}


@impl("bias_act")
def bias_act(x, b, activation):
    with quiet():  # sigmoid of a very negative z: exp overflows to inf, 1/inf = 0
        return narrow(ACTIVATIONS[activation](widen(x) + widen(b)), x.dtype)
