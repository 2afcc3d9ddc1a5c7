"""GroupNormalization (Keras 3's arguments and maths), composed from reductions.

The channels are split into `groups` groups and each sample is normalised over each group's channels and
every other non-batch axis, so the statistics do not depend on the batch (unlike BatchNormalization) and
groups=1 / groups=channels give LayerNormalization / InstanceNormalization over those axes.
"""
from __future__ import annotations

from ... import ops
from ...tensor import TensorShape
from .normalization import _in_float32, _Normalization


class GroupNormalization(_Normalization):
    """Normalises each sample over groups of the channels of `axis` (`groups` of them: -1 for one per
    channel), together with every other non-batch axis, then scales by gamma and shifts by beta (one per
    channel): `(x - mean) / sqrt(var + epsilon) * gamma + beta` with the group's biased variance.
    float16/bfloat16 inputs are normalised in float32 and cast back, as Keras 3."""

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        if not isinstance(axis, int):
            raise ValueError(f"GroupNormalization: axis must be one int (the channels axis), got {axis!r}")
        super().__init__(axis, epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                         gamma_regularizer, beta_constraint, gamma_constraint, **kwargs)
        if int(groups) != -1 and int(groups) < 1:
            raise ValueError(f"{self.name} (GroupNormalization): groups must be >= 1 (or -1: one per channel), got "
                             f"{groups}")
        self.groups = int(groups)

    def build(self, input_shape):
        input_shape = TensorShape(input_shape)
        rank = len(input_shape)
        if rank < 2 or not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(f"{self.name} (GroupNormalization): axis {self.axis} must be a non-batch axis of the "
                             f"inputs, got shape {input_shape}")
        channels = input_shape[self.axis]
        if channels is None:
            raise ValueError(f"{self.name} (GroupNormalization): axis {self.axis} of the inputs must have a known "
                             f"size to create the weights, got shape {input_shape}")
        groups = channels if self.groups == -1 else self.groups
        if channels % groups:
            raise ValueError(f"{self.name} (GroupNormalization): {channels} channels (axis {self.axis} of shape "
                             f"{input_shape}) cannot be split into {groups} groups of equal size; pick groups that "
                             f"divide {channels}")
        self._groups = groups
        super().build(input_shape)

    @_in_float32
    def call(self, inputs):
        self._check(inputs)
        axis, rank = self._axes[0], inputs.ndim
        channels = inputs.shape[axis]
        # (batch, ..., groups, channels // groups, ...): each group's values are then one slab per sample.
        grouped = [-1] + list(inputs.shape[1:axis]) + [self._groups, channels // self._groups] + \
            list(inputs.shape[axis + 1:])
        x = ops.reshape(inputs, grouped)
        reduce = [i for i in range(1, rank + 1) if i != axis]
        mean = ops.reduce_mean(x, axis=reduce, keepdims=True)
        variance = ops.reduce_mean(ops.square(x - mean), axis=reduce, keepdims=True)
        y = (x - mean) * ops.rsqrt(variance + self.epsilon)
        y = ops.reshape(y, [-1] + list(inputs.shape[1:]))
        gamma, beta = self._flat_params(inputs)
        per_channel = [channels if i == axis else 1 for i in range(rank)]
        return y * ops.reshape(gamma, per_channel) + ops.reshape(beta, per_channel)

    def get_config(self):
        return {**super().get_config(), "groups": self.groups}
