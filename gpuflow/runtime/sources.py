"""Where the CUDA sources in ``kernels/`` live (in a source checkout and in an installed wheel), which
instantiations of them are listed, and the options every cuda compile uses.

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


def instantiations() -> dict[str, list[str]]:
    """file → name expressions, from kernels/instantiations.txt ('file<TAB>name' lines)."""
    path = kernel_dir() / "instantiations.txt"
    table: dict[str, list[str]] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                file, name = line.split("\t")
                table.setdefault(file, []).append(name)
    return table


def write_instantiations(pairs) -> None:
    header = ("# Every (kernel file, name expression) the backends launch, one per line, tab-separated.\n"
              "# Written by `GPUFLOW_UPDATE_INSTANTIATIONS=1 python -m pytest` (see tests/conftest.py);\n"
              "# read by `python -m gpuflow.kernels check` and by the sim loader, which builds each file's\n"
              "# listed instantiations together.\n")
    lines = sorted(f"{f}\t{n}" for f, n in pairs)
    (kernel_dir() / "instantiations.txt").write_text(header + "\n".join(lines) + "\n")


COMPILE_OPTIONS = ("-std=c++17",)


def cuda_options(root=None) -> tuple[str, ...]:
    """The NVRTC options of every cuda kernel (tests/runtime/test_cupy_compile.py compiles with these);
    `root`: the kernel folder, kernels/ by default. The CUBIN cache adds a few (runtime/nvrtc.py)."""
    from .cuda_headers import include_dirs
    return COMPILE_OPTIONS + (f"-I{root or kernel_dir()}",) + tuple(f"-I{d}" for d in include_dirs())


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
