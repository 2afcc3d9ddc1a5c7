"""Launch one kernel of a built sim module: check and marshal arguments, guard arrays, call.

Every array argument is copied into a scratch buffer with guard bytes on both sides; the
kernel runs on the copy, then the guards are checked and the data copied back. That turns an
out-of-bounds write, which on a GPU silently corrupts a neighbour, into a KernelError.
"""
from __future__ import annotations

import ctypes
import mmap
import os
import threading
from dataclasses import dataclass

import numpy as np

from gpuflow.errors import KernelError

GUARD = 256          # guard bytes each side; also the alignment of every buffer (as cudaMalloc)
PATTERN = 0xA5       # what the guards are filled with
MAX_BLOCK = (1024, 1024, 64)
MAX_GRID = (2**31 - 1, 65535, 65535)


class LaunchArgs(ctypes.Structure):  # gfsim::LaunchArgs in cuda_sim.h
    _fields_ = [("grid", ctypes.c_uint * 3), ("block", ctypes.c_uint * 3),
                ("smem", ctypes.c_ulonglong), ("seed", ctypes.c_ulonglong), ("stacks", ctypes.c_void_p)]


# One pool of fiber stacks for the whole process, shared by every module (cuda_sim.h's
# kStack/kGuard/kMaxThreads), so loading many modules does not multiply committed stack
# memory. Sharing it means one launch at a time per process: _launch_lock.
STACK, STACK_GUARD, MAX_THREADS = 128 * 1024, 4096, 1024
_launch_lock = threading.Lock()
_pool = None


def _stack_pool() -> int:
    global _pool
    if _pool is None:
        per = STACK + STACK_GUARD
        pool = mmap.mmap(-1, per * MAX_THREADS, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        base = ctypes.addressof(ctypes.c_char.from_buffer(pool))
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        for i in range(MAX_THREADS):  # a PROT_NONE page below each stack catches overflows
            libc.mprotect(base + i * per, STACK_GUARD, 0)
        _pool = (pool, base)
    return _pool[1]


@dataclass(frozen=True)
class Param:
    pointer: bool
    size: int    # sizeof the parameter, or of the pointee for pointers (0 when unknown/void)
    cls: str     # f float, i signed, u unsigned, b bool, h 16-bit float, o other
    ctype: str   # the C++ type as the compiler spells it


def parse_signature(raw: str) -> list[Param]:
    params = []
    for line in raw.splitlines():
        if not line:
            continue
        kind, size, cls, ctype = line.split("\t", 3)
        params.append(Param(kind == "p", int(size), cls, ctype))
    return params


def dims(v, what: str, limits) -> tuple[int, int, int]:
    t = (v,) if isinstance(v, (int, np.integer)) else tuple(v)
    if not 1 <= len(t) <= 3:
        raise KernelError(f"{what} must be an int or a tuple of 1 to 3 ints, got {v!r}")
    t = tuple(int(x) for x in t) + (1,) * (3 - len(t))
    for x, lim in zip(t, limits):
        if not 1 <= x <= lim:
            raise KernelError(f"{what}={v!r}: each dimension must be in 1..{lim}")
    return t


def _seed() -> int:
    raw = os.environ.get("GPUFLOW_SIM_SEED", "0") or "0"
    try:
        return int(raw) & (2**64 - 1)
    except ValueError:
        raise KernelError(f"GPUFLOW_SIM_SEED must be an integer, got {raw!r}") from None


def _scalar_bytes(kernel: str, i: int, p: Param, a) -> bytes:
    if isinstance(a, (bool, np.bool_)):
        v, shown = np.bool_(a), "bool"
    elif isinstance(a, (int, float)):  # Python scalars, as cupy: int -> int64, float -> double
        v = np.int64(a) if isinstance(a, int) else np.float64(a)
        shown = f"Python {type(a).__name__} (passed as {v.dtype})"
    elif isinstance(a, np.generic):
        v, shown = a, f"numpy.{a.dtype}"
    else:
        raise KernelError(f"kernel {kernel}: argument {i} ({p.ctype}) must be a numpy scalar, "
                          f"a Python int/float/bool, got {type(a).__name__}")
    raw = v.tobytes()
    if len(raw) != p.size or not _scalar_kind_ok(p, v.dtype) or (p.cls in "iu" and v.dtype.kind == "b"):
        raise KernelError(
            f"kernel {kernel}: argument {i} is declared `{p.ctype}` ({p.size} bytes) but got {shown} "
            f"({len(raw)} bytes); pass e.g. {_suggest(p)}(...) — on a GPU this would silently corrupt "
            f"the kernel's parameters")
    return raw


def _suggest(p: Param) -> str:
    table = {("f", 4): "float32", ("f", 8): "float64", ("i", 4): "int32", ("i", 8): "int64",
             ("u", 4): "uint32", ("u", 8): "uint64", ("b", 1): "bool_", ("i", 2): "int16",
             ("u", 2): "uint16", ("i", 1): "int8", ("u", 1): "uint8", ("h", 2): "float16"}
    if p.cls == "h" and _half_kind(p) == "bfloat16":
        return "ml_dtypes.bfloat16"
    return "numpy." + table.get((p.cls, p.size), "void")


def _half_kind(p: Param) -> str:
    return "bfloat16" if "bfloat16" in p.ctype else "float16"


def _scalar_kind_ok(p: Param, dtype: np.dtype) -> bool:
    """Would the device read these bytes as the value they hold? (Sizes are checked apart.)"""
    if p.cls == "f":
        return dtype.kind == "f"
    if p.cls == "h":  # raw 16-bit patterns are fine, the other 16-bit float is not
        return dtype.kind in "iu" or dtype.name == _half_kind(p)
    if p.cls in "iu":
        return dtype.kind in "iub"
    if p.cls == "b":
        return dtype.kind in "biu"
    return True


def _pointee_ok(p: Param, dtype: np.dtype) -> bool:
    if not p.size or p.cls == "o" or (p.size == 1 and p.cls in "iu"):  # void*, structs, char*: anything
        return True
    return p.size == dtype.itemsize and _scalar_kind_ok(p, dtype)


class _Guarded:
    """One scratch buffer with guards, standing for one or more (overlapping) arrays."""

    def __init__(self, lo: int, hi: int):
        self.lo, self.hi = lo, hi
        self.n = hi - lo
        body = -(-self.n // GUARD) * GUARD if self.n else 0
        self.raw = np.empty(body + 3 * GUARD, np.uint8)  # + GUARD of slack to align the start
        start = (-self.raw.ctypes.data) % GUARD
        self.buf = self.raw[start:start + body + 2 * GUARD]
        self.buf[:GUARD] = PATTERN
        self.buf[GUARD + self.n:] = PATTERN
        self.data = self.buf[GUARD:GUARD + self.n]
        self.base = self.buf.ctypes.data + GUARD
        self.members: list[tuple[int, np.ndarray]] = []

    def check(self) -> str | None:
        before = np.flatnonzero(self.buf[:GUARD] != PATTERN)
        after = np.flatnonzero(self.buf[GUARD + self.n:] != PATTERN)
        parts = []
        if after.size:
            parts.append(f"{int(after[-1]) + 1} bytes past the end")
        if before.size:
            parts.append(f"{GUARD - int(before[0])} bytes before the start")
        return " and ".join(parts) if parts else None


def marshal(kernel: str, params: list[Param], grid, block, args, shared_mem: int = 0):
    """Every check of a launch, and its scalar arguments packed: (LaunchArgs, slots, [(index, array)]).
    Reads no array's contents, so a queued launch is checked when it is issued (gf.cuda.stream)."""
    if not isinstance(args, (tuple, list)):
        raise KernelError(f"kernel {kernel}: args must be a tuple, got {type(args).__name__}")
    if len(args) != len(params):
        sig = ", ".join(p.ctype for p in params)
        raise KernelError(f"kernel {kernel}({sig}) takes {len(params)} arguments, got {len(args)}")
    la = LaunchArgs()
    la.grid[:] = dims(grid, "grid", MAX_GRID)
    la.block[:] = dims(block, "block", MAX_BLOCK)
    if la.block[0] * la.block[1] * la.block[2] > 1024:
        raise KernelError(f"kernel {kernel}: block={block!r} has more than 1024 threads")
    if int(shared_mem) < 0:
        raise KernelError(f"kernel {kernel}: shared_mem={shared_mem} must be >= 0")
    la.smem = int(shared_mem)

    # Marshal. Arrays whose memory overlaps share one guarded copy, so aliasing (in-place
    # ops, views of one buffer) behaves as on the device.
    slots: list = [None] * len(params)
    arrays: list[tuple[int, np.ndarray]] = []
    for i, (p, a) in enumerate(zip(params, args)):
        if p.pointer:
            if a is None:
                slots[i] = ctypes.c_void_p(0)
                continue
            if not isinstance(a, np.ndarray):
                raise KernelError(f"kernel {kernel}: argument {i} is a pointer `{p.ctype}`, so it needs a "
                                  f"numpy.ndarray, got {type(a).__name__}")
            if not a.flags.c_contiguous:
                raise KernelError(f"kernel {kernel}: argument {i} (`{p.ctype}`) is not C-contiguous; "
                                  f"pass numpy.ascontiguousarray(x)")
            if not _pointee_ok(p, a.dtype):
                raise KernelError(f"kernel {kernel}: argument {i} is `{p.ctype}` ({p.size}-byte elements) "
                                  f"but got an array of {a.dtype} ({a.dtype.itemsize}-byte elements)")
            arrays.append((i, a))
        else:
            if isinstance(a, np.ndarray) and a.ndim == 0:
                a = a[()]
            if isinstance(a, np.void) or (p.cls == "o" and isinstance(a, (bytes, bytearray))):
                raw = bytes(a.tobytes() if isinstance(a, np.void) else a)
                if len(raw) != p.size:
                    raise KernelError(f"kernel {kernel}: argument {i} is `{p.ctype}` ({p.size} bytes) but "
                                      f"got a {len(raw)}-byte struct")
            else:
                raw = _scalar_bytes(kernel, i, p, a)
            slots[i] = ctypes.create_string_buffer(raw, max(len(raw), 1))
    return la, slots, arrays


def launch(lib, index: int, kernel: str, params: list[Param], grid, block, args, shared_mem: int = 0,
           changed: list | None = None) -> None:
    """`changed`: a list to which the indices of the array arguments whose bytes the kernel changed are
    added (the stream race checker tells reads from writes by it)."""
    la, slots, arrays = marshal(kernel, params, grid, block, args, shared_mem)
    la.seed = _seed()
    la.stacks = _stack_pool()

    groups: list[_Guarded] = []
    spans = sorted(((a.ctypes.data, a.ctypes.data + a.nbytes, i, a) for i, a in arrays), key=lambda t: t[0])
    for lo, hi, i, a in spans:
        if groups and lo < groups[-1].hi and a.nbytes:  # overlaps the previous group: widen it
            g = groups[-1]
            if hi > g.hi:
                members = g.members
                g = groups[-1] = _Guarded(g.lo, hi)
                g.members = members
        else:
            g = _Guarded(lo, hi)
            groups.append(g)
        g.members.append((i, a))
    for g in groups:
        for i, a in g.members:
            src = a.reshape(-1).view(np.uint8) if a.nbytes else None
            if src is not None:
                off = a.ctypes.data - g.lo
                g.data[off:off + a.nbytes] = src
        for i, a in g.members:
            slots[i] = ctypes.c_void_p(g.base + (a.ctypes.data - g.lo))

    argv = (ctypes.c_void_p * max(len(params), 1))()
    for i, s in enumerate(slots):
        if isinstance(s, ctypes.c_void_p):
            argv[i] = ctypes.cast(ctypes.pointer(s), ctypes.c_void_p)
        else:
            argv[i] = ctypes.cast(s, ctypes.c_void_p)
    err = ctypes.create_string_buffer(8192)
    fn = getattr(lib.dll, f"gfsim_launch_{index}")
    fn.restype = ctypes.c_int
    fn.argtypes = [ctypes.POINTER(LaunchArgs), ctypes.POINTER(ctypes.c_void_p), ctypes.c_char_p, ctypes.c_ulong]
    with _launch_lock:
        rc = fn(ctypes.byref(la), argv, err, len(err))

    problems = []
    if rc:
        problems.append(err.value.decode(errors="replace"))
    for g in groups:
        bad = g.check()
        if bad:
            who = ", ".join(f"argument {i} (`{params[i].ctype}`, {a.nbytes} bytes)" for i, a in g.members)
            problems.append(f"out-of-bounds write to {who}: {bad}")
        for i, a in g.members:  # copy back even after an error: what the device would hold
            if a.nbytes and a.flags.writeable:
                off = a.ctypes.data - g.lo
                mine = a.reshape(-1).view(np.uint8)
                if changed is not None and not np.array_equal(mine, g.data[off:off + a.nbytes]):
                    changed.append(i)
                mine[:] = g.data[off:off + a.nbytes]
    if problems:
        raise KernelError(f"kernel {kernel}: " + "; ".join(problems))
