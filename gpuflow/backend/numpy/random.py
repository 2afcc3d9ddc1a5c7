"""Random primitives on NumPy: the Philox streams of philox.py."""
from __future__ import annotations

import numpy as np

from . import philox
from ._registry import impl, narrow, widen


@impl("random_uniform")
def random_uniform(shape, dtype, key, offset):
    return philox.uniform(shape, dtype, key, offset)


@impl("random_normal")
def random_normal(shape, dtype, key, offset):
    return philox.normal(shape, dtype, key, offset)


@impl("truncated_normal")
def truncated_normal(shape, dtype, key, offset):
    return philox.truncated_normal(shape, dtype, key, offset)


@impl("dropout")
def dropout(x, rate, key, offset):
    wide = widen(x)
    scale = wide.dtype.type(1) / (wide.dtype.type(1) - wide.dtype.type(rate))
    out = np.where(philox.keep_mask(x.shape, rate, key, offset), wide * scale, wide.dtype.type(0))
    return narrow(out, x.dtype).astype(x.dtype, copy=False)
