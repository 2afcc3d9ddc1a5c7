"""`gf.keras.losses`: Keras 3's losses as classes and functions, on gpuflow ops.

A loss function maps (y_true, y_pred) to one value per sample, reducing over the last axis.
A Loss object calls it, weighs the values by `sample_weight` and reduces them:
"sum_over_batch_size" (the default; sum / number of values), "sum", or "none"/None (no
reduction). Probabilities are clipped to [1e-7, 1 - 1e-7] before a log, as Keras does.

A mask on y_pred (`y_pred._keras_mask`, e.g. from Embedding(mask_zero=True) and an RNN returning
sequences) weighs the values too, as in Keras 3: masked entries count 0 and the default reduction
divides by the number of unmasked entries rather than by all of them.
"""
from __future__ import annotations

import math

from .. import devices as _device
from .. import dtypes, nn, ops
from ..tensor import Tensor
from ._objects import snake

# Public names: what the API reference shows and `import *` takes (imported helpers are not API).
__all__ = ["BinaryCrossentropy", "BinaryFocalCrossentropy", "CategoricalCrossentropy", "CategoricalHinge",
           "CosineSimilarity", "Hinge", "Huber", "KLD", "KLDivergence", "LogCosh", "Loss", "LossFunctionWrapper", "MAE",
           "MAPE", "MSE", "MSLE", "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredError",
           "MeanSquaredLogarithmicError", "Poisson", "Reduction", "SparseCategoricalCrossentropy", "SquaredHinge",
           "binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy", "categorical_hinge",
           "cosine_similarity", "deserialize", "get", "hinge", "huber", "kl_divergence", "kld",
           "kullback_leibler_divergence", "log_cosh", "logcosh", "mae", "mape", "mean_absolute_error",
           "mean_absolute_percentage_error", "mean_squared_error", "mean_squared_logarithmic_error", "mse", "msle",
           "poisson", "serialize", "sparse_categorical_crossentropy", "squared_hinge"]

EPSILON = 1e-7  # keras.backend.epsilon()
REDUCTIONS = ("sum_over_batch_size", "sum", "none", None, "mean", "mean_with_sample_weight")


class Reduction:
    """tf.keras 2's reduction names; AUTO means the default, sum_over_batch_size."""
    AUTO, NONE, SUM, SUM_OVER_BATCH_SIZE = "auto", "none", "sum", "sum_over_batch_size"


def _standardize_reduction(reduction):
    if reduction == "auto":
        return "sum_over_batch_size"
    if reduction not in REDUCTIONS:
        raise ValueError(f"loss reduction must be one of {list(REDUCTIONS)}, got {reduction!r}")
    return reduction


def _prediction(y_pred, dtype=None):
    """y_pred as a float tensor of `dtype` if given, else float64 for float64 predictions and float32 otherwise:
    half-precision predictions (mixed precision) are widened, as Keras computes losses in float32."""
    if not isinstance(y_pred, Tensor):
        y_pred = ops.convert_to_tensor(y_pred, dtype_hint=dtype or dtypes.float32)
    if dtype is None:
        dtype = dtypes.float64 if y_pred.dtype == dtypes.float64 else dtypes.float32
    return ops.cast(y_pred, dtype)


def _tensors(y_true, y_pred, dtype=None):
    """y_pred as `_prediction` makes it, y_true on its device in the same dtype."""
    y_pred = _prediction(y_pred, dtype)
    if not isinstance(y_true, Tensor):  # (a tensor passes through convert_to_tensor: no device scope needed)
        with _device.device(y_pred._device):
            y_true = ops.convert_to_tensor(y_true, dtype_hint=y_pred.dtype)
    return ops.cast(y_true, y_pred.dtype), y_pred


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Keras' rank alignment: drop (or, for rank 1 against rank 2, add) a trailing axis of size 1."""
    r1, r2 = len(x1.shape), len(x2.shape)
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = ops.expand_dims(x2, -1)
        else:
            x1 = ops.squeeze(x1, -1)
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = ops.expand_dims(x1, -1)
        else:
            x2 = ops.squeeze(x2, -1)
    return x1, x2


def _clip_probs(p):
    return ops.clip_by_value(p, EPSILON, 1.0 - EPSILON)


# ---- loss functions: one value per sample --------------------------------------------

def mean_squared_error(y_true, y_pred):
    """mean((y_true - y_pred) ** 2) over the last axis: one value per sample."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_tensors(y_true, y_pred))
    return ops.reduce_mean(ops.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_true - y_pred|) over the last axis: one value per sample."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_tensors(y_true, y_pred))
    return ops.reduce_mean(ops.abs(y_true - y_pred), axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """0.5 e^2 where |e| <= delta, else delta |e| - 0.5 delta^2; mean over the last axis."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_tensors(y_true, y_pred))
    error = y_pred - y_true
    abs_error = ops.abs(error)
    quadratic = 0.5 * ops.square(error)
    linear = delta * abs_error - 0.5 * delta * delta
    return ops.reduce_mean(ops.where(abs_error <= delta, quadratic, linear), axis=-1)


def kl_divergence(y_true, y_pred):
    """sum(y_true * log(y_true / y_pred)) over the last axis, both clipped to [epsilon, 1]: one value per sample."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_tensors(y_true, y_pred))
    y_true = ops.clip_by_value(y_true, EPSILON, 1.0)
    y_pred = ops.clip_by_value(y_pred, EPSILON, 1.0)
    return ops.reduce_sum(y_true * ops.log(y_true / y_pred), axis=-1)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Cross-entropy between one-hot (or probability) `y_true` and `y_pred` probabilities (or logits,
        with `from_logits=True`) along `axis`, with optional `label_smoothing`: one value per sample.
    """
    y_true, y_pred = _tensors(y_true, y_pred)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(f"categorical_crossentropy: y_true {list(y_true.shape)} and y_pred {list(y_pred.shape)} "
                         f"must have one shape (one-hot labels); for integer labels use "
                         f"sparse_categorical_crossentropy")
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[axis]
    if from_logits:
        return nn.softmax_cross_entropy_with_logits(labels=y_true, logits=y_pred, axis=axis)
    probs = _clip_probs(y_pred / ops.reduce_sum(y_pred, axis=axis, keepdims=True))
    return -ops.reduce_sum(y_true * ops.log(probs), axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1):
    """Cross-entropy between integer class ids `y_true` and `y_pred` probabilities (or logits, with
        `from_logits=True`) along the last axis: one value per sample.

        Differs from TF:
            Only `axis=-1`.
    """
    if axis != -1:
        raise ValueError(f"sparse_categorical_crossentropy: only axis=-1 is supported, got {axis}")
    y_pred = _prediction(y_pred)
    if not isinstance(y_true, Tensor):
        with _device.device(y_pred._device):
            y_true = ops.convert_to_tensor(y_true, dtype_hint=dtypes.int32)
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, -1)
    if tuple(y_true.shape) != tuple(y_pred.shape[:-1]):
        raise ValueError(f"sparse_categorical_crossentropy: labels {list(y_true.shape)} must have y_pred's shape "
                         f"{list(y_pred.shape)} without its last (class) axis, optionally with a trailing 1")
    labels = ops.cast(y_true, dtypes.int32)  # class ids straight to int32: no trip through float
    if from_logits:
        return nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=y_pred)
    probs = _clip_probs(y_pred / ops.reduce_sum(y_pred, axis=-1, keepdims=True))
    onehot = ops.one_hot(labels, y_pred.shape[-1], dtype=y_pred.dtype)
    return -ops.reduce_sum(onehot * ops.log(probs), axis=-1)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy of `y_pred` probabilities (or logits, with `from_logits=True`) against 0/1 (or
        soft) `y_true`, averaged over `axis`, with optional `label_smoothing`: one value per sample.
    """
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_tensors(y_true, y_pred))
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        per_value = nn.sigmoid_cross_entropy_with_logits(labels=y_true, logits=y_pred)
    else:
        p = _clip_probs(y_pred)
        per_value = -(y_true * ops.log(p) + (1.0 - y_true) * ops.log(1.0 - p))
    return ops.reduce_mean(per_value, axis=axis)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 * mean(|(y_true - y_pred) / max(|y_true|, epsilon)|) over the last axis: one value per sample."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_tensors(y_true, y_pred))
    diff = ops.abs((y_true - y_pred) / ops.maximum(ops.abs(y_true), EPSILON))
    return 100.0 * ops.reduce_mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)) ** 2) over the last axis."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_tensors(y_true, y_pred))
    first = ops.log(ops.maximum(y_pred, EPSILON) + 1.0)
    second = ops.log(ops.maximum(y_true, EPSILON) + 1.0)
    return ops.reduce_mean(ops.square(first - second), axis=-1)


def log_cosh(y_true, y_pred):
    """mean(log(cosh(y_pred - y_true))) over the last axis, as x + softplus(-2x) - log 2 (no overflow)."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_tensors(y_true, y_pred))
    x = y_pred - y_true
    return ops.reduce_mean(x + nn.softplus(-2.0 * x) - math.log(2.0), axis=-1)


def poisson(y_true, y_pred):
    """mean(y_pred - y_true * log(y_pred + epsilon)) over the last axis: one value per sample."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_tensors(y_true, y_pred))
    return ops.reduce_mean(y_pred - y_true * ops.log(y_pred + EPSILON), axis=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    """-sum(l2_normalize(y_true) * l2_normalize(y_pred)) over `axis`: -1 for the same direction, 1 opposite."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_tensors(y_true, y_pred))
    return -ops.reduce_sum(nn.l2_normalize(y_true, axis=axis) * nn.l2_normalize(y_pred, axis=axis), axis=axis)


def _hinge_labels(y_true):
    """0/1 labels as -1/1 (Keras 3: only when every label is 0 or 1; others are taken as they are)."""
    from ..graph import cond
    binary = ops.reduce_all(ops.logical_or(ops.equal(y_true, 0.0), ops.equal(y_true, 1.0)))
    return cond(binary, lambda: 2.0 * y_true - 1.0, lambda: y_true)


def hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0)) over the last axis, labels -1/1 (0/1 converted)."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_tensors(y_true, y_pred))
    return ops.reduce_mean(ops.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0) ** 2) over the last axis, labels -1/1 (0/1 converted)."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_tensors(y_true, y_pred))
    return ops.reduce_mean(ops.square(ops.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred):
    """max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0) over the last axis (one-hot y_true)."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_tensors(y_true, y_pred))
    positive = ops.reduce_sum(y_true * y_pred, axis=-1)
    negative = ops.reduce_max((1.0 - y_true) * y_pred, axis=-1)
    return ops.maximum(negative - positive + 1.0, 0.0)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                              from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy weighted by (1 - p_t) ** gamma, p_t the probability given to the true class (and by
    alpha for positives / 1 - alpha for negatives with apply_class_balancing), averaged over `axis`."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_tensors(y_true, y_pred))
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    p = ops.sigmoid(y_pred) if from_logits else y_pred
    clipped = _clip_probs(p)
    bce = -(y_true * ops.log(clipped) + (1.0 - y_true) * ops.log(1.0 - clipped))
    p_t = y_true * p + (1.0 - y_true) * (1.0 - p)
    focal = ops.pow(1.0 - p_t, float(gamma)) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal
    return ops.reduce_mean(focal, axis=axis)


# ---- weighting and reduction ------------------------------------------------------------

def apply_mask(sample_weight, mask, dtype, reduction):
    """Keras 3's apply_mask: the mask (True = kept) folded into the sample weights. For the mean reductions the
    kept entries weigh total / kept, so the mean over all entries is the mean over the kept ones. A weight per
    sample (fewer axes than the mask) covers all of that sample's steps."""
    if mask is None:
        return sample_weight
    mask = ops.cast(mask, dtype)
    if reduction in ("sum_over_batch_size", "mean"):
        total = 1
        for d in mask.shape:
            total *= d
        mask = mask * (float(total) / (ops.reduce_sum(mask) + EPSILON))  # no NaN when every entry is masked
    if sample_weight is None:
        return mask
    with _device.device(mask._device):
        sample_weight = ops.cast(ops.convert_to_tensor(sample_weight, dtype_hint=mask.dtype), dtype)
    while sample_weight.ndim < mask.ndim:
        sample_weight = ops.expand_dims(sample_weight, -1)
    return mask * sample_weight


def reduce_weighted_values(values, sample_weight=None, reduction="sum_over_batch_size", mask=None):
    """Keras' reduce_weighted_values: weigh per-sample values (ranks aligned) by the sample weights and the
    mask, then reduce."""
    reduction = _standardize_reduction(reduction)
    sample_weight = apply_mask(sample_weight, mask, values.dtype, reduction)
    if sample_weight is not None:
        with _device.device(values._device):
            sample_weight = ops.cast(ops.convert_to_tensor(sample_weight, dtype_hint=values.dtype), values.dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    if reduction in (None, "none") or len(values.shape) == 0:
        return values
    total = ops.reduce_sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = ops.reduce_sum(ops.broadcast_to(sample_weight, values.shape))
        return ops.where(divisor != 0, total / ops.where(divisor != 0, divisor, 1.0), 0.0 * total)
    count = 1
    for d in values.shape:
        count *= d
    return total / count if count else total  # an empty batch sums to 0: no NaN


class Loss:
    """The base class of losses: subclass it and define `call(y_true, y_pred)` returning one value per sample.

        Called as `loss(y_true, y_pred, sample_weight=None)`: per-sample values reduced by `reduction`
        ('sum_over_batch_size' (default), 'sum' or 'none'), masks and sample weights applied as in Keras 3.
    """

    labels_are_class_ids = False  # True: y_true holds integer class ids, kept out of the float cast of y_pred

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or snake(type(self).__name__)
        self.reduction = _standardize_reduction(reduction)
        self.dtype = None if dtype is None else dtypes.as_dtype(dtype)

    def __call__(self, y_true, y_pred, sample_weight=None):
        mask = getattr(y_pred, "_keras_mask", None)  # read before any cast makes a new tensor
        if self.labels_are_class_ids:
            y_pred = _prediction(y_pred, self.dtype)
        else:
            y_true, y_pred = _tensors(y_true, y_pred, self.dtype)
        return reduce_weighted_values(self.call(y_true, y_pred), sample_weight, self.reduction, mask=mask)

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, "dtype": None if self.dtype is None else self.dtype.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class LossFunctionWrapper(Loss):
    """A loss function as a Loss; keyword arguments go to the function on every call and are readable
    as attributes (loss.from_logits)."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction, dtype=dtype)
        self.fn, self._fn_kwargs = fn, kwargs

    def __getattr__(self, key):
        kwargs = self.__dict__.get("_fn_kwargs", {})
        if key in kwargs:
            return kwargs[key]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {key!r}")

    def call(self, y_true, y_pred):
        if self.fn is not sparse_categorical_crossentropy:  # its labels have one axis fewer on purpose
            y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}


class MeanSquaredError(LossFunctionWrapper):
    """mean((y_true - y_pred) ** 2) over the last axis, then reduced over the batch.

        Called as `loss(y_true, y_pred, sample_weight=None)`: per-sample values reduced by `reduction`
        ('sum_over_batch_size' (default), 'sum' or 'none'), masks and sample weights applied as in Keras 3.
    """
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """mean(|y_true - y_pred|) over the last axis, then reduced over the batch.

        Called as `loss(y_true, y_pred, sample_weight=None)`: per-sample values reduced by `reduction`
        ('sum_over_batch_size' (default), 'sum' or 'none'), masks and sample weights applied as in Keras 3.
    """
    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction=reduction, name=name, dtype=dtype)


class Huber(LossFunctionWrapper):
    """Quadratic for errors up to `delta`, linear beyond, averaged over the last axis.

        Called as `loss(y_true, y_pred, sample_weight=None)`: per-sample values reduced by `reduction`
        ('sum_over_batch_size' (default), 'sum' or 'none'), masks and sample weights applied as in Keras 3.
    """
    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=float(delta))


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence of y_pred from y_true along the last axis.

        Called as `loss(y_true, y_pred, sample_weight=None)`: per-sample values reduced by `reduction`
        ('sum_over_batch_size' (default), 'sum' or 'none'), masks and sample weights applied as in Keras 3.
    """
    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, reduction=reduction, name=name, dtype=dtype)


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for one-hot labels; `from_logits=True` takes logits (fused softmax + loss kernel).

        Called as `loss(y_true, y_pred, sample_weight=None)`: per-sample values reduced by `reduction`
        ('sum_over_batch_size' (default), 'sum' or 'none'), masks and sample weights applied as in Keras 3.
    """
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=bool(from_logits), label_smoothing=float(label_smoothing), axis=axis)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for integer labels; `from_logits=True` takes logits (fused softmax + loss kernel).

        Called as `loss(y_true, y_pred, sample_weight=None)`: per-sample values reduced by `reduction`
        ('sum_over_batch_size' (default), 'sum' or 'none'), masks and sample weights applied as in Keras 3.
    """

    labels_are_class_ids = True

    def __init__(self, from_logits=False, reduction="sum_over_batch_size", name="sparse_categorical_crossentropy",
                 dtype=None):
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=bool(from_logits))


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy for 0/1 labels; `from_logits=True` takes logits (computed without overflow).

        Called as `loss(y_true, y_pred, sample_weight=None)`: per-sample values reduced by `reduction`
        ('sum_over_batch_size' (default), 'sum' or 'none'), masks and sample weights applied as in Keras 3.
    """
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=bool(from_logits), label_smoothing=float(label_smoothing), axis=axis)


def _init_for(fn, default_name, **defaults):
    """The __init__ of a LossFunctionWrapper class for `fn`: reduction, name, dtype, and fn's keyword arguments
    (`defaults`, which get_config then lists)."""
    def __init__(self, reduction="sum_over_batch_size", name=default_name, dtype=None, **kwargs):
        unknown = set(kwargs) - set(defaults)
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) {', '.join(sorted(unknown))}")
        LossFunctionWrapper.__init__(self, fn, reduction=reduction, name=name, dtype=dtype, **{**defaults, **kwargs})
    return __init__


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """100 * mean(|(y_true - y_pred) / y_true|) over the last axis, then reduced over the batch."""
    __init__ = _init_for(mean_absolute_percentage_error, "mean_absolute_percentage_error")


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """mean((log(y_pred + 1) - log(y_true + 1)) ** 2) over the last axis, then reduced over the batch."""
    __init__ = _init_for(mean_squared_logarithmic_error, "mean_squared_logarithmic_error")


class LogCosh(LossFunctionWrapper):
    """mean(log(cosh(y_pred - y_true))) over the last axis, then reduced over the batch."""
    __init__ = _init_for(log_cosh, "log_cosh")


class Poisson(LossFunctionWrapper):
    """mean(y_pred - y_true * log(y_pred)) over the last axis, then reduced over the batch."""
    __init__ = _init_for(poisson, "poisson")


class CosineSimilarity(LossFunctionWrapper):
    """-cosine similarity of y_true and y_pred along `axis` (-1 for the same direction), reduced over the batch."""
    __init__ = _init_for(cosine_similarity, "cosine_similarity", axis=-1)


class Hinge(LossFunctionWrapper):
    """mean(max(1 - y_true * y_pred, 0)) over the last axis (0/1 labels taken as -1/1), reduced over the batch."""
    __init__ = _init_for(hinge, "hinge")


class SquaredHinge(LossFunctionWrapper):
    """mean(max(1 - y_true * y_pred, 0) ** 2) over the last axis (0/1 labels as -1/1), reduced over the batch."""
    __init__ = _init_for(squared_hinge, "squared_hinge")


class CategoricalHinge(LossFunctionWrapper):
    """max(max over wrong classes of y_pred - y_pred of the true class + 1, 0), reduced over the batch."""
    __init__ = _init_for(categorical_hinge, "categorical_hinge")


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy down-weighting easy examples by (1 - p_t) ** gamma, reduced over the batch."""
    __init__ = _init_for(binary_focal_crossentropy, "binary_focal_crossentropy", apply_class_balancing=False,
                         alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
kld = KLD = kullback_leibler_divergence = kl_divergence
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
logcosh = log_cosh

CLASSES = {c.__name__: c for c in (MeanSquaredError, MeanAbsoluteError, Huber, KLDivergence, CategoricalCrossentropy,
                                   SparseCategoricalCrossentropy, BinaryCrossentropy, LossFunctionWrapper,
                                   MeanAbsolutePercentageError, MeanSquaredLogarithmicError, LogCosh, Poisson,
                                   CosineSimilarity, Hinge, SquaredHinge, CategoricalHinge, BinaryFocalCrossentropy)}
FUNCTIONS = {"mean_squared_error": mean_squared_error, "mse": mean_squared_error, "MSE": mean_squared_error,
             "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error, "MAE": mean_absolute_error,
             "huber": huber, "huber_loss": huber, "kl_divergence": kl_divergence, "kld": kl_divergence,
             "KLD": kl_divergence, "kullback_leibler_divergence": kl_divergence,
             "categorical_crossentropy": categorical_crossentropy,
             "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
             "binary_crossentropy": binary_crossentropy,
             "mean_absolute_percentage_error": mean_absolute_percentage_error, "mape": mean_absolute_percentage_error,
             "MAPE": mean_absolute_percentage_error,
             "mean_squared_logarithmic_error": mean_squared_logarithmic_error, "msle": mean_squared_logarithmic_error,
             "MSLE": mean_squared_logarithmic_error, "log_cosh": log_cosh, "logcosh": log_cosh, "poisson": poisson,
             "cosine_similarity": cosine_similarity, "hinge": hinge, "squared_hinge": squared_hinge,
             "categorical_hinge": categorical_hinge, "binary_focal_crossentropy": binary_focal_crossentropy}


def serialize(loss):
    """A loss as a config dict (a Loss object) or its name (a built-in loss function), for saving."""
    if isinstance(loss, Loss):
        config = loss.get_config()
        if type(loss) is LossFunctionWrapper:
            return {"class_name": "LossFunctionWrapper", "config": {**config, "fn": serialize(loss.fn)}}
        return {"class_name": type(loss).__name__, "config": config}
    name = getattr(loss, "__name__", None)
    if FUNCTIONS.get(name) is loss:
        return name
    raise ValueError(f"cannot serialize loss {loss!r:.80}: use a gpuflow loss, or a Loss subclass with get_config")


def deserialize(config, custom_objects=None):
    """The loss a name or config dict (from serialize) describes; `custom_objects` maps your own names."""
    if isinstance(config, str):
        return get(config)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"cannot deserialize a loss from {config!r:.80}: expected a name or "
                         f"{{'class_name': ..., 'config': {{...}}}}")
    name, kwargs = config["class_name"], dict(config.get("config") or {})
    cls = (custom_objects or {}).get(name) or CLASSES.get(name)
    if cls is None:
        raise ValueError(f"unknown loss class {name!r}; known: {sorted(CLASSES)}")
    if cls is LossFunctionWrapper:
        return LossFunctionWrapper(deserialize(kwargs.pop("fn")), **kwargs)
    return cls.from_config(kwargs)


def get(identifier):
    """None, a loss function or object (as is), a name ('mse', 'sparse_categorical_crossentropy', or a class
    name like 'MeanSquaredError' for an instance) or a config dict."""
    if identifier is None or isinstance(identifier, Loss) or (callable(identifier) and not isinstance(identifier, type)):
        return identifier
    if isinstance(identifier, str):
        if identifier in FUNCTIONS:
            return FUNCTIONS[identifier]
        if identifier in CLASSES and identifier != "LossFunctionWrapper":
            return CLASSES[identifier]()
        known = sorted(set(FUNCTIONS) | set(CLASSES) - {"LossFunctionWrapper"})
        raise ValueError(f"unknown loss {identifier!r}; known names: {', '.join(known)}")
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(f"cannot interpret {identifier!r:.80} as a loss: give a name, a function, a Loss or a config")
