"""`gf.random`: seeds, and the draws that turn them into Philox keys and offsets.

As in TensorFlow, `set_seed(s)` makes the sequence of draws repeatable, and an op-level
`seed=` picks a separate repeatable stream; with no global seed, one is drawn from the OS.
"""
from __future__ import annotations

import os
import threading

from .. import devices as _device
from .. import dtypes
from . import random_prims as prims

_lock = threading.Lock()
_state = {"seed": int.from_bytes(os.urandom(4), "little"), "counters": {}}


def set_seed(seed):
    """Sets the global seed, as tf.random.set_seed: with an op `seed` it fixes that op's sequence, and
        ops without one get a fixed sequence too. Resets every op's draw counter.
    """
    with _lock:
        _state["seed"] = int(seed) & 0xFFFFFFFF
        _state["counters"] = {}


def get_global_seed() -> int:
    """The global seed last set with set_seed."""
    return _state["seed"]


def next_draw(op_seed=None):
    """(key, offset) for the next draw: key from the seeds, offset counting draws with that key."""
    with _lock:
        key = (_state["seed"] << 32) | ((int(op_seed) if op_seed is not None else 0x5EED) & 0xFFFFFFFF)
        offset = _state["counters"].get(key, 0)
        _state["counters"][key] = offset + 1
    return key, offset


def _draw(prim, shape, dtype, seed):
    dtype = dtypes.as_dtype(dtype)
    key, offset = next_draw(seed)
    shape = tuple(int(d) for d in (shape.numpy().tolist() if hasattr(shape, "numpy") else shape))
    return prim(shape=shape, dtype=dtype, key=key, offset=offset, device=_device.current())


def uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None, name=None):
    """Uniform samples in [minval, maxval) (default [0, 1)); integer dtypes need `maxval`.

        Philox draws: the same seeds give the same numbers on every device.
    """
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
    """Normal samples with `mean` and `stddev`. Philox draws: the same seeds give the same numbers on every device."""
    z = _draw(prims.random_normal, shape, dtype, seed)
    return z if (mean, stddev) == (0.0, 1.0) else z * stddev + mean


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Normal samples with `mean` and `stddev`, redrawn where more than two standard deviations from
        the mean, as in TF. Philox draws: the same on every device.
    """
    z = _draw(prims.truncated_normal, shape, dtype, seed)
    return z if (mean, stddev) == (0.0, 1.0) else z * stddev + mean
