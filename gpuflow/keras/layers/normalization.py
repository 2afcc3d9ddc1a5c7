"""BatchNormalization and LayerNormalization on the fused norm primitives (ops/norm_prims.py).

Both bring the normalised axes to the end with one transpose (none in the usual channels-last
case) and flatten them, so one primitive serves every `axis` argument.
"""
from __future__ import annotations

import functools
import math

from ... import devices, dtypes, ops
from ...autograd import stop_gradient
from ...ops import norm_prims
from ...tensor import TensorShape
from .. import constraints, initializers, regularizers
from ..engine.base_layer import Layer


def _axes(layer, axis, rank):
    items = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    out = sorted({int(a) % rank for a in items if -rank <= int(a) < rank})
    if len(out) != len(items):
        raise ValueError(f"{layer.name} ({type(layer).__name__}): axis {axis} is out of range (or repeated) for "
                         f"inputs of rank {rank}")
    return out


def _in_float32(call):
    """Keras 3's mixed-precision rule for the normalisation layers: float16/bfloat16 inputs are normalised in
    float32 (statistics of half-precision values overflow and lose digits) and the outputs cast back."""
    @functools.wraps(call)  # keeps call's signature, which the engine reads for `training` and `mask`
    def wrapped(self, inputs, *args, **kwargs):
        if inputs.dtype not in (dtypes.float16, dtypes.bfloat16):
            return call(self, inputs, *args, **kwargs)
        return ops.cast(call(self, ops.cast(inputs, dtypes.float32), *args, **kwargs), inputs.dtype)
    return wrapped


def _to_last(x, axes):
    """x with `axes` moved to the end (in order), and the permutation that undoes it (None if none was needed)."""
    rest = [i for i in range(x.ndim) if i not in axes]
    perm = rest + list(axes)
    if perm == list(range(x.ndim)):
        return x, None
    return ops.transpose(x, perm), [perm.index(i) for i in range(x.ndim)]


class _Normalization(Layer):
    """Shared arguments, weights and input checks of the two normalisation layers (both pass masks on)."""
    supports_masking = True

    def __init__(self, axis, epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                 gamma_regularizer, beta_constraint, gamma_constraint, **kwargs):
        super().__init__(**kwargs)
        if not epsilon > 0:
            raise ValueError(f"{self.name} ({type(self).__name__}): epsilon must be > 0, got {epsilon}")
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else int(axis)
        self.epsilon, self.center, self.scale = float(epsilon), bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.gamma, self.beta = None, None

    def build(self, input_shape):
        input_shape = TensorShape(input_shape)
        self._axes = _axes(self, self.axis, len(input_shape))
        self._param_shape = tuple(input_shape[a] for a in self._axes)
        if None in self._param_shape:
            raise ValueError(f"{self.name} ({type(self).__name__}): the normalised axes {self._axes} of input shape "
                             f"{input_shape} must be known to create the weights")
        if self.scale:
            self.gamma = self.add_weight("gamma", self._param_shape, initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer, constraint=self.gamma_constraint,
                                         autocast=False)  # read in float32, with the float32 math (Keras 3)
        if self.center:
            self.beta = self.add_weight("beta", self._param_shape, initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer, constraint=self.beta_constraint,
                                        autocast=False)

    def _check(self, inputs):
        shape = tuple(inputs.shape)
        if len(shape) <= max(self._axes) or tuple(shape[a] for a in self._axes) != self._param_shape:
            raise ValueError(f"{self.name} ({type(self).__name__}): was built for size {self._param_shape} on axes "
                             f"{self._axes} but got inputs of shape {shape}; a layer keeps the input shape it "
                             f"was built with")

    def _flat_params(self, inputs):
        """gamma and beta flattened to one axis in the inputs' dtype (ones and zeros where scale/center is off)."""
        size = math.prod(self._param_shape)
        with devices.device(inputs._device):
            gamma = ops.ones((size,), inputs.dtype) if self.gamma is None else \
                ops.reshape(ops.cast(self.gamma, inputs.dtype), (size,))
            beta = ops.zeros((size,), inputs.dtype) if self.beta is None else \
                ops.reshape(ops.cast(self.beta, inputs.dtype), (size,))
        return gamma, beta

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
                "beta_constraint": constraints.serialize(self.beta_constraint),
                "gamma_constraint": constraints.serialize(self.gamma_constraint)}


class LayerNormalization(_Normalization):
    """Normalises each sample over `axis` (an int or a list), then scales by gamma and shifts by beta."""

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(axis, epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                         gamma_regularizer, beta_constraint, gamma_constraint, **kwargs)

    @_in_float32
    def call(self, inputs):
        self._check(inputs)
        x, back = _to_last(inputs, self._axes)
        moved = tuple(x.shape)
        lead = moved[:len(moved) - len(self._axes)]
        gamma, beta = self._flat_params(inputs)
        y = norm_prims.layer_norm(ops.reshape(x, lead + (gamma.shape[0],)), gamma, beta, epsilon=self.epsilon)[0]
        y = ops.reshape(y, moved)
        return y if back is None else ops.transpose(y, back)


class BatchNormalization(_Normalization):
    """Normalises over every axis except `axis` (the channels) with the batch's statistics in training and the
    moving averages otherwise; the moving averages follow `m = m * momentum + batch_stat * (1 - momentum)`
    (biased batch variance, as Keras 3). A layer with trainable=False always runs in inference mode.
    In training, a mask (one axis fewer than the inputs, e.g. (batch, time)) leaves the masked steps out of the
    batch statistics, as Keras 3 does."""

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 synchronized=False, **kwargs):
        super().__init__(axis, epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                         gamma_regularizer, beta_constraint, gamma_constraint, **kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f"{self.name} (BatchNormalization): momentum must be in [0, 1], got {momentum}")
        self.momentum = float(momentum)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.synchronized = bool(synchronized)  # one device per model in gpuflow: nothing to synchronise

    def build(self, input_shape):
        super().build(input_shape)
        self.moving_mean = self.add_weight("moving_mean", self._param_shape, initializer=self.moving_mean_initializer,
                                           trainable=False, autocast=False)
        self.moving_variance = self.add_weight("moving_variance", self._param_shape,
                                               initializer=self.moving_variance_initializer, trainable=False,
                                               autocast=False)

    @_in_float32
    def call(self, inputs, training=None, mask=None):
        self._check(inputs)
        if training and self.trainable:
            return self._train(inputs) if mask is None else self._train_masked(inputs, mask)
        return self._infer(inputs)

    def _train_masked(self, inputs, mask):
        """Keras 3's masked moments: means weighted by the mask (each weight + epsilon in the divisor)."""
        if mask.ndim != inputs.ndim - 1:
            raise ValueError(f"{self.name} (BatchNormalization): the mask must have one axis fewer than the inputs, "
                             f"got mask shape {tuple(mask.shape)} for inputs of shape {tuple(inputs.shape)}")
        axes = [i for i in range(inputs.ndim) if i not in self._axes]
        weights = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        count = ops.reduce_sum(weights, axis=axes, keepdims=True) + 1e-7
        mean = ops.reduce_sum(weights * inputs, axis=axes, keepdims=True) / count
        var = ops.reduce_sum(weights * ops.square(inputs - mean), axis=axes, keepdims=True) / count
        for moving, stat in ((self.moving_mean, mean), (self.moving_variance, var)):
            stat = ops.cast(ops.reshape(stop_gradient(stat), self._param_shape), moving.dtype)
            moving.assign(moving * self.momentum + stat * (1.0 - self.momentum))
        shape = [inputs.shape[i] if i in self._axes else 1 for i in range(inputs.ndim)]
        gamma, beta = self._flat_params(inputs)
        return (inputs - mean) * ops.rsqrt(var + self.epsilon) * ops.reshape(gamma, shape) + ops.reshape(beta, shape)

    def _train(self, inputs):
        x, back = _to_last(inputs, self._axes)
        moved = tuple(x.shape)
        gamma, beta = self._flat_params(inputs)
        y, mean, var = norm_prims.batch_norm(ops.reshape(x, (-1, gamma.shape[0])), gamma, beta,
                                             epsilon=self.epsilon)
        for moving, stat in ((self.moving_mean, mean), (self.moving_variance, var)):
            stat = ops.cast(ops.reshape(stop_gradient(stat), self._param_shape), moving.dtype)
            moving.assign(moving * self.momentum + stat * (1.0 - self.momentum))
        y = ops.reshape(y, moved)
        return y if back is None else ops.transpose(y, back)

    def _infer(self, inputs):
        # (x - mean) * (gamma * rsqrt(var + eps)) + beta. Not folded into x * a + b: with |mean| >> std
        # that form cancels catastrophically (x * a and b are both large and nearly opposite).
        shape = [inputs.shape[i] if i in self._axes else 1 for i in range(inputs.ndim)]
        gamma, beta = self._flat_params(inputs)
        mean = ops.cast(ops.reshape(self.moving_mean, shape), inputs.dtype)
        var = ops.cast(ops.reshape(self.moving_variance, (-1,)), inputs.dtype)
        scale = ops.reshape(gamma * ops.rsqrt(var + self.epsilon), shape)
        return (inputs - mean) * scale + ops.reshape(beta, shape)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum,
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
                "synchronized": self.synchronized}
