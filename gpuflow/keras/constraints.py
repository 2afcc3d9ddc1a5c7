"""`gf.keras.constraints`: projections applied to a variable after each optimizer update.

The optimizer calls `var.assign(var.constraint(var))`; a constraint maps a tensor to a
tensor of the same shape. Norms are taken over `axis` (Keras's default 0: per output unit
of a Dense kernel of shape (in, out)).
"""
from __future__ import annotations

from .. import ops
from ._objects import Family

# Public names: what the API reference shows and `import *` takes (imported helpers are not API).
__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "deserialize", "get", "max_norm",
           "min_max_norm", "non_neg", "serialize", "unit_norm"]

_EPSILON = 1e-7  # keras.backend.epsilon(): keeps zero columns from dividing by zero


def _norms(w, axis):
    return ops.sqrt(ops.reduce_sum(ops.square(w), axis=axis, keepdims=True))


class Constraint:
    """The base class: a callable applied to a weight after each optimizer update; override `__call__(w)`."""
    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class MaxNorm(Constraint):
    """Rescales each slice along `axis` whose L2 norm exceeds `max_value` down to that norm."""
    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = ops.clip_by_value(norms, 0.0, float(self.max_value))
        return w * (desired / (norms + _EPSILON))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Sets negative weights to zero."""
    def __call__(self, w):
        return w * ops.cast(w >= 0.0, w.dtype)


class UnitNorm(Constraint):
    """Rescales each slice along `axis` to unit L2 norm."""
    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return w / (_norms(w, self.axis) + _EPSILON)

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Norms clipped into [min_value, max_value], moved there by the fraction `rate` per call."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = self.rate * ops.clip_by_value(norms, float(self.min_value), float(self.max_value)) + \
            (1.0 - self.rate) * norms
        return w * (desired / (norms + _EPSILON))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


_FAMILY = Family("constraint", [MaxNorm, NonNeg, UnitNorm, MinMaxNorm])
get, serialize, deserialize = _FAMILY.get, _FAMILY.serialize, _FAMILY.deserialize
max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm
