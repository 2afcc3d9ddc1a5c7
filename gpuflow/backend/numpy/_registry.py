"""The cpu backend's table: primitive name → function(*arrays, **params) → array(s)."""
from __future__ import annotations

import functools

import ml_dtypes
import numpy as np

IMPLS: dict = {}

# float16/bfloat16 are computed in float32 and rounded once at the end, which is what our
# kernels do; it also keeps results independent of NumPy's own half-precision loops.
_COMPUTE = {np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16)}


def impl(*names):
    def register(fn):
        for name in names:
            IMPLS[name] = functools.partial(fn, name) if len(names) > 1 else fn
        return fn
    return register


def widen(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float32) if a.dtype in _COMPUTE else a


def narrow(result, like: np.dtype):
    return np.asarray(result).astype(like, copy=False) if np.dtype(like) in _COMPUTE else np.asarray(result)
