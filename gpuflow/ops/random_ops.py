"""`gf.random`: seeds, and the draws that turn them into Philox keys and offsets.

As in TensorFlow, `set_seed(s)` makes the sequence of draws repeatable, and an op-level
`seed=` picks a separate repeatable stream; with no global seed, one is drawn from the OS.
"""
from __future__ import annotations

import os
import threading

import numpy as np

from .. import devices as _device
from .. import dtypes
from . import random_prims as prims
from .feeds import host_fed

_lock = threading.Lock()
_state = {"seed": int.from_bytes(os.urandom(4), "little"), "counters": {}}


def set_seed(seed):
    with _lock:
        _state["seed"] = int(seed) & 0xFFFFFFFF
        _state["counters"] = {}


def get_global_seed() -> int:
    return _state["seed"]


def next_draw(op_seed, device):
    """(key, offset) for the next draw on `device`: key from the seeds, offset an int64 0-d tensor counting
    draws with that key. Eagerly the offset is taken now; inside a gf.function trace the key is fixed (as TF
    fixes seeds at trace) and the offset is a feed, taken afresh on every call, so each call draws anew and a
    function's calls continue the eager sequence of draws."""
    with _lock:
        key = (_state["seed"] << 32) | ((int(op_seed) if op_seed is not None else 0x5EED) & 0xFFFFFFFF)
    return key, host_fed(_Offsets(key), dtypes.int64, device)


class _Offsets:
    """The host feed of a key's offsets: each call takes the next one (under the lock), a probe (tracing asks
    for the value's shape) only looks. Printed in a graph as `offsets(key=...)`."""
    __slots__ = ("key",)

    def __init__(self, key):
        self.key = key

    def __call__(self, probe=False):
        with _lock:
            offset = _state["counters"].get(self.key, 0)
            if not probe:
                _state["counters"][self.key] = offset + 1
        return np.asarray(offset, np.int64)

    def __repr__(self):
        return f"offsets(key={self.key:#x})"


def _draw(prim, shape, dtype, seed):
    dtype = dtypes.as_dtype(dtype)
    key, offset = next_draw(seed, _device.current())
    shape = tuple(int(d) for d in (shape.numpy().tolist() if hasattr(shape, "numpy") else shape))
    return prim(offset, shape=shape, dtype=dtype, key=key)


def uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None, name=None):
    dtype = dtypes.as_dtype(dtype)
    if dtype.is_integer:
        if maxval is None:
            raise ValueError("random.uniform: an integer dtype needs maxval")
        u = _draw(prims.random_uniform, shape, dtypes.float64, seed)
        from .math import cast, floor
        return cast(floor(u * float(maxval - minval)) + float(minval), dtype)
    u = _draw(prims.random_uniform, shape, dtype, seed)
    maxval = 1 if maxval is None else maxval
    return u if (minval, maxval) == (0, 1) else u * (maxval - minval) + minval


def normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    z = _draw(prims.random_normal, shape, dtype, seed)
    return z if (mean, stddev) == (0.0, 1.0) else z * stddev + mean


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    z = _draw(prims.truncated_normal, shape, dtype, seed)
    return z if (mean, stddev) == (0.0, 1.0) else z * stddev + mean
