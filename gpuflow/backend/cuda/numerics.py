"""NaN/Inf checks on cuda and sim: kernels/numerics.cu (check_finite), its flag, and the check_numerics op.

gpuflow/backend/numerics.py decides when to check and what an error says; this module launches the scan
and reads the flag, inside the backend's device (CuPy launches and allocates on its current device).
"""
from __future__ import annotations

import contextlib

import numpy as np

from ... import dtypes
from ...runtime.counters import COUNTERS
from ..numerics import NUMERICS, Described, user_frame
from ._registry import impl
from .storage import dtype_of

FILE = "numerics.cu"
BLOCK = 256  # a multiple of 32: the kernel's warp reduction takes full warps


def _on_device(backend):
    return backend.xp.cuda.Device(backend.device_id) if backend.on_gpu else contextlib.nullcontext()


def new_flag(backend):
    """The device's int32 [seq, kinds], zero: no failing check yet."""
    return backend.from_numpy(np.zeros(2, np.int32), dtypes.int32)


def scan(backend, data, dtype, flag, seq: int):
    """Queue check_finite over `data` (of gpuflow dtype `dtype`): flag[0] = seq if it finds NaN or Inf first."""
    n = data.size
    if not n:
        return
    with _on_device(backend):
        backend.kernel(FILE, f"check_finite<{dtype.ctype}>")(
            (backend.grid_for(n, BLOCK),), (BLOCK,), (data, np.int64(n), flag, np.int32(seq)))


def read_and_clear(backend, flag) -> tuple[int, int]:
    """(seq, kinds) from the flag, which is then zeroed for the checks to come: one host read."""
    with _on_device(backend):
        seq, kinds = (int(v) for v in (flag.get() if backend.on_gpu else flag))
        COUNTERS.download(flag.nbytes)
        if seq:
            flag.fill(0)  # on cuda: queued on the current stream, before any later check
    return seq, kinds


@impl("check_numerics")
def check_numerics(backend, x, message):
    """gf.debugging.check_numerics on a device: the same deferred check, with the user's message."""
    dtype = dtype_of(x)
    if x.size:
        spec = (dtype.name, tuple(x.shape), backend.name)
        NUMERICS.check_array(backend, x, dtype, Described("check_numerics", [spec], 0, 1, spec, user_frame(2), message))
    return x
