"""How replicas' values are summed: TF's tf.distribute.CrossDeviceOps and its implementations.

Every implementation sums flat buffers (see buckets.py) across all replicas in sync and gives each local
replica the sum on its own device. `ReductionToOneDevice` is the in-process path used on cpu and sim
(logical devices): the buffers are copied to the first replica's device and added in replica order,
((r0 + r1) + r2) + ..., so the result is the same on every replica and every run; with several workers
that local sum is then added across workers in worker order (worker_group.py). `NcclAllReduce` (nccl.py)
is the GPU path. The two agree exactly for two replicas (a + b == b + a in IEEE arithmetic); for more,
NCCL's ring adds each chunk starting from a different rank, so the last bits may differ.
"""
from __future__ import annotations

import math

from .. import devices as _device
from ..ops.creation import convert_to_tensor, copy_to
from ..runtime.counters import COUNTERS


class CrossDeviceOps:
    """Base class. `num_packs` (TF's argument): how many buffers the values are packed into; by default
    buffers of up to 25 MiB (buckets.BUCKET_BYTES)."""

    def __init__(self, num_packs=None):
        if num_packs is not None and (not isinstance(num_packs, int) or num_packs < 1):
            raise ValueError(f"{type(self).__name__}: num_packs must be a positive integer, got {num_packs!r}")
        self.num_packs = num_packs
        self.bytes_per_pack = 0  # CommunicationOptions.bytes_per_pack; 0: buckets.BUCKET_BYTES

    def sum_buffers(self, per_replica, devices, workers=None):
        """`per_replica[r][b]`: replica r's flat buffer b (on `devices[r]`). Returns the same layout holding the
        sums over every replica in sync (those of other workers too, through `workers`)."""
        raise NotImplementedError

    def start_sum_buffers(self, per_replica, devices, workers=None):
        """sum_buffers, started without making the replicas' devices wait for it: returns (the sums, per local
        replica what its device must wait for before reading them: a gf.cuda.Event, or None when they are
        ready). A compiled replica step starts a bucket's sum as soon as the backward pass has made it and
        waits only where the update reads it (graph_all_reduce.py). Here: the sums, ready at once."""
        return self.sum_buffers(per_replica, devices, workers), [None] * len(devices)

    def __repr__(self):
        return f"{type(self).__name__}()"


class ReductionToOneDevice(CrossDeviceOps):
    """Copies every replica's buffers to one device (the first replica's unless `reduce_to_device` is
    given), adds them in replica order there, and copies the sums back to each replica."""

    def __init__(self, reduce_to_device=None, accumulation_fn=None, num_packs=None):
        super().__init__(num_packs)
        if accumulation_fn is not None:
            raise NotImplementedError("ReductionToOneDevice: accumulation_fn is not supported; buffers are always "
                                      "added in replica order")
        self.reduce_to_device = None if reduce_to_device is None else _device.parse(reduce_to_device)

    def sum_buffers(self, per_replica, devices, workers=None):
        count_collectives(per_replica[0])
        target = self.reduce_to_device or devices[0]
        sums = []
        for b in range(len(per_replica[0])):
            total = _on(per_replica[0][b], target)
            for r in range(1, len(per_replica)):
                total = total + _on(per_replica[r][b], target)
            sums.append(total)
        if workers is not None and workers.size > 1:  # the workers' local sums, added in worker order on the host
            summed = workers.all_reduce_sum([s.numpy() for s in sums])
            with _device.device(target):
                sums = [convert_to_tensor(a) for a in summed]
        return [[_on(s, d) for s in sums] for d in devices]


class HierarchicalCopyAllReduce(ReductionToOneDevice):
    """TF's copy-based all-reduce for machines without NCCL; gpuflow sums the same way as ReductionToOneDevice
    (on the first replica's device, in replica order), so code written for TF runs unchanged."""

    def __init__(self, num_packs=1):
        super().__init__(num_packs=num_packs)


def count_collectives(buffers) -> None:
    """The runtime counters: one collective per buffer, of one replica's bytes (counters.py)."""
    for t in buffers:
        COUNTERS.collective(math.prod(t.shape) * t.dtype.size)


def _on(t, device):
    return t if t._device == device else copy_to(t, device)


def default_for(devices):
    """NCCL when every replica is a GPU, the in-process reduction otherwise (TF picks the same way). Unlike TF's
    NcclAllReduce() (num_packs=1: one buffer, which a compiled step can only sum once the whole backward pass is
    done), buckets of up to 25 MiB, so the first buckets' sums overlap the rest of the backward pass."""
    if devices and all(d.kind == "cuda" for d in devices):
        from .nccl import NcclAllReduce
        return NcclAllReduce(num_packs=None)
    return ReductionToOneDevice()
