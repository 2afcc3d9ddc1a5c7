"""Scan primitives: cumsum, cumprod and cumulative_logsumexp along one axis, inclusive or
exclusive, forwards or reversed. Their gradients are scans the other way (TF's rules)."""
from __future__ import annotations

from ..tensor import TensorSpec
from ._util import require
from .dispatch import primitive


def _ops():
    from .. import ops
    return ops


def _infer(name, kinds, what):
    def infer(x, axis, exclusive, reverse):
        require(name, x, kinds, what)
        return TensorSpec(x.shape, x.dtype)
    return infer


def _cumsum_grad(g, out, x, axis, exclusive, reverse):
    return (cumsum(g, axis=axis, exclusive=exclusive, reverse=not reverse),)


def _cumprod_grad(g, out, x, axis, exclusive, reverse):
    # d out_j / d x_i = out_j / x_i for every j whose product holds x_i: a scan of g * out the
    # other way, divided by x. As in TF, an x of 0 gets 0 (the exact value would need the
    # product of the others).
    ops = _ops()
    total = cumsum(g * out, axis=axis, exclusive=exclusive, reverse=not reverse)
    zero = ops.equal(x, 0)
    return (ops.where(zero, ops.zeros_like(x), total / ops.where(zero, ops.ones_like(x), x)),)


def _logsumexp_grad(g, out, x, axis, exclusive, reverse):
    # d out_j / d x_i = exp(x_i - out_j): sum_j g_j exp(x_i - out_j) = exp(x_i + lse_j(log g_j - out_j)),
    # split by the sign of g so the logs exist (TF's rule). An empty window (out_j = -inf, the first
    # exclusive position) feeds nothing back. The inner wheres keep a second derivative finite.
    ops = _ops()
    empty = ops.equal(out, float("-inf"))
    safe_out = ops.where(empty, ops.zeros_like(out), out)

    def part(sign):
        use = ops.logical_and(ops.greater(g * sign, 0), ops.logical_not(empty))
        log_g = ops.log(ops.where(use, g * sign, ops.ones_like(g))) - safe_out
        lse = cumulative_logsumexp(ops.where(use, log_g, float("-inf")), axis=axis, exclusive=exclusive,
                                   reverse=not reverse)
        return ops.exp(lse + x)
    return (part(1.0) - part(-1.0),)


cumsum = primitive("cumsum", _infer("cumsum", "fi", "a numeric"), _cumsum_grad)
cumprod = primitive("cumprod", _infer("cumprod", "fi", "a numeric"), _cumprod_grad)
cumulative_logsumexp = primitive("cumulative_logsumexp", _infer("cumulative_logsumexp", "f", "a floating-point"),
                                 _logsumexp_grad)
