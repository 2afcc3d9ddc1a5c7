"""Reduction primitives: sum, max, min, prod, logsumexp over any axes; argmax/argmin over one."""
from __future__ import annotations

from .. import dtypes
from ..tensor import TensorSpec
from ._util import normalize_axis, require
from .dispatch import primitive


def _ops():
    from .. import ops
    return ops


def reduced_shape(shape, axes, keepdims):
    return tuple((1 if i in axes else d) for i, d in enumerate(shape) if keepdims or i not in axes)


def _infer(name, accepts="fisu"):  # every integer dtype, as TF's Sum/Prod/Max/Min (ops/_util.require)
    def infer(x, axes, keepdims):
        require(name, x, accepts, "a numeric" if "i" in accepts else "a floating-point")
        return TensorSpec(reduced_shape(x.shape, axes, keepdims), x.dtype)
    return infer


def expand_back(g, x_shape, axes, keepdims):
    """A reduced gradient broadcast back over the reduced axes to the input shape."""
    ops = _ops()
    if not keepdims:
        g = ops.reshape(g, reduced_shape(x_shape, axes, True))
    return ops.broadcast_to(g, x_shape)


def _sum_grad(g, out, x, axes, keepdims):
    return (expand_back(g, x.shape, axes, keepdims),)


def _extreme_grad(g, out, x, axes, keepdims):
    # Ties share the gradient equally, as in TensorFlow.
    ops = _ops()
    hit = ops.cast(ops.equal(x, expand_back(out, x.shape, axes, keepdims)), g.dtype)
    count = ops.reduce_sum(hit, axis=axes, keepdims=True)
    return (hit / count * expand_back(g, x.shape, axes, keepdims),)


def _prod_grad(g, out, x, axes, keepdims):
    # d/dx_i prod(x) = product of the others; built from the product of the non-zeros so that
    # zeros in x give the right answer (dividing `out` by x would give NaN).
    ops = _ops()
    zero = ops.equal(x, ops.zeros_like(x))
    prod_nonzero = ops.reduce_prod(ops.where(zero, ops.ones_like(x), x), axis=axes, keepdims=True)
    zeros = ops.reduce_sum(ops.cast(zero, x.dtype), axis=axes, keepdims=True)
    others = ops.where(zero, ops.where(ops.equal(zeros, ops.ones_like(zeros)), ops.broadcast_to(prod_nonzero, x.shape),
                                       ops.zeros_like(x)),
                       ops.where(zeros > 0, ops.zeros_like(x), prod_nonzero / ops.where(zero, ops.ones_like(x), x)))
    return (others * expand_back(g, x.shape, axes, keepdims),)


def _logsumexp_grad(g, out, x, axes, keepdims):
    ops = _ops()
    return (ops.exp(x - expand_back(out, x.shape, axes, keepdims)) * expand_back(g, x.shape, axes, keepdims),)


reduce_sum = primitive("reduce_sum", _infer("reduce_sum"), _sum_grad)
reduce_max = primitive("reduce_max", _infer("reduce_max"), _extreme_grad)
reduce_min = primitive("reduce_min", _infer("reduce_min"), _extreme_grad)
reduce_prod = primitive("reduce_prod", _infer("reduce_prod"), _prod_grad)
reduce_logsumexp = primitive("reduce_logsumexp", _infer("reduce_logsumexp", "f"), _logsumexp_grad)


def _arg_infer(name):
    def infer(x, axis, output_type):
        require(name, x, "fisu", "a numeric")
        if x.shape[axis] == 0:
            from ..errors import InvalidArgumentError
            raise InvalidArgumentError(f"{name}: axis {axis} of {x.dtype.name}{list(x.shape)} is empty")
        return TensorSpec(x.shape[:axis] + x.shape[axis + 1:], output_type)
    return infer


argmax = primitive("argmax", _arg_infer("argmax"))
argmin = primitive("argmin", _arg_infer("argmin"))

__all__ = ["reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "reduce_logsumexp", "argmax", "argmin",
           "normalize_axis", "dtypes"]
