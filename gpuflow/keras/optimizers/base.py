"""The Keras 3 Optimizer: clipping, decoupled weight decay, lazily built slots, fused updates.

A subclass names its slots and, per step, which fused primitive (gpuflow/ops/optim_prims.py)
runs and with which hyper-parameters; this class does the rest. Each parameter's update is
one primitive call (one kernel on cuda) whose outputs are assigned back to the parameter and
its slots; then the parameter's constraint, if any, is applied.

The step count lives in the int64 Variable `iterations` and a numeric learning rate in the
float32 Variable `learning_rate` (Keras 3: both are in `variables`, so they are checkpointed
with the slots, and `opt.learning_rate.assign(...)` / `backend.set_value` work). The update
kernels take both as Python numbers every step; reading a device variable each step would
stall a GPU, so each has a `HostMirror`: the last value seen, read back from the device only
when the variable's buffer changed (an assign from outside: a callback, a restore, the user).
"""
from __future__ import annotations

import math

import numpy as np

from ... import devices as _device
from ... import dtypes, ops
from ...autograd import GradientTape
from ...ops.optim_prims import RULES, UPDATES
from ...tensor import Tensor, Variable
from ...train.checkpoint import restore_deferred
from . import schedules as _schedules


def _clip_norm(grads, clip):
    """g * clip / max(||grads||, clip): Keras's clip_by_norm / clip_by_global_norm (norm over all `grads`)."""
    total = ops.add_n([ops.reduce_sum(ops.square(g)) for g in grads])
    norm = ops.sqrt(total)
    scale = clip / ops.maximum(norm, clip)
    return [g * ops.cast(scale, g.dtype) for g in grads]


class HostMirror:
    """A Python copy of a scalar Variable's value that is read from the device only when needed.

    Every eager `Variable.assign` bumps the variable's version, so "the version is the one this value
    was read at (or written with)" means the value is current. A traced step (gf.function) updates the
    variable on the device without a version bump and tells the mirror with `advance`, so its replays
    never read the variable back. A gf.distribute MirroredVariable has one copy per replica, each stepped
    by its own replica's step (in its own thread): the mirror keeps one (version, value) per copy, that of
    the copy the calling thread reads (`_local_copy`; a plain Variable has one).
    """
    __slots__ = ("variable", "_convert", "_copies")

    def __init__(self, variable, convert, value):
        """`value`: the number `variable` was just created from."""
        self.variable, self._convert = variable, convert
        self._copies = [[variable._version, convert(value)]]  # [version, value] per copy; others on first use

    def _state(self) -> list:
        index = getattr(self.variable, "_local_copy", 0)
        copies = self._copies
        while len(copies) <= index:
            copies.append([None, None])  # not read yet: the first get reads it
        return copies[index]

    def get(self):
        variable, state = self.variable, self._state()
        if state[0] != variable._version:  # assigned from outside (restore, callback, user): read it once
            state[:] = variable._version, self._convert(variable.numpy())
        return state[1]

    def invalidate(self):
        """The device value changes in a way the host does not follow (a compiled step that the device may skip):
        the next `get` reads it back."""
        self._state()[0] = None

    def advance(self, value):
        """The variable's device value becomes `value` by a traced step's own assign: no read, no write here."""
        self._state()[1] = self._convert(value)

    def assign(self, value):
        """Assign `value` (a Python number) to the variable and remember it: no read back. The number is kept
        as given, not rounded to the variable's dtype: a float64 model gets the float64 rate it was given (the
        kernels take the rate as a host double), and get_config writes 0.001 rather than 0.0010000000474974513."""
        variable = self.variable
        with _device.device(variable._device):
            variable.assign(ops.constant(value, dtype=variable.dtype))
        self._state()[:] = variable._version, self._convert(value)


class Optimizer:
    """The base of the optimizers: `apply_gradients(zip(grads, vars))`, `minimize`, `learning_rate` (a
        variable, or a LearningRateSchedule), `iterations`, and Keras 3's `weight_decay`, `clipnorm`, `clipvalue`
        and `global_clipnorm`. Each update runs one fused kernel per variable.

        Differs from TF:
            `use_ema`, `loss_scale_factor` and `gradient_accumulation_steps` are not implemented and raise when set.
    """
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
        self._step_mirror = HostMirror(self.iterations, int, 0)
        self._learning_rate = self._lr_mirror = None  # a Variable (with its mirror), a schedule or a callable
        self.learning_rate = learning_rate
        self._tracked = []   # parameters in the order first seen: the order of `variables`
        self._slots = {}     # id(param) → {slot name: Variable}; _tracked keeps the ids unique
        self._slot_tuples = {}  # id(param) → its slot Variables in slot_names order (what apply passes)
        self._no_decay_ids, self._no_decay_names = set(), ()
        self._decays = (None, {})  # (the settings they were computed from, id(param) → (name, decay))

    # ---- learning rate --------------------------------------------------------------------
    @property
    def learning_rate(self):
        """Keras 3's value: the float32 Variable when the rate is a number (assign to it, or to this
        property); with a schedule, the rate for the coming step (a scalar tensor); with a callable, its result."""
        lr = self._learning_rate
        if isinstance(lr, _schedules.LearningRateSchedule):
            return lr(self._step())
        return lr() if not isinstance(lr, Variable) else lr

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, _schedules.LearningRateSchedule) or (callable(value) and not isinstance(value, Tensor)):
            self._learning_rate, self._lr_mirror = value, None  # Keras 3: the rate variable is no longer tracked
            return
        if isinstance(self._learning_rate, _schedules.LearningRateSchedule):
            raise TypeError(f"{self.name}: the learning rate comes from a {type(self._learning_rate).__name__} "
                            f"schedule and cannot be set to a number (as in Keras); assign a new schedule, or "
                            f"create the optimizer with a float learning_rate to be able to set it")
        try:
            rate = float(np.asarray(value))
        except (TypeError, ValueError):
            raise TypeError(f"{self.name}: learning_rate must be a number, a LearningRateSchedule or a "
                            f"zero-argument callable, got {value!r:.80}") from None
        if not rate >= 0 or math.isinf(rate):
            raise ValueError(f"{self.name}: learning_rate must be a finite number >= 0, got {rate}")
        if self._lr_mirror is not None:
            self._lr_mirror.assign(rate)
            return
        # The first number, or a number after a callable: a new variable.
        variable = Variable(rate, trainable=False, dtype=dtypes.float32, name=f"{self.name}/learning_rate")
        self._learning_rate, self._lr_mirror = variable, HostMirror(variable, float, rate)

    lr = learning_rate  # tf.keras 2 name, used by older callbacks

    def _current_learning_rate(self) -> float:
        """The rate for the coming step as a Python float, without a device read on the steady path."""
        lr = self._learning_rate
        if self._lr_mirror is not None:
            return self._lr_mirror.get()
        if isinstance(lr, _schedules.LearningRateSchedule):
            return float(lr(self._step()))  # schedules compute on the host (see schedules.py)
        return float(np.asarray(lr()))

    # ---- state ----------------------------------------------------------------------------
    def _step(self) -> int:
        return self._step_mirror.get()

    def _advance(self, step):
        self._step_mirror.assign(step + 1)

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
                slots = self._slots[id(var)] = {
                    slot: Variable(ops.fill(var.shape, self.slot_initial_value(slot), dtype=var.dtype),
                                   trainable=False, name=f"{self.name}/{var.name}_{slot}")
                    for slot in self.slot_names}
            self._slot_tuples[id(var)] = tuple(slots.values())
            self._tracked.append(var)
        restore_deferred()  # a gf.train.Checkpoint restored before the slots existed: their saved values

    def _checkpoint_variables(self):
        """(key, Variable) that gf.train.Checkpoint saves for this optimizer: its step count and learning rate."""
        rate = [("learning_rate", self._learning_rate)] if self._lr_mirror is not None else []
        return [("iterations", self.iterations)] + rate

    def _checkpoint_slot_variables(self, key_of):
        """The slots, under their parameter's key in the checkpoint (`key_of(param)`), or under the parameter's
        place in the build order when the checkpoint does not track it."""
        return [(f"slots/{key_of(p) or i}/{slot}", self._slots[id(p)][slot])
                for i, p in enumerate(self._tracked) for slot in self.slot_names]

    @property
    def built(self) -> bool:
        return bool(self._tracked)

    @property
    def variables(self) -> list:
        """Keras 3's order: iterations, the learning-rate variable (when the rate is a number, not a schedule or
        callable), then each slot kind for every parameter in the order the parameters were built."""
        rate = [self._learning_rate] if self._lr_mirror is not None else []
        return [self.iterations] + rate + [self._slots[id(v)][s] for s in self.slot_names for v in self._tracked]

    weights = variables

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Parameters (or those whose name contains one of var_names) that weight decay skips."""
        self._no_decay_ids.update(id(v) for v in var_list or ())
        self._no_decay_names += tuple(var_names or ())

    def _decay_for(self, var) -> float:
        if not self.weight_decay or id(var) in self._no_decay_ids:
            return 0.0
        return 0.0 if any(n in var.name for n in self._no_decay_names) else float(self.weight_decay)

    def _decay_table(self) -> dict:
        """id(param) → (the name it was computed for, its decay): `_decay_for` once per parameter, not per step.
        Made afresh when weight_decay or the exclusions change (exclude_from_weight_decay only adds, so the
        set's size and the names tuple tell); an entry is redone when its parameter's name changed."""
        key = (self.weight_decay, len(self._no_decay_ids), self._no_decay_names)
        made_from, table = self._decays
        if made_from != key:
            table = {}
            self._decays = (key, table)
        return table

    # ---- updates ----------------------------------------------------------------------------
    def scale_loss(self, loss):
        """Keras 3's hook, called by train_step on the loss before the gradients: the loss as it is (a
        LossScaleOptimizer multiplies it by its scale)."""
        return loss

    def apply_gradients(self, grads_and_vars, name=None, skip_gradients_aggregation=False,
                        experimental_aggregate_gradients=True):
        pairs = list(grads_and_vars)
        grads = [g for g, _ in pairs]
        if not skip_gradients_aggregation and experimental_aggregate_gradients:
            # Inside strategy.run each replica holds the gradient of its share of the batch: sum them over the
            # replicas first (an all-reduce), so every replica applies the same update, as TF's optimizers do.
            from ...distribute.aggregation import aggregate_gradients
            grads = aggregate_gradients(grads)
        return self.apply(grads, [v for _, v in pairs])

    def apply(self, grads, trainable_variables=None):
        if trainable_variables is None:
            if not self._tracked:
                raise ValueError(f"{self.name}.apply: pass the variables the gradients belong to")
            trainable_variables = self._tracked
        grads, variables = list(grads), list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(f"{self.name}: got {len(grads)} gradients for {len(variables)} variables")
        pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
        if pairs:
            self._update(pairs)
        return self.iterations

    def _update(self, pairs, finite=None, stale=()):
        """One step on (gradient, variable) pairs. `finite` (inside a gf.function only): a scalar bool tensor, the
        step applies only where it is true, decided on the device (a LossScaleOptimizer's check: no host read).
        Then the per-step scalars come from the device's step count (see _gated_step_tensor), and each call marks
        the host mirrors of the step count and of `stale` unknown."""
        self.build([v for _, v in pairs])
        grads = self._clip([self._as_gradient(g, v) for g, v in pairs])
        name, hyper = self.update_rule(self._step())  # its fixed hyper-parameters (per-step ones come in `step`)
        prim, (_, step_names, fixed) = UPDATES[name], RULES[name]
        hyper = {k: hyper[k] for k in fixed if k != "weight_decay"}
        device = pairs[0][1]._device
        step = self._step_tensor(step_names, device) if finite is None else \
            self._gated_step_tensor(step_names, device, finite, stale)
        slot_tuples, decays = self._slot_tuples, self._decay_table()
        for g, (_, var) in zip(grads, pairs):
            slots = slot_tuples[id(var)]
            decay = decays.get(id(var))
            if decay is None or decay[0] is not var.name:
                decay = decays[id(var)] = (var.name, self._decay_for(var))
            new = prim(var.value(), g, *[s.value() for s in slots], step, weight_decay=decay[1], **hyper)
            if isinstance(new, tuple):
                var.assign(new[0])
                for target, value in zip(slots, new[1:]):
                    target.assign(value)
            else:
                var.assign(new)
            if var.constraint is not None:
                constrained = var.constraint(var.value())
                # A skipped step leaves the variable as it was: not even the constraint runs again (Keras' MaxNorm
                # is not idempotent).
                var.assign(constrained if finite is None else ops.where(finite, constrained, var.value()))

    def _step_values(self, step_names, probe=False):
        """The per-step scalars of the coming update (float64, `step_names` order); unless probing, the step
        count moves on (on the host; the device variable moves with it, see _step_tensor)."""
        step = self._step()
        _, hyper = self.update_rule(step)
        hyper["lr"], hyper["apply"] = self._current_learning_rate(), 1.0
        if not probe:
            self._step_mirror.advance(step + 1)
        return np.array([hyper[k] for k in step_names], dtype=np.float64)

    def _step_tensor(self, step_names, device):
        """The `step` input of the update primitive, and the step count advanced. Eagerly: computed now, one
        upload. Inside gf.function: a FEED node that computes and uploads it on every call, while `iterations`
        is advanced by the graph itself (no read back: the host mirror advances in step)."""
        from ...ops.feeds import host_fed
        from ..._traces import state_trace
        with _device.device(device):
            if state_trace() is None:
                step = self._step()
                values = self._step_values(step_names, probe=True)
                self._advance(step)
                return ops.constant(values, dtype=dtypes.float64)
            values = host_fed(lambda probe=False: self._step_values(step_names, probe), dtypes.float64, device)
            self.iterations.assign_add(ops.ones((), dtype=dtypes.int64))
            return values

    # ---- steps the device may skip ---------------------------------------------------------------
    def _step_powers(self) -> dict:
        """{per-step scalar: base} for those that are base ** (step + 1) (Adam's bias corrections): what the
        device computes from its step count when it decides which steps apply."""
        return {}

    def _counts_steps_on_device(self) -> bool:
        """Whether the device alone can make each step's scalars from `iterations`: every one is the learning
        rate (a number, a callable, or a built-in schedule, see schedules.rate_on_device) or a power in
        _step_powers. Not so with a schedule of the user's own or Nadam's momentum schedule: those are computed on
        the host from the step."""
        if self._schedule() is not None and not _schedules.rate_on_device(self._schedule(), None):
            return False
        name, _ = self.update_rule(self._step())
        return set(RULES[name][1]) <= {"lr", "apply"} | set(self._step_powers())

    def _schedule(self):
        lr = self._learning_rate
        return lr if isinstance(lr, _schedules.LearningRateSchedule) else None

    def _gated_step_tensor(self, step_names, device, finite, stale):
        """The `step` input of a step that applies only where `finite` is true (a device bool), with no host read:
        the host feeds the learning rate (the device computes a schedule's), the device computes
        base ** (iterations + 1) for each power and sets `apply`; `iterations` advances by the flag. On each call
        the feed marks the host mirrors of the step count and of `stale` unknown: the device alone knows whether
        the step applied. Only inside a gf.function (eagerly the LossScaleOptimizer reads the flag and steps the
        plain way)."""
        from ...ops.feeds import host_fed
        powers, schedule = self._step_powers(), self._schedule()
        mirrors = (self._step_mirror, *stale)
        names = list(step_names)

        def rate(probe=False):
            if not probe:
                for mirror in mirrors:
                    mirror.invalidate()
            lr = 1.0 if schedule is not None else self._current_learning_rate()  # never the step: not known here
            return np.array([lr if k == "lr" else 1.0 for k in names], np.float64)

        with _device.device(device):
            # All elementwise: the scalars fuse with the LossScaleOptimizer's, the vector is one kernel (cuda, sim).
            iterations = self.iterations.value()
            done = ops.cast(iterations, dtypes.float64)  # this update's step, as update_rule and schedules count it
            power = done + 1.0  # the exponent of power(): made here, with the other scalars
            self.iterations.assign(iterations + ops.cast(finite, dtypes.int64))
            # apply = the flag, every other scalar times 1
            last = ops.constant([float(k == "apply") for k in names], dtype=dtypes.float64)
            step = host_fed(rate, dtypes.float64, device) * (1.0 - last * (1.0 - ops.cast(finite, dtypes.float64)))
            if powers:
                bases = ops.constant([float(powers.get(k, 1.0)) for k in names], dtype=dtypes.float64)
                exponents = ops.constant([float(k in powers) for k in names], dtype=dtypes.float64)
                step = step * ops.pow(bases, exponents * power)  # math.pow(base, step + 1), as power()
            if schedule is not None:
                at = ops.constant([k == "lr" for k in names], dtype=dtypes.bool)
                step = ops.where(at, _schedules.rate_on_device(schedule, done), step)
        return step

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
        else:  # the variable's value (as Keras 3 writes it), or a callable's current result
            lr = self._current_learning_rate()
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
        return (f"<{type(self).__name__} '{self.name}' learning_rate={self._current_learning_rate():g} "
                f"step={self._step()}>")


def power(base: float, step: int) -> float:
    """base ** (step + 1), the bias-correction power of the update at `step` (0-based)."""
    return math.pow(base, step + 1)
