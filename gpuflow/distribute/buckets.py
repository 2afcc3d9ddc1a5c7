"""Packing many tensors into a few flat buffers, so an all-reduce is a few large transfers, not one per
gradient (PyTorch DDP's buckets, TF's packs).

The plan depends only on the tensors' shapes and dtypes, in order; every replica (and every worker) has the
same ones, so all make the same plan and buffer b means the same elements everywhere. With `from_end`, buckets
fill from the last tensor back: gradients come back last layer first, so bucket 0 is complete first and its
all-reduce can start while the backward pass still computes the others (PyTorch DDP's reverse order).
"""
from __future__ import annotations

import math

from .. import ops

BUCKET_BYTES = 25 * 2**20  # PyTorch DDP's default: large enough to reach full bandwidth, small enough to pipeline


class Plan:
    """buckets[b] = [(position in the input list, shape, element count), ...], all of one dtype."""

    def __init__(self, specs, bucket_bytes=BUCKET_BYTES, num_packs=None, from_end=False):
        self.count = len(specs)
        self.specs = [(tuple(shape), dtype) for shape, dtype in specs]
        if num_packs:  # TF's num_packs: that many buffers (at most one per tensor), split by size
            total = sum(math.prod(s) * d.size for s, d in self.specs)
            bucket_bytes = max(1, -(-total // int(num_packs)))
        self.buckets, self.dtypes = [], []
        open_by_dtype = {}  # dtype → (bucket index, bytes so far): one dtype per buffer, in list order
        for i in (reversed(range(self.count)) if from_end else range(self.count)):
            shape, dtype = self.specs[i]
            n = math.prod(shape)
            index, used = open_by_dtype.get(dtype, (None, 0))
            if index is None or used + n * dtype.size > bucket_bytes:
                index, used = len(self.buckets), 0
                self.buckets.append([])
                self.dtypes.append(dtype)
            self.buckets[index].append((i, shape, n))
            open_by_dtype[dtype] = (index, used + n * dtype.size)

    @classmethod
    def for_tensors(cls, tensors, **kwargs):
        return cls([(t.shape, t.dtype) for t in tensors], **kwargs)

    @classmethod
    def for_reducer(cls, tensors, reducer):
        """The buckets a strategy's cross-device ops sum `tensors` in (eagerly and in a compiled step alike): of
        its bytes_per_pack (default BUCKET_BYTES) or num_packs, filled from the last tensor back."""
        return cls.for_tensors(tensors, bucket_bytes=reducer.bytes_per_pack or BUCKET_BYTES,
                               num_packs=reducer.num_packs, from_end=True)

    def check(self, tensors, who):
        got = [(tuple(t.shape), t.dtype) for t in tensors]
        if got != self.specs:
            diff = next(i for i, (a, b) in enumerate(zip(got + [None] * self.count, self.specs)) if a != b)
            raise ValueError(f"all_reduce: {who} gave different values than replica 0 (value {diff}: "
                             f"{_describe(got, diff)} vs {_describe(self.specs, diff)}); every replica must reduce "
                             f"tensors of the same shapes and dtypes, in the same order")

    def pack(self, tensors) -> list:
        """One flat tensor per bucket, on the tensors' device."""
        return [self.pack_bucket(b, tensors) for b in range(len(self.buckets))]

    def pack_bucket(self, b, tensors):
        """Bucket b's flat tensor."""
        flats = [ops.reshape(tensors[i], [-1]) for i, _, _ in self.buckets[b]]
        return flats[0] if len(flats) == 1 else ops.concat(flats, axis=0)

    def unpack(self, flats) -> list:
        """The tensors back, in input order, from one flat tensor per bucket."""
        out = [None] * self.count
        for b, flat in enumerate(flats):
            self.unpack_bucket(b, flat, out)
        return out

    def unpack_bucket(self, b, flat, out) -> None:
        """Bucket b's tensors, cut from `flat`, into their places in `out`."""
        bucket, start = self.buckets[b], 0
        for i, shape, n in bucket:
            piece = flat if len(bucket) == 1 else flat[start:start + n]
            out[i] = ops.reshape(piece, list(shape))
            start += n


def _describe(specs, i):
    if i >= len(specs) or specs[i] is None:
        return "nothing"
    shape, dtype = specs[i]
    return f"{dtype.name}{list(shape)}"
