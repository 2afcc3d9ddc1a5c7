"""Kernel loader: kernels/*.cu compiled once per (file, name expression) and cached.

cuda: cupy.RawModule, one per name expression, on first use: NVRTC takes ~0.1-0.3 s per kernel.
      CuPy's disk cache does not help here (it skips any module built with name_expressions),
      so each process compiles the kernels it uses once. CuPy adds -ftz=true: float32 denormals
      flush to zero on a GPU (as in TF's GPU kernels), unlike on sim and cpu.
sim:  gpuflow.runtime.sim.SimModule. A g++ run costs seconds of start-up and header parsing
      whatever it compiles, so the instantiations of a file listed in kernels/instantiations.txt
      are built together, in a few modules compiled in parallel; an unlisted one is built alone.
Every launch is counted in `launched`, so the test suite can prove each shipped kernel ran.
"""
from __future__ import annotations

import os
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor

from .sources import kernel_dir, read_source

# (file, name expression) pairs launched in this process, per target: the sim test gate reads it.
launched: dict[str, set] = {"cuda": set(), "sim": set()}

COMPILE_OPTIONS = ("-std=c++17",)


def cuda_options() -> tuple[str, ...]:
    """The NVRTC options of every cuda kernel (tests/runtime/test_cupy_compile.py compiles with these)."""
    from .cuda_headers import include_dirs
    return COMPILE_OPTIONS + (f"-I{kernel_dir()}",) + tuple(f"-I{d}" for d in include_dirs())


class KernelLoader:
    def __init__(self, target: str):
        self.target = target
        self._cache = {}
        self._file_modules = {}  # sim: file → {name expression: module holding it}
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
            from .cuda_headers import ensure_cupy_nvrtc
            ensure_cupy_nvrtc()
            module = cupy.RawModule(code=source, options=cuda_options(), name_expressions=(name,))
        else:
            from .sim import SimModule
            module = self._sim_file_modules(file, source, options).get(name)
            if module is None:
                module = SimModule(code=source, options=options, name_expressions=(name,), name=file)
        return module.get_function(name)

    def _sim_file_modules(self, file, source, options):
        if file not in self._file_modules:
            from ..kernels import instantiations
            from .sim import SimModule
            names = instantiations().get(file, [])
            # A stable split (by a hash of each name) so that listing one more instantiation
            # rebuilds one part, not the whole file.
            parts = max(1, min(os.cpu_count() or 1, len(names) // 16))
            groups = [tuple(n for n in names if zlib.crc32(n.encode()) % parts == i) for i in range(parts)]
            groups = [g for g in groups if g]
            with ThreadPoolExecutor(len(groups) or 1) as pool:
                modules = list(pool.map(lambda g: SimModule(code=source, options=options, name_expressions=g,
                                                            name=file), groups))
            self._file_modules[file] = {n: m for g, m in zip(groups, modules) for n in g}
        return self._file_modules[file]


class _Counted:
    __slots__ = ("fn", "key", "seen")

    def __init__(self, fn, key, seen):
        self.fn, self.key, self.seen = fn, key, seen

    def __call__(self, grid, block, args, shared_mem=0):
        self.seen.add(self.key)
        return self.fn(grid, block, args, shared_mem=shared_mem)
