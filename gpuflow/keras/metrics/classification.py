"""Per-class scores (Keras 3): FBetaScore / F1Score, MeanIoU, and the cosine-similarity metric."""
from __future__ import annotations

from ... import dtypes, ops
from ...ops.matrix_ops import diag_part
from ...ops.nn_ops import l2_normalize
from ...ops.segment_ops import confusion_matrix
from ..losses import squeeze_or_expand_to_same_rank
from .base import MeanMetricWrapper, Metric, as_tensor, divide_no_nan

EPSILON = 1e-7  # keras.backend.epsilon()


class FBetaScore(Metric):
    """F-beta per class of one-hot (multi-label) y_true and y_pred [batch, classes], over every sample seen:
    (1 + beta²) p r / (beta² p + r). y_pred counts as 1 above `threshold`, or at each row's argmax without one.
    average: None (one score per class), 'micro' (from the summed counts), 'macro' (their mean) or 'weighted'
    (weighted by each class's support)."""

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"{type(self).__name__}: average must be None, 'micro', 'macro' or 'weighted', got "
                             f"{average!r}")
        if not beta > 0:
            raise ValueError(f"{type(self).__name__}: beta must be > 0, got {beta}")
        if threshold is not None and not 0 < threshold <= 1:
            raise ValueError(f"{type(self).__name__}: threshold must be in (0, 1], got {threshold}")
        self.average, self.beta, self.threshold = average, float(beta), threshold
        self._counts = None  # made on the first batch: one entry per class

    def _build(self, classes):
        self._counts = {what: self.add_variable((classes,), name=what)
                        for what in ("true_positives", "false_positives", "false_negatives", "intermediate_weights")}

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = as_tensor(y_pred, self.dtype)
        y_true = as_tensor(y_true, self.dtype, like=y_pred)
        if y_pred.ndim != 2 or tuple(y_true.shape) != tuple(y_pred.shape):
            raise ValueError(f"{self.name} ({type(self).__name__}): y_true and y_pred must both be [batch, classes], "
                             f"got {list(y_true.shape)} and {list(y_pred.shape)}")
        if self._counts is None:
            self._build(y_pred.shape[-1])
        if self.threshold is None:
            predicted = ops.cast(ops.equal(y_pred, ops.reduce_max(y_pred, axis=-1, keepdims=True)), self.dtype)
        else:
            predicted = ops.cast(y_pred > self.threshold, self.dtype)
        weights = 1.0 if sample_weight is None else ops.expand_dims(as_tensor(sample_weight, self.dtype,
                                                                              like=y_pred), -1)
        counts = self._counts
        counts["true_positives"].assign_add(ops.reduce_sum(predicted * y_true * weights, axis=0))
        counts["false_positives"].assign_add(ops.reduce_sum(predicted * (1.0 - y_true) * weights, axis=0))
        counts["false_negatives"].assign_add(ops.reduce_sum((1.0 - predicted) * y_true * weights, axis=0))
        counts["intermediate_weights"].assign_add(ops.reduce_sum(y_true * weights, axis=0))

    def result(self):
        if self._counts is None:
            return ops.constant(0.0, self.dtype)
        tp, fp, fn = (self._counts[w].value() for w in ("true_positives", "false_positives", "false_negatives"))
        if self.average == "micro":
            tp, fp, fn = ops.reduce_sum(tp), ops.reduce_sum(fp), ops.reduce_sum(fn)
        precision = tp / (tp + fp + EPSILON)
        recall = tp / (tp + fn + EPSILON)
        b2 = self.beta * self.beta
        score = divide_no_nan(precision * recall, b2 * precision + recall) * (1.0 + b2)
        if self.average == "weighted":
            support = self._counts["intermediate_weights"].value()
            return ops.reduce_sum(score * divide_no_nan(support, ops.reduce_sum(support)))
        return ops.reduce_mean(score) if self.average == "macro" else score

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """FBetaScore with beta = 1: the harmonic mean of precision and recall, per class or averaged."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        config.pop("beta")
        return config


class MeanIoU(Metric):
    """The mean over classes of intersection over union, tp / (tp + fp + fn), from a confusion matrix of every
    sample seen; classes never seen nor predicted are left out of the mean. Labels and predictions are class ids
    (sparse_y_true / sparse_y_pred False: one-hot or scores, read by argmax along `axis`); `ignore_class` drops
    the samples of that label."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True, sparse_y_pred=True,
                 axis=-1):
        super().__init__(name=name, dtype=dtype)
        if int(num_classes) < 2:
            raise ValueError(f"MeanIoU: num_classes must be at least 2, got {num_classes}")
        self.num_classes, self.ignore_class = int(num_classes), ignore_class
        self.sparse_y_true, self.sparse_y_pred, self.axis = bool(sparse_y_true), bool(sparse_y_pred), int(axis)
        self.total_cm = self.add_variable((self.num_classes, self.num_classes), name="total_confusion_matrix")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = ops.convert_to_tensor(y_true), ops.convert_to_tensor(y_pred)
        if not self.sparse_y_true:
            y_true = ops.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = ops.argmax(y_pred, axis=self.axis)
        labels = ops.reshape(ops.cast(y_true, dtypes.int64), [-1])
        predictions = ops.reshape(ops.cast(y_pred, dtypes.int64), [-1])
        weights = ops.ones(labels.shape, self.dtype) if sample_weight is None else \
            ops.reshape(as_tensor(sample_weight, self.dtype, like=y_pred), [-1])
        if self.ignore_class is not None:
            kept = ops.not_equal(labels, self.ignore_class)
            weights = ops.where(kept, weights, 0.0)
            labels = ops.where(kept, labels, 0)
            predictions = ops.where(kept, predictions, 0)
        self.total_cm.assign_add(confusion_matrix(labels, predictions, self.num_classes, weights=weights,
                                                  dtype=self.dtype))

    def result(self):
        cm = self.total_cm.value()
        true_positives = diag_part(cm)
        rows, cols = ops.reduce_sum(cm, axis=1), ops.reduce_sum(cm, axis=0)
        denominator = rows + cols - true_positives
        seen = ops.reduce_sum(ops.cast(ops.not_equal(denominator, 0.0), self.dtype))
        return divide_no_nan(ops.reduce_sum(divide_no_nan(true_positives, denominator)), seen)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


def cosine_similarity(y_true, y_pred, axis=-1):
    """sum(l2_normalize(y_true) * l2_normalize(y_pred)) along `axis`: 1 for the same direction."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype, like=y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return ops.reduce_sum(l2_normalize(y_true, axis=axis) * l2_normalize(y_pred, axis=axis), axis=axis)


class CosineSimilarity(MeanMetricWrapper):
    """The mean cosine similarity of y_true and y_pred along `axis` over every sample seen."""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)
