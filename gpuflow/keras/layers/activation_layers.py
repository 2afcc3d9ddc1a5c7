"""Keras' activation and regularization layers with a parameter: ELU, PReLU (a learned slope per unit),
UnitNormalization, GaussianNoise and ActivityRegularization."""
from __future__ import annotations

from ... import nn, ops
from ...ops import random_ops
from ...tensor import TensorShape
from .. import constraints, initializers, regularizers
from ..engine.base_layer import Layer

__all__ = ["ELU", "PReLU", "UnitNormalization", "GaussianNoise", "ActivityRegularization"]


class ELU(Layer):
    """x where x > 0, alpha * (exp(x) - 1) elsewhere."""
    supports_masking = True

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, inputs):
        return ops.elu(inputs, alpha=self.alpha)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class PReLU(Layer):
    """x where x > 0, alpha * x elsewhere, alpha a weight per unit (shared along `shared_axes`, 1-based axes
    of the input without the batch axis, as Keras counts them)."""
    supports_masking = True

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        self.shared_axes = None if shared_axes is None else tuple(
            [int(shared_axes)] if hasattr(shared_axes, "__index__") else [int(a) for a in shared_axes])

    def build(self, input_shape):
        shape = list(TensorShape(input_shape))[1:]
        for axis in self.shared_axes or ():
            if not 1 <= axis <= len(shape):
                raise ValueError(f"{self.name} (PReLU): shared axis {axis} is not an axis of inputs of shape "
                                 f"{tuple(input_shape)} (axes count from 1, after the batch axis)")
            shape[axis - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(f"{self.name} (PReLU): every non-shared axis needs a known size, got {tuple(input_shape)}")
        self.alpha = self.add_weight("alpha", tuple(shape), initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer, constraint=self.alpha_constraint)

    def call(self, inputs):
        return ops.relu(inputs) - self.alpha * ops.relu(-inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "alpha_initializer": initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
                "alpha_constraint": constraints.serialize(self.alpha_constraint), "shared_axes": self.shared_axes}


class UnitNormalization(Layer):
    """Each input scaled to unit L2 norm along `axis` (an int or a list of them)."""
    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else int(axis)

    def call(self, inputs):
        return nn.l2_normalize(inputs, axis=self.axis)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class GaussianNoise(Layer):
    """In training, inputs plus normal noise of standard deviation `stddev`; the identity otherwise."""
    supports_masking = True

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        if stddev < 0:
            raise ValueError(f"{self.name} (GaussianNoise): stddev must be >= 0, got {stddev}")
        self.stddev, self.seed = float(stddev), seed

    def call(self, inputs, training=None):
        if not training or self.stddev == 0:
            return inputs
        return inputs + random_ops.normal(tuple(inputs.shape), stddev=self.stddev, dtype=inputs.dtype, seed=self.seed)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class ActivityRegularization(Layer):
    """The identity, adding l1 * sum(|x|) + l2 * sum(x ** 2) of its output to the model's losses."""
    supports_masking = True

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(**kwargs)
        self.l1, self.l2 = float(l1), float(l2)
        self._penalty = regularizers.L1L2(l1=self.l1, l2=self.l2)

    def call(self, inputs):
        self.add_loss(self._penalty(inputs))
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "l1": self.l1, "l2": self.l2}
