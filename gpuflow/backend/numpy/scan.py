"""Cumulative sum, product and log-sum-exp on NumPy (half types in float32, rounded once)."""
from __future__ import annotations

import numpy as np

from ._registry import impl, narrow, quiet, widen

_ACCUMULATE = {"cumsum": (np.add, 0), "cumprod": (np.multiply, 1), "cumulative_logsumexp": (np.logaddexp, -np.inf)}


@impl("cumsum", "cumprod", "cumulative_logsumexp")
def cumulative(name, x, axis, exclusive, reverse):
    ufunc, identity = _ACCUMULATE[name]
    w = widen(x)
    if reverse:
        w = np.flip(w, axis)
    if exclusive and w.shape[axis]:
        head = np.full(w.shape[:axis] + (1,) + w.shape[axis + 1:], identity, w.dtype)
        w = np.concatenate([head, np.delete(w, -1, axis=axis)], axis=axis)
    with quiet():  # inf - inf inside logaddexp, overflowing products: values, as on the device
        out = ufunc.accumulate(w, axis=axis, dtype=w.dtype) if w.size else w.copy()
    if reverse:
        out = np.flip(out, axis)
    return narrow(np.ascontiguousarray(out), x.dtype)
