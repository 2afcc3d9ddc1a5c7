"""`python -m gpuflow.kernels warm`: fill the CUBIN cache with every kernel before anything runs.

A fresh GPU machine's cache ($GPUFLOW_CACHE_DIR/cuda) is empty, so every process would first spend
~0.15 s of NVRTC on each kernel it launches (~570 instantiations in the test suite). Warming compiles
every instantiation in kernels/instantiations.txt into that cache once, spread over a process pool
(NVRTC compiles one program per thread; processes use every core), so the minutes a GPU is lent go to
tests and benchmarks. NVRTC needs no GPU: with an explicit --arch this runs on any machine with
cuda-python's NVRTC, and each entry is exactly what the cuda loader later looks up
(gpuflow.runtime.cubin_cache.get with the GPU's compute capability).
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from ..runtime.sources import instantiations


def device_arch() -> str:
    """The current GPU's compute capability as the loader asks for it ('90'), through CuPy."""
    import cupy
    return cupy.cuda.Device().compute_capability


def _compile_one(job):
    """In a worker: one (file, name, arch) into the cache; ('compiled' | 'cached' | 'failed', file, name, error)."""
    from ..runtime import cubin_cache
    file, name, arch = job
    before = cubin_cache.stats["compiles"]
    try:
        cubin_cache.get(file, name, arch)
    except Exception as e:  # noqa: BLE001 - reported per kernel; the others still warm
        return "failed", file, name, f"{type(e).__name__}: {e}"
    return ("compiled" if cubin_cache.stats["compiles"] > before else "cached"), file, name, ""


def warm(arch, files=None, jobs=None, out=sys.stdout) -> int:
    """Compile every listed instantiation (of `files`, or of all) for `arch` into the CUBIN cache.
    Returns the number that failed; prints one summary line (and each failure)."""
    from ..runtime.nvrtc import arch_name
    from ..runtime.cubin_cache import cache_dir
    table = instantiations()
    unknown = sorted(set(files or ()) - set(table))
    if unknown:
        raise ValueError(f"no instantiations listed for {', '.join(unknown)} in kernels/instantiations.txt; "
                         f"files with some: {', '.join(sorted(table))}")
    work = [(f, n, str(arch)) for f in sorted(files or table) for n in table[f]]
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(work) or 1))
    start = time.perf_counter()
    # spawn: the parent may have started CUDA (to ask the GPU's arch), which a forked child must not inherit
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(_compile_one, work, chunksize=max(1, len(work) // (jobs * 8))))
    counts = {k: sum(r[0] == k for r in results) for k in ("compiled", "cached", "failed")}
    for status, file, name, error in results:
        if status == "failed":
            print(f"FAILED {file}: {name}: {error}", file=out)
    print(f"warm {arch_name(arch)}: {len(work)} kernels, {counts['compiled']} compiled, {counts['cached']} already "
          f"cached, {counts['failed']} failed, in {time.perf_counter() - start:.1f} s with {jobs} processes "
          f"(cache: {cache_dir()})", file=out)
    return counts["failed"]
