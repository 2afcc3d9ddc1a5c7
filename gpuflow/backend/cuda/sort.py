"""Sorting primitives on cuda/sim: kernels/sort.cu.

A row that fits a tile (up to TILE_MAX elements) is sorted by one bitonic network in shared
memory; a longer row is sorted tile by tile, then merged in log2(n / tile) passes of
merge_runs, ping-ponging between two buffers.
"""
from __future__ import annotations

import math

import numpy as np

from ... import dtypes
from ._registry import impl
from .storage import ctype, dtype_of

FILE = "sort.cu"
TILE_MAX = 1024   # elements a block sorts in shared memory: 1024 * (4 + 8) bytes at most
BLOCK = 256


def _tile_for(n: int) -> int:
    return min(TILE_MAX, max(2, 1 << (n - 1).bit_length()))


def sort_rows(backend, x, descending: bool):
    """(values, int32 positions) of each row of x (..., n) sorted stably along the last axis."""
    xp = backend.xp
    x = xp.ascontiguousarray(x)
    n = x.shape[-1] if x.ndim else 1
    rows = math.prod(x.shape[:-1]) if x.ndim else 1
    vals, idx = backend.empty(x.shape, dtype_of(x)), backend.empty(x.shape, dtypes.int32)
    if x.size == 0:
        return vals, idx
    t = ctype(x)
    tile = _tile_for(n)
    shared = ((tile * 4 + 15) // 16) * 16 + tile * x.itemsize
    tiles = rows * -(-n // tile)
    backend.kernel(FILE, f"sort_tiles<{t}>")((backend.grid_for(tiles, 1),), (max(1, tile // 2),),
                                             (x, vals, idx, np.int64(rows), np.int64(n), np.int32(tile),
                                              np.int32(descending)), shared_mem=shared)
    width = tile
    if width < n:
        spare_vals, spare_idx = backend.empty(x.shape, dtype_of(x)), backend.empty(x.shape, dtypes.int32)
        merge = backend.kernel(FILE, f"merge_runs<{t}>")
        while width < n:
            merge((backend.grid_for(x.size, BLOCK),), (BLOCK,),
                  (vals, idx, spare_vals, spare_idx, np.int64(rows), np.int64(n), np.int64(width),
                   np.int32(descending)))
            vals, spare_vals, idx, spare_idx = spare_vals, vals, spare_idx, idx
            width *= 2
    return vals, idx


@impl("sort")
def sort(backend, x, descending):
    return sort_rows(backend, x, descending)[0]


@impl("sort_with_indices")
def sort_with_indices(backend, x, descending):
    return sort_rows(backend, x, descending)


@impl("searchsorted")
def searchsorted(backend, seq, values, right, out_type):
    xp = backend.xp
    out = backend.empty(values.shape, out_type)
    if values.size == 0:
        return out
    n, m = seq.shape[-1], values.shape[-1]
    rows = values.size // m
    if n == 0:  # nothing to search: every value goes first
        out.fill(0)
        return out
    backend.kernel(FILE, f"searchsorted<{ctype(seq)}, {out_type.ctype}>")(
        (backend.grid_for(values.size, BLOCK),), (BLOCK,),
        (xp.ascontiguousarray(seq), xp.ascontiguousarray(values), out, np.int64(rows), np.int64(n), np.int64(m),
         np.int32(right)))
    return out
