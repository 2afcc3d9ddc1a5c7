"""The cpu backend: NumPy. It is also the numerical reference every other backend is tested against."""
from __future__ import annotations

import numpy as np

from ..base import Backend, import_family_modules
from ._registry import IMPLS
from ...runtime.counters import COUNTERS

import_family_modules(__name__, __path__)  # each <family>.py fills IMPLS


class NumpyBackend(Backend):
    name = "cpu"

    def __init__(self):
        super().__init__()
        # Each primitive the cpu runs is its stand-in for a kernel launch: counted (one closure call per op)
        self.impls = {name: _counted(fn) for name, fn in IMPLS.items()}

    @staticmethod
    def counted(fn):
        """`fn` counted as one launch per call, as the impls are (a graph node's own cpu function)."""
        return _counted(fn)

    def from_numpy(self, array, dtype, copy=True):
        # One pass either way: a copy made straight into dtype, or (copy=False) the array itself if it fits.
        return np.array(array, dtype=dtype.np, copy=True if copy else None, order="C")

    def full(self, shape, value, dtype):
        return np.full(shape, value, dtype=dtype.np)

    def to_numpy(self, data, dtype):
        return np.array(data, copy=True)


def _counted(fn):
    def run(*args, **params):
        COUNTERS.launches += 1
        return fn(*args, **params)
    return run
