"""Compile one kernel file with NVRTC for one architecture, and read ptxas' resource report."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..runtime.cuda_headers import include_dirs
from ..runtime.sources import kernel_dir


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


def _check(result, what):
    err = result[0]
    if int(err) != 0:
        raise RuntimeError(f"NVRTC {what} failed: {err}")
    return result[1:] if len(result) > 2 else (result[1] if len(result) == 2 else None)


def compile_file(file: str, names, arch: str) -> CompileResult:
    from cuda.bindings import nvrtc
    source = (kernel_dir() / file).read_bytes()
    _, prog = nvrtc.nvrtcCreateProgram(source, file.encode(), 0, [], [])
    try:
        for name in names:
            _check(nvrtc.nvrtcAddNameExpression(prog, name.encode()), "add name expression")
        options = [f"-arch={arch}", "-std=c++17", "--ptxas-options=-v", f"-I{kernel_dir()}"]
        options += [f"-I{d}" for d in include_dirs()]
        status = nvrtc.nvrtcCompileProgram(prog, len(options), [o.encode() for o in options])[0]
        _, size = nvrtc.nvrtcGetProgramLogSize(prog)
        log = b" " * size
        nvrtc.nvrtcGetProgramLog(prog, log)
        text = log.decode(errors="replace").rstrip("\x00 ")
        result = CompileResult(file, arch, int(status) == 0, text)
        if result.ok:
            for name in names:
                _, lowered = nvrtc.nvrtcGetLoweredName(prog, name.encode())
                result.lowered[name] = lowered.decode()
            result.kernels = parse_ptxas(text)
        return result
    finally:
        nvrtc.nvrtcDestroyProgram(prog)


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
