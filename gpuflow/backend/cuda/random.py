"""Random primitives on cuda and sim: kernels/random.cu, the Philox streams of backend/numpy/philox.py.

The key goes to the kernels by value; the offset is the int64 device tensor the op was given, which the
kernels read themselves, so a replayed graph whose host feed uploads the next offset draws new numbers."""
from __future__ import annotations

import numpy as np

from ..numpy.philox import split_key
from ._registry import impl
from .storage import dtype_of

FILE = "random.cu"
BLOCK = 256


def _key_args(key):
    k0, k1 = split_key(key)
    return np.uint32(k0), np.uint32(k1)


def _draw(backend, kernel, offset, shape, dtype, key, per_thread):
    out = backend.empty(shape, dtype)
    n = out.size
    if n:
        work = -(-n // per_thread)
        backend.kernel(FILE, f"{kernel}<{dtype.ctype}>")((backend.grid_for(work, BLOCK),), (BLOCK,),
                                                        (out, np.int64(n), *_key_args(key), offset))
    return out


@impl("random_uniform")
def random_uniform(backend, offset, shape, dtype, key):
    return _draw(backend, "uniform", offset, shape, dtype, key, per_thread=4)  # one Philox block: 4 values


@impl("random_normal")
def random_normal(backend, offset, shape, dtype, key):
    return _draw(backend, "normal", offset, shape, dtype, key, per_thread=1)


@impl("truncated_normal")
def truncated_normal(backend, offset, shape, dtype, key):
    return _draw(backend, "truncated_normal", offset, shape, dtype, key, per_thread=1)


@impl("dropout")
def dropout(backend, x, offset, rate, key):
    dtype = dtype_of(x)
    y = backend.empty(x.shape, dtype)
    n = x.size
    if n:
        backend.kernel(FILE, f"dropout<{dtype.ctype}>")((backend.grid_for(-(-n // 4), BLOCK),), (BLOCK,),
                                                       (x, y, np.int64(n), *_key_args(key), offset,
                                                        np.float64(rate)))
    return y
