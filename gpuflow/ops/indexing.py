"""`tensor[...]`: NumPy basic indexing (ints, slices, None, Ellipsis) as one strided slice plus a
reshape; an integer tensor or list indexes axis 0 with gather; a bool tensor of the same
shape selects like tf.boolean_mask."""
from __future__ import annotations

import numpy as np

from ..errors import InvalidArgumentError
from ..tensor import Tensor
from .array import gather, reshape, strided

# What gf exports from this module (gpuflow/ops/__init__.py takes its __all__): a new public op goes here.
__all__ = ["boolean_mask"]


def _expand_ellipsis(key, rank):
    used = sum(1 for k in key if k is not None and k is not Ellipsis)
    if sum(1 for k in key if k is Ellipsis) > 1:
        raise IndexError("an index can only have one ellipsis ('...')")
    if used > rank:
        raise IndexError(f"too many indices ({used}) for a tensor of rank {rank}")
    out = []
    for k in key:
        out.extend([slice(None)] * (rank - used) if k is Ellipsis else [k])
    if Ellipsis not in key:
        out.extend([slice(None)] * (rank - used))
    return out


def getitem(x: Tensor, key):
    if isinstance(key, (Tensor, np.ndarray, list)):
        index = key if isinstance(key, Tensor) else np.asarray(key)
        if index.dtype == bool or getattr(index.dtype, "is_bool", False):
            return boolean_mask(x, index)
        return gather(x, index)
    key = key if isinstance(key, tuple) else (key,)
    begin, end, strides, out_shape = [], [], [], []
    axis = 0
    for k in _expand_ellipsis(key, x.ndim):
        if k is None:
            out_shape.append(1)
            continue
        size = x.shape[axis]
        if isinstance(k, slice):
            start, stop, step = k.indices(size)
            begin.append(start), end.append(stop), strides.append(step)
            out_shape.append(len(range(start, stop, step)))
        elif isinstance(k, (int, np.integer)) or (isinstance(k, Tensor) and k.ndim == 0):
            i = int(k)
            if not -size <= i < size:
                raise IndexError(f"index {i} is out of bounds for axis {axis} with size {size} "
                                 f"(tensor shape {list(x.shape)})")
            i %= size
            begin.append(i), end.append(i + 1), strides.append(1)
        else:
            raise IndexError(f"cannot index a tensor with {type(k).__name__} {k!r:.40}: use ints, slices, None, "
                             f"..., or an integer/bool tensor")
        axis += 1
    return reshape(strided(x, begin, end, strides), out_shape)


def boolean_mask(tensor, mask, axis=None, name=None):
    """Elements of `tensor` where `mask` is true, flattened over the mask's axes (tf.boolean_mask);
    the mask covers axes axis..axis+mask.ndim-1 (axis 0 by default)."""
    mask = np.asarray(mask.numpy() if isinstance(mask, Tensor) else mask, dtype=bool)
    axis = 0 if axis is None else int(axis) % max(tensor.ndim, 1)
    covered = tuple(tensor.shape[axis:axis + mask.ndim])
    if mask.ndim == 0 or tuple(mask.shape) != covered:
        raise InvalidArgumentError(f"boolean_mask: mask shape {list(mask.shape)} must match axes {axis}.."
                                   f"{axis + mask.ndim - 1} of {list(tensor.shape)} (got {list(covered)})")
    flat = reshape(tensor, tuple(tensor.shape[:axis]) + (-1,) + tuple(tensor.shape[axis + mask.ndim:]))
    return gather(flat, np.flatnonzero(mask).astype(np.int64), axis=axis)
