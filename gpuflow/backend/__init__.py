"""Backends: one per device kind, each a table of primitive implementations keyed by name.

cpu  = NumPy (the numerical reference); cuda = CuPy + our kernels;
sim  = the cuda backend's own code with NumPy arrays as device memory and the kernel
       simulator as launcher.
"""
from __future__ import annotations

import functools

from .. import devices
from .base import Backend, import_family_modules, register_output_specs  # noqa: F401  (the layer's API)


@functools.lru_cache(maxsize=None)
def _backend_for(kind: str, index: int) -> Backend:
    if kind == "cpu":
        from .numpy import NumpyBackend
        return NumpyBackend()
    from .cuda import CudaBackend
    return CudaBackend(kind, index)


def get_backend(device) -> Backend:
    return _backend_for(device.kind, device.index)


devices.register_backend_lookup(get_backend)  # Device.backend: devices.py sits below this layer
