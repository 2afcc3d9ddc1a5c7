"""`with flush_denormals():` runs NumPy code with denormal floats flushed to zero (results and inputs), as
TensorFlow's cpu kernels run (its cpu device sets flush-to-zero and denormals-are-zero in every thread).

Why: an optimizer's moments decay geometrically where a gradient is zero (a dead ReLU unit's weights), and
after ~800 Adam steps they reach denormal values, on which x86 arithmetic takes ~10x as long. An MLP's cpu
step took twice as long from then on. Flushed, those moments become exactly 0 and stay there; values that
are not denormal are computed bit for bit as without it.

How: the thread's floating-point control register (x86-64's MXCSR, AArch64's FPCR) is read and set through
the C library's fegetenv/fesetenv (ctypes, Linux glibc layout), and restored on exit. On other platforms
it does nothing (denormals are kept: slower, never wrong).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import platform
import threading

# (byte offset of the control register in glibc's fenv_t, the bits that flush denormals)
_LAYOUTS = {"x86_64": (28, 0x8040),   # MXCSR: FTZ (bit 15) and DAZ (bit 6)
            "aarch64": (0, 1 << 24)}  # FPCR: FZ
_ENV_BYTES = 32  # sizeof(fenv_t) on both (8 on AArch64): room to spare


def _libm():
    if platform.system() != "Linux" or platform.machine() not in _LAYOUTS:
        return None
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        lib.fegetenv, lib.fesetenv  # noqa: B018 - both must exist
        return lib
    except (OSError, AttributeError):
        return None


_LIB = _libm()
_OFFSET, _BITS = _LAYOUTS.get(platform.machine(), (0, 0))
_STATE = threading.local()


class flush_denormals:
    """Context manager; cheap (three C calls), per thread, nests."""
    __slots__ = ()

    def __enter__(self):
        if _LIB is None:
            return
        s = _STATE.__dict__
        if "saved" not in s:
            s["saved"], s["flushing"] = ctypes.create_string_buffer(_ENV_BYTES), ctypes.create_string_buffer(_ENV_BYTES)
            s["mode"] = ctypes.c_uint32.from_buffer(s["flushing"], _OFFSET)
            s["depth"] = 0
        s["depth"] += 1
        if s["depth"] > 1:
            return
        _LIB.fegetenv(s["saved"])
        ctypes.memmove(s["flushing"], s["saved"], _ENV_BYTES)
        s["mode"].value |= _BITS
        _LIB.fesetenv(s["flushing"])

    def __exit__(self, *exc):
        if _LIB is None:
            return
        s = _STATE.__dict__
        s["depth"] -= 1
        if s["depth"] == 0:
            _LIB.fesetenv(s["saved"])


def available() -> bool:
    """Whether flush_denormals() flushes here (else it does nothing)."""
    return _LIB is not None
