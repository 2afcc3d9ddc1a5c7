"""2-D max and average pooling (NHWC) on NumPy: Python loops only over the window's taps, each a
strided slice over every output position. half/bfloat16 are computed in float32 and rounded once."""
from __future__ import annotations

import numpy as np

from ._registry import impl, narrow, widen


def _out_hw(h, w, pool_size, strides, pads):
    return ((h + pads[0] + pads[1] - pool_size[0]) // strides[0] + 1,
            (w + pads[2] + pads[3] - pool_size[1]) // strides[1] + 1)


def _taps(pool_size):
    return [(a, b) for a in range(pool_size[0]) for b in range(pool_size[1])]


def _view(padded, a, b, strides, out_hw):
    oh, ow = out_hw
    return padded[:, a:a + (oh - 1) * strides[0] + 1:strides[0], b:b + (ow - 1) * strides[1] + 1:strides[1]]


def _pad(a, pads, value):
    return np.pad(a, ((0, 0), (pads[0], pads[1]), (pads[2], pads[3]), (0, 0)), constant_values=value)


@impl("max_pool2d")
def max_pool2d(x, pool_size, strides, pads):
    n, h, w, c = x.shape
    out_hw = _out_hw(h, w, pool_size, strides, pads)
    wide = widen(x)
    padded = _pad(wide, pads, 0)
    valid = _pad(np.ones((1, h, w, 1), bool), pads, False)
    # The flat index of every padded position in the unpadded input (meaningless where not valid).
    rows = np.arange(-pads[0], h + pads[1]).reshape(1, -1, 1, 1)
    cols = np.arange(-pads[2], w + pads[3]).reshape(1, 1, -1, 1)
    flat = ((np.arange(n).reshape(-1, 1, 1, 1) * h + rows) * w + cols) * c + np.arange(c)
    best = np.full((n,) + out_hw + (c,), -np.inf, wide.dtype)
    argmax = np.full(best.shape, -1, np.int64)
    for a, b in _taps(pool_size):  # row-major window order: strict '>' keeps the first maximum
        v, ok = _view(padded, a, b, strides, out_hw), _view(valid, a, b, strides, out_hw)
        take = ok & ((argmax < 0) | (v > best))
        best = np.where(take, v, best)
        argmax = np.where(take, np.broadcast_to(_view(flat, a, b, strides, out_hw), best.shape), argmax)
    return narrow(best, x.dtype), argmax


@impl("max_pool2d_grad")
def max_pool2d_grad(g, argmax, input_shape, pool_size, strides, pads):
    dx = np.zeros(int(np.prod(input_shape)), widen(g).dtype)
    np.add.at(dx, argmax.reshape(-1), widen(g).reshape(-1))
    return narrow(dx.reshape(input_shape), g.dtype)


def _counts(h, w, pool_size, strides, pads):
    """How many real (unpadded) elements each window holds: tf's 'same' average divides by this."""
    valid = _pad(np.ones((1, h, w, 1), np.int64), pads, 0)
    out_hw = _out_hw(h, w, pool_size, strides, pads)
    return sum(_view(valid, a, b, strides, out_hw) for a, b in _taps(pool_size))


@impl("avg_pool2d")
def avg_pool2d(x, pool_size, strides, pads):
    _, h, w, _ = x.shape
    out_hw = _out_hw(h, w, pool_size, strides, pads)
    padded = _pad(widen(x), pads, 0)
    total = sum(_view(padded, a, b, strides, out_hw) for a, b in _taps(pool_size))
    return narrow(total / _counts(h, w, pool_size, strides, pads).astype(total.dtype), x.dtype)


@impl("avg_pool2d_grad")
def avg_pool2d_grad(g, input_hw, pool_size, strides, pads):
    n, oh, ow, c = g.shape
    h, w = input_hw
    share = widen(g) / _counts(h, w, pool_size, strides, pads).astype(widen(g).dtype)
    padded = np.zeros((n, h + pads[0] + pads[1], w + pads[2] + pads[3], c), share.dtype)
    for a, b in _taps(pool_size):
        _view(padded, a, b, strides, (oh, ow))[...] += share
    return narrow(np.ascontiguousarray(padded[:, pads[0]:pads[0] + h, pads[2]:pads[2] + w]), g.dtype)
