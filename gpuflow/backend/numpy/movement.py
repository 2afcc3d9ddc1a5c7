"""Data-movement primitives on NumPy. Results are always fresh C-contiguous arrays."""
from __future__ import annotations

import numpy as np

from ...errors import InvalidArgumentError
from ._registry import impl, narrow, widen


@impl("reshape")
def reshape(x, shape):
    return np.ascontiguousarray(x).reshape(shape).copy()


@impl("transpose")
def transpose(x, perm):
    return np.ascontiguousarray(np.transpose(x, perm))


@impl("broadcast_to")
def broadcast_to(x, shape):
    return np.ascontiguousarray(np.broadcast_to(x, shape))


@impl("concat")
def concat(*xs, axis):
    return np.concatenate(xs, axis=axis)


def _slices(begin, end, strides):
    return tuple(slice(b, e if e >= 0 else None, s) for b, e, s in zip(begin, end, strides))


@impl("strided_slice")
def strided_slice(x, begin, end, strides):
    return np.ascontiguousarray(x[_slices(begin, end, strides)])


@impl("strided_slice_grad")
def strided_slice_grad(g, shape, begin, end, strides):
    out = np.zeros(shape, g.dtype)
    out[_slices(begin, end, strides)] = g
    return out


@impl("pad")
def pad(x, paddings, constant_value, mode):
    if x.ndim == 0:  # np.pad cannot pad a scalar (nothing to pad: it is its own result)
        return x.copy()
    if mode == "CONSTANT":
        return np.pad(x, paddings, constant_values=constant_value)
    # Within the bounds infer enforces (one mirror per side), np.pad's modes are tf's.
    return np.pad(x, paddings, mode=mode.lower())


def check_indices(op, indices, size, shape, axis):
    """Shared by the cuda backend (its xp arrays answer min/max/masking the same way), so every
    device raises the same error, before anything is launched."""
    if indices.size and (indices.min() < 0 or indices.max() >= size):
        bad = indices[(indices < 0) | (indices >= size)].ravel()[:5]
        raise InvalidArgumentError(f"{op}: indices {bad.tolist()} are out of range [0, {size}) for axis {axis} of "
                                   f"shape {list(shape)}; clip them or fix how they are computed")


@impl("gather")
def gather(params, indices, axis):
    check_indices("gather", indices, params.shape[axis], params.shape, axis)
    return np.take(params, indices.astype(np.int64), axis=axis)


@impl("scatter_add")
def scatter_add(updates, indices, axis, dim_size):
    check_indices("scatter_add", indices, dim_size, updates.shape[:axis] + (dim_size,), axis)
    wide = widen(updates)  # half/bfloat16 sum in float32 and round once, like the kernel
    out = np.zeros(updates.shape[:axis] + (dim_size,) + updates.shape[axis + indices.ndim:], wide.dtype)
    moved = np.moveaxis(out, axis, 0)
    upd = np.moveaxis(wide.reshape(updates.shape[:axis] + (-1,) + updates.shape[axis + indices.ndim:]), axis, 0)
    np.add.at(moved, indices.reshape(-1), upd)
    return narrow(out, updates.dtype)


@impl("tile")
def tile(x, multiples):
    return np.tile(x, multiples)


@impl("one_hot")
def one_hot(indices, depth, on_value, off_value, axis, dtype):
    hit = np.expand_dims(indices, axis) == np.arange(depth).reshape([-1 if i == axis else 1
                                                                     for i in range(indices.ndim + 1)])
    return np.where(hit, on_value, off_value).astype(dtype.np)


@impl("copy_to")
def copy_to(x, source, dtype):
    return source.backend.to_numpy(x, dtype)


@impl("stop_gradient")
def stop_gradient(x):
    return x  # buffers are never written in place: sharing one is safe
