"""Build a kernel source into a shared library for the sim device, with a disk cache.

Pipeline: ``g++ -E`` with ``kernels/sim/cuda_sim.h`` force-included, a textual rewrite of
the shared-memory and ``__global__`` markers that header leaves behind (it has to be done
after preprocessing so that headers are covered too), a generated wrapper appended (one
``extern "C"`` launch entry and one signature entry per kernel), then ``g++ -shared``.
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from gpuflow.errors import KernelError
from gpuflow.runtime import sources
from gpuflow.runtime.sources import kernel_dir

# Bump when the pipeline changes in a way the hash of the inputs does not see.
PIPELINE_VERSION = "4"
CXX = os.environ.get("GPUFLOW_SIM_CXX", "g++")
CXXFLAGS = ("-std=c++17", "-O2", "-fPIC", "-shared", "-fvisibility=hidden", "-w")

# Counters the tests use to prove the caches work without timing anything.
stats = {"compiles": 0, "disk_hits": 0, "memory_hits": 0}

_memory: dict[str, "Library"] = {}
_lock = threading.Lock()
_module_locks: dict[str, threading.Lock] = {}


def sim_header() -> Path:
    return kernel_dir() / "sim" / "cuda_sim.h"


def cache_dir() -> Path:
    return sources.cache_dir("sim")


@functools.lru_cache(maxsize=None)
def compiler_version() -> str:
    try:
        out = subprocess.run([CXX, "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise KernelError(f"the sim device needs a C++17 compiler ({CXX}): {e}") from e
    return out.splitlines()[0] if out else CXX


def parse_options(options) -> tuple[list[str], list[str], bool]:
    """NVRTC-style options -> (include dirs, -D/-U flags, initcheck). The rest is NVRTC-only."""
    includes, defines, initcheck = [], [], False
    opts = list(options)
    i = 0
    while i < len(opts):
        o = str(opts[i])
        nxt = str(opts[i + 1]) if i + 1 < len(opts) else None
        if o in ("-I", "--include-path") and nxt is not None:
            includes.append(nxt); i += 2; continue
        if o in ("-D", "--define-macro") and nxt is not None:
            defines.append("-D" + nxt); i += 2; continue
        if o in ("-U", "--undefine-macro") and nxt is not None:
            defines.append("-U" + nxt); i += 2; continue
        if o.startswith("--include-path="):
            includes.append(o.split("=", 1)[1])
        elif o.startswith("-I"):
            includes.append(o[2:])
        elif o.startswith("--define-macro="):
            defines.append("-D" + o.split("=", 1)[1])
        elif o.startswith("-D") or o.startswith("-U"):
            defines.append(o)
        elif o == "--sim-initcheck":
            initcheck = True
        i += 1
    return includes, defines, initcheck


def _hash_inputs(code: str, options, name_expressions, initcheck: bool) -> str:
    """The key of everything but the included headers (those go in the manifest)."""
    h = hashlib.sha256()
    for part in (PIPELINE_VERSION, compiler_version(), code, repr(tuple(options)),
                 repr(tuple(name_expressions)), repr(initcheck)):
        h.update(part.encode()); h.update(b"\0")
    h.update(sim_header().read_bytes())
    return h.hexdigest()[:32]


def _file_hash(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


# A line marker of the preprocessed text: every header actually included shows up in one.
_LINE_MARKER = re.compile(r'^# \d+ "([^"<]+)"', re.M)


def _dependencies(text: str, source: Path) -> dict[str, str]:
    """Headers the module used (not the system's: the compiler version covers those) -> sha256."""
    deps = {}
    for p in dict.fromkeys(_LINE_MARKER.findall(text)):
        path = str(Path(p).resolve())
        if path.startswith("/usr/") or path == str(source.resolve()) or path == str(sim_header().resolve()):
            continue
        digest = _file_hash(path)
        if digest:
            deps[path] = digest
    return deps


def _cached_so(key: str) -> Path | None:
    """The manifest `key.json` names the .so built from these headers, if they are unchanged."""
    try:
        manifest = json.loads((cache_dir() / f"{key}.json").read_text())
    except (OSError, ValueError):
        return None
    if any(_file_hash(p) != h for p, h in manifest.get("deps", {}).items()):
        return None
    so = cache_dir() / manifest.get("so", "")
    return so if so.is_file() else None


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


_EXTERN_SHARED = re.compile(r"extern\s+__gfsim_shared__\b([^;]*?)\b(\w+)\s*\[\s*\]\s*;")
_SHARED = re.compile(r"(?:\bstatic\s+)?__gfsim_shared__")
_EXTERN_C_KERNEL = re.compile(r'extern\s+"C"\s+[^;{}]*?__gfsim_global__[^;{}(]*?\bvoid\s+(\w+)\s*\(')
_EXTERN_C_BLOCK = re.compile(r'extern\s+"C"\s*\{')
_GLOBAL_IN_BLOCK = re.compile(r"__gfsim_global__[^;{}(]*?\bvoid\s+(\w+)\s*\(")


def _extern_c_kernels(text: str) -> list[str]:
    names = _EXTERN_C_KERNEL.findall(text)
    for m in _EXTERN_C_BLOCK.finditer(text):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        names += _GLOBAL_IN_BLOCK.findall(text, m.end(), i)
    return list(dict.fromkeys(names))


_SECTION = 'static __attribute__((section("gfsim_shared"), aligned(16)))'
_ATTRIBUTE = re.compile(r"__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)")
# a one-dimensional static shared array: the only static form initcheck instruments
_SHARED_ARRAY_1D = re.compile(r"(?:\bstatic\s+)?__gfsim_shared__\s+([^;={}\[\]]*?)\b(\w+)\s*\[([^\[\];]+)\]\s*;")


def rewrite(text: str, initcheck: bool) -> str:
    """Turn the markers cuda_sim.h left in preprocessed text into plain C++."""
    if initcheck:
        def dyn(m):
            t = _ATTRIBUTE.sub("", m.group(1)).strip()
            return f'::gfsim::checked<{t}> {m.group(2)}{{::gfsim::DynSmem{{}}, "{m.group(2)}"}};'

        def static(m):
            t, n, size = m.group(1), m.group(2), m.group(3)
            bare = _ATTRIBUTE.sub("", t).strip()
            return (f"{_SECTION} {t} {n}__gfsim_raw[{size}]; "
                    f'static ::gfsim::checked<{bare}> {n}{{{n}__gfsim_raw, "{n}"}};')
        text = _EXTERN_SHARED.sub(dyn, text)
        text = _SHARED_ARRAY_1D.sub(static, text)
    else:
        text = _EXTERN_SHARED.sub(r"\1 * const \2 = ::gfsim::DynSmem{};", text)
    text = _SHARED.sub(_SECTION, text)
    return text.replace("__gfsim_global__", "")


def wrapper(names: list[str]) -> str:
    # Appended after preprocessing: no macros here, and line markers use the `# N "file"` form.
    export = 'extern "C" __attribute__((visibility("default")))'
    lines = ['\n# 1 "<gpuflow sim wrapper: name expressions>"']
    for i, expr in enumerate(names):
        lit = expr.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(
            f'{export} const char* gfsim_sig_{i}() {{ static ::gfsim::Str s = ::gfsim::signature(&{expr}); '
            f'return s.c_str(); }}\n'
            f'{export} int gfsim_launch_{i}(const ::gfsim::LaunchArgs* la, void** argv, char* err, '
            f'unsigned long errlen) {{ return ::gfsim::launch("{lit}", &{expr}, la, argv, err, errlen); }}')
    joined = "\\n".join(n.replace("\\", "\\\\").replace('"', '\\"') for n in names)
    lines.append(f'{export} const char* gfsim_names() {{ return "{joined}"; }}')
    lines.append(f"{export} unsigned long gfsim_static_smem() {{ "
                 "return (unsigned long)(__stop_gfsim_shared - __start_gfsim_shared); }")
    return "\n".join(lines) + "\n"


class Library:
    """A loaded module: the kernels it exports, by name expression."""

    def __init__(self, path: Path):
        self.path = path
        self.dll = ctypes.CDLL(str(path))
        self.dll.gfsim_names.restype = ctypes.c_char_p
        raw = self.dll.gfsim_names().decode()
        self.names = raw.split("\n") if raw else []


def _run(cmd: list[str], what: str, name: str) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        msg = (r.stderr or r.stdout).strip()
        if len(msg) > 12000:
            msg = msg[:12000] + "\n... (truncated)"
        raise KernelError(f"sim: {what} of kernel module {name!r} failed:\n{msg}")


def _source_filename(name: str) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", os.path.basename(name)).strip("_.") or "module"
    return base if base.endswith(".cu") else base + ".cu"


def build(code: str, options=(), name_expressions=(), name: str = "<module>") -> Library:
    """Compile (or fetch from the caches) and load a module."""
    includes, defines, initcheck = parse_options(options)
    if os.environ.get("GPUFLOW_SIM_INITCHECK", "") not in ("", "0"):
        initcheck = True
    key = _hash_inputs(code, options, name_expressions, initcheck)
    with _lock:
        module_lock = _module_locks.setdefault(key, threading.Lock())
    # One lock per module, not one for all: the loader builds a file's parts in parallel threads,
    # and two threads asking for the same module still compile it once.
    with module_lock:
        lib = _memory.get(key)
        if lib is not None and _cached_so(key) == lib.path:
            stats["memory_hits"] += 1
            return lib
        out = _cached_so(key)
        if out is not None:
            stats["disk_hits"] += 1
        else:
            out = _compile(code, includes, defines, initcheck, list(name_expressions), name, key)
            stats["compiles"] += 1
        lib = _memory[key] = Library(out)
        return lib


def _compile(code, includes, defines, initcheck, name_expressions, name, key: str) -> Path:
    """Build the module; the .so is named by `key` plus the hashes of the headers it included."""
    cache_dir().mkdir(parents=True, exist_ok=True)
    incs = [f"-I{d}" for d in [str(kernel_dir())] + includes]
    flags = ["-DGPUFLOW_SIM"] + (["-DGFSIM_INITCHECK"] if initcheck else []) + defines
    with tempfile.TemporaryDirectory(prefix="gfsim-") as tmp:
        src = Path(tmp) / _source_filename(name)
        src.write_text(code)
        ii = Path(tmp) / "module.ii"
        _run([CXX, "-E", "-std=c++17", *flags, "-include", str(sim_header()), *incs, "-x", "c++", str(src),
              "-o", str(ii)], "preprocessing", name)
        text = ii.read_text()
        deps = _dependencies(text, src)
        full = hashlib.sha256((key + json.dumps(sorted(deps.items()))).encode()).hexdigest()[:32]
        out = cache_dir() / f"{full}.so"
        names = list(dict.fromkeys(list(name_expressions) + _extern_c_kernels(text)))
        ii.write_text(rewrite(text, initcheck) + wrapper(names))
        tmp_so = out.with_name(f".{out.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            _run([CXX, *CXXFLAGS, "-x", "c++-cpp-output", str(ii), "-o", str(tmp_so)], "compilation", name)
            os.replace(tmp_so, out)  # atomic: a concurrent process sees no .so or a whole one
        finally:
            if tmp_so.exists():
                tmp_so.unlink()
    _write_atomic(cache_dir() / f"{key}.json", json.dumps({"so": out.name, "deps": deps}, indent=1).encode())
    return out


def clear_memory_cache() -> None:
    """Forget loaded modules (tests use it to exercise the disk cache)."""
    with _lock:
        _memory.clear()


def clear_disk_cache() -> None:
    shutil.rmtree(cache_dir(), ignore_errors=True)
