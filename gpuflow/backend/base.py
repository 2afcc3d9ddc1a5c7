"""What every backend shares: the Backend base class, how a backend package registers its families, and the
shape inference the op layer above lends the backends."""
from __future__ import annotations

import importlib
import pkgutil

import numpy as np


# (primitive name, [(shape, DType)] of its inputs, params) -> [(shape, DType)] of its outputs: the primitive's own
# shape inference, which the op layer above registers (sim allocates a queued op's outputs before it runs).
_output_specs = None


def register_output_specs(fn) -> None:
    """Called once by gpuflow.ops.dispatch."""
    global _output_specs
    _output_specs = fn


def output_specs(name: str, inputs, params) -> list:
    return _output_specs(name, inputs, params)


def import_family_modules(package: str, path) -> None:
    """Import every module of a backend package: each registers its primitives' impls on import,
    so adding an op family is adding a file."""
    for info in pkgutil.iter_modules(path):
        if not info.name.startswith("_"):
            importlib.import_module(f"{package}.{info.name}")


class Backend:
    """What every backend offers besides its `impls` table."""

    name = "?"
    # Where NaN/Inf checks (gpuflow/backend/numerics.py) run as device launches read at the next sync: the
    # module with new_flag(backend), scan(backend, data, dtype, flag, seq), read_and_clear(backend, flag).
    # None: checked on the host at once.
    device_checks = None

    def __init__(self):
        self.impls: dict = {}

    def storage_dtype(self, dtype) -> np.dtype:
        return dtype.np

    def from_numpy(self, array: np.ndarray, dtype, copy: bool = True):
        """Device data of `dtype` holding `array`. copy=False: the caller gives the array up, so a backend
        whose device memory is host memory may keep it as it is (when dtype and layout fit)."""
        raise NotImplementedError

    def full(self, shape: tuple, value: np.ndarray, dtype):
        """Device data of `shape` with every element `value` (a 0-d array already of dtype), made on the device."""
        raise NotImplementedError

    def to_numpy(self, data, dtype) -> np.ndarray:
        raise NotImplementedError

    def copy(self, data):
        return data.copy()
