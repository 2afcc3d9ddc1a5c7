"""Fused normalisation primitives: layer norm over the last axis, batch norm over the first.

Both normalise, scale and shift in one kernel pass per row/column and also return the
statistics: the gradient needs them (so it never recomputes them) and batch norm's moving
averages are updated from them.

    layer_norm(x[..., n], gamma[n], beta[n], epsilon) -> y, mean[...], rstd[...]
    batch_norm(x[r, c],   gamma[c], beta[c], epsilon) -> y, mean[c],   var[c]   (biased variance)

Callers (the Keras layers) move the normalised axes into place with reshape/transpose.
The grad rules (gpuflow/autograd/grads/norm.py) are written in gpuflow ops, so they run on every
device and can be differentiated again; they include the statistics' own gradients, so a loss that uses
`mean` or `rstd`/`var` is differentiated correctly too.
"""
from __future__ import annotations

from ..errors import InvalidArgumentError
from ..tensor import TensorSpec
from ._util import require, same_dtype
from .dispatch import primitive


def _check(name, x, gamma, beta, axis_name, size, epsilon):
    require(name, x, "f", "a floating-point")
    same_dtype(name, x, gamma, beta)
    for what, p in (("gamma", gamma), ("beta", beta)):
        if tuple(p.shape) != (size,):
            raise InvalidArgumentError(
                f"{name}: {what} has shape {list(p.shape)} but x {x.dtype.name}{list(x.shape)} needs shape [{size}] "
                f"(the size of its {axis_name} axis)")
    if not epsilon > 0:
        raise InvalidArgumentError(f"{name}: epsilon must be > 0, got {epsilon}")


def _layer_norm_infer(x, gamma, beta, epsilon):
    if len(x.shape) < 1:
        raise InvalidArgumentError(f"layer_norm: x needs rank >= 1, got a scalar {x.dtype.name}")
    _check("layer_norm", x, gamma, beta, "last", x.shape[-1], epsilon)
    stats = TensorSpec(x.shape[:-1], x.dtype)
    return TensorSpec(x.shape, x.dtype), stats, stats


def _batch_norm_infer(x, gamma, beta, epsilon):
    if len(x.shape) != 2:
        raise InvalidArgumentError(f"batch_norm: x must be [rows, channels], got {x.dtype.name}{list(x.shape)}; "
                                   f"reshape it so the channel axis is last")
    _check("batch_norm", x, gamma, beta, "channel (last)", x.shape[1], epsilon)
    stats = TensorSpec(x.shape[1:], x.dtype)
    return TensorSpec(x.shape, x.dtype), stats, stats


layer_norm = primitive("layer_norm", _layer_norm_infer, n_outputs=3)
batch_norm = primitive("batch_norm", _batch_norm_infer, n_outputs=3)
