"""Sorting primitives, all along the last axis (the public ops move the axis there): a stable
sort (values only, or values and int32 positions) and a binary search in sorted rows.

Order: NaN after every number, as in NumPy; equal values keep their order, descending too."""
from __future__ import annotations

import math

import numpy as np

from .. import devices, dtypes
from ..errors import InvalidArgumentError
from ..tensor import TensorSpec
from ._util import require
from .dispatch import primitive
from .movement import scatter_add


def _ops():
    from .. import ops
    return ops


def _check_rows(op, x):
    require(op, x, "fi", "a numeric")
    if len(x.shape) == 0:
        raise InvalidArgumentError(f"{op}: input is a 0-d {x.dtype.name}[] tensor; it needs at least one axis to "
                                   f"sort along (reshape it to [1])")


def _sort_infer(x, descending):
    _check_rows("sort", x)
    return TensorSpec(x.shape, x.dtype)


def _pairs_infer(x, descending):
    _check_rows("sort", x)
    return TensorSpec(x.shape, x.dtype), TensorSpec(x.shape, dtypes.int32)


def scatter_rows(g, idx, n):
    """The gradient of taking positions `idx` (..., k) from rows of length n: g (..., k) added back
    at those positions of a zero (..., n). One deterministic scatter_add over the flattened rows."""
    ops = _ops()
    lead = tuple(g.shape[:-1])
    rows = math.prod(lead)
    index_dtype = dtypes.int64 if rows * n >= 2**31 else dtypes.int32
    with devices.device(g._device):
        offsets = ops.constant(np.arange(rows, dtype=index_dtype.np).reshape(lead + (1,)) * n)
    flat = ops.reshape(ops.cast(idx, index_dtype) + offsets, [-1])
    out = scatter_add(ops.reshape(g, [-1]), flat, axis=0, dim_size=rows * n)
    return ops.reshape(out, lead + (n,))


def _sort_grad(g, out, x, descending):
    idx = sort_with_indices(x, descending=descending)[1]
    return (scatter_rows(g, idx, x.shape[-1]),)


def _pairs_grad(g, out, x, descending):
    return (scatter_rows(g[0], out[1], x.shape[-1]),)


sort = primitive("sort", _sort_infer, _sort_grad)
sort_with_indices = primitive("sort_with_indices", _pairs_infer, _pairs_grad, n_outputs=2)


def _search_infer(seq, values, right, out_type):
    if seq.dtype is not values.dtype:
        raise InvalidArgumentError(f"searchsorted: sorted_sequence {seq.dtype.name}{list(seq.shape)} and values "
                                   f"{values.dtype.name}{list(values.shape)} need one dtype; cast one of them")
    require("searchsorted", seq, "fi", "a numeric")
    if len(seq.shape) == 0 or len(values.shape) != len(seq.shape) or seq.shape[:-1] != values.shape[:-1]:
        raise InvalidArgumentError(
            f"searchsorted: sorted_sequence {list(seq.shape)} and values {list(values.shape)} need the same rank "
            f"(>= 1) and the same leading dimensions: the search runs along the last axis of each row")
    if out_type not in (dtypes.int32, dtypes.int64):
        raise InvalidArgumentError(f"searchsorted: out_type must be int32 or int64, got {out_type.name}")
    return TensorSpec(values.shape, out_type)


searchsorted = primitive("searchsorted", _search_infer)
