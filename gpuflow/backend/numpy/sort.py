"""Sorting primitives on NumPy: stable sorts along the last axis, NaN after every number."""
from __future__ import annotations

import numpy as np

from ._registry import impl, widen


def stable_argsort(x, descending):
    """Positions sorting each row (last axis) stably. Descending keeps equal values in increasing
    position order: it is the ascending sort of the reversed row, read backwards."""
    if not descending:
        return np.argsort(x, axis=-1, kind="stable")
    n = x.shape[-1]
    return (n - 1) - np.argsort(x[..., ::-1], axis=-1, kind="stable")[..., ::-1]


@impl("sort")
def sort(x, descending):
    # Values only: NumPy's unstable sort gives the same values (equal ones are interchangeable).
    out = np.sort(widen(x), axis=-1)
    return np.ascontiguousarray(out[..., ::-1] if descending else out).astype(x.dtype, copy=False)


@impl("sort_with_indices")
def sort_with_indices(x, descending):
    idx = stable_argsort(widen(x), descending)
    return np.take_along_axis(x, idx, axis=-1), idx.astype(np.int32)


@impl("searchsorted")
def searchsorted(seq, values, right, out_type):
    side = "right" if right else "left"
    m = values.shape[-1]
    if values.size == 0:
        return np.zeros(values.shape, out_type.np)
    rows = values.size // m
    s2, v2 = widen(seq).reshape(rows, seq.shape[-1]), widen(values).reshape(rows, m)
    out = np.stack([np.searchsorted(s, v, side=side) for s, v in zip(s2, v2)])
    return out.astype(out_type.np).reshape(values.shape)
