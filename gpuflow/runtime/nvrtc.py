"""NVRTC through cuda-python: the one driver behind `python -m gpuflow.kernels check` (resource
report) and the cuda loader's CUBIN disk cache (gpuflow.runtime.cubin_cache).

Both compile with `cubin_options(arch)`, so check reports on exactly the code a GPU runs.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from .sources import cuda_options, kernel_dir


@dataclass
class KernelInfo:
    name: str            # the mangled entry name ptxas reports
    registers: int = 0
    spill_stores: int = 0
    spill_loads: int = 0
    shared_bytes: int = 0
    stack_bytes: int = 0


@dataclass
class CompileResult:
    file: str
    arch: str
    ok: bool
    log: str
    kernels: list = field(default_factory=list)
    lowered: dict = field(default_factory=dict)  # name expression → mangled name
    cubin: bytes = b""


def _check(result, what):
    err = result[0]
    if int(err) != 0:
        raise RuntimeError(f"NVRTC {what} failed: {err}")
    return result[1:] if len(result) > 2 else (result[1] if len(result) == 2 else None)


@functools.lru_cache(maxsize=None)
def nvrtc_version() -> tuple[int, int]:
    """cuda-python's NVRTC (major, minor); ImportError where cuda-python is not installed."""
    from cuda.bindings import nvrtc
    major, minor = _check(nvrtc.nvrtcVersion(), "version")
    return int(major), int(minor)


def arch_name(arch) -> str:
    """'90', 90 or 'sm_90' → 'sm_90' (a real architecture: NVRTC then emits a CUBIN, not PTX)."""
    text = str(arch)
    return text if text.startswith("sm_") else f"sm_{text}"


def cubin_options(arch, root: Path | None = None) -> tuple[str, ...]:
    """The options of every gpuflow kernel compiled to a CUBIN for `arch`.

    The cuda loader's RawModule options (gpuflow.runtime.sources.cuda_options) plus what CuPy's
    RawModule adds, with one deliberate difference:
    * --device-as-default-execution-space: CuPy passes it to NVRTC 12+; kept so an unannotated
      function means the same in both paths.
    * -ftz=false where CuPy passes -ftz=true: float32 denormals are kept, as on the cpu and sim
      references (NumPy and the host CPU do not flush), so a cuda result matches them near zero
      too. Denormal-heavy float32 math costs little on sm_80+; bandwidth dominates our kernels.
    * CuPy's own include dirs (cub, thrust, libcudacxx) are left out: no kernel includes them.
    """
    extra = ("--device-as-default-execution-space",) if nvrtc_version()[0] >= 12 else ()
    return cuda_options(root) + extra + ("-ftz=false", f"-arch={arch_name(arch)}")


def compile_program(source: bytes, file: str, names, options, cubin: bool = False) -> CompileResult:
    """Compile `source` (named `file` in messages) with the name expressions `names`.

    The result has each name's lowered (mangled) entry name and, with cubin=True, the CUBIN
    (options must then name a real architecture, -arch=sm_XY)."""
    from cuda.bindings import nvrtc
    arch = next((o.split("=", 1)[1] for o in options if o.startswith("-arch=")), "")
    _, prog = nvrtc.nvrtcCreateProgram(source, file.encode(), 0, [], [])
    try:
        for name in names:
            _check(nvrtc.nvrtcAddNameExpression(prog, name.encode()), "add name expression")
        status = nvrtc.nvrtcCompileProgram(prog, len(options), [o.encode() for o in options])[0]
        size = _check(nvrtc.nvrtcGetProgramLogSize(prog), "log size")
        log = bytearray(size)
        nvrtc.nvrtcGetProgramLog(prog, log)
        text = bytes(log).decode(errors="replace").rstrip("\x00 ")
        result = CompileResult(file, arch, int(status) == 0, text)
        if result.ok:
            for name in names:
                result.lowered[name] = _check(nvrtc.nvrtcGetLoweredName(prog, name.encode()), "lowered name").decode()
            result.kernels = parse_ptxas(text)
            if cubin:
                code = bytearray(_check(nvrtc.nvrtcGetCUBINSize(prog), "CUBIN size"))
                _check(nvrtc.nvrtcGetCUBIN(prog, code), "CUBIN")
                result.cubin = bytes(code)
        return result
    finally:
        nvrtc.nvrtcDestroyProgram(prog)


def compile_file(file: str, names, arch: str) -> CompileResult:
    """`check`: every listed instantiation of kernels/<file> at once, with ptxas' resource report."""
    source = (kernel_dir() / file).read_bytes()
    return compile_program(source, file, names, cubin_options(arch) + ("--ptxas-options=-v",))


_ENTRY = re.compile(r"Compiling entry function '([^']+)'")
_FRAME = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
_USED = re.compile(r"Used (\d+) registers(?:.*?(\d+) bytes smem)?")


def parse_ptxas(log: str) -> list:
    kernels, current = [], None
    for line in log.splitlines():
        if m := _ENTRY.search(line):
            current = KernelInfo(m.group(1))
            kernels.append(current)
        elif current and (m := _FRAME.search(line)):
            current.stack_bytes, current.spill_stores, current.spill_loads = map(int, m.groups())
        elif current and (m := _USED.search(line)):
            current.registers = int(m.group(1))
            current.shared_bytes = int(m.group(2) or 0)
    return kernels
