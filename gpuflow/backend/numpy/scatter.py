"""N-d index flattening and scatter reductions on NumPy (the reference for kernels/scatter.cu)."""
from __future__ import annotations

import numpy as np

from ...errors import InvalidArgumentError
from ._registry import impl, narrow, widen


def ravel_error(op, indices, dims, found_on_device=False):
    """The error for N-d indices outside dims; names the first few when they are known (host arrays)."""
    what = ""
    if indices is not None:
        rows = indices.reshape(-1, len(dims))
        bad = rows[((rows < 0) | (rows >= np.asarray(dims, np.int64))).any(-1)][:5]
        what = f" {bad.tolist()}"
    return InvalidArgumentError(f"{op}: indices{what} are out of range for the first {len(dims)} dims {list(dims)}; "
                                f"every index must lie in [0, dim) along its axis"
                                + (" (found by a check on the device, reported at the next read of a value to the "
                                   "host: later ops may have run since)" if found_on_device else ""))


def ids_error(op, ids, dim, drop_negative, found_on_device=False):
    what = ""
    if ids is not None:
        bad = ids[(ids >= dim) | ((ids < 0) & (not drop_negative))].reshape(-1)[:5]
        what = f" {bad.tolist()}"
    allowed = f"[0, {dim})" + (" (negative ids are dropped)" if drop_negative else "")
    return InvalidArgumentError(f"{op}: ids{what} are out of range: they must lie in {allowed}"
                                + (" (found by a check on the device, reported at the next read of a value to the "
                                   "host: later ops may have run since)" if found_on_device else ""))


def strides_of(dims):
    return np.cumprod((list(dims[1:]) + [1])[::-1])[::-1].astype(np.int64)


@impl("ravel_index")
def ravel_index(indices, dims, op):
    k = len(dims)
    if k == 0 or indices.size == 0:
        return np.zeros(indices.shape[:-1], np.int64)
    rows = indices.reshape(-1, k).astype(np.int64)
    if rows.size and ((rows < 0) | (rows >= np.asarray(dims, np.int64))).any():
        raise ravel_error(op, indices, dims)
    return (rows @ strides_of(dims)).reshape(indices.shape[:-1])


_AT = {"sum": np.add, "max": np.maximum, "min": np.minimum}


@impl("scatter_reduce")
def scatter_reduce(base, ids, updates, reduction, drop_negative, op):
    ids = ids.reshape(-1)
    dim = base.shape[0]
    out = widen(base).copy()  # half types combine in float32 and round once, as the kernel
    upd = widen(updates)
    if ids.size:
        lo, hi = ids.min(), ids.max()
        if hi >= dim or (lo < 0 and not drop_negative):
            raise ids_error(op, ids, dim, drop_negative)
        if lo < 0:  # dropped ids
            keep = ids >= 0
            ids, upd = ids[keep], upd[keep]
    if reduction == "update":  # the last update of each id wins
        last = ids.size - 1 - np.unique(ids[::-1], return_index=True)[1]
        out[ids[last]] = upd[last]
    else:
        _AT[reduction].at(out, ids, upd)
    return narrow(out, base.dtype)
