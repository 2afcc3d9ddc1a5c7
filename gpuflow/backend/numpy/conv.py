"""im2col / col2im on NumPy: one strided slice of the padded input per kernel tap (KH*KW slices,
each moving N*OH*OW*C elements), so the loops in Python are only over the kernel window."""
from __future__ import annotations

import numpy as np

from ._registry import impl


def _tap(a, dh, dw, strides, out_hw):
    """The view of padded `a` read by kernel tap offset (dh, dw) for every output position."""
    oh, ow = out_hw
    return a[:, dh:dh + (oh - 1) * strides[0] + 1:strides[0], dw:dw + (ow - 1) * strides[1] + 1:strides[1], :]


@impl("im2col")
def im2col(x, kernel_size, strides, dilations, pads):
    top, bottom, left, right = pads
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    n, _, _, c = x.shape
    kh, kw = kernel_size
    oh = (padded.shape[1] - (kh - 1) * dilations[0] - 1) // strides[0] + 1
    ow = (padded.shape[2] - (kw - 1) * dilations[1] - 1) // strides[1] + 1
    cols = np.empty((n, oh, ow, kh, kw, c), x.dtype)
    for a in range(kh):
        for b in range(kw):
            cols[:, :, :, a, b, :] = _tap(padded, a * dilations[0], b * dilations[1], strides, (oh, ow))
    return cols


@impl("col2im")
def col2im(cols, input_hw, kernel_size, strides, dilations, pads):
    top, bottom, left, right = pads
    n, oh, ow, kh, kw, c = cols.shape
    wide = cols.astype(np.float32) if cols.dtype.itemsize < 4 else cols  # half/bfloat16 sum in float32
    padded = np.zeros((n, input_hw[0] + top + bottom, input_hw[1] + left + right, c), wide.dtype)
    for a in range(kh):  # a fixed tap order, as the kernel sums them
        for b in range(kw):
            _tap(padded, a * dilations[0], b * dilations[1], strides, (oh, ow))[...] += wide[:, :, :, a, b, :]
    return np.ascontiguousarray(padded[:, top:top + input_hw[0], left:left + input_hw[1], :]).astype(cols.dtype)
