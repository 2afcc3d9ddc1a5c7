"""`gf.keras.optimizers.schedules`: learning rates as functions of the step (Keras 3 formulas).

A schedule is called with the step (a Python number or a scalar tensor) and returns the rate
as a float32 scalar tensor on cpu, as Keras returns a tensor. The values are computed in
Python floats: an optimizer reads its rate on the host once per step. The built-in formulas
are written once for two kinds of numbers (`_HOST`, `_DEVICE`): the same formula also runs
on a float64 step tensor, for a compiled step whose step count only the device knows (a
LossScaleOptimizer's, which skips steps on the device: see `rate_on_device`).
"""
from __future__ import annotations

import functools
import math

from ... import devices as _device
from ... import dtypes, ops
from ...ops.creation import constant
from ...tensor import Tensor
from .._objects import Family

# Public names: what the API reference shows and `import *` takes (imported helpers are not API).
__all__ = ["CosineDecay", "CosineDecayRestarts", "ExponentialDecay", "InverseTimeDecay", "LearningRateSchedule",
           "PiecewiseConstantDecay", "PolynomialDecay", "deserialize", "serialize"]


def _step(step) -> float:
    try:
        return float(step)
    except (TypeError, ValueError):
        raise TypeError(f"a learning-rate schedule is called with the step (a number or a scalar tensor), "
                        f"got {step!r:.80}") from None


class _HOST:
    """The formulas' operations on Python floats. `select` takes its branches as callables: only one is run."""
    floor, ceil, cos, log, minimum, maximum = math.floor, math.ceil, math.cos, math.log, min, max

    @staticmethod
    def select(condition, if_true, if_false):
        return if_true() if condition else if_false()


class _DEVICE:
    """The same on a float64 scalar tensor: both branches are computed and one is selected."""
    floor, ceil, cos, log, minimum, maximum = ops.floor, ops.ceil, ops.cos, ops.log, ops.minimum, ops.maximum

    @staticmethod
    def select(condition, if_true, if_false):
        return ops.where(condition, if_true(), if_false())


class LearningRateSchedule:
    """Subclasses implement `value(step: float) -> float` (or override `__call__`) and `get_config`."""

    def __call__(self, step):
        with _device.device("cpu"):
            return constant(self.value(_step(step)), dtype="float32")

    def value(self, step: float) -> float:
        raise NotImplementedError(f"{type(self).__name__} must implement value(step) or __call__(step)")

    def get_config(self):
        raise NotImplementedError(f"{type(self).__name__} must implement get_config to be serialized")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class _Formula(LearningRateSchedule):
    """A built-in schedule: `_formula(step, m)` with the operations of `m` (_HOST or _DEVICE)."""

    def value(self, step):
        return self._formula(step, _HOST)


def _like(step, value):
    """`value` as the step's kind of number: a select's branches must both be tensors on the device."""
    return value if not isinstance(step, Tensor) else ops.fill((), value, dtype=step.dtype)


def rate_on_device(schedule, step):
    """The rate at `step` (a float64 scalar tensor) computed with ops, rounded to float32 as `schedule(step)` is,
    as float64; None when only the host can compute it (a schedule of the user's own, or a built-in one whose
    value or call a subclass overrides). `step=None`: whether it can, without computing anything."""
    kind = type(schedule)
    if not isinstance(schedule, _Formula) or kind.value is not _Formula.value \
            or kind.__call__ is not LearningRateSchedule.__call__:
        return None
    if step is None:
        return True
    return ops.cast(ops.cast(schedule._formula(step, _DEVICE), dtypes.float32), dtypes.float64)


def _positive(cls, what, value):
    if value is None or float(value) <= 0:
        raise ValueError(f"{cls}: {what} must be > 0, got {value!r}")
    return value


class ExponentialDecay(_Formula):
    """initial * decay_rate ** (step / decay_steps), the exponent floored when staircase."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="ExponentialDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = _positive("ExponentialDecay", "decay_steps", decay_steps)
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name

    def _formula(self, step, m):
        p = step / self.decay_steps
        return self.initial_learning_rate * self.decay_rate ** (m.floor(p) if self.staircase else p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(_Formula):
    """values[i] while boundaries[i-1] < step <= boundaries[i] (values[0] up to boundaries[0] included)."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"PiecewiseConstantDecay: needs one more value than boundaries, got "
                             f"{len(boundaries)} boundaries and {len(values)} values")
        if list(boundaries) != sorted(boundaries):
            raise ValueError(f"PiecewiseConstantDecay: boundaries must be increasing, got {list(boundaries)}")
        self.boundaries, self.values, self.name = list(boundaries), list(values), name

    def _formula(self, step, m):
        rate = lambda: _like(step, self.values[-1])  # noqa: E731
        for boundary, v in reversed(list(zip(self.boundaries, self.values))):
            rate = functools.partial(m.select, step <= boundary, lambda v=v: _like(step, v), rate)
        return rate()

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(_Formula):
    """(initial - end) * (1 - step / decay_steps) ** power + end; with cycle, decay_steps grows to the
    next multiple of itself past the step."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,
                 name="PolynomialDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = _positive("PolynomialDecay", "decay_steps", decay_steps)
        self.end_learning_rate, self.power, self.cycle, self.name = end_learning_rate, power, cycle, name

    def _formula(self, step, m):
        if self.cycle:
            decay_steps = self.decay_steps * m.maximum(m.ceil(step / self.decay_steps), 1)
        else:
            decay_steps, step = self.decay_steps, m.minimum(step, self.decay_steps)
        frac = (1 - step / decay_steps) ** self.power
        return (self.initial_learning_rate - self.end_learning_rate) * frac + self.end_learning_rate

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle,
                "name": self.name}


class InverseTimeDecay(_Formula):
    """initial / (1 + decay_rate * step / decay_steps), the ratio floored when staircase."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="InverseTimeDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = _positive("InverseTimeDecay", "decay_steps", decay_steps)
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name

    def _formula(self, step, m):
        p = step / self.decay_steps
        return self.initial_learning_rate / (1 + self.decay_rate * (m.floor(p) if self.staircase else p))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class CosineDecay(_Formula):
    """Optional linear warmup from initial to warmup_target over warmup_steps, then a cosine from the
    peak down to alpha * peak over decay_steps, constant after (Keras 3)."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay", warmup_target=None,
                 warmup_steps=0):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = _positive("CosineDecay", "decay_steps", decay_steps)
        if warmup_steps < 0:
            raise ValueError(f"CosineDecay: warmup_steps must be >= 0, got {warmup_steps}")
        self.alpha, self.name = alpha, name
        self.warmup_target, self.warmup_steps = warmup_target, warmup_steps

    def _formula(self, step, m):
        peak = self.initial_learning_rate if self.warmup_target is None else self.warmup_target

        def decay():
            done = m.minimum(step - (self.warmup_steps if self.warmup_target is not None else 0), self.decay_steps)
            cosine = 0.5 * (1 + m.cos(math.pi * done / self.decay_steps))
            return peak * ((1 - self.alpha) * cosine + self.alpha)
        if self.warmup_target is None:
            return decay()
        return m.select(step < self.warmup_steps, lambda: self.initial_learning_rate + (
            peak - self.initial_learning_rate) * step / self.warmup_steps, decay)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(_Formula):
    """Cosine decay from initial_learning_rate to alpha * it over first_decay_steps, then restarted (SGDR): each
    period t_mul times as long as the last, its peak m_mul times as high (Keras 3)."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
                 name="SGDRDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = _positive("CosineDecayRestarts", "first_decay_steps", first_decay_steps)
        if t_mul <= 0 or m_mul < 0:
            raise ValueError(f"CosineDecayRestarts: t_mul must be > 0 and m_mul >= 0, got {t_mul} and {m_mul}")
        self.t_mul, self.m_mul, self.alpha, self.name = float(t_mul), float(m_mul), alpha, name

    def _formula(self, step, m):
        fraction = step / self.first_decay_steps
        if self.t_mul == 1.0:  # periods of one length
            restarts = m.floor(fraction)
            fraction = fraction - restarts
        else:  # period k lasts t_mul ** k: the restart count from the geometric sum
            restarts = m.floor(m.log(1.0 - fraction * (1.0 - self.t_mul)) / math.log(self.t_mul))
            before = (1.0 - self.t_mul ** restarts) / (1.0 - self.t_mul)
            fraction = (fraction - before) / self.t_mul ** restarts
        cosine = 0.5 * self.m_mul ** restarts * (1.0 + m.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1.0 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "first_decay_steps": self.first_decay_steps,
                "t_mul": self.t_mul, "m_mul": self.m_mul, "alpha": self.alpha, "name": self.name}


_FAMILY = Family("learning-rate schedule", [ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay,
                                              InverseTimeDecay, CosineDecay, CosineDecayRestarts])
serialize, deserialize = _FAMILY.serialize, _FAMILY.deserialize
