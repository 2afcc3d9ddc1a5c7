"""Cumulative sum, product and log-sum-exp on cuda/sim: kernels/scan.cu.

The axis is viewed as the middle of (outer, n, inner). A long contiguous row (inner == 1) is
scanned by 1024-position tiles: one launch when the row is one tile, otherwise the tiles'
totals are reduced, scanned (recursively, with the same code) into per-tile seeds, and each tile
scanned from its seed. Short rows and strided axes get a thread per (outer, inner) column.
"""
from __future__ import annotations

import math

import numpy as np

from ._registry import impl
from .storage import ctype, dtype_of

FILE = "scan.cu"
TILE = 1024          # kScanTile in scan.cu
BLOCK = 256          # kScanBlock in scan.cu: the tile kernels need exactly this many threads
SHORT_ROW = 64       # rows up to this long get a thread each: a tile's barriers would cost more
KINDS = {"cumsum": "gf::SumKind", "cumprod": "gf::ProdKind", "cumulative_logsumexp": "gf::LogAddKind"}
_ACC = {"__half": np.float32, "__nv_bfloat16": np.float32, "float": np.float32, "double": np.float64,
        "int": np.int32, "long long": np.int64}


def _scan(backend, kind, x, out, outer, n, inner, exclusive, reverse):
    t = ctype(x)
    if inner > 1 or n <= SHORT_ROW:
        backend.kernel(FILE, f"scan_cols<{t}, {kind}>")(
            (backend.grid_for(outer * inner),), (BLOCK,),
            (x, out, np.int64(outer), np.int64(n), np.int64(inner), np.int32(exclusive), np.int32(reverse)))
        return
    xp = backend.xp
    tiles = -(-n // TILE)
    seeds = xp.zeros(1, _ACC[t])
    if tiles > 1:
        totals = xp.empty((outer, tiles), _ACC[t])
        backend.kernel(FILE, f"reduce_tiles<{t}, {kind}>")(
            (backend.grid_for(outer * tiles, 1),), (BLOCK,),
            (x, totals, np.int64(outer), np.int64(n), np.int64(tiles), np.int32(reverse)))
        seeds = xp.empty_like(totals)
        _scan(backend, kind, totals, seeds, outer, tiles, 1, True, False)
    backend.kernel(FILE, f"scan_tiles<{t}, {kind}>")(
        (backend.grid_for(outer * tiles, 1),), (BLOCK,),
        (x, out, seeds, np.int32(tiles > 1), np.int64(outer), np.int64(n), np.int64(tiles), np.int32(exclusive),
         np.int32(reverse)))


@impl("cumsum", "cumprod", "cumulative_logsumexp")
def cumulative(backend, name, x, axis, exclusive, reverse):
    x = backend.xp.ascontiguousarray(x)
    out = backend.empty(x.shape, dtype_of(x))
    if x.size:
        outer, inner = math.prod(x.shape[:axis]), math.prod(x.shape[axis + 1:])
        _scan(backend, KINDS[name], x, out, outer, x.shape[axis], inner, exclusive, reverse)
    return out
