"""matmul: batched, with broadcasting batch dimensions and transpose flags, like tf.matmul (its grad rule:
gpuflow/autograd/grads/linalg.py)."""
from __future__ import annotations

from ..errors import InvalidArgumentError
from ..tensor import TensorSpec
from ._util import broadcast_shapes, require, same_dtype
from .dispatch import primitive


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


matmul = primitive("matmul", _infer)
