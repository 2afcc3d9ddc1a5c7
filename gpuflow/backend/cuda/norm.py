"""Layer norm and batch norm on cuda/sim: one launch of kernels/norm.cu each (see its contract)."""
from __future__ import annotations

import numpy as np

from ... import dtypes
from ._registry import impl
from .storage import dtype_of

FILE = "norm.cu"
MIN_CHUNK_ROWS = 64  # shorter chunks would spend more on the partials than on reading x


def _outputs(backend, x, stats_shape):
    dtype = dtype_of(x)
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
        backend.kernel(FILE, f"layer_norm_fwd<{dtype_of(x).ctype}>")(
            (grid,), (block,), (x, gamma, beta, y, mean, rstd, np.int64(rows), np.int64(n), np.float64(epsilon)))
    return y, mean, rstd


@impl("batch_norm")
def batch_norm(backend, x, gamma, beta, epsilon):
    xp = backend.xp
    x, gamma, beta = (xp.ascontiguousarray(a) for a in (x, gamma, beta))
    rows, c = x.shape
    dtype = dtype_of(x)
    y, mean, var = _outputs(backend, x, (c,))
    if not c:
        return y, mean, var
    acc = dtypes.float64 if dtype == dtypes.float64 else dtypes.float32
    t = dtype.ctype
    # Split the rows into chunks so that (channel tiles x chunks) blocks fill the GPU even for few channels.
    tiles = (c + 31) // 32
    splits = max(1, min(-(-backend.max_blocks // tiles), -(-rows // MIN_CHUNK_ROWS)))
    chunk = max(1, -(-rows // splits))
    splits = -(-rows // chunk) if rows else 0  # every chunk non-empty; no rows leaves NaN statistics
    partial = backend.empty((max(splits, 1), c, 3), acc)
    if splits:
        backend.kernel(FILE, f"batch_norm_partials<{t}>")(
            (max(1, min(tiles * splits, backend.max_blocks)),), (32, 8 if backend.on_gpu else 2),
            (x, partial, np.int64(rows), np.int64(c), np.int64(chunk), np.int64(splits)))
    stats = backend.empty((2, c), acc)
    backend.kernel(FILE, f"batch_norm_finalize<{t}>")(
        (backend.grid_for(c),), (256,),
        (partial, gamma, mean, var, stats, np.int64(splits), np.int64(c), np.float64(epsilon)))
    if rows:
        backend.kernel(FILE, f"batch_norm_apply<{t}>")(
            (backend.grid_for(x.size),), (256,), (x, stats, beta, y, np.int64(x.size), np.int64(c)))
    return y, mean, var
