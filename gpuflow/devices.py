"""Devices (`cpu`, `cuda:N`, `sim`) and the `gf.device` scope, like `tf.device`.

The default device is chosen once: $GPUFLOW_DEVICE if set, else `cuda:0` when a GPU is
usable, else `cpu`; the choice is said once in a log line.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading

log = logging.getLogger("gpuflow")

KINDS = ("cpu", "cuda", "sim")

# Device -> its Backend. The backend layer (gpuflow/backend) sits above this module and registers the lookup
# when it is imported, which `import gpuflow` does before any tensor exists.
_backend_lookup = None


def register_backend_lookup(lookup) -> None:
    """Called once by gpuflow.backend: `lookup(device)` gives the device's Backend."""
    global _backend_lookup
    _backend_lookup = lookup


class Device:
    __slots__ = ("kind", "index", "_backend")

    def __init__(self, kind: str, index: int = 0):
        self.kind, self.index, self._backend = kind, index, None

    def __eq__(self, other):
        return isinstance(other, Device) and (self.kind, self.index) == (other.kind, other.index)

    def __hash__(self):
        return hash((self.kind, self.index))

    def __str__(self):
        return f"{self.kind}:{self.index}"

    __repr__ = __str__

    @property
    def backend(self):
        if self._backend is None:  # asked on every op: resolve once per Device object
            if _backend_lookup is None:
                raise RuntimeError(f"{self}: no backend is registered; import gpuflow (its backend layer "
                                   f"registers them) before running anything")
            self._backend = _backend_lookup(self)
        return self._backend


def parse(spec) -> Device:
    """'cpu', 'cuda', 'cuda:1', 'gpu:0', 'sim', '/device:GPU:0' (TF's long form) or a Device."""
    if isinstance(spec, Device):
        return spec
    text = str(spec).strip().lower().replace("/device:", "").replace("/job:localhost/replica:0/task:0", "")
    kind, _, index = text.lstrip("/").partition(":")
    kind = {"gpu": "cuda"}.get(kind, kind)
    if kind not in KINDS or (index and not index.isdigit()):
        raise ValueError(f"unknown device {spec!r}: use 'cpu', 'cuda', 'cuda:N' (or 'gpu:N') or 'sim'")
    return Device(kind, int(index or 0))


@functools.lru_cache(maxsize=None)
def cuda_available() -> bool:
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no CuPy, no driver, no GPU: all mean "not usable"
        return False


@functools.lru_cache(maxsize=None)
def default_device() -> Device:
    env = os.environ.get("GPUFLOW_DEVICE")
    if env:
        dev, why = parse(env), "from GPUFLOW_DEVICE"
    elif cuda_available():
        dev, why = Device("cuda", 0), "a GPU is usable"
    else:
        dev, why = Device("cpu", 0), "no usable GPU (install gpuflow[cuda12] on a machine with one)"
    log.info("gpuflow default device: %s (%s)", dev, why)
    return dev


_scope = threading.local()


def current() -> Device:
    stack = getattr(_scope, "stack", None)
    return stack[-1] if stack else default_device()


@contextlib.contextmanager
def device(spec):
    """`with gf.device('cuda:0'):` places new tensors and runs ops on that device."""
    dev = parse(spec)
    if dev.kind == "cuda" and not cuda_available():
        raise RuntimeError(f"gf.device({spec!r}): no usable CUDA GPU here (is cupy installed and a driver present?);"
                           " use 'cpu', or 'sim' to run our CUDA kernels on the CPU")
    stack = _scope.__dict__.setdefault("stack", [])
    stack.append(dev)
    try:
        yield dev
    finally:
        stack.pop()
