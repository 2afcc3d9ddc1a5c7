"""Grad rule of scatter_reduce (gpuflow/ops/scatter_prims.py), written in gpuflow ops."""
from __future__ import annotations

import numpy as np

from ... import devices, dtypes
from ... import ops
from ...ops import scatter_prims as _prims
from ...ops.dispatch import defgrad, grad_needed
from ...ops.movement import gather


def _on_device_of(like, make):
    with devices.device(like._device):
        return make()


def take_rows(x, ids):
    """x[ids] along axis 0, with zero rows for negative (dropped) ids."""
    if x.shape[0] == 0:  # every id was dropped
        return _on_device_of(x, lambda: ops.zeros((ids.shape[0],) + tuple(x.shape[1:]), x.dtype))
    negative = ops.less(ids, 0)
    rows = gather(x, ops.where(negative, ops.zeros_like(ids), ids), axis=0)
    keep = ops.reshape(ops.logical_not(negative), (-1,) + (1,) * (x.ndim - 1))
    return ops.where(keep, rows, ops.zeros_like(rows))


def _scatter_grad(g, out, base, ids, updates, reduction, drop_negative, op):
    params = dict(drop_negative=drop_negative, op=op)
    if reduction == "sum":
        return g, None, take_rows(g, ids) if grad_needed(_scatter_grad, 2) else None
    m, d = ids.shape[0], base.shape[0]
    if reduction == "update":
        # only the winning update of each row reaches the output; untouched rows keep base
        counts = _prims.scatter_reduce(_on_device_of(g, lambda: ops.zeros((d, 1), dtypes.int32)), ids,
                                _on_device_of(g, lambda: ops.ones((m, 1), dtypes.int32)), reduction="sum", **params)
        positions = _on_device_of(g, lambda: ops.constant(np.arange(m, dtype=np.int64).reshape(m, 1)))
        last = _prims.scatter_reduce(_on_device_of(g, lambda: ops.fill((d, 1), np.int64(-1))), ids, positions,
                              reduction="max", **params)
        wins = ops.equal(take_rows(last, ids), positions)
        g_base = ops.where(ops.greater(counts, 0), ops.zeros_like(g), g)
        return g_base, None, ops.where(wins, take_rows(g, ids), ops.zeros_like(updates))
    # max / min (TF's rule): the gradient is shared equally by the base and the updates equal to the result
    base_hits = ops.cast(ops.equal(base, out), g.dtype)
    kept = ops.cast(ops.reshape(ops.greater_equal(ids, 0), (m, 1)), g.dtype)
    update_hits = ops.cast(ops.equal(updates, take_rows(out, ids)), g.dtype) * kept
    hits = base_hits + _prims.scatter_reduce(ops.zeros_like(g), ids, update_hits, reduction="sum", **params)
    return g * base_hits / hits, None, take_rows(g / hits, ids) * update_hits


defgrad(_prims.scatter_reduce)(_scatter_grad)
