"""Second-order rule of max pooling (gpuflow/ops/pool_prims.py): max_pool2d_grad's gradient, a gather at argmax."""
from __future__ import annotations

from ... import ops
from ...ops import pool_prims as _prims
from ...ops.dispatch import defgrad


def _max_pool_grad_grad(gg, out, g, argmax, input_shape, pool_size, strides, pads):
    return ops.gather(ops.reshape(gg, [-1]), argmax), None


defgrad(_prims.max_pool2d_grad)(_max_pool_grad_grad)
