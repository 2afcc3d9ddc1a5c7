"""Public `gf.nn` ops: activations, softmax family, cross-entropies, dropout."""
from __future__ import annotations

from .. import dtypes
from ..errors import InvalidArgumentError
from ..tensor.convert import tensor_on_device_of
from . import nn_prims as prims
from . import random_ops
from ._util import normalize_axis
from .array import transpose
from .array import gather, squeeze
from .clip_ops import clip_by_norm
from .math import (abs, elu, exp, log1p, maximum, operands, reduce_mean, reduce_sum, rsqrt,  # noqa: A004
                   square, subtract)
from .safe_math import floats


def _require_axis(op, x, what="logits"):
    """Row-wise ops normalise along an axis, so a 0-d tensor has nothing to work on: TF refuses it too
    ("logits must have >= 1 dimension"); say so here instead of failing later inside a transpose."""
    if x.ndim == 0:
        raise InvalidArgumentError(f"{op}: {what} must have rank >= 1 (the op works along an axis), got a 0-d "
                                   f"{x.dtype.name}[] tensor; add an axis first, e.g. gf.reshape(x, [1])")


def _along(prim, logits, axis):
    """Run a last-axis primitive along any axis by moving that axis last and back."""
    x = operands(logits)[0]
    _require_axis(prim.name, x)
    axis = normalize_axis(prim.name, axis, x.ndim)
    if axis == x.ndim - 1:
        return prim(x)
    perm = [i for i in range(x.ndim) if i != axis] + [axis]
    back = [perm.index(i) for i in range(x.ndim)]
    return transpose(prim(transpose(x, perm)), back)


def softmax(logits, axis=-1, name=None):
    """exp(logits) normalised along `axis` (default the last), computed without overflow.

        A row of all -inf gives NaN, as in NumPy and TF. A 0-d input is an error, as in TF.
    """
    return _along(prims.softmax, logits, axis)


def log_softmax(logits, axis=-1, name=None):
    """logits - log(sum(exp(logits))) along `axis` (default the last), computed without overflow."""
    return _along(prims.log_softmax, logits, axis)


def sparse_softmax_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """Cross-entropy between integer class ids `labels` (shape:
        logits' shape without the last axis) and the softmax of `logits`, one loss per row.

        A label outside [0, classes) is an error on every device.

        Differs from TF:
            TF gives NaN for an out-of-range label on a GPU and raises on a CPU; gpuflow raises everywhere.
    """
    logits = operands(logits)[0]
    labels = tensor_on_device_of(logits, labels, dtype_hint=dtypes.int32)
    if labels.dtype.is_floating:
        raise InvalidArgumentError(f"sparse_softmax_cross_entropy_with_logits: labels must be integer class ids, got "
                                   f"{labels.dtype.name}{list(labels.shape)}")
    _require_axis("sparse_softmax_cross_entropy_with_logits", logits)
    if labels.ndim != logits.ndim - 1:
        raise InvalidArgumentError(
            f"sparse_softmax_cross_entropy_with_logits: labels {labels.dtype.name}{list(labels.shape)} have rank "
            f"{labels.ndim} but logits {logits.dtype.name}{list(logits.shape)} have rank {logits.ndim}; labels hold "
            f"one class id per row of logits, so their rank must be the logits' rank minus 1 (for one-hot labels "
            f"use softmax_cross_entropy_with_logits)")
    return prims.sparse_softmax_xent(logits, labels)[0]


def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None):
    """Cross-entropy between probability rows `labels` and the softmax of
        `logits` along `axis`, one loss per row; both inputs get gradients.
    """
    logits, labels = operands(logits, labels)
    _require_axis("softmax_cross_entropy_with_logits", logits)
    axis = normalize_axis("softmax_cross_entropy_with_logits", axis, logits.ndim)
    # Mismatched shapes are left to the primitive, whose error names both shapes.
    if axis != logits.ndim - 1 and tuple(labels.shape) == tuple(logits.shape):
        perm = [i for i in range(logits.ndim) if i != axis] + [axis]
        logits, labels = transpose(logits, perm), transpose(labels, perm)
    return prims.softmax_xent(logits, labels)[0]


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """max(x, 0) - x*z + log(1 + exp(-|x|)): the form that neither overflows nor loses precision."""
    logits, labels = operands(logits, labels)
    return subtract(maximum(logits, 0.0), logits * labels) + log1p(exp(-abs(logits)))


def dropout(x, rate, noise_shape=None, seed=None, name=None):
    """Zeroes elements with probability `rate` and scales the rest by 1/(1-rate) (tf.nn.dropout)."""
    x = operands(x)[0]
    rate = float(rate)
    if noise_shape is not None:
        raise NotImplementedError("dropout: noise_shape is not supported yet")
    if rate == 0:
        return x
    if rate == 1:
        return x * 0.0
    key, offset = random_ops.next_draw(seed, x._device, "nn.dropout")
    return prims.dropout(x, offset, rate=rate, key=key)


def bias_add(value, bias, data_format=None, name=None):
    """`value + bias`, `bias` (1-D) broadcast along the last axis.

        Differs from TF:
            Only channels-last data: `data_format` is accepted but channels-first layouts are not supported.
    """
    value, bias = operands(value, bias)
    return value + bias


def l2_loss(t, name=None):
    """sum(t ** 2) / 2, a 0-d tensor."""
    return reduce_sum(square(operands(t)[0])) * 0.5


SELU_ALPHA = 1.6732632423543772848170429916717  # the self-normalising constants of Klambauer et al. (2017)
SELU_SCALE = 1.0507009873554804934193349852946


def selu(features, name=None):
    """Scaled ELU: SELU_SCALE * elu(features, SELU_ALPHA), as tf.nn.selu."""
    (x,) = floats("selu", *operands(features))
    return elu(x, alpha=SELU_ALPHA) * SELU_SCALE


def softsign(features, name=None):
    """features / (|features| + 1), as tf.nn.softsign."""
    (x,) = floats("softsign", *operands(features))
    return x / (abs(x) + 1.0)


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """x / sqrt(max(sum(x ** 2, axis), epsilon)) along `axis` (None: all of x), as tf.nn.l2_normalize
    (`dim` is its old name for axis)."""
    (x,) = floats("l2_normalize", *operands(x))
    axis = dim if axis is None else axis
    return x * rsqrt(maximum(reduce_sum(square(x), axis, keepdims=True), epsilon))


def moments(x, axes, shift=None, keepdims=False, name=None):
    """(mean, variance) of x over `axes`, as tf.nn.moments (the variance divided by N; `shift` is accepted and
    unused, as in TF 2)."""
    (x,) = floats("moments", *operands(x))
    mean = reduce_mean(x, axes, keepdims=True)
    variance = reduce_mean(square(subtract(x, mean)), axes, keepdims=True)
    if not keepdims:
        mean, variance = squeeze(mean, axes), squeeze(variance, axes)
    return mean, variance


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """(x - mean) * scale / sqrt(variance + variance_epsilon) + offset, all broadcast together, as
    tf.nn.batch_normalization (offset and scale may be None)."""
    x, mean, variance = floats("batch_normalization", *operands(x, mean, variance))
    inv = rsqrt(variance + variance_epsilon)
    if scale is not None:
        inv = inv * scale
    out = x * inv
    return out + ((-mean * inv) if offset is None else (offset - mean * inv))


def weighted_cross_entropy_with_logits(labels, logits, pos_weight, name=None):
    """Sigmoid cross-entropy with the positive term weighted, as tf.nn.weighted_cross_entropy_with_logits:
    (1 - z) * x + (1 + (q - 1) * z) * (log1p(exp(-|x|)) + max(-x, 0)), without overflow."""
    logits, labels = floats("weighted_cross_entropy_with_logits", *operands(logits, labels))
    log_weight = (pos_weight - 1.0) * labels + 1.0
    return (1.0 - labels) * logits + log_weight * (log1p(exp(-abs(logits))) + maximum(-logits, 0.0))


def embedding_lookup(params, ids, max_norm=None, name=None):
    """The rows of params at ids (any shape), as tf.nn.embedding_lookup; with max_norm, rows whose L2 norm is
    larger are scaled down to it.

        Differs from TF:
            `params` is one tensor (TF also takes a list of shards).
    """
    if isinstance(params, (list, tuple)):
        if len(params) != 1:
            raise InvalidArgumentError(f"embedding_lookup: params sharded over {len(params)} tensors are not "
                                       f"supported; concatenate them (gf.concat(params, 0)) first")
        params = params[0]
    rows = gather(params, ids)
    return rows if max_norm is None else clip_by_norm(rows, max_norm, axes=[-1])
