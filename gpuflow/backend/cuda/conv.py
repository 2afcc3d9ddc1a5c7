"""im2col / col2im on cuda/sim: one launch of kernels/conv.cu each (see its contract)."""
from __future__ import annotations

import numpy as np

from ._registry import impl
from .movement import BLOCK
from .storage import ctype, dtype_of

FILE = "conv.cu"


def _geometry(x_shape, cols_shape, strides, dilations, pads):
    _, h, w, c = x_shape
    _, oh, ow, kh, kw, _ = cols_shape
    return tuple(np.int64(v) for v in (h, w, c, oh, ow, kh, kw, strides[0], strides[1], dilations[0], dilations[1],
                                      pads[0], pads[2]))


def _launch(backend, name, src, out, geometry):
    n = out.size
    if n:
        backend.kernel(FILE, f"{name}<{ctype(src)}>")(
            (backend.grid_for(n, BLOCK),), (BLOCK,), (backend.xp.ascontiguousarray(src), out, np.int64(n)) + geometry)
    return out


@impl("im2col")
def im2col(backend, x, kernel_size, strides, dilations, pads):
    n, h, w, c = x.shape
    oh = (h + pads[0] + pads[1] - (kernel_size[0] - 1) * dilations[0] - 1) // strides[0] + 1
    ow = (w + pads[2] + pads[3] - (kernel_size[1] - 1) * dilations[1] - 1) // strides[1] + 1
    cols = backend.empty((n, oh, ow) + tuple(kernel_size) + (c,), dtype_of(x))
    return _launch(backend, "im2col", x, cols, _geometry(x.shape, cols.shape, strides, dilations, pads))


@impl("col2im")
def col2im(backend, cols, input_hw, kernel_size, strides, dilations, pads):
    n, c = cols.shape[0], cols.shape[5]
    x = backend.empty((n,) + tuple(input_hw) + (c,), dtype_of(cols))
    return _launch(backend, "col2im", cols, x, _geometry(x.shape, cols.shape, strides, dilations, pads))
