"""tf.linspace: evenly spaced values between start and stop, both ends exact, built on the elementwise ops (so
gradients reach start and stop)."""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..errors import InvalidArgumentError
from ..tensor import Tensor
from ._util import host_int, normalize_axis
from .array import broadcast_to, concat, expand_dims, reshape
from .creation import constant, range as _range
from .math import cast, divide, operands, subtract
from .safe_math import floats

__all__ = ["linspace"]


def linspace(start, stop, num, name=None, axis=0):
    """`num` values from start to stop, evenly spaced, as tf.linspace: start + k * (stop - start) / (num - 1), with
    the last value exactly stop (num = 1: just start). start and stop may be tensors of one shape (or
    broadcastable): the values run along a new `axis` of the result. Python numbers give float32."""
    if not isinstance(start, Tensor) and not isinstance(stop, Tensor):
        start = constant(start, dtypes.float32 if np.asarray(start).dtype.kind in "iub" else None)
    start, stop = floats("linspace", *operands(start, stop))
    num = host_int(num)
    if num < 0:
        raise InvalidArgumentError(f"linspace: num must be >= 0, got {num}")
    shape = np.broadcast_shapes(tuple(start.shape), tuple(stop.shape))
    start, stop = broadcast_to(start, shape), broadcast_to(stop, shape)
    axis = normalize_axis("linspace", int(axis), len(shape) + 1)
    first, last = expand_dims(start, axis), expand_dims(stop, axis)
    if num == 0:
        return first[tuple([slice(None)] * axis + [slice(0, 0)])]
    parts = [first]
    if num > 2:
        steps = reshape(cast(_range(1, num - 1), start.dtype), [1] * axis + [num - 2] + [1] * (len(shape) - axis))
        parts.append(first + steps * expand_dims(divide(subtract(stop, start), float(num - 1)), axis))
    if num > 1:
        parts.append(last)
    return concat(parts, axis) if len(parts) > 1 else first
