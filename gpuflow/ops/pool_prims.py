"""2-D pooling primitives over NHWC windows, with explicit pads (top, bottom, left, right).

    max_pool2d(x, pool_size, strides, pads) -> y[N, OH, OW, C], argmax[N, OH, OW, C] (int64)
    max_pool2d_grad(g, argmax, input_shape, pool_size, strides, pads) -> dx[N, H, W, C]
    avg_pool2d(x, pool_size, strides, pads) -> y        (mean over the window's *valid* elements, as tf)
    avg_pool2d_grad(g, input_hw, pool_size, strides, pads) -> dx

argmax is tf's `max_pool_with_argmax(include_batch_in_index=True)` index, ((n*H + h)*W + w)*C + c,
of the first maximum in row-major window order (ties go to the first, as in tf). The backward
primitives gather per input element from the windows covering it (no atomics, deterministic).
avg_pool2d and avg_pool2d_grad are each other's adjoints, hence each other's gradients;
max_pool2d_grad's own gradient (second order) is a gather at argmax (gpuflow/autograd/grads/pool.py).
"""
from __future__ import annotations

from .. import dtypes
from ..errors import InvalidArgumentError
from ..tensor import TensorSpec
from ._util import require
from .conv_prims import output_hw
from .dispatch import primitive

_NO_DILATION = (1, 1)


def _pooled_spec(op, x, pool_size, strides, pads):
    require(op, x, "f", "a floating-point")
    if len(x.shape) != 4:
        raise InvalidArgumentError(f"{op}: x must be NHWC (rank 4), got {x.dtype.name}{list(x.shape)}")
    for what, v in (("pool_size", pool_size), ("strides", strides)):
        if len(v) != 2 or any(int(i) < 1 for i in v):
            raise InvalidArgumentError(f"{op}: {what} must be two positive ints, got {v!r}")
    for lo, hi, k in ((pads[0], pads[1], pool_size[0]), (pads[2], pads[3], pool_size[1])):
        if min(lo, hi) < 0 or max(lo, hi) >= k:
            # A window entirely in the padding would have no element to take the max or mean of.
            raise InvalidArgumentError(f"{op}: pads {pads} must be >= 0 and smaller than pool_size {pool_size}")
    n, h, w, c = x.shape
    oh, ow = output_hw(op, (h, w), pool_size, strides, _NO_DILATION, pads)
    return TensorSpec((n, oh, ow, c), x.dtype)


def _check_grad_input(op, g, expected):
    if tuple(g.shape) != tuple(expected.shape) or g.dtype != expected.dtype:
        raise InvalidArgumentError(f"{op}: the incoming gradient is {g.dtype.name}{list(g.shape)} but the pooled "
                                   f"output is {expected.dtype.name}{list(expected.shape)}")


def _max_pool_infer(x, pool_size, strides, pads):
    y = _pooled_spec("max_pool2d", x, pool_size, strides, pads)
    return y, TensorSpec(y.shape, dtypes.int64)


def _max_pool_grad_infer(g, argmax, input_shape, pool_size, strides, pads):
    y = _pooled_spec("max_pool2d_grad", TensorSpec(input_shape, g.dtype), pool_size, strides, pads)
    _check_grad_input("max_pool2d_grad", g, y)
    if tuple(argmax.shape) != tuple(y.shape) or argmax.dtype != dtypes.int64:
        raise InvalidArgumentError(f"max_pool2d_grad: argmax must be int64{list(y.shape)}, got "
                                   f"{argmax.dtype.name}{list(argmax.shape)}")
    return TensorSpec(input_shape, g.dtype)


def _max_pool_grad(grads, outs, x, pool_size, strides, pads):
    return (max_pool2d_grad(grads[0], outs[1], input_shape=tuple(x.shape), pool_size=pool_size, strides=strides,
                            pads=pads),)


def _avg_pool_grad_infer(g, input_hw, pool_size, strides, pads):
    if len(g.shape) != 4:
        raise InvalidArgumentError(f"avg_pool2d_grad: the gradient must be NHWC (rank 4), got {g.dtype.name}"
                                   f"{list(g.shape)}")
    n, c = g.shape[0], g.shape[3]
    y = _pooled_spec("avg_pool2d_grad", TensorSpec((n,) + tuple(input_hw) + (c,), g.dtype), pool_size, strides, pads)
    _check_grad_input("avg_pool2d_grad", g, y)
    return TensorSpec((n,) + tuple(input_hw) + (c,), g.dtype)


max_pool2d = primitive("max_pool2d", _max_pool_infer, _max_pool_grad, n_outputs=2)
max_pool2d_grad = primitive("max_pool2d_grad", _max_pool_grad_infer)
avg_pool2d = primitive(
    "avg_pool2d", lambda x, pool_size, strides, pads: _pooled_spec("avg_pool2d", x, pool_size, strides, pads),
    lambda g, out, x, pool_size, strides, pads: (
        avg_pool2d_grad(g, input_hw=tuple(x.shape[1:3]), pool_size=pool_size, strides=strides, pads=pads),))
avg_pool2d_grad = primitive(
    "avg_pool2d_grad", _avg_pool_grad_infer,
    lambda gg, out, g, input_hw, pool_size, strides, pads: (
        avg_pool2d(gg, pool_size=pool_size, strides=strides, pads=pads),))
