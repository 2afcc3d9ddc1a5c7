"""kernels/*.cu built as plain host code: the kernels that compiled graphs run on the cpu device.

Eager cpu ops are NumPy, the numerical reference every kernel is tested against. A compiled graph's optimizer
step (the fusion pass's multi-tensor update node, graph/fusion/host_update.py) runs our own kernel instead,
built for the CPU as XLA builds native code for its cpu target: the same source, the same per-element
arithmetic (bit for bit: no FMA contraction, no fast-math), one vectorized loop instead of one NumPy pass per
operation. An Adam update of a 784x128 kernel is 12 NumPy passes over it, or one loop here, ~3x as fast.
(Small fused elementwise chains were tried the same way and left on NumPy: on the 2-core VM of bench/, a host
call right after a training step's large GEMMs costs ~40 us of cache misses on its call path, more than the
NumPy calls it replaces.)

    kernel = host.kernel("optim.cu", "adam_update<float>", names)   # None: host kernels are off here
    calls = kernel.prepare([[0, 1, 2, 3, 0, 4, 5, 6, 4, np.int64(n), 7, np.float32(0.9), ...]], [n] * 7)
    calls.run([p, g, m, v, p_out, m_out, v_out, step])   # ints in a template: positions in `arrays`

The file is built with kernels/host/cuda_host.h force-included, in which one host thread runs the grid:
common.cuh's grid-stride loop becomes one loop over [0, n). That holds only for kernels whose iterations
are independent (iteration i reads and writes element i alone), so only such kernels are built here. The
.so is cached on disk, keyed by the compiler, this CPU (it is built for it: -march=native), the flags and
every header's text; a machine without a C++ compiler, or GPUFLOW_HOST_KERNELS=0, gets None and the
graph runs NumPy's rule, as eager code does (the reason is logged once).
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import logging
import os
import platform
import shutil
import struct
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

from ..errors import KernelError
from ..file_io import atomic_file
from . import sources
from .sim.compiler import CXX, compiler_version

log = logging.getLogger("gpuflow")

PIPELINE_VERSION = "2"
FLAGS = ("-std=c++17", "-O3", "-march=native",
         "-ffp-contract=off",  # no fused multiply-adds: every operation rounds as NumPy's does
         "-fno-math-errno",  # sqrt vectorizes (errno is never read)
         # The kernels' loop-invariant branches (a skipped step, optional slots) move out of the loop, which
         # then vectorizes; GCC's default size limit leaves the optimizer updates unswitched.
         "--param=max-unswitch-insns=1000", "--param=max-unswitch-level=5",
         "-fPIC", "-shared", "-fvisibility=hidden", "-w")

# Counters the tests use to prove the cache works without timing anything.
stats = {"builds": 0, "disk_hits": 0}

_lock = threading.Lock()
_libraries: dict = {}
_off_reason: list = []  # set when no compiler runs here: host kernels are off in this process
_failed: set = set()    # the build errors already logged


def enabled() -> bool:
    return os.environ.get("GPUFLOW_HOST_KERNELS", "1") not in ("0", "")


def kernel(file: str, name: str, names) -> "HostKernel | None":
    """Kernel `name` of kernels/`file`, built with the rest of `names` (one library per file and name list), or
    None when host kernels are off or cannot be built here."""
    if not enabled() or _off_reason:
        return None
    try:
        return library(file, tuple(names)).kernel(name)
    except KernelError as e:
        with _lock:
            if str(e) not in _failed:
                _failed.add(str(e))
                log.warning("gpuflow: a compiled cpu graph runs NumPy's ops instead of a host kernel: %s", e)
        return None


def library(file: str, names: tuple) -> "HostLibrary":
    """The built (or cached) library of `names` from kernels/`file`. Loaded once per process: the disk cache's
    key (which reads the sources) is made only then."""
    with _lock:
        lib = _libraries.get((file, names))
        if lib is None:
            path = sources.cache_dir("host") / f"{_key(file, names)}.so"
            if path.is_file():
                stats["disk_hits"] += 1
            else:
                _build(file, names, path)
                stats["builds"] += 1
            lib = _libraries[(file, names)] = HostLibrary(path, names)
        return lib


@functools.lru_cache(maxsize=None)
def _cpu() -> str:
    """What -march=native builds for: the CPU's model and feature flags."""
    try:
        info = Path("/proc/cpuinfo").read_text()
        return "\n".join(sorted({line for line in info.splitlines() if line.startswith(("model name", "flags"))}))
    except OSError:
        return platform.processor() or platform.machine()


def _key(file: str, names: tuple) -> str:
    h = hashlib.sha256()
    for part in (PIPELINE_VERSION, compiler_version(), _cpu(), repr(FLAGS), file, sources.read_source(file), *names):
        h.update(part.encode())
        h.update(b"\0")
    root = sources.kernel_dir()
    for header in sorted([*root.glob("*.cuh"), *(root / "host").glob("*.h")]):
        h.update(header.name.encode())
        h.update(header.read_bytes())
    return h.hexdigest()[:32]


def _build(file: str, names: tuple, path: Path) -> None:
    entries = "".join(
        f'extern "C" __attribute__((visibility("default"))) const char* gfhost_sig_{k}() '
        f'{{ return gfhost::signature(&{name}); }}\n'
        f'extern "C" __attribute__((visibility("default"))) void gfhost_many_{k}(const char* packed, long long count, '
        f'int flush) {{ gfhost::many(&{name}, packed, count, flush); }}\n' for k, name in enumerate(names))
    root = sources.kernel_dir()
    with tempfile.TemporaryDirectory(prefix="gfhost-") as tmp:
        src = Path(tmp) / "module.cc"
        src.write_text(f'#include "{file}"\n{entries}')
        built = Path(tmp) / "module.so"
        cmd = [CXX, *FLAGS, "-DGPUFLOW_HOST", "-include", str(root / "host" / "cuda_host.h"), f"-I{root}",
               str(src), "-o", str(built)]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True)
        except OSError as e:
            _off_reason.append(str(e))  # no compiler: no host kernel is tried again in this process
            raise KernelError(f"host kernels need a C++17 compiler ({CXX}): {e}") from e
        if r.returncode != 0:
            raise KernelError(f"building kernels/{file} for the host failed:\n{(r.stderr or r.stdout)[:4000]}")
        with atomic_file(path) as tmp:  # another process sees no .so or a whole one
            shutil.copyfile(built, tmp)


class HostLibrary:
    def __init__(self, path: Path, names: tuple):
        self.dll = ctypes.CDLL(str(path))
        self.kernels = {name: HostKernel(self.dll, k, name) for k, name in enumerate(names)}

    def kernel(self, name: str) -> "HostKernel":
        return self.kernels[name]


_PACK = {("f", 4): "f4x", ("f", 8): "d", ("i", 4): "i4x", ("i", 8): "q", ("u", 4): "I4x", ("u", 8): "Q"}


class HostKernel:
    """One kernel. `kernel.prepare(templates, sizes)` checks and packs the scalars of its calls once; `.run(arrays)`
    then runs them with these arrays (a graph node's calls, step after step)."""

    def __init__(self, dll, index: int, name: str):
        sig = getattr(dll, f"gfhost_sig_{index}")
        sig.restype = ctypes.c_char_p
        self.name, self.params = name, sig().decode().split()
        self._many = getattr(dll, f"gfhost_many_{index}")
        self._many.argtypes, self._many.restype = [ctypes.c_char_p, ctypes.c_longlong, ctypes.c_int], None
        self.format = "".join("Q" if p[0] == "*" else _PACK[(p[0], int(p[1:]))] for p in self.params)
        # per parameter: (pointer?, its element's or its own NumPy dtype, written?)
        self.spec = [(p[0] == "*", np.dtype(f"{p[-2]}{p[-1]}"), p[0] == "*" and p[1] != "c") for p in self.params]

    def prepare(self, templates, sizes, flush_denormals=False) -> "Prepared":
        """Calls of the kernel, one per template (see Prepared). `flush_denormals`: run them with denormals
        flushed to zero, as NumPy's optimizer rules run (backend/numpy/_denormals.py)."""
        return Prepared(self, templates, sizes, flush_denormals)

    def fail(self, j, want, got):
        raise KernelError(f"host kernel {self.name}: argument {j} must be {want}, got {_describe(got)}")


class Prepared:
    """A HostKernel's calls with their scalars checked and packed: `run(arrays)` checks the arrays and runs them.

    A template is an argument list in which each array is an int, its position in `arrays`; every position from
    0 up must be used. Each array is checked once, for all its uses: C-contiguous, the element type, writeable
    if some use writes it, and the size given for its position (the kernel indexes it up to its n; a position
    past `sizes`, such as the optimizers' `step`, is read at fixed offsets)."""

    def __init__(self, kernel: HostKernel, templates, sizes, flush_denormals=False):
        self.kernel, self.flush = kernel, int(bool(flush_denormals))
        self.slots, values, uses = [], [], {}  # (position in the packed values, array position); position → uses
        for template in templates:
            if len(template) != len(kernel.spec):
                raise KernelError(f"host kernel {kernel.name} takes {len(kernel.spec)} arguments, got {len(template)}")
            for j, (a, (pointer, dtype, written)) in enumerate(zip(template, kernel.spec)):
                if pointer:
                    if not isinstance(a, int):
                        kernel.fail(j, f"an array position, for an array of {dtype}", a)
                    self.slots.append((len(values), a))
                    uses.setdefault(a, []).append((dtype, written))
                    values.append(0)
                else:
                    if not isinstance(a, np.generic) or a.dtype != dtype:
                        kernel.fail(j, f"a NumPy {dtype} scalar", a)
                    values.append(a.item())
        if sorted(uses) != list(range(len(uses))):
            raise KernelError(f"host kernel {kernel.name}: the templates use array positions {sorted(uses)}, not "
                              f"0 to {len(uses) - 1}")
        slots_of = {}
        for at, k in self.slots:
            slots_of.setdefault(k, []).append(at)
        self.checks = []  # per array position: (its dtype, written by some use?, its size or None, its slots)
        for k in range(len(uses)):
            if len({dtype for dtype, _ in uses[k]}) > 1:
                raise KernelError(f"host kernel {kernel.name}: array {k} is passed as {sorted(map(str, uses[k]))}")
            self.checks.append((uses[k][0][0], any(w for _, w in uses[k]), sizes[k] if k < len(sizes) else None,
                                tuple(slots_of[k])))
        self.values, self.count = values, len(templates)
        self.format = "<" + kernel.format * self.count

    def run(self, arrays):
        if not self.count:  # (every tensor empty: nothing to run)
            return
        if len(arrays) != len(self.checks):
            raise KernelError(f"host kernel {self.kernel.name}: {len(self.checks)} arrays expected, got {len(arrays)}")
        values = self.values.copy()
        for k, (a, (dtype, written, size, slots)) in enumerate(zip(arrays, self.checks)):
            if type(a) is not np.ndarray or (a.dtype is not dtype and a.dtype != dtype) or (
                    size is not None and a.size != size):
                self._refuse(k, a)
            try:  # a writeable C-contiguous array's address, at a third of `a.ctypes.data`'s cost
                address = _addressof(_c_char.from_buffer(a))
            except (TypeError, ValueError):  # read-only, not C-contiguous, or empty
                flags = a.flags
                if not flags.c_contiguous or (written and not flags.writeable):
                    self._refuse(k, a)
                address = a.ctypes.data
            for at in slots:
                values[at] = address
        self.kernel._many(struct.pack(self.format, *values), self.count, self.flush)

    def _refuse(self, k, a):
        dtype, written, size, _ = self.checks[k]
        sized = "" if size is None else f" of {size} elements"
        raise KernelError(f"host kernel {self.kernel.name}: array {k} must be a C-contiguous"
                          f"{', writeable' if written else ''} array of {dtype}{sized}, got {_describe(a)}")


_addressof, _c_char = ctypes.addressof, ctypes.c_char


def _describe(a) -> str:
    if isinstance(a, (np.ndarray, np.generic)):
        layout = "" if not isinstance(a, np.ndarray) or a.flags.c_contiguous else ", not C-contiguous"
        return f"{type(a).__name__} of {a.dtype}{list(np.shape(a))}{layout}"
    return type(a).__name__
