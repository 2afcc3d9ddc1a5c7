"""Public sorting and selection ops with TensorFlow's names: sort, argsort, top_k, searchsorted.

Each moves the axis it works along to the end (a transpose, when it is not there already) and
calls a primitive of sort_prims.py."""
from __future__ import annotations

import collections

from .. import dtypes
from ..errors import InvalidArgumentError
from ..tensor.convert import tensor_on_device_of
from . import sort_prims
from ._util import host_int, normalize_axis
from .array import gather, strided, transpose
from .math import cast, greater, is_finite, less, logical_and, operands, reduce_all, reduce_sum, where

__all__ = ["sort", "argsort", "top_k", "in_top_k", "searchsorted"]

TopKV2 = collections.namedtuple("TopKV2", ["values", "indices"])


def _direction(op, direction) -> bool:
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValueError(f"{op}: direction must be 'ASCENDING' or 'DESCENDING', got {direction!r}")
    return direction == "DESCENDING"


def _along(x, axis, op, fn):
    """fn(x with `axis` moved last) with every result's last axis moved back to `axis`."""
    if x.ndim == 0:
        raise InvalidArgumentError(f"{op}: input is a 0-d {x.dtype.name}[] tensor, which has no axis to sort "
                                   f"along; reshape it to [1] first")
    axis = normalize_axis(op, int(axis), x.ndim)
    if axis == x.ndim - 1:
        return fn(x)
    perm = [a for a in range(x.ndim) if a != axis] + [axis]
    back = list(range(axis)) + [x.ndim - 1] + list(range(axis, x.ndim - 1))
    out = fn(transpose(x, perm))
    return tuple(transpose(o, back) for o in out) if isinstance(out, tuple) else transpose(out, back)


def sort(values, axis=-1, direction="ASCENDING", name=None):
    """Sorts `values` along `axis` (tf.sort). NaN sorts after every number (before, descending).

    Differs from TF: TF leaves the place of NaN unspecified; gpuflow follows NumPy."""
    x = operands(values)[0]
    descending = _direction("sort", direction)
    return _along(x, axis, "sort", lambda t: sort_prims.sort(t, descending=descending))


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None):
    """The int32 positions that sort `values` along `axis` (tf.argsort). Always stable: equal values
    keep their order, in either direction (so `stable=False` gives a stable order too)."""
    x = operands(values)[0]
    descending = _direction("argsort", direction)
    return _along(x, axis, "argsort", lambda t: sort_prims.sort_with_indices(t, descending=descending)[1])


def top_k(input, k=1, sorted=True, index_type=dtypes.int32, name=None):  # noqa: A002 - tf's names
    """The k largest entries of each row (last axis) and their positions (tf.math.top_k), largest
    first; equal values come in order of position, so ties go to the lower index. `sorted=False` is
    accepted and gives them sorted too (TF allows any order then)."""
    x = operands(input)[0]
    k = host_int(k)
    if x.ndim == 0 or not 0 <= k <= x.shape[-1]:
        raise InvalidArgumentError(f"top_k: k = {k} must be in [0, {x.shape[-1] if x.ndim else 0}] (the size of the "
                                   f"last axis of {x.dtype.name}{list(x.shape)}), and the input needs rank >= 1")
    vals, idx = sort_prims.sort_with_indices(x, descending=True)
    end = tuple(x.shape[:-1]) + (k,)
    begin, steps = (0,) * x.ndim, (1,) * x.ndim
    idx = strided(idx, begin, end, steps)
    index_type = dtypes.as_dtype(index_type)
    if index_type is not dtypes.int32:
        idx = cast(idx, index_type)
    return TopKV2(strided(vals, begin, end, steps), idx)


def in_top_k(targets, predictions, k, name=None):
    """For each row of predictions [batch, classes], whether the class targets[row] is among its k largest, as
    tf.math.in_top_k: classes tied with the k-th largest count as in it, and a row with a non-finite prediction
    or a target outside [0, classes) gives False."""
    predictions = operands(predictions)[0]
    targets = tensor_on_device_of(predictions, targets)
    if predictions.ndim != 2 or targets.ndim != 1 or targets.shape[0] != predictions.shape[0] \
            or not predictions.dtype.is_floating or not targets.dtype.is_integer:
        raise InvalidArgumentError(
            f"in_top_k: needs float predictions [batch, classes] and integer targets [batch], got predictions "
            f"{predictions.dtype.name}{list(predictions.shape)} and targets {targets.dtype.name}{list(targets.shape)}")
    k = host_int(k)
    classes = predictions.shape[1]
    valid = logical_and(targets >= 0, less(targets, classes))
    safe = where(valid, targets, 0)  # a gather inside the rows; the invalid ones are answered False below
    target_scores = gather(predictions, safe[:, None], batch_dims=1)  # [batch, 1]
    above = reduce_sum(cast(greater(predictions, target_scores), dtypes.int32), axis=1)
    known = logical_and(valid, reduce_all(is_finite(predictions), axis=1))
    return logical_and(known, less(above, k))


def searchsorted(sorted_sequence, values, side="left", out_type=dtypes.int32, name=None):
    """For each of `values`, the position in its row of `sorted_sequence` (sorted along the last
    axis) where it would be inserted to keep the row sorted (tf.searchsorted): before equal entries
    with side='left', after them with side='right'."""
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    seq = operands(sorted_sequence)[0]
    vals = tensor_on_device_of(seq, values, dtype_hint=seq.dtype)
    return sort_prims.searchsorted(seq, vals, right=side == "right", out_type=dtypes.as_dtype(out_type))
