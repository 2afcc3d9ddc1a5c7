"""Thresholded confusion-matrix metrics (Keras 3): Precision, Recall, AUC.

State: weighted counts of true/false positives/negatives per threshold, accumulated over
batches. A prediction is positive at threshold t when it is > t; a label is positive when
it is nonzero. Per-sample weights of shape (N,) apply to every value of the sample.
"""
from __future__ import annotations

from ... import dtypes, ops
from ..losses import squeeze_or_expand_to_same_rank
from .base import Metric, as_tensor, divide_no_nan

EPSILON = 1e-7
NEG_INF = -1e10  # Keras' threshold for top_k: every kept prediction is above it


def _parse_thresholds(cls, thresholds, default):
    if thresholds is None:
        return [default]
    values = [float(t) for t in (thresholds if isinstance(thresholds, (list, tuple)) else [thresholds])]
    if not values or any(not 0.0 <= t <= 1.0 for t in values):
        raise ValueError(f"{cls}: thresholds must be numbers in [0, 1], got {thresholds!r}")
    return values


def _top_k_mask(y_pred, k):
    """Keep each row's k largest values (ties at the k-th value kept too), the rest set to NEG_INF."""
    higher = ops.reduce_sum(ops.cast(ops.expand_dims(y_pred, -2) > ops.expand_dims(y_pred, -1), dtypes.int32),
                            axis=-1)
    return ops.where(higher < k, y_pred, ops.fill(y_pred.shape, NEG_INF, dtype=y_pred.dtype))


def confusion_counts(y_true, y_pred, thresholds, sample_weight=None, top_k=None, class_id=None):
    """Weighted (tp, fp, tn, fn), each of shape (len(thresholds),), for one batch."""
    y_pred = as_tensor(y_pred, dtypes.float32)
    y_true = as_tensor(y_true, dtypes.float32, like=y_pred)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(f"confusion metrics: y_true {list(y_true.shape)} and y_pred {list(y_pred.shape)} must have "
                         f"one shape")
    if top_k is not None:
        y_pred = _top_k_mask(y_pred, top_k)
    if class_id is not None:
        y_true, y_pred = y_true[..., class_id], y_pred[..., class_id]
    weights = ops.ones_like(y_pred)
    if sample_weight is not None:
        w = as_tensor(sample_weight, dtypes.float32, like=y_pred)
        while len(w.shape) < len(y_pred.shape):  # per-sample weights cover all of a sample's values
            w = ops.expand_dims(w, -1)
        weights = ops.broadcast_to(w, y_pred.shape)
    pred = ops.reshape(y_pred, (1, -1))
    label = ops.reshape(ops.cast(y_true != 0, dtypes.float32), (1, -1))
    weights = ops.reshape(weights, (1, -1))
    with_threshold = ops.cast(pred > as_tensor([[t] for t in thresholds], dtypes.float32, like=pred), dtypes.float32)
    positive, negative = label * weights, (1.0 - label) * weights

    def count(pred_is_pos, weighted):
        return ops.reduce_sum(pred_is_pos * weighted, axis=1)
    return (count(with_threshold, positive), count(with_threshold, negative),
            count(1.0 - with_threshold, negative), count(1.0 - with_threshold, positive))


class _Thresholded(Metric):
    counts = ()  # which of tp, fp, tn, fn this metric keeps

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        self.thresholds = _parse_thresholds(type(self).__name__, thresholds, 0.5 if top_k is None else NEG_INF)
        for what in self.counts:
            setattr(self, what, self.add_variable((len(self.thresholds),), name=what))

    def update_state(self, y_true, y_pred, sample_weight=None):
        new = dict(zip(("true_positives", "false_positives", "true_negatives", "false_negatives"),
                       confusion_counts(y_true, y_pred, self.thresholds, sample_weight, self.top_k, self.class_id)))
        for what in self.counts:
            getattr(self, what).assign_add(new[what])

    def _ratio(self, hits, misses):
        result = divide_no_nan(hits.value(), hits.value() + misses.value())
        return result[0] if len(self.thresholds) == 1 else result

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_Thresholded):
    """tp / (tp + fp) per threshold (a scalar for one threshold)."""
    counts = ("true_positives", "false_positives")

    def result(self):
        return self._ratio(self.true_positives, self.false_positives)


class Recall(_Thresholded):
    """tp / (tp + fn) per threshold (a scalar for one threshold)."""
    counts = ("true_positives", "false_negatives")

    def result(self):
        return self._ratio(self.true_positives, self.false_negatives)


class AUC(Metric):
    """Area under the ROC or precision-recall curve from counts at num_thresholds thresholds in [0, 1].

    'interpolation' is the trapezoid rule for ROC and Davis & Goadrich's interpolation for PR;
    'minoring' and 'majoring' are the lower and upper Riemann sums.
    """
    _COUNTS = ("true_positives", "false_positives", "true_negatives", "false_negatives")

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        super().__init__(name=name or "auc", dtype=dtype)
        if multi_label or label_weights is not None:
            raise ValueError("AUC: multi_label and label_weights are not supported; AUC here pools all labels")
        if str(curve).upper() not in ("ROC", "PR"):
            raise ValueError(f"AUC: curve must be 'ROC' or 'PR', got {curve!r}")
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f"AUC: summation_method must be 'interpolation', 'minoring' or 'majoring', "
                             f"got {summation_method!r}")
        if thresholds is not None:
            inner = sorted(_parse_thresholds("AUC", thresholds, 0.5))
        else:
            if num_thresholds <= 1:
                raise ValueError(f"AUC: num_thresholds must be > 1, got {num_thresholds}")
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.thresholds = [0.0 - EPSILON] + inner + [1.0 + EPSILON]
        self.num_thresholds = len(self.thresholds)
        self.curve, self.summation_method = str(curve).upper(), summation_method
        self._init_thresholds, self.from_logits, self.num_labels = thresholds, bool(from_logits), num_labels
        for what in self._COUNTS:
            setattr(self, what, self.add_variable((self.num_thresholds,), name=what))

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.from_logits:
            y_pred = ops.sigmoid(as_tensor(y_pred, dtypes.float32))
        for variable, new in zip([getattr(self, w) for w in self._COUNTS],
                                 confusion_counts(y_true, y_pred, self.thresholds, sample_weight)):
            variable.assign_add(new)

    def result(self):
        tp, fp, tn, fn = (getattr(self, w).value() for w in self._COUNTS)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolated_pr(tp, fp, fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), divide_no_nan(tp, tp + fn)
        else:
            x, y = divide_no_nan(tp, tp + fn), divide_no_nan(tp, tp + fp)
        lower, upper = y[:-1], y[1:]
        heights = {"interpolation": (lower + upper) / 2.0, "minoring": ops.minimum(lower, upper),
                   "majoring": ops.maximum(lower, upper)}[self.summation_method]
        return ops.reduce_sum((x[:-1] - x[1:]) * heights)

    @staticmethod
    def _interpolated_pr(tp, fp, fn):
        """Davis & Goadrich (2006): precision interpolated along each segment between thresholds."""
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = divide_no_nan(dtp, ops.maximum(dp, 0.0))
        intercept = tp[1:] - slope * p[1:]
        both = ops.logical_and(p[:-1] > 0, p[1:] > 0)
        ratio = ops.where(both, divide_no_nan(p[:-1], ops.maximum(p[1:], 0.0)), ops.ones_like(p[1:]))
        increments = divide_no_nan(slope * (dtp + intercept * ops.log(ratio)), ops.maximum(tp[1:] + fn[1:], 0.0))
        return ops.reduce_sum(increments)

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                "summation_method": self.summation_method, "thresholds": self._init_thresholds,
                "from_logits": self.from_logits, "num_labels": self.num_labels}
