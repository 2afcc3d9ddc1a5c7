"""Scatter primitives: N-d indices flattened (with their range check), and one deterministic
scatter reduction that the gather_nd / scatter_nd / tensor_scatter_nd_* / segment ops share.

    ravel_index(indices (..., k), dims)   -> int64 (...): row-major positions in dims[:k]
    scatter_reduce(base (d, inner), ids (m,), updates (m, inner), reduction)
        -> base with each update combined into row ids[j]: 'sum', 'max', 'min', or 'update' (the
           update of the largest position j wins). drop_negative: negative ids are skipped (the
           unsorted_segment ops), else they are out of range like ids >= d.
An index out of range raises InvalidArgumentError naming `op`, the public op that asked."""
from __future__ import annotations

import numpy as np

from .. import devices, dtypes
from ..errors import InvalidArgumentError
from ..tensor import TensorSpec
from ._util import require, same_dtype
from .dispatch import grad_needed, primitive
from .movement import gather

REDUCTIONS = ("sum", "max", "min", "update")


def _ops():
    from .. import ops
    return ops


def _ravel_infer(indices, dims, op):
    require(op, indices, "i", "integer indices")
    if len(indices.shape) == 0 or indices.shape[-1] != len(dims):
        raise InvalidArgumentError(f"{op}: indices {indices.dtype.name}{list(indices.shape)} need a last axis of "
                                   f"size {len(dims)}, one coordinate per indexed dim of {list(dims)}")
    return TensorSpec(indices.shape[:-1], dtypes.int64)


ravel_index = primitive("ravel_index", _ravel_infer)


def _scatter_infer(base, ids, updates, reduction, drop_negative, op):
    same_dtype(op, base, updates)
    require(op, base, "fi", "a numeric")
    require(op, ids, "i", "integer indices")
    if reduction not in REDUCTIONS:
        raise InvalidArgumentError(f"{op}: reduction {reduction!r} is not one of {list(REDUCTIONS)}")
    if len(base.shape) != 2 or len(ids.shape) != 1 or tuple(updates.shape) != (ids.shape[0], base.shape[1]):
        raise InvalidArgumentError(f"{op}: scatter_reduce needs base (d, inner), ids (m,) and updates (m, inner); got "
                                   f"{list(base.shape)}, {list(ids.shape)} and {list(updates.shape)}")
    return TensorSpec(base.shape, base.dtype)


def _on_device_of(like, make):
    with devices.device(like._device):
        return make()


def take_rows(x, ids):
    """x[ids] along axis 0, with zero rows for negative (dropped) ids."""
    ops = _ops()
    if x.shape[0] == 0:  # every id was dropped
        return _on_device_of(x, lambda: ops.zeros((ids.shape[0],) + tuple(x.shape[1:]), x.dtype))
    negative = ops.less(ids, 0)
    rows = gather(x, ops.where(negative, ops.zeros_like(ids), ids), axis=0)
    keep = ops.reshape(ops.logical_not(negative), (-1,) + (1,) * (x.ndim - 1))
    return ops.where(keep, rows, ops.zeros_like(rows))


def _scatter_grad(g, out, base, ids, updates, reduction, drop_negative, op):
    ops = _ops()
    params = dict(drop_negative=drop_negative, op=op)
    if reduction == "sum":
        return g, None, take_rows(g, ids) if grad_needed(_scatter_grad, 2) else None
    m, d = ids.shape[0], base.shape[0]
    if reduction == "update":
        # only the winning update of each row reaches the output; untouched rows keep base
        counts = scatter_reduce(_on_device_of(g, lambda: ops.zeros((d, 1), dtypes.int32)), ids,
                                _on_device_of(g, lambda: ops.ones((m, 1), dtypes.int32)), reduction="sum", **params)
        positions = _on_device_of(g, lambda: ops.constant(np.arange(m, dtype=np.int64).reshape(m, 1)))
        last = scatter_reduce(_on_device_of(g, lambda: ops.fill((d, 1), np.int64(-1))), ids, positions,
                              reduction="max", **params)
        wins = ops.equal(take_rows(last, ids), positions)
        g_base = ops.where(ops.greater(counts, 0), ops.zeros_like(g), g)
        return g_base, None, ops.where(wins, take_rows(g, ids), ops.zeros_like(updates))
    # max / min (TF's rule): the gradient is shared equally by the base and the updates equal to the result
    base_hits = ops.cast(ops.equal(base, out), g.dtype)
    kept = ops.cast(ops.reshape(ops.greater_equal(ids, 0), (m, 1)), g.dtype)
    update_hits = ops.cast(ops.equal(updates, take_rows(out, ids)), g.dtype) * kept
    hits = base_hits + scatter_reduce(ops.zeros_like(g), ids, update_hits, reduction="sum", **params)
    return g * base_hits / hits, None, take_rows(g / hits, ids) * update_hits


scatter_reduce = primitive("scatter_reduce", _scatter_infer, _scatter_grad)
