"""Grad rules of the reduction primitives (gpuflow/ops/reduction.py), written in gpuflow ops."""
from __future__ import annotations

from ... import ops
from ...ops import reduction as _prims
from ...ops.dispatch import defgrad


def expand_back(g, x_shape, axes, keepdims):
    """A reduced gradient broadcast back over the reduced axes to the input shape."""
    if not keepdims:
        g = ops.reshape(g, _prims.reduced_shape(x_shape, axes, True))
    return ops.broadcast_to(g, x_shape)


def _sum_grad(g, out, x, axes, keepdims):
    return (expand_back(g, x.shape, axes, keepdims),)


def _extreme_grad(g, out, x, axes, keepdims):
    # Ties share the gradient equally, as in TensorFlow.
    hit = ops.cast(ops.equal(x, expand_back(out, x.shape, axes, keepdims)), g.dtype)
    count = ops.reduce_sum(hit, axis=axes, keepdims=True)
    return (hit / count * expand_back(g, x.shape, axes, keepdims),)


def _prod_grad(g, out, x, axes, keepdims):
    # d/dx_i prod(x) = product of the others; built from the product of the non-zeros so that
    # zeros in x give the right answer (dividing `out` by x would give NaN).
    zero = ops.equal(x, ops.zeros_like(x))
    prod_nonzero = ops.reduce_prod(ops.where(zero, ops.ones_like(x), x), axis=axes, keepdims=True)
    zeros = ops.reduce_sum(ops.cast(zero, x.dtype), axis=axes, keepdims=True)
    others = ops.where(zero, ops.where(ops.equal(zeros, ops.ones_like(zeros)), ops.broadcast_to(prod_nonzero, x.shape),
                                       ops.zeros_like(x)),
                       ops.where(zeros > 0, ops.zeros_like(x), prod_nonzero / ops.where(zero, ops.ones_like(x), x)))
    return (others * expand_back(g, x.shape, axes, keepdims),)


def _logsumexp_grad(g, out, x, axes, keepdims):
    return (ops.exp(x - expand_back(out, x.shape, axes, keepdims)) * expand_back(g, x.shape, axes, keepdims),)


defgrad(_prims.reduce_sum)(_sum_grad)
defgrad(_prims.reduce_max)(_extreme_grad)
defgrad(_prims.reduce_min)(_extreme_grad)
defgrad(_prims.reduce_prod)(_prod_grad)
defgrad(_prims.reduce_logsumexp)(_logsumexp_grad)
