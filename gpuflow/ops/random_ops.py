"""`gf.random`: seeds, and the draws that turn them into Philox keys and offsets.

TensorFlow's rules (tf.random.set_seed): a draw's key comes from the global seed and the op seed.
  - global seed set: repeatable; draws without an op seed share one stream, numbered by a counter
    that `set_seed` resets, so the same program gives the same numbers;
  - only the op seed set: TF's default global seed stands in, so the op repeats across runs;
  - neither: this process's random seed (different every run), refused under op determinism.
Host-side random choices (fit's shuffle, Dataset.shuffle) take their numbers from the same streams
(`host_generator`, `construction_seeds`), so `set_seed` alone makes a whole training run repeat.
Work spread over threads (a data pipeline's map, prefetch, PyDataset workers) draws inside a stream
of its own (`fork_stream`, `in_stream`), so thread timing cannot change which numbers it gets.
"""
from __future__ import annotations

import contextlib
import os
import threading

import numpy as np

from .. import determinism
from .. import devices as _device
from .. import dtypes
from . import random_prims as prims
from .creation import constant
from .feeds import host_fed

DEFAULT_GLOBAL_SEED = 87654321  # TF's DEFAULT_GRAPH_SEED
_UNSEEDED_OP = 0x5EED  # the op seed of draws without one: they all share that stream
_HOST_TAG = 1  # keeps host generators apart from other NumPy seeds built from the same key and offset

_MASK64 = (1 << 64) - 1

_lock = threading.Lock()
_local = threading.local()  # a thread's current stream (in_stream): (id, its own counters)
_state = {"seed": None, "process_seed": int.from_bytes(os.urandom(4), "little"), "counters": {}}


def set_seed(seed):
    """Sets the global seed, as tf.random.set_seed: with an op `seed` it fixes that op's sequence, and
        ops without one get a fixed sequence too. None unsets it. Resets every stream's draw counter.
    """
    with _lock:
        _state["seed"] = None if seed is None else int(seed) & 0xFFFFFFFF
        _state["counters"] = {}


def get_global_seed() -> int:
    """The global seed: the one set with set_seed, else this process's random one."""
    seed = _state["seed"]
    return _state["process_seed"] if seed is None else seed


def _key(op_seed, what) -> int:
    """The Philox key; `what` names the op for the error op determinism raises when nothing seeds it
    (None: not a draw of its own, e.g. a stream handed on, whose draws are checked when they happen)."""
    global_seed = _state["seed"]
    if global_seed is None:
        if op_seed is None and what is not None:
            determinism.require_seed(what)
        global_seed = _state["process_seed"] if op_seed is None else DEFAULT_GLOBAL_SEED
    op = _UNSEEDED_OP if op_seed is None else int(op_seed)
    return (global_seed << 32) | (op & 0xFFFFFFFF)


def next_draw(op_seed=None, device=None, what="random op"):
    """(key, offset) for the next draw on `device`: key from the seeds, offset an int64 0-d tensor counting
    draws with that key. Eagerly the offset is taken now; inside a gf.function trace the key is fixed (as TF
    fixes seeds at trace) and the offset is a feed, taken afresh on every call, so each call draws anew and a
    function's calls continue the eager sequence of draws."""
    key, offsets = _stream_key(op_seed, what)
    return key, host_fed(offsets, dtypes.int64, device or _device.current())


def _stream_key(op_seed, what):
    """The key of the next draw and the feed of its offsets, in the calling thread's stream if it has one."""
    stream = getattr(_local, "stream", None)
    with _lock:
        key = _key(op_seed, what)
        counters = None
        if stream is not None:  # a stream of its own (see in_stream): another key, counted apart
            key, counters = key ^ stream[0], stream[1]
    return key, _Offsets(key, counters)


def take_draw(op_seed=None, what="random op") -> tuple[int, int]:
    """(key, offset) as Python ints for a host-side choice (a shuffle's generator, a stream handed on), taken
    now: the next number of the same counts the device draws use."""
    key, offsets = _stream_key(op_seed, what)
    return key, int(offsets())


class _Offsets:
    """The host feed of a key's offsets: each call takes the next one (under the lock), a probe (tracing asks
    for the value's shape) only looks. `counters`: a stream's own counts, or None for the global ones (looked
    up on each call, so set_seed's fresh counts apply). Printed in a graph as `offsets(key=...)`."""
    __slots__ = ("key", "counters")

    def __init__(self, key, counters=None):
        self.key, self.counters = key, counters

    def __call__(self, probe=False):
        with _lock:
            counters = self.counters if self.counters is not None else _state["counters"]
            offset = counters.get(self.key, 0)
            if not probe:
                counters[self.key] = offset + 1
        return np.asarray(offset, np.int64)

    def __repr__(self):
        return f"offsets(key={self.key:#x})"


def fork_stream() -> int:
    """A stream id for work handed to other threads, taken (like a draw) from the caller's stream."""
    key, offset = take_draw(None, None)
    return _mix(key, offset)


@contextlib.contextmanager
def in_stream(stream_id: int, index: int | None = None):
    """Draws made inside come from stream `stream_id` (sub-stream `index`: an element's number), whichever
    thread runs them: work spread over threads then draws the same numbers whatever order it runs in."""
    previous = getattr(_local, "stream", None)
    _local.stream = (stream_id if index is None else _mix(stream_id, index), {})
    try:
        yield
    finally:
        _local.stream = previous


def _mix(a: int, b: int) -> int:
    """64 well-mixed bits from two ints (SplitMix64's finaliser over a + golden-ratio-stepped b)."""
    z = (a + 0x9E3779B97F4A7C15 * (b + 1)) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def host_generator(seed=None, what="random op") -> np.random.Generator:
    """A NumPy generator for one host-side random choice, numbered in the same stream as the device
    draws: `set_seed` makes the sequence of generators repeat, and no two share their numbers."""
    key, offset = take_draw(seed, what)
    return np.random.default_rng([key, offset, _HOST_TAG])


def construction_seeds(seed=None, what="random op") -> tuple[int, int]:
    """The seeds of an op whose seed is fixed when it is built (tf.data's shuffle): with an op seed the
    same pair every time (TF's (global, op) pair); without one, the next number of the global stream."""
    if seed is None:
        return take_draw(None, what)
    with _lock:
        return _key(seed, what), 0


def _draw(prim, shape, dtype, seed):
    key, offset = next_draw(seed, _device.current(), f"random.{prim.name.replace('random_', '')}")
    return prim(offset, shape=_static_shape(shape), dtype=dtypes.as_dtype(dtype), key=key)


def _stateless(seed, op):
    """A draw for tf.random.stateless_*: its key is the seed pair itself and its offset 0, so the same seed gives
    the same numbers, whatever was drawn before and on every device."""
    values = seed.numpy() if hasattr(seed, "numpy") else seed
    try:
        pair = [int(v) for v in np.asarray(values).reshape(-1)]
    except (TypeError, ValueError):
        raise ValueError(f"{op}: seed must be a shape [2] integer tensor or pair of ints known when the op is made "
                         f"(inside gf.function: a constant), got {seed!r:.80}") from None
    if len(pair) != 2:
        raise ValueError(f"{op}: seed must hold 2 integers, got {pair}")
    key = ((pair[0] & 0xFFFFFFFF) << 32) | (pair[1] & 0xFFFFFFFF)

    def draw(prim, shape, dtype):
        offset = constant(0, dtype=dtypes.int64)
        return prim(offset, shape=_static_shape(shape), dtype=dtypes.as_dtype(dtype), key=key)
    return draw


def _static_shape(shape):
    return tuple(int(d) for d in (shape.numpy().tolist() if hasattr(shape, "numpy") else shape))


def _uniform(draw, shape, minval, maxval, dtype, op):
    dtype = dtypes.as_dtype(dtype)
    if dtype.is_integer:
        if maxval is None:
            raise ValueError(f"{op}: an integer dtype needs maxval")
        u = draw(prims.random_uniform, shape, dtypes.float64)
        from .math import cast, floor
        return cast(floor(u * float(maxval - minval)) + float(minval), dtype)
    u = draw(prims.random_uniform, shape, dtype)
    maxval = 1 if maxval is None else maxval
    return u if (minval, maxval) == (0, 1) else u * (maxval - minval) + minval


def _scaled(z, mean, stddev):
    return z if (mean, stddev) == (0.0, 1.0) else z * stddev + mean


def uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None, name=None):
    """Uniform samples in [minval, maxval) (default [0, 1)); integer dtypes need `maxval`.

        Philox draws: the same seeds give the same numbers on every device.
    """
    return _uniform(lambda prim, s, d: _draw(prim, s, d, seed), shape, minval, maxval, dtype, "random.uniform")


def normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Normal samples with `mean` and `stddev`. Philox draws: the same seeds give the same numbers on every device."""
    return _scaled(_draw(prims.random_normal, shape, dtype, seed), mean, stddev)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Normal samples with `mean` and `stddev`, redrawn where more than two standard deviations from
        the mean, as in TF. Philox draws: the same on every device.
    """
    return _scaled(_draw(prims.truncated_normal, shape, dtype, seed), mean, stddev)


def stateless_uniform(shape, seed, minval=0, maxval=None, dtype=dtypes.float32, name=None, alg="auto_select"):
    """tf.random.stateless_uniform: uniform samples that depend only on `seed` (a pair of ints), not on any draw
    before: the same seed gives the same numbers (Philox, on every device). Integer dtypes need `maxval`.

        Differs from TF:
            The numbers are not TF's (another counter layout); `alg` is accepted and ignored.
    """
    return _uniform(_stateless(seed, "random.stateless_uniform"), shape, minval, maxval, dtype,
                    "random.stateless_uniform")


def stateless_normal(shape, seed, mean=0.0, stddev=1.0, dtype=dtypes.float32, name=None, alg="auto_select"):
    """tf.random.stateless_normal: normal samples that depend only on `seed` (a pair of ints).

        Differs from TF:
            The numbers are not TF's (another counter layout); `alg` is accepted and ignored.
    """
    return _scaled(_stateless(seed, "random.stateless_normal")(prims.random_normal, shape, dtype), mean, stddev)


def stateless_truncated_normal(shape, seed, mean=0.0, stddev=1.0, dtype=dtypes.float32, name=None,
                               alg="auto_select"):
    """tf.random.stateless_truncated_normal: truncated normal samples that depend only on `seed`.

        Differs from TF:
            The numbers are not TF's (another counter layout); `alg` is accepted and ignored.
    """
    return _scaled(_stateless(seed, "random.stateless_truncated_normal")(prims.truncated_normal, shape, dtype),
                   mean, stddev)
