"""Sampling built on gf.random's Philox draws: tf.random.categorical and tf.random.shuffle. Like every draw,
the same seeds give the same samples on every device."""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..errors import InvalidArgumentError
from .array import gather
from .math import argmax, cast, log, maximum, negative, operands
from .random_ops import uniform
from .sort_ops import argsort

__all__ = ["categorical", "shuffle"]


def categorical(logits, num_samples, dtype=None, seed=None, name=None):
    """[batch, num_samples] class ids, each drawn with probability softmax(logits[b]), as tf.random.categorical.
    Drawn by the Gumbel-max trick (argmax of logits plus Gumbel noise): a class with logit -inf is never drawn.
    TF draws otherwise, so the samples follow the same distribution but are not TF's own."""
    (logits,) = operands(logits)
    if logits.ndim != 2 or not logits.dtype.is_floating:
        raise InvalidArgumentError(f"random.categorical: logits must be float [batch, classes], got "
                                   f"{logits.dtype.name}{list(logits.shape)}")
    num_samples = int(num_samples)
    if num_samples < 0:
        raise InvalidArgumentError(f"random.categorical: num_samples must be >= 0, got {num_samples}")
    dtype = dtypes.as_dtype(dtype or dtypes.int64)
    if dtype not in (dtypes.int32, dtypes.int64):
        raise InvalidArgumentError(f"random.categorical: dtype must be int32 or int64, got {dtype.name}")
    batch, classes = logits.shape
    noise = dtypes.float64 if logits.dtype == dtypes.float64 else dtypes.float32  # (half: drawn in float32)
    u = maximum(uniform((batch, num_samples, classes), dtype=noise, seed=seed), float(np.finfo(noise.np).tiny))
    gumbel = negative(log(negative(log(u))))  # u is never 0: no log(0)
    if noise != logits.dtype:
        gumbel = cast(gumbel, logits.dtype)
    return cast(argmax(logits[:, None, :] + gumbel, axis=-1), dtype)


def shuffle(value, seed=None, name=None):
    """value with its slices along axis 0 in a random order (every order equally likely), as tf.random.shuffle."""
    (value,) = operands(value)
    if value.ndim == 0:
        raise InvalidArgumentError("random.shuffle: value must have at least one axis, got a scalar")
    keys = uniform((value.shape[0],), dtype=dtypes.float64, seed=seed)
    return gather(value, argsort(keys))
