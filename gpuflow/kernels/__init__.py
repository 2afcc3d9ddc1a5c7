"""Kernel tooling: `python -m gpuflow.kernels check` compiles every kernel we ship with NVRTC.

The instantiations compiled are those listed in kernels/instantiations.txt, which the test
suite keeps complete: every (file, name expression) launched on `sim` must be listed there
(tests/test_kernel_coverage.py), so the check covers what actually runs.
"""
from __future__ import annotations

from ..runtime.sources import kernel_dir


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
