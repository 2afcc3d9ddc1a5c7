"""Accuracy metrics (Keras 3): per-sample match functions and the MeanMetricWrapper classes around them."""
from __future__ import annotations

from ... import dtypes, ops
from ..losses import squeeze_or_expand_to_same_rank
from .base import MeanMetricWrapper, as_tensor


def _pred_and_true(y_true, y_pred):
    y_pred = as_tensor(y_pred)
    return as_tensor(y_true, like=y_pred), y_pred


def accuracy(y_true, y_pred):
    """1.0 where y_pred equals y_true exactly."""
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(ops.cast(y_true, y_pred.dtype), y_pred)
    return ops.cast(ops.equal(y_true, y_pred), dtypes.float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where (y_pred > threshold) equals y_true."""
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    predicted = ops.cast(y_pred > ops.cast(as_tensor(threshold, like=y_pred), y_pred.dtype), y_true.dtype)
    return ops.cast(ops.equal(y_true, predicted), dtypes.float32)


def _sparse_labels(y_true, y_pred):
    """Integer class ids of shape y_pred.shape[:-1] from (N,) or (N, 1) labels, ints or floats."""
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, -1)
    if tuple(y_true.shape) != tuple(y_pred.shape[:-1]):
        raise ValueError(f"sparse accuracy: labels {list(y_true.shape)} must have y_pred's shape "
                         f"{list(y_pred.shape)} without its class axis (optionally with a trailing 1)")
    return ops.cast(y_true, dtypes.int64)


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) is the label."""
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    labels = _sparse_labels(y_true, y_pred)
    return ops.cast(ops.equal(labels, ops.argmax(y_pred, axis=-1)), dtypes.float32)


def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) is argmax(y_true) (one-hot labels)."""
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    return ops.cast(ops.equal(ops.argmax(y_true, axis=-1), ops.argmax(y_pred, axis=-1)), dtypes.float32)


def in_top_k(labels, predictions, k):
    """tf.math.in_top_k: fewer than k classes score strictly higher than the label's class (ties count in)."""
    hit = ops.equal(ops.one_hot(labels, predictions.shape[-1], dtype=dtypes.int32), 1)
    target = ops.reduce_sum(ops.where(hit, predictions, ops.zeros_like(predictions)), axis=-1, keepdims=True)
    higher = ops.reduce_sum(ops.cast(predictions > target, dtypes.int32), axis=-1)
    return higher < k


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the integer label is among the `k` highest predictions, else 0.0, per sample."""
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    return ops.cast(in_top_k(_sparse_labels(y_true, y_pred), y_pred, k), dtypes.float32)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot label's class is among the `k` highest predictions, else 0.0, per sample."""
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    return ops.cast(in_top_k(ops.argmax(y_true, axis=-1), y_pred, k), dtypes.float32)


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly. A running mean over every batch seen: `update_state(y_true, y_pred,
    sample_weight=None)`, `result()`, `reset_state()`.
    """
    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often predictions above `threshold` match 0/1 labels. A running mean over every batch seen:
    `update_state(y_true, y_pred, sample_weight=None)`, `result()`, `reset_state()`.
    """
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=float(threshold))


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of the predictions is the one-hot label's class. A running mean over every batch seen:
    `update_state(y_true, y_pred, sample_weight=None)`, `result()`, `reset_state()`.
    """
    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of the predictions is the integer label. A running mean over every batch seen:
    `update_state(y_true, y_pred, sample_weight=None)`, `result()`, `reset_state()`.
    """
    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label's class is among the `k` highest predictions. A running mean over every batch seen:
    `update_state(y_true, y_pred, sample_weight=None)`, `result()`, `reset_state()`.
    """
    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=int(k))


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the `k` highest predictions. A running mean over every batch seen:
    `update_state(y_true, y_pred, sample_weight=None)`, `result()`, `reset_state()`.
    """
    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=int(k))
