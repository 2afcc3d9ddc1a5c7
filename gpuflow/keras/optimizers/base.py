"""The Keras 3 Optimizer: clipping, decoupled weight decay, lazily built slots, fused updates.

A subclass names its slots and, per step, which fused primitive (gpuflow/ops/optim_prims.py)
runs and with which hyper-parameters; this class does the rest. Each parameter's update is
one primitive call (one kernel on cuda) whose outputs are assigned back to the parameter and
its slots; then the parameter's constraint, if any, is applied.

The step count lives in the int64 Variable `iterations` (checkpointed with the slots). The
optimizer needs it as a Python number every step (learning-rate schedules, bias
corrections); reading a device variable each step would stall a GPU, so the last value this
class wrote is remembered, and the variable is read back only when something else assigned it.
"""
from __future__ import annotations

import math

from ... import devices as _device
from ... import dtypes, ops
from ...autograd import GradientTape
from ...ops.optim_prims import UPDATES
from ...tensor import Tensor, Variable
from . import schedules as _schedules


def _clip_norm(grads, clip):
    """g * clip / max(||grads||, clip): Keras's clip_by_norm / clip_by_global_norm (norm over all `grads`)."""
    total = ops.add_n([ops.reduce_sum(ops.square(g)) for g in grads])
    norm = ops.sqrt(total)
    scale = clip / ops.maximum(norm, clip)
    return [g * ops.cast(scale, g.dtype) for g in grads]


class Optimizer:
    slot_names: tuple = ()

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        if "lr" in kwargs:  # tf.keras 2 spelling, still common in code being ported
            learning_rate = kwargs.pop("lr")
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(kwargs)}")
        if use_ema or loss_scale_factor is not None or gradient_accumulation_steps is not None:
            raise NotImplementedError(f"{type(self).__name__}: use_ema, loss_scale_factor and "
                                      f"gradient_accumulation_steps are not supported; leave them unset")
        set_clips = {k: v for k, v in [("clipnorm", clipnorm), ("clipvalue", clipvalue),
                                       ("global_clipnorm", global_clipnorm)] if v is not None}
        if len(set_clips) > 1:
            raise ValueError(f"{type(self).__name__}: only one of clipnorm, clipvalue and global_clipnorm can be "
                             f"set, got {set_clips}")
        for what, v in set_clips.items():
            if not isinstance(v, (int, float)) or v <= 0:
                raise ValueError(f"{type(self).__name__}: {what} must be a number > 0, got {v!r}")
        if weight_decay is not None and (not isinstance(weight_decay, (int, float)) or weight_decay < 0):
            raise ValueError(f"{type(self).__name__}: weight_decay must be a number >= 0 or None, got {weight_decay!r}")
        self.name = name or type(self).__name__.lower()
        self.weight_decay, self.clipnorm, self.clipvalue = weight_decay, clipnorm, clipvalue
        self.global_clipnorm, self.use_ema = global_clipnorm, False
        self.iterations = Variable(0, trainable=False, dtype=dtypes.int64, name=f"{self.name}/iteration")
        self._step_cache = (None, 0)
        self._learning_rate = None
        self.learning_rate = learning_rate
        self._tracked = []   # parameters in the order first seen: the order of `variables`
        self._slots = {}     # id(param) → {slot name: Variable}; _tracked keeps the ids unique
        self._no_decay_ids, self._no_decay_names = set(), ()

    # ---- learning rate --------------------------------------------------------------------
    @property
    def learning_rate(self) -> float:
        """The rate for the coming step, as a float (a schedule is evaluated at `iterations`)."""
        lr = self._learning_rate
        if isinstance(lr, _schedules.LearningRateSchedule):
            return float(lr(self._step()))
        return float(lr()) if callable(lr) else lr

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, _schedules.LearningRateSchedule) or (callable(value) and not isinstance(value, Tensor)):
            self._learning_rate = value
            return
        if isinstance(self._learning_rate, _schedules.LearningRateSchedule):
            raise TypeError(f"{self.name}: the learning rate comes from a {type(self._learning_rate).__name__} "
                            f"schedule and cannot be set to a number; assign a new schedule instead")
        try:
            rate = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"{self.name}: learning_rate must be a number, a LearningRateSchedule or a "
                            f"zero-argument callable, got {value!r:.80}") from None
        if not rate >= 0:
            raise ValueError(f"{self.name}: learning_rate must be >= 0, got {rate}")
        self._learning_rate = rate

    lr = learning_rate  # tf.keras 2 name, used by older callbacks

    # ---- state ----------------------------------------------------------------------------
    def _step(self) -> int:
        data, step = self._step_cache
        if data is not self.iterations._data:  # assigned from outside (restore, user): read it once
            step = int(self.iterations)
            self._step_cache = (self.iterations._data, step)
        return step

    def _advance(self, step):
        with _device.device(self.iterations._device):
            self.iterations.assign(ops.constant(step + 1, dtype=dtypes.int64))
        self._step_cache = (self.iterations._data, step + 1)

    def slot_initial_value(self, slot: str) -> float:
        return 0.0

    def build(self, var_list):
        """Make the slots of each parameter not seen before (apply_gradients calls this)."""
        for var in var_list:
            if id(var) in self._slots:
                continue
            if not isinstance(var, Variable) or not var.dtype.is_floating:
                raise TypeError(f"{self.name}: can only update floating-point gf.Variables, got {var!r:.120}")
            with _device.device(var._device):
                self._slots[id(var)] = {
                    slot: Variable(ops.fill(var.shape, self.slot_initial_value(slot), dtype=var.dtype),
                                   trainable=False, name=f"{self.name}/{var.name}_{slot}")
                    for slot in self.slot_names}
            self._tracked.append(var)

    @property
    def built(self) -> bool:
        return bool(self._tracked)

    @property
    def variables(self) -> list:
        """iterations, then each slot kind for every parameter in the order the parameters were built."""
        return [self.iterations] + [self._slots[id(v)][s] for s in self.slot_names for v in self._tracked]

    weights = variables

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Parameters (or those whose name contains one of var_names) that weight decay skips."""
        self._no_decay_ids.update(id(v) for v in var_list or ())
        self._no_decay_names += tuple(var_names or ())

    def _decay_for(self, var) -> float:
        if not self.weight_decay or id(var) in self._no_decay_ids:
            return 0.0
        return 0.0 if any(n in var.name for n in self._no_decay_names) else float(self.weight_decay)

    # ---- updates ----------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars, name=None):
        pairs = list(grads_and_vars)
        return self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def apply(self, grads, trainable_variables=None):
        if trainable_variables is None:
            if not self._tracked:
                raise ValueError(f"{self.name}.apply: pass the variables the gradients belong to")
            trainable_variables = self._tracked
        grads, variables = list(grads), list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(f"{self.name}: got {len(grads)} gradients for {len(variables)} variables")
        pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
        if not pairs:
            return self.iterations
        self.build([v for _, v in pairs])
        grads = self._clip([self._as_gradient(g, v) for g, v in pairs])
        step, lr = self._step(), self.learning_rate
        name, hyper = self.update_rule(step)
        prim = UPDATES[name]
        for g, (_, var) in zip(grads, pairs):
            slots = [self._slots[id(var)][s] for s in self.slot_names]
            new = prim(var.value(), g, *[s.value() for s in slots], lr=lr, weight_decay=self._decay_for(var),
                       **hyper)
            new = new if isinstance(new, tuple) else (new,)
            for target, value in zip([var] + slots, new):
                target.assign(value)
            if var.constraint is not None:
                var.assign(var.constraint(var.value()))
        self._advance(step)
        return self.iterations

    def _as_gradient(self, g, var) -> Tensor:
        if not isinstance(g, Tensor):
            with _device.device(var._device):
                g = ops.convert_to_tensor(g, dtype=var.dtype)
        if tuple(g.shape) != tuple(var.shape):
            raise ValueError(f"{self.name}: the gradient for {var.name} has shape {g.shape}, the variable "
                             f"{var.shape}")
        return g

    def _clip(self, grads):
        if self.clipnorm:
            return [_clip_norm([g], float(self.clipnorm))[0] for g in grads]
        if self.global_clipnorm:
            return _clip_norm(grads, float(self.global_clipnorm))
        if self.clipvalue:
            return [ops.clip_by_value(g, -float(self.clipvalue), float(self.clipvalue)) for g in grads]
        return grads

    def update_rule(self, step: int):
        """(primitive name, hyper-parameters other than lr and weight_decay) for the update at `step`."""
        raise NotImplementedError(f"{type(self).__name__} must implement update_rule")

    def minimize(self, loss, var_list, tape=None):
        """One step on `loss`: a zero-argument callable, or a tensor recorded by `tape`."""
        var_list = var_list() if callable(var_list) else list(var_list)
        if callable(loss):
            with GradientTape() as tape:
                value = loss()
        elif tape is None:
            raise ValueError(f"{self.name}.minimize: a tensor loss needs the tape that recorded it (tape=...); "
                             f"or pass the loss as a zero-argument callable")
        else:
            value = loss
        grads = tape.gradient(value, var_list)
        return self.apply_gradients(zip(grads, var_list))

    # ---- config ------------------------------------------------------------------------------
    def get_config(self) -> dict:
        lr = self._learning_rate
        if isinstance(lr, _schedules.LearningRateSchedule):
            lr = _schedules.serialize(lr)
        elif callable(lr):
            lr = float(lr())
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
                "use_ema": False}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = _schedules.deserialize(config["learning_rate"])
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} '{self.name}' learning_rate={self.learning_rate:g} step={self._step()}>"


def power(base: float, step: int) -> float:
    """base ** (step + 1), the bias-correction power of the update at `step` (0-based)."""
    return math.pow(base, step + 1)
