"""Reductions on NumPy (accumulating half/bfloat16 in float32, as the kernels do)."""
from __future__ import annotations

import numpy as np

from ._registry import impl, narrow, quiet, widen


def _logsumexp(x, axis, keepdims):
    if x.size == 0:
        return np.full(np.sum(x, axis=axis, keepdims=keepdims).shape, -np.inf, x.dtype)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _extreme(fn, identity):
    def reduce(x, axis, keepdims):
        # An empty reduction gives the identity (-inf for max, like TF), not NumPy's error.
        if x.size == 0 or any(x.shape[a] == 0 for a in axis):
            shape = np.sum(np.zeros(x.shape, np.int8), axis=axis, keepdims=keepdims).shape
            return np.full(shape, identity(x.dtype), x.dtype)
        return fn(x, axis=axis, keepdims=keepdims)
    return reduce


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _highest(dtype):
    return np.inf if dtype.kind == "f" else np.iinfo(dtype).max


# np.add.reduce is what np.sum calls (same dtype rules, same pairwise sums), minus a Python wrapper per call.
REDUCE = {"reduce_sum": np.add.reduce, "reduce_prod": np.prod, "reduce_logsumexp": _logsumexp,
          "reduce_max": _extreme(np.max, _lowest), "reduce_min": _extreme(np.min, _highest)}


@impl(*REDUCE)
def reduce(name, x, axes, keepdims):
    with quiet():
        out = REDUCE[name](widen(x), axis=axes, keepdims=keepdims)
    return narrow(out, x.dtype).astype(x.dtype, copy=False)


@impl("argmax", "argmin")
def arg_extreme(name, x, axis, output_type):
    fn = np.argmax if name == "argmax" else np.argmin
    return fn(x, axis=axis).astype(output_type.np)
