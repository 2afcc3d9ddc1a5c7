"""Ops whose output size depends on the data: unique and unique_with_counts (where(condition), the
coordinates of the true elements, is with `where` in math.py). Each computes on the device and reads one
count back to the host (the output shape), like boolean_mask.

unique is a composition: it sorts, marks where the sorted values change, numbers the groups by a cumsum
and puts them back in order of first appearance by scatters and a sort of the groups' first positions."""
from __future__ import annotations

import collections

import numpy as np

from .. import devices, dtypes
from ..errors import InvalidArgumentError
from . import scan_prims, scatter_prims, sort_prims
from .array import concat, reshape, strided
from .creation import constant, fill, zeros
from .math import cast, not_equal, operands
from .movement import gather

__all__ = ["unique", "unique_with_counts"]

Unique = collections.namedtuple("Unique", ["y", "idx"])
UniqueWithCounts = collections.namedtuple("UniqueWithCounts", ["y", "idx", "count"])


def _on(like, make):
    with devices.device(like._device):
        return make()


def _unique(op, x, out_idx):
    t = operands(x)[0]
    if t.ndim != 1:
        raise InvalidArgumentError(f"{op}: x must be 1-D, got {t.dtype.name}{list(t.shape)}; reshape it to [-1] first")
    if t.dtype.is_bool:  # sorted as int32
        y, idx, counts = _unique(op, cast(t, dtypes.int32), out_idx)
        return cast(y, dtypes.bool), idx, counts
    n, out_idx = t.shape[0], dtypes.as_dtype(out_idx)
    if n == 0:
        empty = _on(t, lambda: zeros([0], out_idx))
        return t, empty, empty
    vals, perm = sort_prims.sort_with_indices(t, descending=False)
    changes = not_equal(strided(vals, (1,), (n,), (1,)), strided(vals, (0,), (n - 1,), (1,)))
    starts = concat([_on(t, lambda: fill([1], True)), changes], axis=0)
    group = scan_prims.cumsum(cast(starts, dtypes.int32), axis=0, exclusive=False, reverse=False) - 1
    count = int(group[-1].numpy()) + 1
    column = (lambda v: reshape(v, [-1, 1]))
    # the sort is stable, so the smallest position in a group is its first appearance
    first = scatter_prims.scatter_reduce(_on(t, lambda: fill((count, 1), np.int32(n))), group, column(perm),
                                         reduction="min", drop_negative=False, op=op)
    first_sorted, order = sort_prims.sort_with_indices(reshape(first, [count]), descending=False)
    ranks = scatter_prims.scatter_reduce(_on(t, lambda: zeros((count, 1), dtypes.int32)), order,
                                         _on(t, lambda: constant(np.arange(count, dtype=np.int32).reshape(-1, 1))),
                                         reduction="sum", drop_negative=False, op=op)
    idx = scatter_prims.scatter_reduce(_on(t, lambda: zeros((n, 1), dtypes.int32)), perm,
                                       gather(ranks, group, axis=0), reduction="sum", drop_negative=False, op=op)
    sizes = scatter_prims.scatter_reduce(_on(t, lambda: zeros((count, 1), dtypes.int32)), group,
                                         _on(t, lambda: fill((n, 1), np.int32(1))), reduction="sum",
                                         drop_negative=False, op=op)
    return (gather(t, first_sorted, axis=0), cast(reshape(idx, [n]), out_idx),
            cast(reshape(gather(sizes, order, axis=0), [count]), out_idx))


def unique(x, out_idx=dtypes.int32, name=None):
    """The distinct values of 1-D `x` in order of first appearance, and for each element of x the position of its
    value among them (tf.unique): x == gather(y, idx). Each NaN is distinct (NaN != NaN)."""
    y, idx, _ = _unique("unique", x, out_idx)
    return Unique(y, idx)


def unique_with_counts(x, out_idx=dtypes.int32, name=None):
    """unique plus how often each distinct value occurs (tf.unique_with_counts)."""
    return UniqueWithCounts(*_unique("unique_with_counts", x, out_idx))
