"""Public segment reductions with TensorFlow's names (unsorted_segment_*, segment_*) and bincount,
all one scatter_reduce of data rows into segment rows (deterministic: no atomics).

The sorted-id ops (segment_*) and bincount learn their output size from the data: they read one
or two scalars back to the host, as TF's shape inference needs the value too."""
from __future__ import annotations

import math

import numpy as np

from .. import devices, dtypes
from ..errors import InvalidArgumentError
from ..tensor import Symbol
from ..tensor.convert import tensor_on_device_of
from . import scatter_prims as sp
from ._util import host_int, require
from .array import reshape
from .creation import constant, fill, zeros
from .math import add, cast, greater, greater_equal, less, logical_and, maximum, multiply, operands, reduce_all, \
    reduce_max, reduce_min, where

__all__ = ["unsorted_segment_sum", "unsorted_segment_max", "unsorted_segment_min", "unsorted_segment_mean",
           "segment_sum", "segment_max", "segment_min", "segment_mean", "bincount", "confusion_matrix"]


def _segment_rows(op, data, segment_ids):
    x = operands(data)[0]
    ids = tensor_on_device_of(x, segment_ids, dtype_hint=dtypes.int32)
    require(op, ids, "i", "integer segment_ids")
    if tuple(ids.shape) != tuple(x.shape[:ids.ndim]):
        raise InvalidArgumentError(f"{op}: segment_ids {list(ids.shape)} must be a prefix of data's shape "
                                   f"{x.dtype.name}{list(x.shape)}")
    m = math.prod(ids.shape)
    return x, reshape(ids, [m]), reshape(x, (m, math.prod(x.shape[ids.ndim:]))), ids.ndim


def _unsorted(op, data, segment_ids, num_segments, reduction, empty):
    """Rows of data combined into num_segments rows by id; a segment no id names holds `empty`."""
    x, ids, rows, k = _segment_rows(op, data, segment_ids)
    n = host_int(num_segments)
    if n < 0:
        raise InvalidArgumentError(f"{op}: num_segments must be >= 0, got {n}")
    with devices.device(x._device):
        base = fill((n, rows.shape[1]), np.array(empty, x.dtype.np).item(), dtype=x.dtype)
    out = sp.scatter_reduce(base, ids, rows, reduction=reduction, drop_negative=True, op=op)
    return reshape(out, (n,) + tuple(x.shape[k:]))


def unsorted_segment_sum(data, segment_ids, num_segments, name=None):
    """Sums of the rows of `data` with each segment id (tf.math.unsorted_segment_sum); negative ids are dropped,
    ids >= num_segments are an error, an empty segment is 0."""
    return _unsorted("unsorted_segment_sum", data, segment_ids, num_segments, "sum", 0)


def unsorted_segment_max(data, segment_ids, num_segments, name=None):
    """Maxima per segment id (tf.math.unsorted_segment_max); an empty segment holds the dtype's lowest value."""
    x = operands(data)[0]
    return _unsorted("unsorted_segment_max", x, segment_ids, num_segments, "max", x.dtype.min)


def unsorted_segment_min(data, segment_ids, num_segments, name=None):
    """Minima per segment id (tf.math.unsorted_segment_min); an empty segment holds the dtype's highest value."""
    x = operands(data)[0]
    return _unsorted("unsorted_segment_min", x, segment_ids, num_segments, "min", x.dtype.max)


def _counts(op, x, segment_ids, num_segments):
    """How many rows each segment gets, shaped to broadcast against the segment results."""
    _, ids, rows, k = _segment_rows(op, x, segment_ids)
    with devices.device(x._device):
        ones = fill((rows.shape[0], 1), 1, dtype=x.dtype)
    counts = unsorted_segment_sum(ones, ids, num_segments)
    return reshape(counts, (-1,) + (1,) * (x.ndim - k))


def unsorted_segment_mean(data, segment_ids, num_segments, name=None):
    """Means per segment id (tf.math.unsorted_segment_mean); an empty segment is 0. Floating dtypes only."""
    x = operands(data)[0]
    require("unsorted_segment_mean", x, "f", "a floating-point")
    total = unsorted_segment_sum(x, segment_ids, num_segments)
    return total / maximum(_counts("unsorted_segment_mean", x, segment_ids, num_segments), 1)


def _sorted_count(op, segment_ids, like):
    """num_segments for sorted ids (the last id + 1), checking they are sorted and non-negative: one host read."""
    ids = reshape(tensor_on_device_of(like, segment_ids, dtype_hint=dtypes.int32), [-1])
    require(op, ids, "i", "integer segment_ids")
    if ids.shape[0] == 0:
        return 0
    ordered = reduce_all(ids[1:] >= ids[:-1]) if ids.shape[0] > 1 else True
    lo, hi = int(reduce_min(ids).numpy()), int(reduce_max(ids).numpy())
    if lo < 0 or not bool(ordered if isinstance(ordered, bool) else ordered.numpy()):
        raise InvalidArgumentError(f"{op}: segment_ids must be sorted and non-negative (smallest is {lo}); use "
                                   f"gf.math.unsorted_{op} for ids in any order")
    return hi + 1


def _sorted(op, data, segment_ids, unsorted, empty_is_zero):
    x = operands(data)[0]
    n = _sorted_count(op, segment_ids, x)
    out = unsorted(x, segment_ids, n)
    if empty_is_zero:  # TF's segment_max/min give 0 to a segment without rows (the unsorted ones do not)
        out = where(greater(_counts(op, x, segment_ids, n), 0), out, 0)
    return out


def segment_sum(data, segment_ids, name=None):
    """Sums per segment (tf.math.segment_sum): segment_ids sorted, non-negative; the output has max id + 1 rows."""
    return _sorted("segment_sum", data, segment_ids, unsorted_segment_sum, False)


def segment_mean(data, segment_ids, name=None):
    """Means per segment (tf.math.segment_mean), ids sorted; an empty segment is 0."""
    return _sorted("segment_mean", data, segment_ids, unsorted_segment_mean, False)


def segment_max(data, segment_ids, name=None):
    """Maxima per segment (tf.math.segment_max), ids sorted; an empty segment is 0."""
    return _sorted("segment_max", data, segment_ids, unsorted_segment_max, True)


def segment_min(data, segment_ids, name=None):
    """Minima per segment (tf.math.segment_min), ids sorted; an empty segment is 0."""
    return _sorted("segment_min", data, segment_ids, unsorted_segment_min, True)


def bincount(arr, weights=None, minlength=None, maxlength=None, dtype=dtypes.int32, name=None, axis=None,
             binary_output=False):
    """Counts of each non-negative integer in `arr` (tf.math.bincount), or the sums of `weights` at each;
    the output has max(arr) + 1 bins (at least minlength, at most maxlength: larger values are skipped).
    axis=-1 counts each row of a 2-D arr apart. Reads the largest value back to the host."""
    a = operands(arr)[0]
    require("bincount", a, "i", "an integer")
    if axis not in (None, -1, 0) or (axis in (-1,) and a.ndim != 2) or (axis == 0 and a.ndim > 1):
        raise InvalidArgumentError(f"bincount: axis must be None (all of arr) or -1 (each row of a 2-D arr), got "
                                   f"axis={axis} for {list(a.shape)}")
    if binary_output and weights is not None:
        raise InvalidArgumentError("bincount: binary_output and weights cannot be used together")
    flat = reshape(a, [-1])
    size = a.shape.num_elements()
    lo, hi = (int(reduce_min(flat).numpy()), int(reduce_max(flat).numpy())) if size else (0, -1)
    if lo < 0:
        raise InvalidArgumentError(f"bincount: arr must be non-negative, found {lo}")
    bins = max(hi + 1, 0 if minlength is None else host_int(minlength))
    if maxlength is not None:
        bins = min(bins, host_int(maxlength))
    if weights is None:
        with devices.device(a._device):
            values = fill(a.shape, 1, dtype=dtypes.as_dtype(dtype))
    else:
        values = tensor_on_device_of(a, weights)
        if tuple(values.shape) != tuple(a.shape):
            raise InvalidArgumentError(f"bincount: weights {list(values.shape)} must have arr's shape {list(a.shape)}")
    ids = where(flat < bins, flat, -1)  # values past maxlength are skipped
    rows = 1
    if axis == -1:
        rows = a.shape[0]
        with devices.device(a._device):
            offsets = constant(np.repeat(np.arange(rows, dtype=np.int64) * bins, a.shape[1]))
        ids = where(ids >= 0, cast(ids, dtypes.int64) + offsets, -1)
    with devices.device(a._device):
        base = zeros((rows * bins, 1), values.dtype)
    out = sp.scatter_reduce(base, ids, reshape(values, [-1, 1]), reduction="sum", drop_negative=True, op="bincount")
    out = reshape(out, (rows, bins) if axis == -1 else (bins,))
    return cast(greater(out, 0), values.dtype) if binary_output else out


def confusion_matrix(labels, predictions, num_classes=None, weights=None, dtype=dtypes.int32, name=None):
    """[num_classes, num_classes] counts (or summed `weights`) of each (label, prediction) pair, rows the labels,
    as tf.math.confusion_matrix. Without num_classes it is max(labels, predictions) + 1, read back to the host
    (so a gf.function must give it). A label or prediction outside [0, num_classes) is an error."""
    labels = operands(labels)[0]
    predictions = tensor_on_device_of(labels, predictions, dtype_hint=labels.dtype)
    for what, t in (("labels", labels), ("predictions", predictions)):
        require("confusion_matrix", t, "i", f"integer {what} as the")
    if labels.ndim != 1 or tuple(predictions.shape) != tuple(labels.shape):
        raise InvalidArgumentError(f"confusion_matrix: labels and predictions must be 1-D and of one length, got "
                                   f"{list(labels.shape)} and {list(predictions.shape)}")
    labels, predictions = cast(labels, dtypes.int64), cast(predictions, dtypes.int64)
    eager = not isinstance(labels._data, Symbol) and not isinstance(predictions._data, Symbol)
    if num_classes is None or eager:  # one read of the extremes: the size, and an error that says which values
        lo, hi = (int(v) for v in (reduce_min(labels).numpy(), reduce_max(labels).numpy())) if labels.shape[0] \
            else (0, -1)
        plo, phi = (int(v) for v in (reduce_min(predictions).numpy(), reduce_max(predictions).numpy())) \
            if labels.shape[0] else (0, -1)
        n = max(hi, phi) + 1 if num_classes is None else host_int(num_classes)
        if min(lo, plo) < 0 or max(hi, phi) >= n:
            raise InvalidArgumentError(f"confusion_matrix: labels ({lo} to {hi}) and predictions ({plo} to {phi}) "
                                       f"must lie in [0, {n}) (num_classes {n})")
    else:
        n = host_int(num_classes)
    # A pair outside the classes (only possible in a traced call) gets an id past the end: the scatter's error.
    valid = logical_and(logical_and(greater_equal(labels, 0), less(labels, n)),
                        logical_and(greater_equal(predictions, 0), less(predictions, n)))
    ids = where(valid, add(multiply(labels, n), predictions), n * n)
    with devices.device(labels._device):
        values = fill(tuple(labels.shape), 1, dtype=dtypes.as_dtype(dtype)) if weights is None else \
            cast(tensor_on_device_of(labels, weights), dtype)
    return reshape(_unsorted("confusion_matrix", values, ids, n * n, "sum", 0), (n, n))
