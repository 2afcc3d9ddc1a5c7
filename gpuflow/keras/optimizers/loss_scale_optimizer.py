"""Keras 3's LossScaleOptimizer: dynamic loss scaling for float16 training.

float16 gradients of small losses underflow to zero. The loss is multiplied by a large power of two
(the scale) before the backward pass and the gradients divided by it after, which is exact in
binary floating point. When a step's gradients hold an inf or NaN the scale was too large: the
step is skipped and the scale halved. After `dynamic_growth_steps` good steps in a row it doubles.

The scale and the good-step count are Variables (`dynamic_scale`, `step_counter`) with host
mirrors, like the base optimizer's step count: the one device read per step is the finiteness
check, a single reduction over every gradient.
"""
from __future__ import annotations

import math

from ... import devices as _device
from ... import dtypes, ops
from ...tensor import Variable
from .base import HostMirror, Optimizer
from .family import deserialize, register, serialize


@register
class LossScaleOptimizer(Optimizer):
    """Wraps `inner_optimizer`; `apply`/`apply_gradients` take gradients of the scaled loss (`scale_loss(loss)`),
    unscale them, and step the inner optimizer unless one is not finite. `iterations`, `learning_rate` and the
    slots are the inner optimizer's. `get_scaled_loss`/`get_unscaled_gradients` are tf.keras 2's names; gradients
    unscaled by the latter are not divided again by apply_gradients."""

    def __init__(self, inner_optimizer, initial_scale=2.0 ** 15, dynamic_growth_steps=2000, name=None, **kwargs):
        if not kwargs.pop("dynamic", True):
            raise ValueError("LossScaleOptimizer: dynamic=False is not supported (nor in Keras 3); a fixed loss "
                             "scale is scale_loss by hand with a constant and the gradients divided by it")
        if kwargs:
            raise TypeError(f"LossScaleOptimizer: unexpected arguments {sorted(kwargs)}; clipping, weight decay and "
                            f"the like are set on the inner optimizer")
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(f"LossScaleOptimizer: inner_optimizer must be a gf.keras.optimizers.Optimizer instance, "
                            f"got {inner_optimizer!r:.80}")
        if isinstance(inner_optimizer, LossScaleOptimizer):
            raise TypeError("LossScaleOptimizer: the inner optimizer already scales the loss; wrap it only once")
        scale = float(initial_scale)
        if not scale > 0 or math.isinf(scale):
            raise ValueError(f"LossScaleOptimizer: initial_scale must be a finite number > 0, got {initial_scale!r}")
        if isinstance(dynamic_growth_steps, bool) or not isinstance(dynamic_growth_steps, int) \
                or dynamic_growth_steps < 1:
            raise ValueError(f"LossScaleOptimizer: dynamic_growth_steps must be an int >= 1, got "
                             f"{dynamic_growth_steps!r}")
        self.name = name or "loss_scale_optimizer"
        self.inner_optimizer = inner_optimizer
        self.initial_scale, self.dynamic_growth_steps = scale, dynamic_growth_steps
        self.dynamic_scale = Variable(scale, trainable=False, dtype=dtypes.float32, name=f"{self.name}/dynamic_scale")
        self.step_counter = Variable(0, trainable=False, dtype=dtypes.int64, name=f"{self.name}/step_counter")
        self._scale_mirror = HostMirror(self.dynamic_scale, float, scale)
        self._counter_mirror = HostMirror(self.step_counter, int, 0)
        self._unscaled = []  # gradients get_unscaled_gradients returned, held until apply sees them

    # ---- the inner optimizer's state, seen through this one (model.save and callbacks read these) ------------
    iterations = property(lambda self: self.inner_optimizer.iterations)
    slot_names = property(lambda self: self.inner_optimizer.slot_names)
    _tracked = property(lambda self: self.inner_optimizer._tracked)
    _slots = property(lambda self: self.inner_optimizer._slots)
    built = property(lambda self: self.inner_optimizer.built)

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.inner_optimizer.learning_rate = value

    lr = learning_rate

    @property
    def variables(self):
        return [self.step_counter, self.dynamic_scale] + self.inner_optimizer.variables

    weights = variables

    def build(self, var_list):
        self.inner_optimizer.build(var_list)

    def _step(self):
        return self.inner_optimizer._step()

    def _current_learning_rate(self):
        return self.inner_optimizer._current_learning_rate()

    # ---- scaling -------------------------------------------------------------------------------------------
    @property
    def loss_scale(self):
        """The current scale as a Python float (tf.keras 2 name; `dynamic_scale` is the Variable)."""
        return self._scale_mirror.get()

    def scale_loss(self, loss):
        """The loss times the current scale: take the gradients of this (Keras 3)."""
        return loss * self._scale_mirror.get()

    get_scaled_loss = scale_loss  # tf.keras 2

    def get_unscaled_gradients(self, grads):
        """tf.keras 2: the gradients divided by the scale. apply_gradients will not divide these again."""
        inverse = 1.0 / self._scale_mirror.get()  # a power of two while the scale is one: exact
        out = [None if g is None else g * inverse for g in grads]
        self._unscaled.extend(g for g in out if g is not None)
        return out

    def _all_finite(self, grads) -> bool:
        """Whether every gradient is finite: one reduction per gradient into one boolean, one device read."""
        flags = [ops.reduce_all(ops.is_finite(g)) for g in grads]
        with _device.device(grads[0]._device):
            return bool(ops.reduce_all(ops.stack(flags)))

    # ---- updates -------------------------------------------------------------------------------------------
    def apply(self, grads, trainable_variables=None):
        grads = list(grads)
        already = {id(g) for g in self._unscaled}
        self._unscaled = []
        if trainable_variables is None:
            trainable_variables = self._tracked
        variables = list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(f"{self.name}: got {len(grads)} gradients for {len(variables)} variables")
        pairs = [(self.inner_optimizer._as_gradient(g, v), v) for g, v in zip(grads, variables) if g is not None]
        if not pairs:
            return self.iterations
        if not self._all_finite([g for g, _ in pairs]):
            self._counter_mirror.assign(0)
            self._scale_mirror.assign(self._scale_mirror.get() / 2.0)
            return self.iterations
        inverse = 1.0 / self._scale_mirror.get()
        unscaled = [g if id(g) in already else g * inverse for g, _ in pairs]
        self.inner_optimizer.apply(unscaled, [v for _, v in pairs])
        count = self._counter_mirror.get() + 1
        if count >= self.dynamic_growth_steps:
            self._counter_mirror.assign(0)
            self._scale_mirror.assign(self._scale_mirror.get() * 2.0)
        else:
            self._counter_mirror.assign(count)
        return self.iterations

    def update_rule(self, step):
        return self.inner_optimizer.update_rule(step)

    # ---- config --------------------------------------------------------------------------------------------
    def get_config(self):
        return {"name": self.name, "inner_optimizer": serialize(self.inner_optimizer),
                "initial_scale": self.initial_scale, "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        inner = deserialize(config.pop("inner_optimizer"), custom_objects=custom_objects)
        return cls(inner, **config)

    def __repr__(self):
        return f"<LossScaleOptimizer '{self.name}' scale={self.loss_scale:g} inner={self.inner_optimizer!r}>"
