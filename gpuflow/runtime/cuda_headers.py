"""Where the CUDA pieces NVRTC needs live: the headers our kernels include (cuda_fp16.h,
cuda_bf16.h) and, for CuPy, the NVRTC library itself.

NVRTC from PyPI ships no headers; the `nvidia-cuda-runtime-cu12` wheel (CUDA 12) or the
`nvidia-cuda-runtime` wheel (CUDA 13, under nvidia/cu13) does, and so does a system toolkit.
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import os
from pathlib import Path


@functools.lru_cache(maxsize=None)
def include_dirs() -> tuple[str, ...]:
    found = []
    try:
        import nvidia
        for root in nvidia.__path__:
            for sub in ("cuda_runtime/include", "cu13/include", "cu12/include"):
                if (Path(root) / sub / "cuda_fp16.h").is_file():
                    found.append(str(Path(root) / sub))
    except ImportError:
        pass
    for env in ("CUDA_PATH", "CUDA_HOME"):
        if os.environ.get(env) and (Path(os.environ[env]) / "include" / "cuda_fp16.h").is_file():
            found.append(str(Path(os.environ[env]) / "include"))
    if Path("/usr/local/cuda/include/cuda_fp16.h").is_file():
        found.append("/usr/local/cuda/include")
    return tuple(dict.fromkeys(found))


# The toolkit headers our kernels include (kernels/common.cuh), with the ones those include.
KERNEL_TOOLKIT_HEADERS = ("cuda_fp16.h", "cuda_fp16.hpp", "cuda_bf16.h", "cuda_bf16.hpp")


@functools.lru_cache(maxsize=None)
def toolkit_headers_digest() -> str:
    """sha256 over the KERNEL_TOOLKIT_HEADERS in include_dirs() (path and bytes): part of the CUBIN
    cache key, so that a runtime wheel or toolkit upgrade that keeps NVRTC's version still rebuilds."""
    h = hashlib.sha256()
    for d in include_dirs():
        for name in KERNEL_TOOLKIT_HEADERS:
            path = Path(d) / name
            if path.is_file():
                data = path.read_bytes()
                h.update(f"{path}\0{len(data)}\0".encode())
                h.update(data)
    return h.hexdigest()


def nvrtc_wheel_libraries(major: int) -> list[Path]:
    """libnvrtc.so.<major> from the NVIDIA wheels (nvidia-cuda-nvrtc-cu12: nvidia/cuda_nvrtc/lib;
    nvidia-cuda-nvrtc for CUDA 13: nvidia/cu13/lib)."""
    try:
        import nvidia
    except ImportError:
        return []
    return [Path(root) / sub / f"libnvrtc.so.{major}" for root in nvidia.__path__
            for sub in ("cuda_nvrtc/lib", f"cu{major}/lib") if (Path(root) / sub / f"libnvrtc.so.{major}").is_file()]


_nvrtc_version = None


def ensure_cupy_nvrtc() -> tuple[int, int] | None:
    """Make CuPy's NVRTC usable and return its version.

    CuPy 13 finds libnvrtc only on the system's library path (a CUDA toolkit); with just the
    `nvidia-cuda-nvrtc-cu12` wheel that `gpuflow[cuda12]` installs, every kernel compile would fail
    with "CuPy failed to load libnvrtc.so.12". CuPy opens the library by its soname on first use and
    retries after a failure, so loading the wheel's copy once (RTLD_GLOBAL) is enough for it to be found.
    CuPy 14 finds the wheels' libraries itself (cuda-pathfinder), so there the first getVersion() succeeds.
    """
    global _nvrtc_version
    if _nvrtc_version is not None:
        return _nvrtc_version
    import cupy
    try:
        from cupy.cuda import nvrtc  # CuPy's own binding (cupy_backends.cuda.libs.nvrtc)
    except ImportError:  # a CuPy laid out otherwise: let its RawModule find NVRTC and report
        return None
    try:
        _nvrtc_version = nvrtc.getVersion()
        return _nvrtc_version
    except Exception as e:  # noqa: BLE001 - CuPy 13: RuntimeError "CuPy failed to load libnvrtc.so.N"
        first = e
    major = cupy.cuda.runtime.runtimeGetVersion() // 1000  # CuPy's CUDA major (its runtime is linked in)
    for lib in nvrtc_wheel_libraries(major):
        try:
            ctypes.CDLL(str(lib), mode=ctypes.RTLD_GLOBAL)
            _nvrtc_version = nvrtc.getVersion()
            return _nvrtc_version
        except (OSError, RuntimeError):
            continue
    wheel = "nvidia-cuda-nvrtc-cu12" if major == 12 else "nvidia-cuda-nvrtc"
    raise RuntimeError(
        f"gpuflow's cuda kernels are compiled by NVRTC, which CuPy {cupy.__version__} (CUDA {major}) cannot load: "
        f"{first}. Install it with `pip install {wheel}` (or `pip install gpuflow[cuda{major}]`), or put a CUDA "
        f"{major} toolkit's lib64 on LD_LIBRARY_PATH.") from first
