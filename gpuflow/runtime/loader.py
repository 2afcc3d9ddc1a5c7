"""Kernel loader: kernels/*.cu compiled once per (file, name expression) and cached.

cuda: cupy.RawModule (NVRTC; CuPy keeps its own disk cache of the compiled binaries).
sim:  gpuflow.runtime.sim.SimModule (host C++; disk-cached .so files).
Every launch is counted in `launched`, so the test suite can prove each shipped kernel ran.
"""
from __future__ import annotations

import threading

from .sources import kernel_dir, read_source

# (file, name expression) pairs launched in this process, per target: the sim test gate reads it.
launched: dict[str, set] = {"cuda": set(), "sim": set()}

COMPILE_OPTIONS = ("-std=c++17",)


class KernelLoader:
    def __init__(self, target: str):
        self.target = target
        self._cache = {}
        self._lock = threading.Lock()

    def get(self, file: str, name: str):
        key = (file, name)
        kernel = self._cache.get(key)
        if kernel is None:
            with self._lock:
                kernel = self._cache.get(key) or _Counted(self._compile(file, name), key, launched[self.target])
                self._cache[key] = kernel
        return kernel

    def _compile(self, file: str, name: str):
        options = COMPILE_OPTIONS + (f"-I{kernel_dir()}",)
        source = read_source(file)
        if self.target == "cuda":
            import cupy
            from .cuda_headers import include_dirs
            options += tuple(f"-I{d}" for d in include_dirs())
            module = cupy.RawModule(code=source, options=options, name_expressions=(name,))
        else:
            from .sim import SimModule
            module = SimModule(code=source, options=options, name_expressions=(name,), name=file)
        return module.get_function(name)


class _Counted:
    __slots__ = ("fn", "key", "seen")

    def __init__(self, fn, key, seen):
        self.fn, self.key, self.seen = fn, key, seen

    def __call__(self, grid, block, args, shared_mem=0):
        self.seen.add(self.key)
        return self.fn(grid, block, args, shared_mem=shared_mem)
