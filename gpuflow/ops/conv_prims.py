"""Patch extraction for convolution: `im2col` and its adjoint `col2im`, each the other's gradient.

    im2col(x[N, H, W, C], kernel_size, strides, dilations, pads) -> cols[N, OH, OW, KH, KW, C]
    col2im(cols[N, OH, OW, KH, KW, C], input_hw, kernel_size, strides, dilations, pads) -> x[N, H, W, C]

cols[n, i, j, a, b, c] = x[n, i*sh - top + a*dh, j*sw - left + b*dw, c], zero where that falls in
the padding; col2im sums every patch entry back onto the input element it came from. A
convolution is then im2col + one (batched, for groups) matmul with the HWIO kernel, and its
gradients follow from these two rules and matmul's (see conv_ops.py). `pads` is explicit
(top, bottom, left, right); `window_geometry` turns tf's 'same'/'valid' into it.
"""
from __future__ import annotations

from ..errors import InvalidArgumentError
from ..tensor import TensorSpec
from ._util import require
from .dispatch import primitive


def pair(op: str, what: str, value) -> tuple:
    """An int or a pair of positive ints as a pair (tf accepts both for sizes, strides, rates)."""
    items = (value, value) if isinstance(value, int) or hasattr(value, "__index__") else tuple(value)
    if len(items) != 2 or any(int(v) < 1 for v in items):
        raise InvalidArgumentError(f"{op}: {what} must be a positive int or a pair of them, got {value!r}")
    return tuple(int(v) for v in items)


def same_pads(size: int, kernel: int, stride: int, dilation: int) -> tuple:
    """tf's 'same': out = ceil(size / stride), the odd pad goes after (bottom/right)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def window_geometry(op, in_hw, kernel_size, strides, dilations, padding):
    """Explicit (top, bottom, left, right) pads and the output (OH, OW) for tf's padding names.

    `padding` is 'SAME'/'VALID' (any case) or explicit ((top, bottom), (left, right))."""
    if isinstance(padding, str):
        mode = padding.upper()
        if mode not in ("SAME", "VALID"):
            raise InvalidArgumentError(f"{op}: padding must be 'same' or 'valid' (or explicit pairs), got {padding!r}")
        if mode == "SAME":
            pads = same_pads(in_hw[0], kernel_size[0], strides[0], dilations[0]) + \
                same_pads(in_hw[1], kernel_size[1], strides[1], dilations[1])
        else:
            pads = (0, 0, 0, 0)
    else:
        (t, b), (l, r) = padding
        pads = tuple(int(p) for p in (t, b, l, r))
        if any(p < 0 for p in pads):
            raise InvalidArgumentError(f"{op}: explicit padding must be >= 0, got {padding!r}")
    out = output_hw(op, in_hw, kernel_size, strides, dilations, pads)
    return pads, out


def output_hw(op, in_hw, kernel_size, strides, dilations, pads) -> tuple:
    out = []
    for axis, (size, k, s, d, lo, hi) in enumerate(zip(in_hw, kernel_size, strides, dilations, pads[0::2], pads[1::2])):
        span = (k - 1) * d + 1
        if size + lo + hi < span:
            name = "height" if axis == 0 else "width"
            raise InvalidArgumentError(
                f"{op}: the window ({k} with dilation {d} spans {span}) is larger than the padded input {name} "
                f"({size} + padding {lo}+{hi}); use padding='same', a smaller kernel or a larger input")
        out.append((size + lo + hi - span) // s + 1)
    return tuple(out)


def _check_params(op, kernel_size, strides, dilations, pads):
    for what, v in (("kernel_size", kernel_size), ("strides", strides), ("dilations", dilations)):
        if len(v) != 2 or any(int(i) < 1 for i in v):
            raise InvalidArgumentError(f"{op}: {what} must be two positive ints, got {v!r}")
    if len(pads) != 4 or any(int(p) < 0 for p in pads):
        raise InvalidArgumentError(f"{op}: pads must be four ints >= 0 (top, bottom, left, right), got {pads!r}")


def _im2col_infer(x, kernel_size, strides, dilations, pads):
    require("im2col", x, "f", "a floating-point")
    if len(x.shape) != 4:
        raise InvalidArgumentError(f"im2col: x must be NHWC (rank 4), got {x.dtype.name}{list(x.shape)}")
    _check_params("im2col", kernel_size, strides, dilations, pads)
    n, h, w, c = x.shape
    oh, ow = output_hw("im2col", (h, w), kernel_size, strides, dilations, pads)
    return TensorSpec((n, oh, ow) + tuple(kernel_size) + (c,), x.dtype)


def _col2im_infer(cols, input_hw, kernel_size, strides, dilations, pads):
    require("col2im", cols, "f", "a floating-point")
    _check_params("col2im", kernel_size, strides, dilations, pads)
    if len(cols.shape) != 6:
        raise InvalidArgumentError(f"col2im: cols must be [N, OH, OW, KH, KW, C], got {cols.dtype.name}"
                                   f"{list(cols.shape)}")
    expected = output_hw("col2im", input_hw, kernel_size, strides, dilations, pads)
    if tuple(cols.shape[1:5]) != expected + tuple(kernel_size):
        raise InvalidArgumentError(
            f"col2im: cols {list(cols.shape)} do not match input_hw {tuple(input_hw)} with kernel {kernel_size}, "
            f"strides {strides}, dilations {dilations}, pads {pads} (expected [N, {expected[0]}, {expected[1]}, "
            f"{kernel_size[0]}, {kernel_size[1]}, C])")
    n, c = cols.shape[0], cols.shape[5]
    return TensorSpec((n,) + tuple(input_hw) + (c,), cols.dtype)


def _im2col_grad(g, out, x, kernel_size, strides, dilations, pads):
    return (col2im(g, input_hw=tuple(x.shape[1:3]), kernel_size=kernel_size, strides=strides, dilations=dilations,
                   pads=pads),)


def _col2im_grad(g, out, cols, input_hw, kernel_size, strides, dilations, pads):
    return (im2col(g, kernel_size=kernel_size, strides=strides, dilations=dilations, pads=pads),)


im2col = primitive("im2col", _im2col_infer, _im2col_grad)
col2im = primitive("col2im", _col2im_infer, _col2im_grad)
