"""A ring of pinned host buffers that uploads and downloads go through.

A copy between the host and the device runs asynchronously only from page-locked ("pinned") host
memory: on cuda the slots are `cupyx.empty_pinned`; on sim (and cpu) plain NumPy arrays, which the
sim's race checker watches like any buffer. A slot holds one batch (all its arrays, each at an
aligned offset) and the event recorded after the copies that use it. Taking a slot again waits,
on the host, for that event: the copy of two batches ago must have read (or written) the slot
before the host overwrites (or hands out) its bytes. Two slots are enough to upload batch k+1
while batch k's copy may still be running.
"""
from __future__ import annotations

import numpy as np

ALIGN = 256          # bytes: each array of a slot starts at a multiple (as cudaMalloc aligns)
GROW = 64 << 10      # slots grow to multiples of this, so a slightly bigger batch does not reallocate each time


class Slot:
    __slots__ = ("buffer", "event", "values")

    def __init__(self):
        self.buffer = None   # uint8 host memory
        self.event = None    # recorded after the last copy that used the slot
        self.values = ()     # downloads: the HostValues still reading from the slot

    def views(self, specs) -> list[np.ndarray]:
        """Arrays of (shape, numpy dtype) carved out of the slot, each at an ALIGN-ed offset."""
        out, offset = [], 0
        for shape, dtype in specs:
            nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
            out.append(self.buffer[offset:offset + nbytes].view(dtype).reshape(shape))
            offset += -(-nbytes // ALIGN) * ALIGN
        return out


def slot_bytes(specs) -> int:
    return sum(-(-int(np.prod(s, dtype=np.int64)) * np.dtype(d).itemsize // ALIGN) * ALIGN for s, d in specs)


class StagingRing:
    def __init__(self, kind: str, size: int = 2):
        if size < 1:
            raise ValueError(f"a staging ring needs at least one slot, got {size}")
        self.kind = kind
        self.slots = [Slot() for _ in range(size)]
        self._next = 0

    def acquire(self, specs) -> Slot:
        """The next slot, free for reuse and big enough for arrays of `specs` [(shape, numpy dtype)]."""
        slot = self.slots[self._next]
        self._next = (self._next + 1) % len(self.slots)
        self._wait_free(slot)
        need = slot_bytes(specs)
        if slot.buffer is None or slot.buffer.nbytes < need:
            slot.buffer = self._allocate(-(-need // GROW) * GROW)
        return slot

    def _wait_free(self, slot: Slot) -> None:
        for value in slot.values:  # downloads nobody has read yet are read out now, before the bytes change
            value.numpy()
        slot.values = ()
        if slot.event is not None:
            slot.event.synchronize()
            slot.event = None

    def _allocate(self, nbytes: int) -> np.ndarray:
        if self.kind == "cuda":
            import cupyx
            return cupyx.empty_pinned((nbytes,), dtype=np.uint8)
        return np.empty(nbytes, np.uint8)
