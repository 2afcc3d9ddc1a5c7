"""Reductions on cuda/sim: any axis set mapped onto the row or column kernel of kernels/reduce.cu.

Axes are classified on the host without moving data: size-1 dims are dropped and neighbours
that are both reduced (or both kept) merged. One reduced group at the end is a row reduction,
one in the middle a column reduction; several groups are brought together by one transposed
copy first (the only case that pays an extra pass over memory).
"""
from __future__ import annotations

import math

import numpy as np

from ._registry import impl
from .storage import ctype

STATE_BYTES = 16      # the size of every operator's state or less (reduce.cu static_asserts it)
SHORT_ROW = 32        # shorter rows get a thread each (a warp would leave most lanes idle)
WARP_ROW_MAX = 512    # rows up to this long get a warp each, longer ones a block of 256
ROW_CHUNK = 2048      # a row is split across blocks only in chunks at least this long
ROW_ALIGN = 256       # chunk lengths are a multiple of this: chunks start 16-byte aligned
COL_CHUNK = 32        # a column is split only in chunks at least this long
MAX_SPLITS = 1024     # bounds the partials pass

OPS = {"reduce_sum": "gf::SumOp<{t}>", "reduce_prod": "gf::ProdOp<{t}>", "reduce_max": "gf::MaxOp<{t}>",
       "reduce_min": "gf::MinOp<{t}>", "reduce_logsumexp": "gf::LogSumExpOp<{t}>",
       "argmax": "gf::ArgMaxOp<{t}, {o}>", "argmin": "gf::ArgMinOp<{t}, {o}>"}


def groups(shape, axes):
    """[[size, reduced], ...] with size-1 dims dropped and equal neighbours merged."""
    out = []
    for d, size in enumerate(shape):
        if size == 1:
            continue
        if out and out[-1][1] == (d in axes):
            out[-1][0] *= size
        else:
            out.append([size, d in axes])
    return out


def run(backend, op, out_flat):
    """Reduce op.x (C-contiguous) over op.axes into out_flat (the kept dims in order), by layout."""
    xp = backend.xp
    x, axes = op.x, op.axes
    layout = groups(x.shape, axes)
    reduced = [i for i, (_, red) in enumerate(layout) if red]
    if len(reduced) > 1:
        kept = [d for d in range(x.ndim) if d not in axes]
        x = xp.ascontiguousarray(xp.transpose(x, kept + list(axes)))
        rows = math.prod(x.shape[:len(kept)])
        return _rows(backend, op, x, out_flat, rows, math.prod(x.shape[len(kept):]))
    if not reduced:
        return _cols(backend, op, x, out_flat, 1, 1, x.size)
    k = reduced[0]
    outer = math.prod(s for s, _ in layout[:k])
    inner = math.prod(s for s, _ in layout[k + 1:])
    if inner == 1:
        return _rows(backend, op, x, out_flat, outer, layout[k][0])
    return _cols(backend, op, x, out_flat, outer, layout[k][0], inner)


class Reduction:
    """What a launch needs besides the layout: the operator's name expression and the input."""

    def __init__(self, name, x, axes, out_ctype=None):
        self.x, self.axes = x, tuple(axes)
        self.op = OPS[name].format(t=ctype(x), o=out_ctype)


def _partials(backend, count):
    return backend.xp.empty(STATE_BYTES * max(count, 1), np.uint8)


def _finish(backend, op, partial, out_flat, outputs, splits):
    rows_per_block = 8
    grid = backend.grid_for(outputs, rows_per_block)
    backend.kernel("reduce.cu", f"reduce_partials<{op.op}>")(
        (grid,), (32, rows_per_block), (partial, out_flat, np.int64(outputs), np.int64(splits)))


def _rows(backend, op, x, out_flat, rows, n):
    if n < SHORT_ROW:
        return _cols(backend, op, x, out_flat, rows, n, 1)
    warp = n <= WARP_ROW_MAX
    block = (32, 8) if warp else (256, 1)
    want = backend.max_blocks * block[1]  # row-chunks that keep every block busy
    splits = 1 if warp or rows >= want else min(math.ceil(want / rows), math.ceil(n / ROW_CHUNK), MAX_SPLITS)
    chunk = n
    if splits > 1:
        chunk = math.ceil(math.ceil(n / splits) / ROW_ALIGN) * ROW_ALIGN
        splits = math.ceil(n / chunk)
    tasks = rows * splits
    partial = _partials(backend, tasks if splits > 1 else 0)
    grid = backend.grid_for(tasks, block[1])
    backend.kernel("reduce.cu", f"reduce_rows<{op.op}>")(
        (grid,), block, (x, out_flat, partial, np.int64(rows), np.int64(n), np.int64(splits), np.int64(chunk)))
    if splits > 1:
        _finish(backend, op, partial, out_flat, rows, splits)


def _cols(backend, op, x, out_flat, outer, r, inner):
    outputs = outer * inner
    want = backend.max_blocks * 256  # threads that keep the device busy
    splits = 1 if outputs >= want else max(1, min(math.ceil(want / outputs), r // COL_CHUNK, MAX_SPLITS))
    chunk = r
    if splits > 1:
        chunk = math.ceil(r / splits)
        splits = math.ceil(r / chunk)
    partial = _partials(backend, outputs * splits if splits > 1 else 0)
    grid = backend.grid_for(outer * splits * inner)
    backend.kernel("reduce.cu", f"reduce_cols<{op.op}>")(
        (grid,), (256,), (x, out_flat, partial, np.int64(outer), np.int64(r), np.int64(inner), np.int64(splits),
                          np.int64(chunk)))
    if splits > 1:
        _finish(backend, op, partial, out_flat, outputs, splits)


def _reduce_into(backend, op, out_shape, out_dtype):
    out = backend.xp.empty(out_shape, out_dtype)
    if out.size:
        run(backend, op, out.reshape(-1))
    return out


@impl("reduce_sum", "reduce_prod", "reduce_max", "reduce_min", "reduce_logsumexp")
def reduce(backend, name, x, axes, keepdims):
    shape = tuple(1 if d in axes else s for d, s in enumerate(x.shape) if keepdims or d not in axes)
    return _reduce_into(backend, Reduction(name, backend.xp.ascontiguousarray(x), axes), shape, x.dtype)


@impl("argmax", "argmin")
def arg_extreme(backend, name, x, axis, output_type):
    shape = x.shape[:axis] + x.shape[axis + 1:]
    op = Reduction(name, backend.xp.ascontiguousarray(x), (axis,), output_type.ctype)
    return _reduce_into(backend, op, shape, output_type.np)
