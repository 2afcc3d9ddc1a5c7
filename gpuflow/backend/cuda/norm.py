"""Layer norm and batch norm on cuda/sim: one launch of kernels/norm.cu each (see its contract)."""
from __future__ import annotations

import numpy as np

from ... import dtypes
from ._registry import impl

FILE = "norm.cu"


def _dtype(array):
    # CuPy holds bfloat16 in uint16 buffers (gpuflow has no uint16 dtype, so this is unambiguous).
    return dtypes.bfloat16 if array.dtype == np.uint16 else dtypes.as_dtype(array.dtype)


def _outputs(backend, x, stats_shape):
    dtype = _dtype(x)
    return backend.empty(x.shape, dtype), backend.empty(stats_shape, dtype), backend.empty(stats_shape, dtype)


@impl("layer_norm")
def layer_norm(backend, x, gamma, beta, epsilon):
    xp = backend.xp
    x, gamma, beta = (xp.ascontiguousarray(a) for a in (x, gamma, beta))
    n = x.shape[-1]
    rows = x.size // n if n else int(np.prod(x.shape[:-1]))
    y, mean, rstd = _outputs(backend, x, x.shape[:-1])
    if rows:
        # A block per row; short rows get one warp (the simulator pays per thread, a GPU per idle lane).
        block = 256 if n > 1024 else (128 if n > 128 else 32)
        grid = max(1, min(rows, backend.max_blocks))
        backend.kernel(FILE, f"layer_norm_fwd<{_dtype(x).ctype}>")(
            (grid,), (block,), (x, gamma, beta, y, mean, rstd, np.int64(rows), np.int64(n), np.float64(epsilon)))
    return y, mean, rstd


@impl("batch_norm")
def batch_norm(backend, x, gamma, beta, epsilon):
    xp = backend.xp
    x, gamma, beta = (xp.ascontiguousarray(a) for a in (x, gamma, beta))
    rows, c = x.shape
    y, mean, var = _outputs(backend, x, (c,))
    if c:
        tiles = (c + 31) // 32
        rows_per_block = 8 if rows > 64 or backend.on_gpu else 2
        backend.kernel(FILE, f"batch_norm_fwd<{_dtype(x).ctype}>")(
            (max(1, min(tiles, backend.max_blocks)),), (32, rows_per_block),
            (x, gamma, beta, y, mean, var, np.int64(rows), np.int64(c), np.float64(epsilon)))
    return y, mean, var
