"""matmul: batched, with broadcasting batch dimensions and transpose flags, like tf.matmul."""
from __future__ import annotations

from ..errors import InvalidArgumentError
from ..tensor import TensorSpec
from ._util import broadcast_shapes, require, same_dtype
from .dispatch import grad_needed, primitive


def _infer(a, b, transpose_a, transpose_b):
    dtype = same_dtype("matmul", a, b)
    require("matmul", a, "fi", "a numeric")
    if len(a.shape) < 2 or len(b.shape) < 2:
        raise InvalidArgumentError(f"matmul: both inputs need rank >= 2, got {a.dtype.name}{list(a.shape)} and "
                                   f"{b.dtype.name}{list(b.shape)}; use gf.expand_dims for vectors")
    m, k = a.shape[-2:][::-1] if transpose_a else a.shape[-2:]
    k2, n = b.shape[-2:][::-1] if transpose_b else b.shape[-2:]
    if k != k2:
        raise InvalidArgumentError(
            f"matmul: inner dimensions differ: {list(a.shape)}{'ᵀ' if transpose_a else ''} @ "
            f"{list(b.shape)}{'ᵀ' if transpose_b else ''} has {k} vs {k2}")
    batch = broadcast_shapes("matmul", a.shape[:-2], b.shape[:-2])
    return TensorSpec(batch + (m, n), dtype)


def _grad(g, out, a, b, transpose_a, transpose_b):
    from .elementwise import unbroadcast
    ga = gb = None
    if grad_needed(_grad, 0):  # not for a first layer's input data
        if transpose_a:
            ga = unbroadcast(matmul(b, g, transpose_a=transpose_b, transpose_b=True), a.shape)
        else:
            ga = unbroadcast(matmul(g, b, transpose_a=False, transpose_b=not transpose_b), a.shape)
    if grad_needed(_grad, 1):
        if transpose_b:
            gb = unbroadcast(matmul(g, a, transpose_a=True, transpose_b=transpose_a), b.shape)
        else:
            gb = unbroadcast(matmul(a, g, transpose_a=not transpose_a, transpose_b=False), b.shape)
    return ga, gb


matmul = primitive("matmul", _infer, _grad)
