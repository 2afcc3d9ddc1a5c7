"""Sorting primitives, all along the last axis (the public ops move the axis there): a stable
sort (values only, or values and int32 positions) and a binary search in sorted rows.

Order: NaN after every number, as in NumPy; equal values keep their order, descending too. The grad
rules: gpuflow/autograd/grads/sort.py."""
from __future__ import annotations

from .. import dtypes
from ..errors import InvalidArgumentError
from ..tensor import TensorSpec
from ._util import require
from .dispatch import primitive


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


sort = primitive("sort", _sort_infer)
sort_with_indices = primitive("sort_with_indices", _pairs_infer, n_outputs=2)


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
