"""TF's array functions made of other ops: sequence_mask, meshgrid, repeat and ensure_shape."""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..errors import InvalidArgumentError
from ..tensor import Tensor, TensorShape
from ..tensor.convert import tensor_on_device_of
from ._util import normalize_axis, require
from .array import broadcast_to, expand_dims, gather, reshape
from .creation import constant, range as _range
from .math import cast, less, operands, reduce_max


def _host_ints(op, value, what):
    """A Python int or a 1-D list of ints, read back when `value` is a tensor (the output's shape depends on it)."""
    array = np.asarray(value.numpy() if isinstance(value, Tensor) else value)
    if array.dtype.kind not in "iu":
        raise InvalidArgumentError(f"{op}: {what} must be integers, got {array.dtype}")
    return array


def sequence_mask(lengths, maxlen=None, dtype=dtypes.bool, name=None):
    """mask[..., j] = j < lengths[...], of shape lengths.shape + [maxlen], as tf.sequence_mask; without maxlen it
    is the largest length (read back to the host)."""
    lengths = operands(lengths)[0]
    require("sequence_mask", lengths, "iu", "an integer lengths")
    if maxlen is None:
        maxlen = int(reduce_max(lengths).numpy()) if lengths.shape.num_elements() else 0
    maxlen = int(_host_ints("sequence_mask", maxlen, "maxlen"))
    if maxlen < 0:
        raise InvalidArgumentError(f"sequence_mask: maxlen must be >= 0, got {maxlen}")
    positions = tensor_on_device_of(lengths, _range(maxlen, dtype=lengths.dtype))
    mask = less(positions, expand_dims(lengths, -1))
    dtype = dtypes.as_dtype(dtype)
    return mask if dtype == dtypes.bool else cast(mask, dtype)


def meshgrid(*args, **kwargs):
    """N-D coordinate grids from N 1-D tensors, as tf.meshgrid: indexing='xy' (the default) gives shape
    (len(args[1]), len(args[0]), len(args[2]), ...), 'ij' gives (len(args[0]), len(args[1]), ...)."""
    indexing = kwargs.pop("indexing", "xy")
    kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"meshgrid: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    tensors = [reshape(t, [-1]) for t in operands(*args)] if args else []
    axes = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        axes[0], axes[1] = 1, 0  # the first input varies along the columns
    shape = [0] * len(tensors)
    for t, axis in zip(tensors, axes):
        shape[axis] = t.shape[0]
    grids = []
    for t, axis in zip(tensors, axes):
        along = [1] * len(tensors)
        along[axis] = t.shape[0]
        grids.append(broadcast_to(reshape(t, along), shape))
    return grids


def repeat(input, repeats, axis=None, name=None):  # noqa: A002 - tf's argument name
    """Each element (axis None: of the flattened input) or each slice along `axis` repeated, as tf.repeat:
    `repeats` is one count for all or one per slice (read back to the host when a tensor)."""
    x = operands(input)[0]
    if axis is None:
        x, axis = reshape(x, [-1]), 0
    axis = normalize_axis("repeat", int(axis), x.ndim)
    counts = _host_ints("repeat", repeats, "repeats")
    n = x.shape[axis]
    if counts.ndim > 1 or (counts.ndim == 1 and counts.size not in (1, n)) or (counts < 0).any():
        raise InvalidArgumentError(f"repeat: repeats must be one count >= 0 or {n} of them (the size of axis {axis} "
                                   f"of {x.dtype.name}{list(x.shape)}), got {counts.tolist()}")
    index = np.repeat(np.arange(n, dtype=np.int64), np.broadcast_to(counts.reshape(-1), (n,)))
    return gather(x, tensor_on_device_of(x, constant(index)), axis=axis)


def ensure_shape(x, shape, name=None):
    """x itself, after checking that its shape fits `shape` (None for a dimension that may be anything), as
    tf.ensure_shape."""
    x = operands(x)[0]
    expected = TensorShape(shape)
    if len(expected) != x.ndim or any(e is not None and d is not None and e != d for e, d in zip(expected, x.shape)):
        raise InvalidArgumentError(f"ensure_shape: the shape of the tensor, {list(x.shape)}, is not compatible with "
                                   f"the expected shape {list(expected)}")
    return x
