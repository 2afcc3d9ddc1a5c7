"""Metric (state in non-trainable Variables), Mean, Sum and MeanMetricWrapper, as in Keras 3."""
from __future__ import annotations

from ... import devices as _device
from ... import dtypes, ops
from ...ops.safe_math import divide_no_nan  # noqa: F401 - the metrics' total / count, 0 before any count
from ...tensor import Tensor, Variable
from .._objects import snake
from ..losses import squeeze_or_expand_to_same_rank


def as_tensor(value, dtype=None, like=None):
    """`value` as a tensor (on `like`'s device when given), cast to `dtype` when given."""
    if not isinstance(value, Tensor):
        with _device.device(like._device if like is not None else _device.current()):
            value = ops.convert_to_tensor(value, dtype_hint=dtype)
    return value if dtype is None else ops.cast(value, dtype)


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype):
    """Keras' reduction of metric values to one per sample, weighted: returns (values, sample_weight)."""
    values = as_tensor(values, dtype)
    if sample_weight is not None:
        sample_weight = as_tensor(sample_weight, dtype, like=values)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim, values_ndim = len(sample_weight.shape), len(values.shape)
        if values_ndim > weight_ndim:
            values = reduce_fn(values, axis=list(range(weight_ndim, values_ndim)))
        sample_weight = ops.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=list(range(1, weight_ndim)))
    if len(values.shape) > 1:
        values = reduce_fn(values, axis=list(range(1, len(values.shape))))
    return values, sample_weight


class Metric:
    """Subclasses make their state with add_variable in __init__ and implement update_state and result."""

    def __init__(self, name=None, dtype=None):
        self.name = name or snake(type(self).__name__)
        self.dtype = dtypes.as_dtype(dtype or dtypes.float32)
        self._variables, self._initial = [], []

    def add_variable(self, shape, initializer="zeros", dtype=None, name=None) -> Variable:
        """A state variable filled with `initializer` ('zeros', 'ones' or a number), restored by reset_state."""
        value = {"zeros": 0.0, "ones": 1.0}.get(initializer, initializer)
        if not isinstance(value, (int, float)):
            raise ValueError(f"{self.name}.add_variable: initializer must be 'zeros', 'ones' or a number, "
                             f"got {initializer!r}")
        dtype = dtypes.as_dtype(dtype or self.dtype)
        variable = Variable(ops.fill(tuple(shape), value, dtype=dtype), trainable=False,
                            name=f"{self.name}/{name or 'variable'}")
        self._variables.append(variable)
        self._initial.append(value)
        return variable

    @property
    def variables(self) -> list:
        return list(self._variables)

    def reset_state(self):
        for variable, value in zip(self._variables, self._initial):
            with _device.device(variable._device):
                variable.assign(ops.fill(variable.shape, value, dtype=variable.dtype))

    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement update_state")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must implement result")

    def __call__(self, *args, **kwargs):
        """Update with one batch and return the running result (Keras' Metric.__call__)."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class Sum(Metric):
    """The (weighted) sum of all values seen."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), name="total")

    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(values, sample_weight, ops.reduce_sum, self.dtype)
        self.total.assign_add(ops.reduce_sum(values))

    def result(self):
        return self.total.value()


class Mean(Metric):
    """The (weighted) mean of all values seen: total / count, where count sums the sample weights."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), name="total")
        self.count = self.add_variable((), name="count")

    def update_state(self, values, sample_weight=None):
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight, ops.reduce_mean, self.dtype)
        self.total.assign_add(ops.reduce_sum(values))
        if sample_weight is not None:
            self.count.assign_add(ops.reduce_sum(sample_weight))
        else:
            self.count.assign_add(float(values.shape[0]) if values.shape else 1.0)

    def result(self):
        return divide_no_nan(self.total.value(), self.count.value())


class MeanMetricWrapper(Mean):
    """The mean of fn(y_true, y_pred, **kwargs) over all samples seen: how losses serve as metrics."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", "mean_metric_wrapper"), dtype=dtype)
        self._fn, self._fn_kwargs = fn, kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight=sample_weight)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}
