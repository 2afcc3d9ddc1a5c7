"""Grad rules of cumprod and cumulative_logsumexp (gpuflow/ops/scan_prims.py), written in gpuflow ops."""
from __future__ import annotations

from ... import ops
from ...ops import scan_prims as _prims
from ...ops.dispatch import defgrad


def _cumprod_grad(g, out, x, axis, exclusive, reverse):
    # d out_j / d x_i = out_j / x_i for every j whose product holds x_i: a scan of g * out the
    # other way, divided by x. As in TF, an x of 0 gets 0 (the exact value would need the
    # product of the others).
    total = _prims.cumsum(g * out, axis=axis, exclusive=exclusive, reverse=not reverse)
    zero = ops.equal(x, 0)
    return (ops.where(zero, ops.zeros_like(x), total / ops.where(zero, ops.ones_like(x), x)),)


def _logsumexp_grad(g, out, x, axis, exclusive, reverse):
    # d out_j / d x_i = exp(x_i - out_j): sum_j g_j exp(x_i - out_j) = exp(x_i + lse_j(log g_j - out_j)),
    # split by the sign of g so the logs exist (TF's rule). An empty window (out_j = -inf, the first
    # exclusive position) feeds nothing back. The inner wheres keep a second derivative finite.
    empty = ops.equal(out, float("-inf"))
    safe_out = ops.where(empty, ops.zeros_like(out), out)

    def part(sign):
        use = ops.logical_and(ops.greater(g * sign, 0), ops.logical_not(empty))
        log_g = ops.log(ops.where(use, g * sign, ops.ones_like(g))) - safe_out
        lse = _prims.cumulative_logsumexp(ops.where(use, log_g, float("-inf")), axis=axis, exclusive=exclusive,
                                   reverse=not reverse)
        return ops.exp(lse + x)
    return (part(1.0) - part(-1.0),)


defgrad(_prims.cumprod)(_cumprod_grad)
defgrad(_prims.cumulative_logsumexp)(_logsumexp_grad)
