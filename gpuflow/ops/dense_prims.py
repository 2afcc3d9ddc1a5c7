"""bias_act: Dense's fused epilogue y = act(x + b), b along the last axis.

Only activations whose derivative is a function of the output are fused (relu: y > 0,
sigmoid: y(1-y), tanh: 1-y², ...), so the grad rule needs nothing but `out` and no
pre-activation is kept alive. Dense composes matmul + add + activation for the others.
"""
from __future__ import annotations

from ..errors import InvalidArgumentError
from ..tensor import TensorSpec
from ._util import require, same_dtype
from .dispatch import primitive


def _ops():
    from .. import ops
    return ops


def _where(cond, a, b):
    return _ops().where(cond, a, b)


# activation name → d act / dz written from the output y (gpuflow ops)
DERIVATIVES = {
    "linear": lambda y: None,
    "relu": lambda y: _ops().cast(y > 0.0, y.dtype),
    "relu6": lambda y: _ops().cast(_ops().logical_and(y > 0.0, y < 6.0), y.dtype),
    "sigmoid": lambda y: y * (1.0 - y),
    "tanh": lambda y: 1.0 - y * y,
    "elu": lambda y: _where(y > 0.0, _ops().ones_like(y), y + 1.0),
}


def _infer(x, b, activation):
    require("bias_act", x, "f", "a floating-point")
    same_dtype("bias_act", x, b)
    if activation not in DERIVATIVES:
        raise InvalidArgumentError(f"bias_act: activation {activation!r} is not fused; use one of "
                                   f"{sorted(DERIVATIVES)} or apply it after x + b")
    if len(x.shape) < 1 or tuple(b.shape) != (x.shape[-1],):
        raise InvalidArgumentError(f"bias_act: b {b.dtype.name}{list(b.shape)} must be a vector the size of the last "
                                   f"axis of x {x.dtype.name}{list(x.shape)}")
    return TensorSpec(x.shape, x.dtype)


def _grad(g, out, x, b, activation):
    slope = DERIVATIVES[activation](out)
    dz = g if slope is None else g * slope
    return dz, _ops().reduce_sum(dz, axis=tuple(range(x.ndim - 1)))


bias_act = primitive("bias_act", _infer, _grad)
