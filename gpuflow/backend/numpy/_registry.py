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
    if not isinstance(like, np.dtype):  # the common caller passes an array's dtype: skip np.dtype()
        like = np.dtype(like)
    if type(result) is not np.ndarray:  # a NumPy scalar from a full reduction
        result = np.asarray(result)
    return result.astype(like, copy=False) if like in _COMPUTE else result


try:  # NumPy >= 2: np.errstate keeps its state in this context variable
    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj
    _IGNORE_ALL = _make_extobj(all="ignore")
except ImportError:  # older NumPy: the public context manager
    _extobj_contextvar = None


class quiet:
    """`with quiet():` is `with np.errstate(all="ignore"):` (TF does not warn on inf/NaN results) at a
    tenth of its cost: np.errstate builds its state anew on every entry, ~2 us, which was a fifth of
    a tiny op's whole time on cpu. Here the state is built once and only switched in and out."""
    __slots__ = ("_token", "_fallback")

    def __enter__(self):
        if _extobj_contextvar is None:
            self._fallback = np.errstate(all="ignore")
            self._fallback.__enter__()
        else:
            self._token = _extobj_contextvar.set(_IGNORE_ALL)

    def __exit__(self, *exc):
        if _extobj_contextvar is None:
            self._fallback.__exit__(*exc)
        else:
            _extobj_contextvar.reset(self._token)
