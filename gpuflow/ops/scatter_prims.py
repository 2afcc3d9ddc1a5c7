"""Scatter primitives: N-d indices flattened (with their range check), and one deterministic
scatter reduction that the gather_nd / scatter_nd / tensor_scatter_nd_* / segment ops share.

    ravel_index(indices (..., k), dims)   -> int64 (...): row-major positions in dims[:k]
    scatter_reduce(base (d, inner), ids (m,), updates (m, inner), reduction)
        -> base with each update combined into row ids[j]: 'sum', 'max', 'min', or 'update' (the
           update of the largest position j wins). drop_negative: negative ids are skipped (the
           unsorted_segment ops), else they are out of range like ids >= d.
An index out of range raises InvalidArgumentError naming `op`, the public op that asked. The grad rule:
gpuflow/autograd/grads/scatter.py."""
from __future__ import annotations

from .. import dtypes
from ..errors import InvalidArgumentError
from ..tensor import TensorSpec
from ._util import require, same_dtype
from .dispatch import primitive

REDUCTIONS = ("sum", "max", "min", "update")


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


scatter_reduce = primitive("scatter_reduce", _scatter_infer)
