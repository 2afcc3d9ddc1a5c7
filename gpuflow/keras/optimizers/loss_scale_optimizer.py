"""Keras 3's LossScaleOptimizer: dynamic loss scaling for float16 training.

float16 gradients of small losses underflow to zero. The loss is multiplied by a large power of two
(the scale) before the backward pass and the gradients divided by it after, which is exact in
binary floating point. When a step's gradients hold an inf or NaN the scale was too large: the
step is skipped (no update of the weights, the slots or `iterations`) and the scale halved. After
`dynamic_growth_steps` good steps in a row it doubles.

The scale and the good-step count are Variables (`dynamic_scale`, `step_counter`) with host
mirrors, like the base optimizer's step count. Eagerly, a step reads one boolean back: whether
every gradient is finite (one reduction each). Inside a gf.function (a compiled fit) nothing is
read back: the flag stays on the device, which updates the scale and the count with selects,
and gives each update kernel an `apply` flag that skips the step (optim_prims.py). The per-step
scalars (Adam's bias corrections, a built-in learning-rate schedule) then come from the device's
step count. An inner optimizer whose per-step scalars only the host can compute (a schedule of
the user's own, Nadam) steps inside a gf.cond on the flag instead: compiled, but with the flag
read back on each call.
"""
from __future__ import annotations

import functools
import logging
import math

import numpy as np

from ... import dtypes, ops
from ..._traces import state_trace
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
        # The variable's float32 value (not the number given, should it not be one): the scale a compiled step
        # divides by is the variable's, and eager steps must divide by the same.
        self._scale_mirror = HostMirror(self.dynamic_scale, float, float(np.float32(scale)))
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

    def _checkpoint_variables(self):
        inner = [(f"inner_optimizer/{k}", v) for k, v in self.inner_optimizer._checkpoint_variables()]
        return [("dynamic_scale", self.dynamic_scale), ("step_counter", self.step_counter)] + inner

    def _checkpoint_slot_variables(self, key_of):
        return [(f"inner_optimizer/{k}", v) for k, v in self.inner_optimizer._checkpoint_slot_variables(key_of)]

    def _step(self):
        return self.inner_optimizer._step()

    def _current_learning_rate(self):
        return self.inner_optimizer._current_learning_rate()

    # ---- scaling -------------------------------------------------------------------------------------------
    @property
    def loss_scale(self):
        """The current scale as a Python float (tf.keras 2 name; `dynamic_scale` is the Variable)."""
        return self._scale_mirror.get()

    def _scale_for(self, x):
        """The scale in x's dtype: the host's number eagerly, the variable's value inside a gf.function (a number
        would be baked into the graph at its traced value)."""
        if state_trace() is None:
            return self._scale_mirror.get()
        return ops.cast(self.dynamic_scale.value(), x.dtype)

    def scale_loss(self, loss):
        """The loss times the current scale: take the gradients of this (Keras 3)."""
        return loss * self._scale_for(loss)

    get_scaled_loss = scale_loss  # tf.keras 2

    def get_unscaled_gradients(self, grads):
        """tf.keras 2: the gradients divided by the scale. apply_gradients will not divide these again."""
        out = [None if g is None else g / self._scale_for(g) for g in grads]
        self._unscaled.extend(g for g in out if g is not None)
        return out

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
        inner = self.inner_optimizer
        pairs = [(inner._as_gradient(g, v), v) for g, v in zip(grads, variables) if g is not None]
        if not pairs:
            return self.iterations
        # Keras 3's order: unscale with the current scale, check the unscaled gradients (a scale below 1 can make
        # a finite gradient overflow), then update the scale and step (or not).
        pairs = [(g if id(g) in already else g / self._scale_for(g), v) for g, v in pairs]
        finite = functools.reduce(ops.logical_and, [ops.reduce_all(ops.is_finite(g)) for g, _ in pairs])
        if state_trace() is None:
            finite = bool(finite)  # the one read back of an eager step
            if finite:
                inner._update(pairs)
            self._set_scale(*self._next_scale(finite))
        elif inner._counts_steps_on_device():
            self._device_scale_step(finite)
            inner._update(pairs, finite=finite, stale=(self._scale_mirror, self._counter_mirror))
        else:
            _log_once(f"LossScaleOptimizer: {type(inner).__name__}'s per-step scalars (a learning-rate schedule of "
                      f"your own, or Nadam's momentum schedule) are computed on the host from the step count, so the "
                      f"compiled step reads the gradients' finiteness back on each call (gf.cond)")
            self._host_decided_step(pairs, finite)
        return self.iterations

    def _next_scale(self, finite: bool):
        """(scale, good-step count) after a step whose gradients were finite or not, from the host mirrors."""
        scale, count = self._scale_mirror.get(), self._counter_mirror.get() + 1
        if not finite:
            return scale / 2.0, 0
        return (scale * 2.0, 0) if count >= self.dynamic_growth_steps else (scale, count)

    def _set_scale(self, scale, count):
        if scale != self._scale_mirror.get():
            self._scale_mirror.assign(scale)
        self._counter_mirror.assign(count)

    def _device_scale_step(self, finite):
        """_next_scale on the device, with selects on the flag: nothing read back."""
        scale, count = self.dynamic_scale.value(), self.step_counter.value()
        count = count + 1
        grow = ops.logical_and(finite, count >= self.dynamic_growth_steps)
        self.step_counter.assign(ops.where(ops.logical_or(grow, ops.logical_not(finite)), ops.zeros_like(count),
                                           count))
        self.dynamic_scale.assign(ops.where(finite, ops.where(grow, scale * 2.0, scale), scale * 0.5))

    def _host_decided_step(self, pairs, finite):
        """Inside a gf.function, for an inner optimizer whose step scalars the host computes: a gf.cond on the
        flag (read back on each call), its branches the eager logic, the scale and count fed from the host."""
        from ...graph.control_flow import cond

        def branch(applied):
            def run():
                if applied:
                    self.inner_optimizer._update(pairs)
                self._fed_scale_step(applied, pairs[0][1]._device)
                return ops.constant(True)
            return run
        cond(finite, branch(True), branch(False))

    def _fed_scale_step(self, finite: bool, device):
        from ...ops.feeds import host_fed

        def next_scale(probe=False):
            scale, count = self._next_scale(finite)
            if not probe:
                self._scale_mirror.advance(scale)
                self._counter_mirror.advance(count)
            return np.array([scale, count], np.float64)

        values = host_fed(next_scale, dtypes.float64, device)
        self.dynamic_scale.assign(ops.cast(values[0], dtypes.float32))
        self.step_counter.assign(ops.cast(values[1], dtypes.int64))

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


_said = set()


def _log_once(message):
    if message not in _said:
        _said.add(message)
        logging.getLogger("gpuflow").info("gpuflow: %s", message)
