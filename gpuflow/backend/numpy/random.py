"""Random primitives on NumPy: the Philox streams of philox.py. The offset comes as a one-element int64
array (the op's offset tensor), as the kernels take it."""
from __future__ import annotations

import numpy as np

from . import philox
from ._registry import impl, narrow, widen


def _counter(offset) -> int:
    return int(np.asarray(offset).reshape(-1)[0]) & 0xFFFFFFFF  # the kernels' (unsigned)offset[0]


@impl("random_uniform")
def random_uniform(offset, shape, dtype, key):
    return philox.uniform(shape, dtype, key, _counter(offset))


@impl("random_normal")
def random_normal(offset, shape, dtype, key):
    return philox.normal(shape, dtype, key, _counter(offset))


@impl("truncated_normal")
def truncated_normal(offset, shape, dtype, key):
    return philox.truncated_normal(shape, dtype, key, _counter(offset))


@impl("dropout")
def dropout(x, offset, rate, key):
    wide = widen(x)
    scale = wide.dtype.type(1) / (wide.dtype.type(1) - wide.dtype.type(rate))
    out = np.where(philox.keep_mask(x.shape, rate, key, _counter(offset)), wide * scale, wide.dtype.type(0))
    return narrow(out, x.dtype).astype(x.dtype, copy=False)
