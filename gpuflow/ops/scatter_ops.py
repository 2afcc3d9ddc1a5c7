"""Public N-d gathers and scatters with TensorFlow's names: gather_nd, scatter_nd and the
tensor_scatter_nd_* family.

indices (..., k) address the first k dims of the tensor; each is flattened to one row of a
(prod(dims[:k]), prod(dims[k:])) view by ravel_index (which checks every coordinate), so a
gather_nd is one gather of rows and a scatter one scatter_reduce of rows. Duplicate indices add
up (scatter_nd, _add), take the max / min, or the last one wins (_update), the same every run."""
from __future__ import annotations

import math

import numpy as np

from .. import devices, dtypes
from ..errors import InvalidArgumentError
from ..tensor import Tensor
from ..tensor.convert import tensor_on_device_of
from . import scatter_prims as sp
from ._util import require
from .array import concat
from .creation import constant, zeros
from .math import cast, negative, operands
from .movement import broadcast_to, gather
from .movement import reshape as _reshape


def _view(x, shape):
    """x in `shape` (same elements): itself when the shape already is it, which the hot paths usually hit."""
    shape = tuple(shape)
    return x if tuple(x.shape) == shape else _reshape(x, shape=shape)

__all__ = ["gather_nd", "scatter_nd", "tensor_scatter_nd_update", "tensor_scatter_nd_add", "tensor_scatter_nd_sub",
           "tensor_scatter_nd_max", "tensor_scatter_nd_min"]


def _indices(op, like, indices):
    idx = tensor_on_device_of(like, indices, dtype_hint=dtypes.int32)
    require(op, idx, "i", "integer indices")
    if idx.ndim == 0:
        raise InvalidArgumentError(f"{op}: indices must have rank >= 1 (their last axis holds the coordinates), got a "
                                   f"0-d {idx.dtype.name} tensor")
    return idx


def _rows(op, idx, shape):
    """The flat row of each index (int64, indices' leading shape flattened) and the rows' view shape."""
    k = idx.shape[-1]
    if k > len(shape):
        raise InvalidArgumentError(f"{op}: indices {list(idx.shape)} have {k} coordinates but the tensor of shape "
                                   f"{list(shape)} has only {len(shape)} dims")
    lin = sp.ravel_index(idx, dims=tuple(shape[:k]), op=op)
    return _view(lin, (lin.shape.num_elements(),)), (math.prod(shape[:k]), math.prod(shape[k:]))


def gather_nd(params, indices, batch_dims=0, name=None):
    """Slices of `params` at N-d `indices` (tf.gather_nd): indices (..., k) pick params[i0, ..., ik-1], so the
    result has shape indices.shape[:-1] + params.shape[k:]. The first `batch_dims` dims are shared by both."""
    x = operands(params)[0]
    idx = _indices("gather_nd", x, indices)
    b = int(batch_dims)
    if b:
        if not 0 < b < idx.ndim or tuple(x.shape[:b]) != tuple(idx.shape[:b]):
            raise InvalidArgumentError(f"gather_nd: batch_dims {b} needs indices {list(idx.shape)} of rank > {b} whose "
                                       f"first {b} dims equal those of params {list(x.shape)}")
        idx = concat([_batch_coordinates(idx, b), cast(idx, dtypes.int64)], axis=-1)
    lin, rows = _rows("gather_nd", idx, tuple(x.shape))
    out = gather(_view(x, rows), lin, axis=0)
    return _view(out, tuple(idx.shape[:-1]) + tuple(x.shape[idx.shape[-1]:]))


def _batch_coordinates(idx, b):
    """int64 (..., b): each index's own position in the first b dims."""
    lead = tuple(idx.shape[:-1])
    grids = np.stack(np.meshgrid(*[np.arange(d) for d in lead[:b]], indexing="ij"), -1)
    with devices.device(idx._device):
        coords = constant(grids.reshape(lead[:b] + (1,) * (len(lead) - b) + (b,)).astype(np.int64))
    return broadcast_to(coords, shape=lead + (b,))


def _scatter(op, tensor, indices, updates, reduction):
    t, u = operands(tensor, updates)
    idx = _indices(op, t, indices)
    k = idx.shape[-1]
    expected = tuple(idx.shape[:-1]) + tuple(t.shape[k:])
    if k <= t.ndim and tuple(u.shape) != expected:
        raise InvalidArgumentError(f"{op}: updates {u.dtype.name}{list(u.shape)} must have shape {list(expected)}: "
                                   f"indices.shape[:-1] + tensor.shape[{k}:] for indices {list(idx.shape)} into "
                                   f"{t.dtype.name}{list(t.shape)}")
    if t.dtype.is_bool and reduction == "update":  # bools move as int32
        return cast(_scatter(op, cast(t, dtypes.int32), idx, cast(u, dtypes.int32), reduction), dtypes.bool)
    lin, rows = _rows(op, idx, tuple(t.shape))
    out = sp.scatter_reduce(_view(t, rows), lin, _view(u, (lin.shape[0], rows[1])), reduction=reduction,
                            drop_negative=False, op=op)
    return _view(out, t.shape)


def scatter_nd(indices, updates, shape, name=None):
    """A zero tensor of `shape` with `updates` added at `indices` (tf.scatter_nd); duplicates add up."""
    u = operands(updates)[0]
    dims = [int(d) for d in (shape.numpy().tolist() if isinstance(shape, Tensor) else shape)]
    with devices.device(u._device):
        base = zeros(dims, u.dtype)
    return _scatter("scatter_nd", base, indices, u, "sum")


def tensor_scatter_nd_update(tensor, indices, updates, name=None):
    """`tensor` with the slices at `indices` replaced by `updates` (tf.tensor_scatter_nd_update); of duplicate
    indices the last update wins (TF leaves that order unspecified)."""
    return _scatter("tensor_scatter_nd_update", tensor, indices, updates, "update")


def tensor_scatter_nd_add(tensor, indices, updates, name=None):
    """`tensor` with `updates` added at `indices` (tf.tensor_scatter_nd_add)."""
    return _scatter("tensor_scatter_nd_add", tensor, indices, updates, "sum")


def tensor_scatter_nd_sub(tensor, indices, updates, name=None):
    """`tensor` with `updates` subtracted at `indices` (tf.tensor_scatter_nd_sub)."""
    t, u = operands(tensor, updates)
    return _scatter("tensor_scatter_nd_sub", t, indices, negative(u), "sum")


def tensor_scatter_nd_max(tensor, indices, updates, name=None):
    """The elementwise max of `tensor` and the `updates` at `indices` (tf.tensor_scatter_nd_max)."""
    return _scatter("tensor_scatter_nd_max", tensor, indices, updates, "max")


def tensor_scatter_nd_min(tensor, indices, updates, name=None):
    """The elementwise min of `tensor` and the `updates` at `indices` (tf.tensor_scatter_nd_min)."""
    return _scatter("tensor_scatter_nd_min", tensor, indices, updates, "min")
