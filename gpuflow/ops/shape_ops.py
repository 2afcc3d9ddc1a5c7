"""TF's shape helpers: shape_n, broadcast_static_shape and broadcast_dynamic_shape.

Shapes are small host values in gpuflow (gf.shape makes a constant, inside gf.function too), so the
broadcasting rule runs on the host and only the result becomes a tensor.
"""
from __future__ import annotations

import numpy as np

from .. import devices as _device
from .. import dtypes
from ..errors import InvalidArgumentError
from ..tensor import Tensor, TensorShape
from ..tensor.convert import convert_to_tensor
from .array import shape
from .creation import constant

__all__ = ["shape_n", "broadcast_static_shape", "broadcast_dynamic_shape"]


def shape_n(input, out_type=dtypes.int32, name=None):  # noqa: A002 - tf's argument name
    """`tf.shape_n`: a list with gf.shape(x, out_type) of each tensor in the list `input`."""
    if isinstance(input, Tensor) or not isinstance(input, (list, tuple)):
        raise TypeError(f"shape_n: input must be a list of tensors, got {type(input).__name__}; for one tensor "
                        f"use gf.shape(x)")
    return [shape(x, out_type=out_type) for x in input]


def broadcast_static_shape(shape_x, shape_y):
    """`tf.broadcast_static_shape`: the TensorShape that tensors of shapes `shape_x` and `shape_y` broadcast
    to (NumPy's rule), raising ValueError when they cannot. Unknown dimensions (None) are taken to fit: one
    meeting a size above 1 gives that size, otherwise None, as TF does."""
    x, y = TensorShape(shape_x), TensorShape(shape_y)
    out = []
    for a, b in zip(_padded(x, len(y)), _padded(y, len(x))):
        if a is None or b is None:
            known = a if b is None else b
            out.append(known if known is not None and known > 1 else None)
        elif a == b or b == 1:
            out.append(a)
        elif a == 1:
            out.append(b)
        else:
            raise ValueError(f"broadcast_static_shape: incompatible shapes {x} and {y}: each axis (aligned from the "
                             f"last) must have equal sizes or a 1 in either shape")
    return TensorShape(out)


def broadcast_dynamic_shape(shape_x, shape_y):
    """`tf.broadcast_dynamic_shape`: the shape (a 1-D int32 or int64 tensor, the inputs' dtype) that tensors
    of shapes `shape_x` and `shape_y` (1-D integer tensors or lists) broadcast to; InvalidArgumentError
    when they cannot.

        Differs from TF:
            The shapes are read back to the host, so inside gf.function they must be known when tracing (as
            gf.shape's results are), not computed from a traced tensor's values.
    """
    x, y = _shape_values(shape_x, "shape_x"), _shape_values(shape_y, "shape_y")
    if x.dtype != y.dtype:
        raise InvalidArgumentError(f"broadcast_dynamic_shape: shape_x is {x.dtype.name} and shape_y is "
                                   f"{y.dtype.name}; give both one dtype (gf.cast one of them)")
    xs, ys = x.numpy().tolist(), y.numpy().tolist()
    rank = max(len(xs), len(ys))
    a, b = np.array(_padded(xs, rank), np.int64), np.array(_padded(ys, rank), np.int64)
    if ((a != b) & (a != 1) & (b != 1)).any():
        raise InvalidArgumentError(f"broadcast_dynamic_shape: incompatible shapes {xs} and {ys}: each axis (aligned "
                                   f"from the last) must have equal sizes or a 1 in either shape")
    with _device.device(x._device):
        return constant(np.where(a == 1, b, a), dtype=x.dtype)


def _padded(dims, rank):
    """`dims` with 1s in front, up to `rank` entries (the broadcasting rule aligns shapes at the end)."""
    return [1] * (rank - len(dims)) + list(dims)


def _shape_values(value, what) -> Tensor:
    if not isinstance(value, Tensor):  # a list of ints takes TF's int32; [] (a 0-d tensor's shape) too
        value = convert_to_tensor(value if np.size(value) else np.zeros(0, np.int32))
    if value.ndim != 1 or value.dtype not in (dtypes.int32, dtypes.int64):
        raise InvalidArgumentError(f"broadcast_dynamic_shape: {what} must be a 1-D int32 or int64 shape tensor, got "
                                   f"{value.dtype.name}{list(value.shape)}; pass gf.shape(x) or a list of ints")
    return value
