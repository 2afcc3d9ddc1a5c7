"""`gf.keras.regularizers`: penalties on weights that layers add to the model's losses.

A regularizer is called on a weight tensor and returns a scalar tensor.
"""
from __future__ import annotations

from .. import ops
from ._objects import Family

# Public names: what the API reference shows and `import *` takes (imported helpers are not API).
__all__ = ["L1", "L1L2", "L2", "Regularizer", "deserialize", "get", "l1", "l1_l2", "l2", "serialize"]


def _factor(name, value):
    value = float(value)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


class Regularizer:
    """The base class: `reg(x)` returns a scalar penalty added to the loss; override `__call__`."""
    def __call__(self, x):
        raise NotImplementedError(f"{type(self).__name__} must define __call__(x)")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x²)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = _factor("L1L2: l1", l1), _factor("L1L2: l2", l2)

    def __call__(self, x):
        terms = ([self.l1 * ops.reduce_sum(ops.abs(x))] if self.l1 else []) + \
            ([self.l2 * ops.reduce_sum(ops.square(x))] if self.l2 else [])
        if not terms:
            return ops.zeros_like(ops.reduce_sum(x))  # a scalar on x's device
        return ops.add_n(terms)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """l1 * sum(|x|) (default l1 = 0.01)."""
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """l2 * sum(x ** 2) (default l2 = 0.01)."""
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


_FAMILY = Family("regularizer", [L1L2, L1, L2], aliases={"l1_l2": L1L2})
get, serialize, deserialize = _FAMILY.get, _FAMILY.serialize, _FAMILY.deserialize
l1, l2, l1_l2 = L1, L2, L1L2
