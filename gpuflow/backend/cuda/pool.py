"""2-D max/average pooling on cuda/sim: one launch of kernels/pool.cu each (see its contract)."""
from __future__ import annotations

import numpy as np

from ... import dtypes
from ._registry import impl
from .movement import BLOCK
from .storage import ctype, dtype_of

FILE = "pool.cu"


def _out_hw(h, w, pool_size, strides, pads):
    return ((h + pads[0] + pads[1] - pool_size[0]) // strides[0] + 1,
            (w + pads[2] + pads[3] - pool_size[1]) // strides[1] + 1)


def _geometry(x_shape, pool_size, strides, pads):
    _, h, w, c = x_shape
    oh, ow = _out_hw(h, w, pool_size, strides, pads)
    return tuple(np.int64(v) for v in (h, w, c, oh, ow, pool_size[0], pool_size[1], strides[0], strides[1], pads[0],
                                      pads[2]))


def _launch(backend, name, like, n, arrays, geometry):
    if n:
        xp = backend.xp
        backend.kernel(FILE, f"{name}<{ctype(like)}>")(
            (backend.grid_for(n, BLOCK),), (BLOCK,), tuple(xp.ascontiguousarray(a) for a in arrays) + (np.int64(n),)
            + geometry)


@impl("max_pool2d")
def max_pool2d(backend, x, pool_size, strides, pads):
    n, h, w, c = x.shape
    shape = (n,) + _out_hw(h, w, pool_size, strides, pads) + (c,)
    y, argmax = backend.empty(shape, dtype_of(x)), backend.empty(shape, dtypes.int64)
    _launch(backend, "max_pool2d_fwd", x, y.size, (x, y, argmax), _geometry(x.shape, pool_size, strides, pads))
    return y, argmax


@impl("max_pool2d_grad")
def max_pool2d_grad(backend, g, argmax, input_shape, pool_size, strides, pads):
    dx = backend.empty(input_shape, dtype_of(g))
    _launch(backend, "max_pool2d_bwd", g, dx.size, (g, argmax, dx), _geometry(input_shape, pool_size, strides, pads))
    return dx


@impl("avg_pool2d")
def avg_pool2d(backend, x, pool_size, strides, pads):
    n, h, w, c = x.shape
    y = backend.empty((n,) + _out_hw(h, w, pool_size, strides, pads) + (c,), dtype_of(x))
    _launch(backend, "avg_pool2d_fwd", x, y.size, (x, y), _geometry(x.shape, pool_size, strides, pads))
    return y


@impl("avg_pool2d_grad")
def avg_pool2d_grad(backend, g, input_hw, pool_size, strides, pads):
    shape = (g.shape[0],) + tuple(input_hw) + (g.shape[3],)
    dx = backend.empty(shape, dtype_of(g))
    _launch(backend, "avg_pool2d_bwd", g, dx.size, (g, dx), _geometry(shape, pool_size, strides, pads))
    return dx
