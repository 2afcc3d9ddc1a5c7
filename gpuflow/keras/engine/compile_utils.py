"""What `compile` sets up: losses and metrics matched to the model's outputs.

Losses and metrics may be given once (all outputs), as a list (one per output) or a dict
keyed by output name. Strings go through `gf.keras.losses.get` / `metrics.get`; objects and
plain functions are used as they are.

An output that carries a mask (`y_pred._keras_mask`) has it folded into the sample weights of its
loss and of its mean metrics (accuracy, crossentropy, mse...), as Keras 3 does: masked entries
count 0, and the loss is the mean over the unmasked entries.
"""
from __future__ import annotations

import inspect

import numpy as np

from ... import devices as _device
from ... import dtypes, ops
from ...graph.printing import host_call, is_symbolic
from ...tensor import Variable
from ..losses import apply_mask, reduce_weighted_values
from ..metrics.base import MeanMetricWrapper, divide_no_nan


def _accepts_sample_weight(fn) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "sample_weight" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _name_of(obj) -> str:
    name = getattr(obj, "name", None) or getattr(obj, "__name__", None) or type(obj).__name__
    return str(name)


def call_loss(loss, y_true, y_pred, sample_weight=None, accepts_sample_weight=None):
    """A scalar loss; a plain `fn(y_true, y_pred)` returning per-sample values is weighted and averaged here
    (and masked by y_pred's mask; a Loss object applies the mask itself). `accepts_sample_weight`, when
    known, is `_accepts_sample_weight(loss)` worked out beforehand (reading a signature costs ~0.1 ms)."""
    if accepts_sample_weight is None:
        accepts_sample_weight = _accepts_sample_weight(loss)
    if accepts_sample_weight:
        value = loss(y_true, y_pred, sample_weight=sample_weight)
    else:
        mask = getattr(y_pred, "_keras_mask", None)
        value = loss(y_true, y_pred)
        if mask is not None and value.ndim:
            return reduce_weighted_values(value, sample_weight, mask=mask)
        if sample_weight is not None:
            sw = ops.cast(sample_weight, value.dtype)
            while sw.ndim < value.ndim:
                sw = ops.expand_dims(sw, -1)
            value = value * sw
    return ops.reduce_mean(value) if value.ndim else value


class RunningMean:
    """A weighted mean of scalar losses over batches, how `loss` is reported per epoch. Kept on the device
    (two scalar Variables, made on the first update where the loss lives), so a training step never reads
    the loss back: the logs are read when a progress bar or callback needs them. Under a gf.distribute
    strategy (one thread per replica, each running its own step) the replicas' sums meet on the host
    instead, as Python floats in `total` and `count` (added across workers by gpuflow.distribute); in a
    compiled replica step a host callback of its graph adds each step's value."""

    def __init__(self, name):
        self.name, self.total, self.count = name, None, None
        self._on_host = None  # decided by the first update

    def update_state(self, value, weight=1.0):
        if self._on_host is None:
            from ...distribute import has_strategy
            self._on_host = has_strategy()
            if self._on_host:
                self.total, self.count = 0.0, 0.0
        if self._on_host:
            if is_symbolic(value):  # traced: added on the host on every run of the step
                host_call(lambda v: self._add(v, weight), [value])
            else:
                self._add(value, weight)
            return
        value = ops.cast(value, dtypes.float32)
        if self.total is None:
            with _device.device(value._device):
                self.total = Variable(ops.zeros((), dtypes.float32), trainable=False, name=f"{self.name}/total")
                self.count = Variable(ops.zeros((), dtypes.float32), trainable=False, name=f"{self.name}/count")
        self.total.assign_add(value * float(weight))
        self.count.assign_add(float(weight))

    def _add(self, value, weight):
        self.total += float(value) * weight
        self.count += weight

    def result(self):
        if self.total is None:
            return 0.0
        if self._on_host:
            return self.total / self.count if self.count else 0.0
        return divide_no_nan(self.total.value(), self.count.value())

    def reset_state(self):
        if self._on_host:
            self.total, self.count = 0.0, 0.0
            return
        for variable in (self.total, self.count):
            if variable is not None:
                with _device.device(variable._device):
                    variable.assign(ops.zeros((), dtypes.float32))


def _per_output(spec, output_names, what):
    """`spec` spread over the outputs: a list with one entry (or None) per output. A flat list of metrics
    applies to every output (a list of lists maps one list per output), as in Keras."""
    n = len(output_names)
    if isinstance(spec, dict) and "class_name" in spec and "class_name" not in output_names:
        return [spec] * n  # one serialised object, not a per-output dict
    if isinstance(spec, dict):
        unknown = sorted(set(spec) - set(output_names))
        if unknown:
            raise ValueError(f"compile: {what} names unknown output(s) {', '.join(unknown)}; the model's outputs are "
                             f"{', '.join(output_names)}")
        return [spec.get(name) for name in output_names]
    if what == "metrics" and isinstance(spec, (list, tuple)) and not all(
            s is None or isinstance(s, (list, tuple)) for s in spec):
        return [list(spec)] * n
    if isinstance(spec, (list, tuple)) and (n > 1 or (what != "metrics" and len(spec) == 1)):
        if len(spec) != n:
            raise ValueError(f"compile: {len(spec)} {what} given for {n} outputs ({', '.join(output_names)}); give "
                             f"one per output, or a dict keyed by output name")
        return list(spec)
    return [spec] * n


def _loss_name(loss) -> str:
    return _name_of(loss).lower()


class CompiledLoss:
    def __init__(self, loss, loss_weights, output_names):
        self.output_names = list(output_names)
        raw = _per_output(loss, self.output_names, "losses")
        self.losses = [None if x is None else self._resolve(x) for x in raw]
        # Whether each loss takes sample_weight, read once here rather than on every step; a new compile()
        # makes a new CompiledLoss, so a changed loss is always seen.
        self._accepts_sample_weight = [x is not None and _accepts_sample_weight(x) for x in self.losses]
        weights = _per_output(loss_weights, self.output_names, "loss_weights") if loss_weights is not None else None
        self.weights = [1.0 if w is None else float(w) for w in weights] if weights else [1.0] * len(raw)
        multi = len(raw) > 1 and any(x is not None for x in self.losses)
        # Per-output loss means (`dense_1_loss`) when several outputs have losses: output index → tracker.
        self.trackers = {i: RunningMean(f"{name}_loss") for i, name in enumerate(self.output_names)
                         if multi and self.losses[i] is not None}

    @staticmethod
    def _resolve(loss):
        if isinstance(loss, (str, dict)):
            from .. import losses
            return losses.get(loss)
        if not callable(loss):
            raise TypeError(f"compile: a loss must be a name or a callable, got {type(loss).__name__}")
        return loss

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The weighted sum of the per-output losses (a scalar tensor) and the per-output values."""
        total, parts = None, []
        for loss, accepts, w, yt, yp, sw in zip(self.losses, self._accepts_sample_weight, self.weights, y_true, y_pred,
                                                sample_weight):
            if loss is None:
                parts.append(None)
                continue
            if yt is None:
                raise ValueError("the model has a loss for an output but no target (y) was given for it")
            value = call_loss(loss, yt, yp, sw, accepts)
            parts.append(value)
            term = value * w if w != 1.0 else value
            total = term if total is None else total + term
        return total, parts

    def update_trackers(self, parts, batch):
        for i, tracker in self.trackers.items():
            tracker.update_state(parts[i], batch)


class CompiledMetrics:
    """Metrics per output; names are prefixed with the output name when the model has several outputs."""

    def __init__(self, metrics, weighted_metrics, output_names, losses):
        self.output_names = list(output_names)
        self._losses = losses
        self._raw = [_per_output(m, self.output_names, "metrics") for m in (metrics, weighted_metrics)]
        self.entries = None  # [(display name, metric, output index, weighted)], made on the first batch

    def _build(self, y_true, y_pred):
        multi = len(self.output_names) > 1
        self.entries = []
        for weighted, per_output in zip((False, True), self._raw):
            for i, spec in enumerate(per_output):
                specs = spec if isinstance(spec, (list, tuple)) else ([] if spec is None else [spec])
                for m in specs:
                    name, metric = self._resolve(m, y_true[i], y_pred[i], self._losses[i])
                    prefix = f"{self.output_names[i]}_" if multi else ""
                    self.entries.append((prefix + ("weighted_" if weighted else "") + name, metric, i, weighted))

    def _resolve(self, m, y_true, y_pred, loss):
        if isinstance(m, str) or isinstance(m, dict):
            from .. import metrics
            name = m if isinstance(m, str) else None
            if m in ("accuracy", "acc"):
                m = self._accuracy_kind(y_true, y_pred, loss)
            elif m in ("crossentropy", "ce"):
                m = self._accuracy_kind(y_true, y_pred, loss).replace("accuracy", "crossentropy")
            metric = metrics.get(m)
            if not hasattr(metric, "update_state"):  # names resolve to functions, as in Keras 3
                metric = MeanMetricWrapper(metric, name=name)
            return name or metric.name, metric
        if hasattr(m, "update_state"):
            return m.name, m
        if callable(m):
            metric = MeanMetricWrapper(m)
            return metric.name, metric
        raise TypeError(f"compile: a metric must be a name, a Metric or a function, got {type(m).__name__}")

    @staticmethod
    def _accuracy_kind(y_true, y_pred, loss):
        """Which accuracy 'accuracy' means, as Keras decides it: from the loss, then the shapes."""
        loss_name = _loss_name(loss) if loss is not None else ""
        if "sparse_categorical" in loss_name:
            return "sparse_categorical_accuracy"
        if "binary" in loss_name or (y_pred.ndim and y_pred.shape[-1] == 1):
            return "binary_accuracy"
        if y_true is not None and y_true.ndim < y_pred.ndim:
            return "sparse_categorical_accuracy"
        return "categorical_accuracy"

    def update_state(self, y_true, y_pred, sample_weight):
        if self.entries is None:
            self._build(y_true, y_pred)
        for _, metric, i, weighted in self.entries:
            if y_true[i] is None:
                continue
            weights = sample_weight[i] if weighted else None
            mask = getattr(y_pred[i], "_keras_mask", None)
            if mask is not None and _is_mean_metric(metric):
                weights = _masked_weights(weights, mask, y_pred[i])
            metric.update_state(y_true[i], y_pred[i], sample_weight=weights)

    def results(self):
        """Each metric's result as it is (a tensor on the device): the loop reads logs when they are needed."""
        return {name: metric.result() for name, metric, _, _ in (self.entries or [])}

    def reset_state(self):
        for _, metric, _, _ in self.entries or []:
            metric.reset_state()


def _is_mean_metric(metric) -> bool:
    """Metrics that average per-entry values (Keras 3's MeanMetricWrapper), which Keras 3 masks."""
    return isinstance(metric, MeanMetricWrapper)


def _masked_weights(sample_weight, mask, y_pred):
    """The mask as metric sample weights (times the given ones): a masked entry counts 0, as Keras 3 does."""
    dtype = dtypes.float64 if getattr(y_pred, "dtype", None) == dtypes.float64 else dtypes.float32
    return apply_mask(sample_weight, mask, dtype, reduction="sum")


def match_targets(y, output_names, structure):
    """y as a list with one target (or None) per output, from a single array, a list, or a dict of names."""
    n = len(output_names)
    if y is None:
        return [None] * n
    if isinstance(y, dict):
        unknown = sorted(set(y) - set(output_names))
        if unknown:
            raise ValueError(f"targets name unknown output(s) {', '.join(unknown)}; the outputs are "
                             f"{', '.join(output_names)}")
        return [y.get(name) for name in output_names]
    if isinstance(y, (list, tuple)) and (n > 1 or (len(y) == 1 and not np.isscalar(y[0]))):
        if len(y) != n:
            raise ValueError(f"{len(y)} targets given for {n} outputs ({', '.join(output_names)})")
        return list(y)
    if n > 1:
        raise ValueError(f"the model has {n} outputs ({', '.join(output_names)}) but one target was given; pass a "
                         f"list or a dict of targets")
    return [y]

