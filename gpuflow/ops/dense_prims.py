"""bias_act: Dense's fused epilogue y = act(x + b), b along the last axis.

Only activations whose derivative is a function of the output are fused (relu: y > 0,
sigmoid: y(1-y), tanh: 1-y², ...), so the grad rule (gpuflow/autograd/grads/dense.py) needs
nothing but `out` and no pre-activation is kept alive. Dense composes matmul + add + activation
for the others.
"""
from __future__ import annotations

from ..errors import InvalidArgumentError
from ..tensor import TensorSpec
from ._util import require, same_dtype
from .dispatch import primitive


# The activations fused into the bias add: each has a derivative written from the output alone.
ACTIVATIONS = ("linear", "relu", "relu6", "sigmoid", "tanh", "elu")


def _infer(x, b, activation):
    require("bias_act", x, "f", "a floating-point")
    same_dtype("bias_act", x, b)
    if activation not in ACTIVATIONS:
        raise InvalidArgumentError(f"bias_act: activation {activation!r} is not fused; use one of "
                                   f"{sorted(ACTIVATIONS)} or apply it after x + b")
    if len(x.shape) < 1 or tuple(b.shape) != (x.shape[-1],):
        raise InvalidArgumentError(f"bias_act: b {b.dtype.name}{list(b.shape)} must be a vector the size of the last "
                                   f"axis of x {x.dtype.name}{list(x.shape)}")
    return TensorSpec(x.shape, x.dtype)


bias_act = primitive("bias_act", _infer)
