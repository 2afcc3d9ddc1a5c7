"""Grad rules of the sorting primitives (gpuflow/ops/sort_prims.py): the gradient goes back to where each value came from."""
from __future__ import annotations

import math

import numpy as np

from ... import devices, dtypes
from ... import ops
from ...ops import sort_prims as _prims
from ...ops.dispatch import defgrad
from ...ops.movement import scatter_add


def scatter_rows(g, idx, n):
    """The gradient of taking positions `idx` (..., k) from rows of length n: g (..., k) added back
    at those positions of a zero (..., n). One deterministic scatter_add over the flattened rows."""
    lead = tuple(g.shape[:-1])
    rows = math.prod(lead)
    index_dtype = dtypes.int64 if rows * n >= 2**31 else dtypes.int32
    with devices.device(g._device):
        offsets = ops.constant(np.arange(rows, dtype=index_dtype.np).reshape(lead + (1,)) * n)
    flat = ops.reshape(ops.cast(idx, index_dtype) + offsets, [-1])
    out = scatter_add(ops.reshape(g, [-1]), flat, axis=0, dim_size=rows * n)
    return ops.reshape(out, lead + (n,))


def _sort_grad(g, out, x, descending):
    idx = _prims.sort_with_indices(x, descending=descending)[1]
    return (scatter_rows(g, idx, x.shape[-1]),)


def _pairs_grad(g, out, x, descending):
    return (scatter_rows(g[0], out[1], x.shape[-1]),)


defgrad(_prims.sort)(_sort_grad)
defgrad(_prims.sort_with_indices)(_pairs_grad)
