"""Random primitives on cuda and sim: kernels/random.cu, the Philox streams of backend/numpy/philox.py."""
from __future__ import annotations

import numpy as np

from ..numpy.philox import split_key
from ._registry import impl
from .elementwise import dtype_of

FILE = "random.cu"
BLOCK = 256


def _counter_args(key, offset):
    k0, k1 = split_key(key)
    return np.uint32(k0), np.uint32(k1), np.uint32(offset & 0xFFFFFFFF)


def _draw(backend, kernel, shape, dtype, key, offset, per_thread):
    out = backend.empty(shape, dtype)
    n = out.size
    if n:
        work = -(-n // per_thread)
        backend.kernel(FILE, f"{kernel}<{dtype.ctype}>")((backend.grid_for(work, BLOCK),), (BLOCK,),
                                                        (out, np.int64(n), *_counter_args(key, offset)))
    return out


@impl("random_uniform")
def random_uniform(backend, shape, dtype, key, offset):
    return _draw(backend, "uniform", shape, dtype, key, offset, per_thread=4)  # one Philox block: 4 values


@impl("random_normal")
def random_normal(backend, shape, dtype, key, offset):
    return _draw(backend, "normal", shape, dtype, key, offset, per_thread=1)


@impl("truncated_normal")
def truncated_normal(backend, shape, dtype, key, offset):
    return _draw(backend, "truncated_normal", shape, dtype, key, offset, per_thread=1)


@impl("dropout")
def dropout(backend, x, rate, key, offset):
    dtype = dtype_of(x)
    y = backend.empty(x.shape, dtype)
    n = x.size
    if n:
        backend.kernel(FILE, f"dropout<{dtype.ctype}>")((backend.grid_for(-(-n // 4), BLOCK),), (BLOCK,),
                                                       (x, y, np.int64(n), *_counter_args(key, offset),
                                                        np.float64(rate)))
    return y
