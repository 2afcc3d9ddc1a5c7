"""Preprocessing layers that are plain tensor math: Rescaling, and Normalization with `adapt`."""
from __future__ import annotations

import math

import numpy as np

from ... import ops
from ...ops.math import tensor_on_device_of
from ...tensor import Tensor, TensorShape
from .. import backend
from ..engine.base_layer import Layer


class Rescaling(Layer):
    """`inputs * scale + offset` in the layer's dtype (integer images become floats, as in Keras);
    scale and offset may be numbers or per-channel lists that broadcast against the inputs. Passes masks on."""
    supports_masking = True

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset

    def call(self, inputs):
        inputs = ops.cast(inputs, self._dtype)
        return inputs * self.scale + self.offset

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


def _listed(value):
    """A mean/variance argument as the config keeps it: a number or (nested) list, never an array."""
    if value is None:
        return None
    if isinstance(value, Tensor):
        value = value.numpy()
    value = np.asarray(value, np.float64)
    return value.tolist() if value.ndim else float(value)


class Normalization(Layer):
    """Feature-wise standardisation: `(inputs - mean) / sqrt(variance)` (Keras 3's Normalization), with `mean`
    and `variance` either given or learnt from data by `adapt`. `axis` (int, tuple, or None for one scalar
    mean and variance) names the axes that keep their own statistics; the others are reduced. `invert=True`
    maps normalised values back. The square root is floored at keras.backend.epsilon(). Adapted statistics
    are non-trainable weights, so they are saved with the model; given ones are in the config.

        Differs from TF:
            `adapt` computes the statistics on the host in float64 (batches of a Dataset merged exactly);
            its `batch_size` is accepted and unused.
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        self.axis = (int(axis),) if isinstance(axis, (int, np.integer)) else tuple(int(a) for a in axis)
        if (mean is None) != (variance is None):
            raise ValueError(f"{self.name} (Normalization): give both mean and variance, or neither (and call adapt); "
                             f"got mean={mean!r}, variance={variance!r}")
        self.input_mean, self.input_variance = _listed(mean), _listed(variance)
        self.invert = bool(invert)
        self.adapt_mean = self.adapt_variance = None

    # -------------------------------------------------------------- shapes
    def _keep_axes(self, input_shape):
        rank = len(input_shape)
        keep = sorted({a % rank for a in self.axis if -rank <= a < rank}) if rank else []
        if len(keep) != len(self.axis):
            raise ValueError(f"{self.name} (Normalization): axis {self.axis} is out of range (or repeated) for inputs "
                             f"of shape {tuple(input_shape)}")
        if any(input_shape[a] is None for a in keep):
            raise ValueError(f"{self.name} (Normalization): the kept axes {keep} of input shape {tuple(input_shape)} "
                             f"must be known")
        return keep

    def build(self, input_shape):
        input_shape = TensorShape(input_shape)
        self._keep = self._keep_axes(input_shape)
        self._broadcast_shape = tuple(input_shape[a] if a in self._keep else 1 for a in range(len(input_shape)))
        self._stats_shape = tuple(input_shape[a] for a in self._keep)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight("mean", self._stats_shape, initializer="zeros", trainable=False,
                                              autocast=False)
            self.adapt_variance = self.add_weight("variance", self._stats_shape, initializer="ones", trainable=False,
                                                  autocast=False)
        super().build(input_shape)

    def _given(self, value, inputs):
        """A constructor's mean or variance, shaped to broadcast against the inputs (a scalar, or one value per
        index of the kept axes), on the inputs' device and in their dtype."""
        array = np.asarray(value, np.float64)
        if array.ndim and array.size == math.prod(self._stats_shape):
            array = array.reshape(self._broadcast_shape)
        try:
            array = np.broadcast_to(array, self._broadcast_shape)
        except ValueError:
            raise ValueError(f"{self.name} (Normalization): mean/variance of shape {array.shape} do not fit the "
                             f"statistics shape {self._stats_shape} of axis {self.axis}") from None
        return tensor_on_device_of(inputs, np.ascontiguousarray(array, inputs.dtype.np))

    def _statistics(self, inputs):
        if self.input_mean is not None:
            return self._given(self.input_mean, inputs), self._given(self.input_variance, inputs)
        return tuple(ops.cast(ops.reshape(w, self._broadcast_shape), inputs.dtype)
                     for w in (self.adapt_mean, self.adapt_variance))

    def call(self, inputs):
        inputs = ops.cast(inputs, self._dtype)
        mean, variance = self._statistics(inputs)
        scale = ops.maximum(ops.sqrt(variance), backend.epsilon())
        return mean + inputs * scale if self.invert else (inputs - mean) / scale

    def compute_output_shape(self, input_shape):
        return input_shape

    # -------------------------------------------------------------- adapt
    def adapt(self, data, batch_size=None, steps=None):
        """Learns `mean` and `variance` from `data`: a NumPy array, a tensor, or a gf.data.Dataset of batches
        (a Dataset of 1-D elements is batched by 128 first, as in Keras). `steps` limits the batches read.
        Statistics over the reduced axes, per index of the kept ones; the variance is the biased one."""
        if self.input_mean is not None:
            raise ValueError(f"{self.name} (Normalization): mean and variance were given to the constructor; adapt "
                             f"learns them only for a layer made without them")
        count, mean, m2 = 0, None, None
        for batch in _batches(self.name, data, steps):
            self._maybe_build(batch)  # from the data's shape, as Keras does
            self._check_batch(batch)
            reduce = tuple(a for a in range(batch.ndim) if a not in self._keep)
            n = math.prod(batch.shape[a] for a in reduce)
            if n == 0:
                continue
            b_mean = batch.mean(axis=reduce).reshape(self._stats_shape)
            b_m2 = ((batch - batch.mean(axis=reduce, keepdims=True)) ** 2).sum(axis=reduce).reshape(self._stats_shape)
            if count == 0:
                count, mean, m2 = n, b_mean, b_m2
            else:  # Chan et al.'s merge of two (count, mean, sum of squared deviations) summaries
                total = count + n
                delta = b_mean - mean
                mean = mean + delta * (n / total)
                m2 = m2 + b_m2 + delta ** 2 * (count * n / total)
                count = total
        if count == 0:
            raise ValueError(f"{self.name} (Normalization): adapt got no data to learn from")
        self.adapt_mean.assign(mean.astype(self.adapt_mean.dtype.np))
        self.adapt_variance.assign((m2 / count).astype(self.adapt_variance.dtype.np))

    def _check_batch(self, batch):
        built = self._build_input_shape
        if batch.ndim != len(built) or any(batch.shape[a] != built[a] for a in self._keep):
            raise ValueError(f"{self.name} (Normalization): adapt data of shape {batch.shape} does not match the "
                             f"layer's input shape {tuple(built)} on the kept axes {self._keep}")

    def get_config(self):
        axis = self.axis[0] if len(self.axis) == 1 else (None if not self.axis else list(self.axis))
        return {**super().get_config(), "axis": axis, "mean": self.input_mean, "variance": self.input_variance,
                "invert": self.invert}


def _batches(name, data, steps):
    """adapt's data as float64 NumPy batches: an array or tensor is one batch; a Dataset gives its elements."""
    from ...data import Dataset
    if not isinstance(data, Dataset):
        array = data.numpy() if isinstance(data, Tensor) else np.asarray(data)
        if array.dtype.kind not in "fiub":
            raise ValueError(f"{name} (Normalization): adapt needs numeric data, got {array.dtype} values")
        yield array.astype(np.float64)
        return
    spec = data.element_spec
    if not hasattr(spec, "shape"):
        raise ValueError(f"{name} (Normalization): adapt needs a Dataset of feature tensors, got elements "
                         f"{spec}; map it to the features first, e.g. ds.map(lambda x, y: x)")
    if len(spec.shape) == 1:
        data = data.batch(128)
    for i, batch in enumerate(data):
        if steps is not None and i >= steps:
            return
        yield batch.numpy().astype(np.float64)
