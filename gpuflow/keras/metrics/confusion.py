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


def confusion_counts(y_true, y_pred, thresholds, sample_weight=None, top_k=None, class_id=None, multi_label=False,
                     label_weights=None):
    """Weighted (tp, fp, tn, fn), each of shape (len(thresholds),) for one batch, or (len(thresholds), labels)
    per label of a (N, labels) batch when `multi_label`. `label_weights` (one per label, the last axis) scale
    each label's counts."""
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
    if label_weights is not None:
        weights = weights * as_tensor(label_weights, dtypes.float32, like=y_pred)
    # Flatten to (1, values), or (1, N, labels) to keep the labels apart; compare with (thresholds, 1[, 1]).
    shape = (1, -1, y_pred.shape[-1]) if multi_label else (1, -1)
    pred = ops.reshape(y_pred, shape)
    label = ops.reshape(ops.cast(y_true != 0, dtypes.float32), shape)
    weights = ops.reshape(weights, shape)
    cuts = as_tensor(thresholds, dtypes.float32, like=pred)
    cuts = ops.reshape(cuts, (len(thresholds),) + (1,) * (len(shape) - 1))
    with_threshold = ops.cast(pred > cuts, dtypes.float32)
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
    'minoring' and 'majoring' are the lower and upper Riemann sums. With multi_label=True the
    (N, labels) data keeps counts per label, and the result is the mean of the per-label areas
    (weighted by label_weights when given); otherwise all values are pooled into one curve, each
    label's values weighted by label_weights when given (Keras 3).
    """
    _COUNTS = ("true_positives", "false_positives", "true_negatives", "false_negatives")

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        super().__init__(name=name or "auc", dtype=dtype)
        if str(curve).upper() not in ("ROC", "PR"):
            raise ValueError(f"AUC: curve must be 'ROC' or 'PR', got {curve!r}")
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f"AUC: summation_method must be 'interpolation', 'minoring' or 'majoring', "
                             f"got {summation_method!r}")
        if num_labels is not None and not multi_label:
            raise ValueError(f"AUC: num_labels ({num_labels}) is only used with multi_label=True")
        if num_labels is not None and (not isinstance(num_labels, int) or num_labels < 1):
            raise ValueError(f"AUC: num_labels must be a positive int, got {num_labels!r}")
        if label_weights is not None:
            label_weights = [float(w) for w in (label_weights.numpy() if hasattr(label_weights, "numpy")
                                                else label_weights)]
            if not label_weights or any(not w >= 0 for w in label_weights):
                raise ValueError(f"AUC: label_weights must be one number >= 0 per label, got {label_weights!r}")
            if num_labels is not None and len(label_weights) != num_labels:
                raise ValueError(f"AUC: {len(label_weights)} label_weights for num_labels={num_labels}")
        if thresholds is not None:
            inner = sorted(_parse_thresholds("AUC", thresholds, 0.5))
        else:
            if num_thresholds <= 1:
                raise ValueError(f"AUC: num_thresholds must be > 1, got {num_thresholds}")
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.thresholds = [0.0 - EPSILON] + inner + [1.0 + EPSILON]
        self.num_thresholds = len(self.thresholds)
        self.curve, self.summation_method = str(curve).upper(), summation_method
        self._init_thresholds, self.from_logits = thresholds, bool(from_logits)
        self.multi_label, self.num_labels, self.label_weights = bool(multi_label), num_labels, label_weights
        self._built = False
        if not self.multi_label:
            self._build(None)
        elif num_labels is not None:
            self._build(num_labels)

    def _build(self, num_labels):
        """The count variables: (thresholds,) pooled, (thresholds, labels) per label (made on the first batch
        when num_labels was not given, as Keras does)."""
        shape = (self.num_thresholds,) if num_labels is None else (self.num_thresholds, num_labels)
        for what in self._COUNTS:
            setattr(self, what, self.add_variable(shape, name=what))
        self.num_labels = self.num_labels if num_labels is None else num_labels
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = as_tensor(y_pred, dtypes.float32)
        if self.multi_label or self.label_weights is not None:
            if len(y_pred.shape) != 2:
                raise ValueError(f"AUC: with multi_label=True or label_weights, y_pred must be (samples, labels), "
                                 f"got shape {list(y_pred.shape)}")
            labels = y_pred.shape[1]
            if self.label_weights is not None and len(self.label_weights) != labels:
                raise ValueError(f"AUC: {len(self.label_weights)} label_weights for y_pred with {labels} labels "
                                 f"(shape {list(y_pred.shape)})")
            if self.multi_label and self._built and labels != self.num_labels:
                raise ValueError(f"AUC: built for {self.num_labels} labels, got y_pred of shape "
                                 f"{list(y_pred.shape)}")
        if not self._built:
            self._build(y_pred.shape[1])
        if self.from_logits:
            y_pred = ops.sigmoid(y_pred)
        # Multi-label: each label keeps its own counts and label_weights weigh the per-label areas in result().
        label_weights = None if self.multi_label else self.label_weights
        for variable, new in zip([getattr(self, w) for w in self._COUNTS],
                                 confusion_counts(y_true, y_pred, self.thresholds, sample_weight,
                                                  multi_label=self.multi_label, label_weights=label_weights)):
            variable.assign_add(new)

    def result(self):
        if not self._built:  # multi-label, nothing seen yet
            return as_tensor(0.0, dtypes.float32)
        tp, fp, tn, fn = (getattr(self, w).value() for w in self._COUNTS)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._over_labels(self._interpolated_pr(tp, fp, fn))
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), divide_no_nan(tp, tp + fn)
        else:
            x, y = divide_no_nan(tp, tp + fn), divide_no_nan(tp, tp + fp)
        lower, upper = y[:-1], y[1:]
        heights = {"interpolation": (lower + upper) / 2.0, "minoring": ops.minimum(lower, upper),
                   "majoring": ops.maximum(lower, upper)}[self.summation_method]
        return self._over_labels((x[:-1] - x[1:]) * heights)

    def _over_labels(self, terms):
        """The area from its per-segment terms: summed over thresholds; with multi_label, one area per label,
        then their mean or label_weights-weighted mean."""
        if not self.multi_label:
            return ops.reduce_sum(terms)
        by_label = ops.reduce_sum(terms, axis=0)
        if self.label_weights is None:
            return ops.reduce_mean(by_label)
        weights = as_tensor(self.label_weights, dtypes.float32, like=by_label)
        return divide_no_nan(ops.reduce_sum(by_label * weights), ops.reduce_sum(weights))

    @staticmethod
    def _interpolated_pr(tp, fp, fn):
        """Davis & Goadrich (2006): precision interpolated along each segment between thresholds; the
        per-segment terms (along axis 0)."""
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = divide_no_nan(dtp, ops.maximum(dp, 0.0))
        intercept = tp[1:] - slope * p[1:]
        both = ops.logical_and(p[:-1] > 0, p[1:] > 0)
        ratio = ops.where(both, divide_no_nan(p[:-1], ops.maximum(p[1:], 0.0)), ops.ones_like(p[1:]))
        return divide_no_nan(slope * (dtp + intercept * ops.log(ratio)), ops.maximum(tp[1:] + fn[1:], 0.0))

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                "summation_method": self.summation_method, "thresholds": self._init_thresholds,
                "multi_label": self.multi_label, "num_labels": self.num_labels,
                "label_weights": self.label_weights, "from_logits": self.from_logits}


class _Count(_Thresholded):
    """One of the weighted counts per threshold (a scalar for one threshold), as Keras' TruePositives & co."""

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)

    def result(self):
        value = getattr(self, self.counts[0]).value()
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype.name, "thresholds": self.init_thresholds}


class TruePositives(_Count):
    """The weighted number of positive labels predicted positive (> threshold, default 0.5)."""
    counts = ("true_positives",)


class FalsePositives(_Count):
    """The weighted number of negative labels predicted positive (> threshold, default 0.5)."""
    counts = ("false_positives",)


class TrueNegatives(_Count):
    """The weighted number of negative labels predicted negative (<= threshold, default 0.5)."""
    counts = ("true_negatives",)


class FalseNegatives(_Count):
    """The weighted number of positive labels predicted negative (<= threshold, default 0.5)."""
    counts = ("false_negatives",)
