"""Where the CUDA headers our kernels include (cuda_fp16.h, cuda_bf16.h) live.

NVRTC from PyPI ships no headers; the `nvidia-cuda-runtime-cu12` wheel (CUDA 12) or the
`nvidia-cuda-runtime` wheel (CUDA 13, under nvidia/cu13) does, and so does a system toolkit.
"""
from __future__ import annotations

import functools
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
