"""Regression metrics: the mean of a regression loss over all samples seen."""
from __future__ import annotations

from ... import ops
from ..losses import mean_absolute_error, mean_squared_error, squeeze_or_expand_to_same_rank
from .base import Mean, MeanMetricWrapper, as_tensor


class MeanSquaredError(MeanMetricWrapper):
    """The mean squared error over every sample seen. A running mean over every batch seen: `update_state(y_true,
    y_pred, sample_weight=None)`, `result()`, `reset_state()`.
    """
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """The mean absolute error over every sample seen. A running mean over every batch seen: `update_state(y_true,
    y_pred, sample_weight=None)`, `result()`, `reset_state()`.
    """
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """sqrt of the (weighted) mean squared error over all samples seen, as Keras computes it: each sample's squared
    errors are averaged over its non-batch axes, the samples are averaged with their weights, and the root is taken
    last (so it is not the mean of per-batch roots)."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = as_tensor(y_pred, self.dtype)
        y_true = as_tensor(y_true, self.dtype, like=y_pred)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        super().update_state(ops.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self):
        return ops.sqrt(super().result())
