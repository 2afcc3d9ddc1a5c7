"""Clipping by norm, as TF's training loops use it: tf.clip_by_norm, tf.linalg.global_norm and
tf.clip_by_global_norm (clip_by_value is an elementwise op, in math.py)."""
from __future__ import annotations

from .. import nest
from ..tensor import Tensor
from .math import add, add_n, cast, divide, greater, maximum, minimum, multiply, operands, reduce_sum, sqrt, square, \
    subtract, where
from .safe_math import floats

__all__ = ["clip_by_norm", "global_norm", "clip_by_global_norm"]


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """t scaled down where needed so that its L2 norm over `axes` (None: all of t) is at most clip_norm:
    t * clip_norm / max(norm, clip_norm), as tf.clip_by_norm. An all-zero t stays zero, with finite gradients."""
    t, clip_norm = floats("clip_by_norm", *operands(t, clip_norm))
    squares = reduce_sum(square(t), axes, keepdims=True)
    positive = greater(squares, 0.0)
    norm = where(positive, sqrt(where(positive, squares, 1.0)), squares)  # sqrt's gradient at 0 is infinite
    return divide(multiply(t, clip_norm), maximum(norm, clip_norm))


def global_norm(t_list, name=None):
    """sqrt of the sum of squares of every element of every tensor in t_list (None entries skipped), as
    tf.linalg.global_norm. The tensors must share one floating dtype."""
    _check_list("global_norm", t_list)
    tensors = [t for t in nest.flatten(list(t_list)) if t is not None]
    if not tensors:
        raise ValueError("global_norm: t_list holds no tensor (every entry is None)")
    tensors = floats("global_norm", *operands(*tensors))
    if len({t.dtype for t in tensors}) > 1:
        names = ", ".join(sorted({t.dtype.name for t in tensors}))
        raise TypeError(f"global_norm: the tensors have different dtypes ({names}); cast them to one first")
    return sqrt(add_n([reduce_sum(square(t)) for t in tensors]))


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """(the tensors of t_list each scaled by clip_norm / max(global_norm, clip_norm), the global norm), as
    tf.clip_by_global_norm: the list keeps its None entries, and every tensor comes back NaN when the norm is
    inf or NaN (so a step with an overflowed gradient cannot go unnoticed)."""
    _check_list("clip_by_global_norm", t_list)
    norm = global_norm(t_list) if use_norm is None else operands(use_norm)[0]
    clip = cast(clip_norm, norm.dtype) if isinstance(clip_norm, Tensor) else operands(norm, clip_norm)[1]
    scale = multiply(clip, minimum(divide(1.0, norm), divide(1.0, clip)))
    scale = add(scale, subtract(norm, norm))  # + 0, or NaN when the norm is inf or NaN (inf - inf), as TF
    clipped = [None if t is None else multiply(t, cast(scale, t.dtype)) for t in t_list]
    return clipped, norm


def _check_list(op, t_list):
    if isinstance(t_list, Tensor) or not isinstance(t_list, (list, tuple)):
        raise TypeError(f"{op}: t_list must be a list or tuple of tensors, got {type(t_list).__name__}")
