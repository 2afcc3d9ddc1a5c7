"""N-d index flattening and scatter reductions on cuda/sim: kernels/scatter.cu.

Deterministic without atomics: the (id, position) pairs are sorted once (keys id * m + j are
distinct, so any sort gives one order) and each output element folds its run of updates in
position order. An index out of range raises InvalidArgumentError: on sim at once (the launch
is synchronous, so its flag is read right after), on cuda at the next read of a value to the
host (the kernel writes the device's error flag, as the NaN checks do, so no launch waits).
Out-of-range indices are never followed: ravel_index maps them to 0 and an id outside [0, dim)
belongs to no output's run.
"""
from __future__ import annotations

import numpy as np

from ... import dtypes
from ..numerics import NUMERICS
from ..numpy.scatter import ids_error, ravel_error
from ._registry import impl
from .movement import index_table
from .storage import ctype, dtype_of

FILE = "scatter.cu"
BLOCK = 256
KINDS = {"sum": "gf::SumKind", "max": "gf::MaxKind", "min": "gf::MinKind", "update": "gf::LastKind"}
# sim checks at once; tests set this to run cuda's deferred path (the same kernels and flag) on sim
DEFER_ON_SIM = False


class _Deferred:
    """The error the next read of a cuda device's flag raises for a failed index check."""
    __slots__ = ("make",)

    def __init__(self, make):
        self.make = make

    def error(self, kinds, on_device):
        return self.make()


def checked(backend, launch, error):
    """Run launch(flag, seq), a kernel that raises the error flag on a bad index; error(host_values) makes
    the InvalidArgumentError (with the bad values when they are on the host, as on sim)."""
    if backend.on_gpu or DEFER_ON_SIM:
        NUMERICS.defer(backend, _Deferred(lambda: error(False)), launch)
        return
    flag = np.zeros(2, np.int32)
    launch(flag, 1)
    if flag[0]:
        raise error(True)


def _launch(backend, name, n, args):
    backend.kernel(FILE, name)((backend.grid_for(n, BLOCK),), (BLOCK,), args)


@impl("ravel_index")
def ravel_index(backend, indices, dims, op):
    xp = backend.xp
    out = backend.empty(indices.shape[:-1], dtypes.int64)
    m, k = out.size, len(dims)
    if m == 0 or k == 0:
        out.fill(0)
        return out
    idx = xp.ascontiguousarray(indices)
    checked(backend, lambda flag, seq: _launch(
        backend, f"ravel_index<{ctype(idx)}>", m,
        (idx, index_table(backend, dims), out, np.int64(m), np.int32(k), flag, np.int32(seq))),
        lambda on_host: ravel_error(op, idx if on_host else None, dims, found_on_device=not on_host))
    return out


@impl("scatter_reduce")
def scatter_reduce(backend, base, ids, updates, reduction, drop_negative, op):
    xp = backend.xp
    dim, inner = base.shape
    ids = xp.ascontiguousarray(ids).reshape(-1)
    m = ids.size
    if m == 0:
        return xp.ascontiguousarray(base).copy()
    checked(backend, lambda flag, seq: _launch(
        backend, f"check_ids<{ctype(ids)}>", m,
        (ids, np.int64(m), np.int64(dim), np.int32(drop_negative), flag, np.int32(seq))),
        lambda on_host: ids_error(op, ids if on_host else None, dim, drop_negative, found_on_device=not on_host))
    keys = xp.sort(ids.astype(np.int64) * m + xp.arange(m, dtype=np.int64))
    order = xp.ascontiguousarray(keys % m)
    starts = xp.ascontiguousarray(xp.searchsorted(keys // m, xp.arange(dim + 1, dtype=np.int64)).astype(np.int64))
    out = backend.empty(base.shape, dtype_of(base))
    if out.size:
        _launch(backend, f"scatter_sorted<{ctype(base)}, {KINDS[reduction]}>", out.size,
                (xp.ascontiguousarray(base), xp.ascontiguousarray(updates), order, starts, out, np.int64(inner),
                 np.int64(out.size)))
    return out
