"""Data-movement primitives on cuda/sim, launching kernels/movement.cu.

Most of them are one `strided_gather`: an output walked in row-major order reading the
input at `base + sum(index * stride)`. Transpose, broadcast_to, strided_slice and tile only
differ in the strides they pass (0 repeats, negative walks backwards); a transpose that
is, after merging axes, a batch of 2-D transposes uses the shared-memory tiled kernel so
its loads are coalesced too.
"""
from __future__ import annotations

import math

import numpy as np

from ...runtime.counters import COUNTERS
from ..numpy.movement import check_indices as _host_check
from ._registry import impl
from .elementwise import device_table
from .storage import ctype, dtype_of

FILE = "movement.cu"
BLOCK = 256
def c_strides(shape) -> list[int]:
    strides, step = [], 1
    for d in reversed(shape):
        strides.append(step)
        step *= d
    return strides[::-1]


def index_table(backend, values):
    """A small int64 device array (shapes, strides) for a kernel to read: kept per distinct table,
    so a repeated launch does not pay a host-to-device copy per table on a GPU."""
    return device_table(backend, np.asarray(values, np.int64).reshape(-1))


def check_indices(op, indices, size, shape, axis):
    """The cpu backend's check, on device arrays: their min and max are read back to the host (two device-to-host
    copies, and a sync, on a GPU)."""
    if indices.size:
        COUNTERS.download(indices.dtype.itemsize)
        COUNTERS.download(indices.dtype.itemsize)
    _host_check(op, indices, size, shape, axis)


def launch_1d(backend, name, n, args):
    backend.kernel(FILE, name)((backend.grid_for(n, BLOCK),), (BLOCK,), args)


def _merge(shape, strides):
    """Drop size-1 axes and fuse neighbours that one stride walks, so the kernel divides less."""
    dims = [(d, s) for d, s in zip(shape, strides) if d != 1]
    merged = []
    for d, s in dims:
        if merged and merged[-1][1] == s * d:
            merged[-1] = (merged[-1][0] * d, s)
        else:
            merged.append((d, s))
    return [d for d, _ in merged] or [1], [s for _, s in merged] or [0]


def _strided(backend, kernel, src, dst, shape, strides, base):
    """Launch strided_gather or strided_scatter: one thread per element of the `shape` walk, whose
    element strides (and start `base`) address the strided side."""
    n = math.prod(shape)
    if n:
        dims, strides = _merge(shape, strides)
        launch_1d(backend, f"{kernel}<{ctype(src)}>", n,
                  (backend.xp.ascontiguousarray(src), dst, index_table(backend, dims), index_table(backend, strides),
                   np.int32(len(dims)), np.int64(base), np.int64(n)))
    return dst


def strided_gather(backend, x, out_shape, strides, base=0):
    return _strided(backend, "strided_gather", x, backend.empty(out_shape, dtype_of(x)), out_shape, strides, base)


@impl("reshape")
def reshape(backend, x, shape):
    return backend.xp.ascontiguousarray(x).reshape(shape)  # a view: tensors never change, so sharing is safe


def _grouped_transpose(shape, perm):
    """(shape, perm) with size-1 axes dropped and input axes that stay adjacent in perm fused."""
    keep = [a for a in range(len(shape)) if shape[a] != 1]
    rank = {a: i for i, a in enumerate(keep)}
    order = [rank[p] for p in perm if p in rank]
    runs = []
    for a in order:
        if runs and runs[-1][-1] + 1 == a:
            runs[-1].append(a)
        else:
            runs.append([a])
    by_start = sorted(runs, key=lambda r: r[0])
    sizes = [math.prod(shape[keep[a]] for a in run) for run in by_start]
    return sizes, [by_start.index(run) for run in runs]


@impl("transpose")
def transpose(backend, x, perm):
    out_shape = tuple(x.shape[p] for p in perm)
    sizes, order = _grouped_transpose(x.shape, perm)
    if len(order) <= 1:  # only size-1 axes moved: the same bytes
        return backend.copy(backend.xp.ascontiguousarray(x).reshape(out_shape))
    if order in ([1, 0], [0, 2, 1]):
        batch, rows, cols = ([1] + sizes)[-3:]
        out = backend.empty(out_shape, dtype_of(x))
        tiles = batch * -(-rows // 32) * -(-cols // 32)
        backend.kernel(FILE, f"transpose_tiled<{ctype(x)}>")(
            (backend.grid_for(tiles, 1),), (32, 8), (backend.xp.ascontiguousarray(x), out, np.int64(batch),
                                                      np.int64(rows), np.int64(cols)))
        return out
    strides = c_strides(x.shape)
    return strided_gather(backend, x, out_shape, [strides[p] for p in perm])


@impl("broadcast_to")
def broadcast_to(backend, x, shape):
    lead = len(shape) - x.ndim
    strides = [0] * lead + [s if d != 1 else 0 for d, s in zip(x.shape, c_strides(x.shape))]
    return strided_gather(backend, x, tuple(shape), strides)


@impl("tile")
def tile(backend, x, multiples):
    # Read as (m0, d0, m1, d1, ...) with stride 0 on every m: that row-major order is tile's.
    shape, strides = [], []
    for m, d, s in zip(multiples, x.shape, c_strides(x.shape)):
        shape += [m, d]
        strides += [0, s]
    out = strided_gather(backend, x, tuple(shape), strides)
    return out.reshape(tuple(m * d for m, d in zip(multiples, x.shape)))


def _slice_plan(shape, begin, end, strides):
    out_shape = tuple(len(range(b, e, s)) for b, e, s in zip(begin, end, strides))
    base_strides = c_strides(shape)
    base = sum(b * c for b, c in zip(begin, base_strides))
    return out_shape, [s * c for s, c in zip(strides, base_strides)], base


@impl("strided_slice")
def strided_slice(backend, x, begin, end, strides):
    out_shape, steps, base = _slice_plan(x.shape, begin, end, strides)
    return strided_gather(backend, x, out_shape, steps, base)


@impl("strided_slice_grad")
def strided_slice_grad(backend, g, shape, begin, end, strides):
    out_shape, steps, base = _slice_plan(shape, begin, end, strides)
    return _strided(backend, "strided_scatter", g, backend.xp.zeros(shape, g.dtype), out_shape, steps, base)


def _values(backend, dtype, *values):
    """Fill values as a device array of the output's own dtype: exact for every dtype, bfloat16 included.
    Kept on the device per distinct values (device_table), so a step does not upload them on every call."""
    return device_table(backend, np.array(values).astype(dtype.np).view(backend.storage_dtype(dtype)))


@impl("pad")
def pad(backend, x, paddings, constant_value, mode):
    dtype = dtype_of(x)
    out_shape = tuple(d + lo + hi for d, (lo, hi) in zip(x.shape, paddings))
    out = backend.empty(out_shape, dtype)
    n = math.prod(out_shape)
    if n:
        rank = max(x.ndim, 1)
        tables = (backend.xp.ascontiguousarray(x), out, index_table(backend, out_shape or (1,)),
                  index_table(backend, x.shape or (1,)), index_table(backend, [lo for lo, _ in paddings] or [0]),
                  np.int32(rank))
        if mode == "CONSTANT":
            launch_1d(backend, f"pad_constant<{ctype(x)}>", n, tables + (_values(backend, dtype, constant_value),
                                                                        np.int64(n)))
        else:
            launch_1d(backend, f"pad_mirror<{ctype(x)}>", n, tables + (np.int32(mode == "SYMMETRIC"), np.int64(n)))
    return out


@impl("concat")
def concat(backend, *xs, axis):
    shape = list(xs[0].shape)
    shape[axis] = sum(x.shape[axis] for x in xs)
    out = backend.empty(tuple(shape), dtype_of(xs[0]))
    rows, inner = math.prod(shape[:axis]), math.prod(shape[axis + 1:])
    col = 0
    for x in xs:
        cols = x.shape[axis] * inner
        if rows * cols:
            launch_1d(backend, f"copy_columns<{ctype(x)}>", rows * cols,
                      (backend.xp.ascontiguousarray(x), out, np.int64(rows), np.int64(cols),
                       np.int64(shape[axis] * inner), np.int64(col)))
        col += cols
    return out


@impl("gather")
def gather(backend, params, indices, axis):
    dim = params.shape[axis]
    check_indices("gather", indices, dim, params.shape, axis)
    out_shape = params.shape[:axis] + indices.shape + params.shape[axis + 1:]
    out = backend.empty(out_shape, dtype_of(params))
    n = math.prod(out_shape)
    if n:
        launch_1d(backend, f"gather<{ctype(params)}, {ctype(indices)}>", n,
                  (backend.xp.ascontiguousarray(params), backend.xp.ascontiguousarray(indices).reshape(-1), out,
                   np.int64(indices.size), np.int64(dim), np.int64(math.prod(params.shape[axis + 1:])), np.int64(n)))
    return out


@impl("scatter_add")
def scatter_add(backend, updates, indices, axis, dim_size):
    # Deterministic without float atomics: sort (index, position) pairs, then one thread per
    # output element sums its run of the sorted list in position order. Keys idx * m + j are
    # unique, so any sort gives the same order; the work is a sort of m keys plus one pass.
    xp = backend.xp
    check_indices("scatter_add", indices, dim_size, updates.shape[:axis] + (dim_size,), axis)
    m = indices.size
    keys = xp.sort(xp.ascontiguousarray(indices).reshape(-1).astype(np.int64) * m + xp.arange(m, dtype=np.int64))
    order = xp.ascontiguousarray(keys % m) if m else keys
    starts = xp.searchsorted(keys // m if m else keys, xp.arange(dim_size + 1, dtype=np.int64)).astype(np.int64)
    out_shape = updates.shape[:axis] + (dim_size,) + updates.shape[axis + indices.ndim:]
    out = backend.empty(out_shape, dtype_of(updates))
    n = math.prod(out_shape)
    if n:
        launch_1d(backend, f"scatter_add_sorted<{ctype(updates)}>", n,
                  (xp.ascontiguousarray(updates), order, xp.ascontiguousarray(starts), out, np.int64(m),
                   np.int64(dim_size), np.int64(math.prod(out_shape[axis + 1:])), np.int64(n)))
    return out


@impl("one_hot")
def one_hot(backend, indices, depth, on_value, off_value, axis, dtype):
    out_shape = indices.shape[:axis] + (depth,) + indices.shape[axis:]
    out = backend.empty(out_shape, dtype)
    n = math.prod(out_shape)
    if n:
        launch_1d(backend, f"one_hot<{dtype.ctype}, {ctype(indices)}>", n,
                  (backend.xp.ascontiguousarray(indices), _values(backend, dtype, on_value, off_value), out,
                   np.int64(depth), np.int64(math.prod(indices.shape[axis:])), np.int64(n)))
    return out


@impl("copy_to")
def copy_to(backend, x, source, dtype):
    if backend.on_gpu and source.kind == "cuda":  # GPU to GPU: a peer copy, no trip through the host
        with backend.xp.cuda.Device(backend.device_id):
            return backend.xp.array(x, copy=True)
    return backend.from_numpy(source.backend.to_numpy(x, dtype), dtype)


@impl("stop_gradient")
def stop_gradient(backend, x):
    return x  # buffers are never written in place: sharing one is safe
