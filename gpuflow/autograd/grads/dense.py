"""Grad rule of bias_act (gpuflow/ops/dense_prims.py): each fused activation's derivative from its output."""
from __future__ import annotations

from ... import ops
from ...ops import dense_prims as _prims
from ...ops.dispatch import defgrad

# activation name → d act / dz written from the output y (gpuflow ops)
DERIVATIVES = {
    "linear": lambda y: None,
    "relu": lambda y: ops.cast(y > 0.0, y.dtype),
    "relu6": lambda y: ops.cast(ops.logical_and(y > 0.0, y < 6.0), y.dtype),
    "sigmoid": lambda y: y * (1.0 - y),
    "tanh": lambda y: 1.0 - y * y,
    "elu": lambda y: ops.where(y > 0.0, ops.ones_like(y), y + 1.0),
}
if set(DERIVATIVES) != set(_prims.ACTIVATIONS):
    raise ImportError(f"bias_act fuses {_prims.ACTIVATIONS} but has derivatives for {sorted(DERIVATIVES)}")


@defgrad(_prims.bias_act)
def _grad(g, out, x, b, activation):
    slope = DERIVATIVES[activation](out)
    dz = g if slope is None else g * slope
    return dz, ops.reduce_sum(dz, axis=tuple(range(x.ndim - 1)))
