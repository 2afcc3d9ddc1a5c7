"""Where the CUDA sources in ``kernels/`` live, in a source checkout and in an installed wheel.

The wheel maps the top-level ``kernels/`` folder to the package ``gpuflow._kernels``
(see pyproject.toml), so one tree of ``.cu`` files serves the runtime, the simulator,
the NVRTC check and bench/ alike.
"""
from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path


@functools.lru_cache(maxsize=None)
def kernel_dir() -> Path:
    package = Path(__file__).resolve().parent.parent
    for candidate in (package.parent / "kernels", package / "_kernels"):
        if (candidate / "common.cuh").is_file():
            return candidate
    raise FileNotFoundError(
        f"gpuflow cannot find its CUDA sources: looked for common.cuh in {package.parent / 'kernels'} "
        f"and {package / '_kernels'}. Reinstall gpuflow (pip install --force-reinstall gpuflow).")


def kernel_files() -> list[Path]:
    """Every kernel source we ship, sorted by name."""
    return sorted(kernel_dir().glob("*.cu"))


@functools.lru_cache(maxsize=None)
def read_source(name: str) -> str:
    path = kernel_dir() / name
    if not path.is_file():
        known = ", ".join(p.name for p in kernel_files())
        raise FileNotFoundError(f"no kernel source {name!r} in {kernel_dir()} (known: {known})")
    return path.read_text()


def cache_dir(kind: str) -> Path:
    """The folder where compiled kernels of `kind` ('sim', 'cuda') are kept between processes:
    $GPUFLOW_CACHE_DIR/<kind>, by default ~/.cache/gpuflow/<kind>."""
    root = os.environ.get("GPUFLOW_CACHE_DIR")
    path = (Path(root) if root else Path.home() / ".cache" / "gpuflow") / kind
    try:
        path.mkdir(parents=True, exist_ok=True)
        if os.access(path, os.W_OK):
            return path
    except OSError:
        pass
    # A read-only home (some CI sandboxes): a per-user folder in the temp dir still caches.
    fallback = Path(tempfile.gettempdir()) / f"gpuflow-{kind}-{os.getuid()}"
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback
