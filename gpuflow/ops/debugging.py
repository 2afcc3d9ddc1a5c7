"""The check_numerics primitive: the tensor itself, after checking it holds no NaN or Inf.

On cpu it raises at once; on cuda and sim the check runs on the device and raises at the next read
of a value to the host (gpuflow/backend/numerics.py), as gf.debugging.enable_check_numerics does.
"""
from __future__ import annotations

from ..tensor import TensorSpec
from ._util import require
from .dispatch import bind, primitive


def _infer(x, message):
    require("check_numerics", x, "f", "a floating-point")
    return TensorSpec(x.shape, x.dtype)


def _grad(g, out, x, message):
    # TensorFlow's gradient of CheckNumerics: the gradient is checked too, under the same message.
    return (check_numerics(g, "Not a number (NaN) or infinity (Inf) values detected in gradient. " + message),)


_check = primitive("check_numerics", _infer, _grad)


def check_numerics(tensor, message, name=None):
    """`tf.debugging.check_numerics`: `tensor` unchanged; InvalidArgumentError "<message> : Tensor had NaN
    values" (or Inf) if it holds any, naming the line that called it."""
    from .creation import convert_to_tensor
    return bind(_check, convert_to_tensor(tensor), message=str(message))
