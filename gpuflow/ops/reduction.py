"""Reduction primitives: sum, max, min, prod, logsumexp over any axes; argmax/argmin over one."""
from __future__ import annotations

from .. import dtypes
from ..tensor import TensorSpec
from ._util import normalize_axis, require
from .dispatch import primitive


def reduced_shape(shape, axes, keepdims):
    return tuple((1 if i in axes else d) for i, d in enumerate(shape) if keepdims or i not in axes)


def _infer(name, accepts="fisu"):  # every integer dtype, as TF's Sum/Prod/Max/Min (ops/_util.require)
    def infer(x, axes, keepdims):
        require(name, x, accepts, "a numeric" if "i" in accepts else "a floating-point")
        return TensorSpec(reduced_shape(x.shape, axes, keepdims), x.dtype)
    return infer


reduce_sum = primitive("reduce_sum", _infer("reduce_sum"))
reduce_max = primitive("reduce_max", _infer("reduce_max"))
reduce_min = primitive("reduce_min", _infer("reduce_min"))
reduce_prod = primitive("reduce_prod", _infer("reduce_prod"))
reduce_logsumexp = primitive("reduce_logsumexp", _infer("reduce_logsumexp", "f"))


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
