"""matmul on cuda/sim: `xp.matmul` (cuBLAS through CuPy on a GPU, NumPy on sim).

float16/bfloat16 are widened to float32 by kernels/matmul.cu's `convert`, multiplied in
float32 and rounded once, as the cpu reference does; other dtypes go to xp.matmul as they are.
"""
from __future__ import annotations

import numpy as np

from ... import dtypes
from ...runtime.counters import COUNTERS
from ._registry import impl
from .movement import BLOCK
from .storage import ctype, dtype_of


def convert(backend, x, dtype):
    out = backend.empty(x.shape, dtype)
    if x.size:
        backend.kernel("matmul.cu", f"convert<{ctype(x)}, {dtype.ctype}>")(
            (backend.grid_for(x.size, BLOCK),), (BLOCK,), (backend.xp.ascontiguousarray(x), out, np.int64(x.size)))
    return out


@impl("matmul")
def matmul(backend, a, b, transpose_a, transpose_b):
    xp, dtype = backend.xp, dtype_of(a)
    narrow = dtype in (dtypes.float16, dtypes.bfloat16)
    if narrow:
        a, b = convert(backend, a, dtypes.float32), convert(backend, b, dtypes.float32)
    x = xp.swapaxes(a, -1, -2) if transpose_a else a
    y = xp.swapaxes(b, -1, -2) if transpose_b else b
    out = xp.ascontiguousarray(xp.matmul(x, y))
    COUNTERS.launches += 1  # one cuBLAS GEMM (CuPy's matmul; NumPy's BLAS on sim): a launch we do not make ourselves
    return convert(backend, out, dtype) if narrow else out
