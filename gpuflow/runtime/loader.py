"""Kernel loader: kernels/*.cu compiled once per (file, name expression) and cached.

cuda: one CUBIN per name expression for the current GPU's architecture, from the disk cache of
      gpuflow.runtime.cubin_cache (NVRTC through cuda-python, ~0.1-0.3 s per kernel, only on a miss;
      `python -m gpuflow.kernels warm` fills it ahead, without a GPU), loaded with
      cupy.RawModule(path=...), which loads a cubin or PTX file in CuPy 13 and 14 alike. Why not
      CuPy's own disk cache: CuPy 13 skips any module built with name_expressions (CuPy 14 caches
      them), neither can be filled without a GPU, and both compile with -ftz=true. Ours compiles with
      -ftz=false, so float32 denormals are kept as on sim and cpu (gpuflow/runtime/nvrtc.py:cubin_options).
      Fallback, where cuda-python's NVRTC is missing, or fails on a kernel that CuPy's compiles, or
      the driver refuses its CUBIN:
      cupy.RawModule(code=..., name_expressions=...), with CuPy's -ftz=true (float32 denormals flush
      to zero there), compiled again in every process on CuPy 13 (CuPy 14 keeps it in ~/.cupy/kernel_cache).
sim:  gpuflow.runtime.sim.SimModule. A g++ run costs seconds of start-up and header parsing
      whatever it compiles, so the instantiations of a file listed in kernels/instantiations.txt
      are built together, in a few modules compiled in parallel; an unlisted one is built alone.
Every launch is recorded in `launched`, so the test suite can prove each shipped kernel ran, and counted
in the runtime counters (gpuflow/runtime/counters.py).
"""
from __future__ import annotations

import logging
import os
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor

from .counters import COUNTERS
from .sources import COMPILE_OPTIONS, cuda_options, instantiations, kernel_dir, read_source

# (file, name expression) pairs launched in this process, per target: the sim test gate reads it.
launched: dict[str, set] = {"cuda": set(), "sim": set()}
# The graph compiler's generated kernels launched, per target: (kind of template, kernel name).
launched_generated: dict[str, set] = {"cuda": set(), "sim": set()}
GENERATED = "<generated>"  # the `file` of a generated kernel in the loader's cache

log = logging.getLogger("gpuflow")
# Whether the cuda target loads CUBINs from the disk cache: decided on the first cuda kernel,
# turned off for the process if the driver refuses one of them.
_use_cubin_cache: bool | None = None


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
            kernel = self._once(key, lambda: _Counted(self._compile(file, name), key, launched[self.target]))
        return kernel

    def generated(self, name: str, source: str, kind: str):
        """A kernel the graph compiler generated (`source`, an extern "C" kernel `name` that includes kernels/
        headers), compiled once per process (and cached on disk as the shipped kernels are). `kind` names its
        template (map, reduce, multi_update) for the kernel-coverage gate."""
        key = (GENERATED, name)
        kernel = self._cache.get(key)
        if kernel is None:
            kernel = self._once(key, lambda: _Counted(self._compile_generated(name, source), (kind, name),
                                                      launched_generated[self.target]))
        return kernel

    def _once(self, key, make):
        """The cache's entry for `key`, made by `make()` under the lock if no other thread made it first."""
        with self._lock:
            kernel = self._cache.get(key)
            if kernel is None:
                kernel = self._cache[key] = make()
        return kernel

    def _compile_generated(self, name, source):
        if self.target == "cuda":
            return _cuda_function(f"{name}.cu", name, source)
        from .sim import SimModule
        options = COMPILE_OPTIONS + (f"-I{kernel_dir()}",)
        return SimModule(code=source, options=options, name_expressions=(name,), name=f"{name}.cu").get_function(name)

    def _compile(self, file: str, name: str):
        source = read_source(file)
        if self.target == "cuda":
            return _cuda_function(file, name, source)
        from .sim import SimModule
        options = COMPILE_OPTIONS + (f"-I{kernel_dir()}",)
        module = self._sim_file_modules(file, source, options).get(name)
        if module is None:
            module = SimModule(code=source, options=options, name_expressions=(name,), name=file)
        return module.get_function(name)

    def _sim_file_modules(self, file, source, options):
        if file not in self._file_modules:
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


def _cuda_function(file: str, name: str, source: str):
    """`name` from `source` (kernels/`file`, or a generated source named `file`)."""
    import cupy
    failure = None
    if _cubin_cache_enabled():
        from . import cubin_cache
        try:
            entry = cubin_cache.get(file, name, cupy.cuda.Device().compute_capability, source=source.encode())
        except (RuntimeError, OSError) as e:
            # NVRTC refused (e.g. one older than the GPU, where CuPy compiles PTX instead; or a real error
            # in the kernel, which CuPy's compile below reports too), or the cache folder is unusable.
            failure = f"{e} (while caching {name} from {file})"
        else:
            try:
                return cupy.RawModule(path=str(entry.path)).get_function(entry.lowered)
            except cupy.cuda.driver.CUDADriverError as e:
                failure = f"the CUDA driver cannot load NVRTC's CUBIN {entry.path} ({e})"
    from .cuda_headers import ensure_cupy_nvrtc
    ensure_cupy_nvrtc()
    module = cupy.RawModule(code=source, options=cuda_options(), name_expressions=(name,))
    function = module.get_function(name)
    if failure:  # CuPy managed where the cache did not: stop trying it, and say so once
        _disable_cubin_cache(failure)
    return function


def _cubin_cache_enabled() -> bool:
    global _use_cubin_cache
    if _use_cubin_cache is None:
        from . import cubin_cache
        _use_cubin_cache = True
        if not cubin_cache.available():
            _disable_cubin_cache("cuda-python's NVRTC is not installed (pip install gpuflow[cuda12] or [cuda13])")
    return _use_cubin_cache


def _disable_cubin_cache(why: str) -> None:
    global _use_cubin_cache
    _use_cubin_cache = False
    log.warning("gpuflow: %s: cuda kernels are compiled by CuPy instead, again in every process on CuPy 13, "
                "and with float32 denormals flushed to zero", why)


class _Counted:
    __slots__ = ("fn", "key", "seen")

    def __init__(self, fn, key, seen):
        self.fn, self.key, self.seen = fn, key, seen

    def __call__(self, grid, block, args, shared_mem=0):
        self.seen.add(self.key)
        COUNTERS.launches += 1
        return self.fn(grid, block, args, shared_mem=shared_mem)
