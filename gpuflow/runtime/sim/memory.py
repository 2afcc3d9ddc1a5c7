"""Device memory of `sim`: host blocks handed out by the same CachingAllocator as a GPU's.

Raw malloc is a fresh, 256-byte aligned NumPy buffer (as cudaMalloc aligns), raw free drops it. An array
handed out is a view of one block, and the block goes back to the pool when the last view of it dies,
as CuPy's memory does: so a steady-state step reuses blocks, and the runtime counters' raw_allocs and
pool_allocs mean on sim what they mean on cuda, and gf.memory reports on sim as it does on a GPU.

Why an owner object rather than a finaliser on the array: NumPy collapses chains of views to the first
base that is not an array, so a view of the array handed out (a reshape, a swapaxes) keeps that base
alive, not the array. The owner is that base (np.asarray of an object with __array_interface__), and
its __del__ frees the block only when no view at all is left.
"""
from __future__ import annotations

import math
import os

import numpy as np

from ..memory import ArenaBlock, CachingAllocator

ALIGN = 256


def capacity() -> int:
    """Bytes a sim device may hold: $GPUFLOW_SIM_MEMORY_BYTES, else half the host's memory. Past it the pool
    gives its cached blocks back and tries again, then raises ResourceExhaustedError, as a GPU's does; without
    it the cache could keep growing on a host that overcommits memory and never refuses a malloc."""
    raw = os.environ.get("GPUFLOW_SIM_MEMORY_BYTES")
    if raw:
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"GPUFLOW_SIM_MEMORY_BYTES must be a number of bytes, got {raw!r}") from None
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):  # no sysconf (not POSIX): a size no sim run comes near
        return 8 << 30


class HostBlocks:
    """The 'driver' of a sim device: raw blocks of host memory, by address, up to `capacity` bytes."""

    def __init__(self, capacity: int):
        self.buffers: dict[int, np.ndarray] = {}
        self.capacity, self.used = capacity, 0

    def malloc(self, size: int) -> int:
        if self.used + size > self.capacity:
            raise MemoryError
        raw = np.empty(size + ALIGN, np.uint8)
        start = (-raw.ctypes.data) % ALIGN
        buffer = raw[start:start + size]
        ptr = buffer.ctypes.data
        self.buffers[ptr] = buffer
        self.used += size
        return ptr

    def free(self, ptr: int) -> None:
        self.used -= self.buffers.pop(ptr).nbytes


class _Owner:
    """The base of every view of one allocation: keeps its buffer alive, and gives the block back when
    NumPy drops it."""
    __slots__ = ("__array_interface__", "pool", "block", "buffer")

    def __del__(self):
        self.pool.free(self.block)


class SimPool:
    def __init__(self):
        self.blocks = HostBlocks(capacity())
        self.allocator = CachingAllocator(self.blocks.malloc, self.blocks.free)  # sim launches are synchronous:
        # one stream, nothing to wait for before a freed block is reused

    def empty(self, shape, dtype) -> np.ndarray:
        """An uninitialised C-contiguous array of `shape` and `dtype` in a block of this pool."""
        if not isinstance(dtype, np.dtype):
            dtype = np.dtype(dtype)
        if type(shape) is not tuple:
            shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        nbytes = math.prod(shape) * dtype.itemsize
        block = self.allocator.malloc(nbytes)
        owner = _Owner()
        owner.pool, owner.block = self.allocator, block
        # an arena's region lives in the arena's own buffer (gpuflow/graph/memory_plan.py)
        owner.buffer = block.arena.backing if type(block) is ArenaBlock else self.blocks.buffers[block.ptr]
        if dtype.kind == "V":  # ml_dtypes' bfloat16 & co. have no typestr of their own: their bytes, viewed
            owner.__array_interface__ = {"shape": (nbytes,), "typestr": "|u1", "data": (block.ptr, False),
                                         "version": 3}
            return np.asarray(owner).view(dtype).reshape(shape)
        owner.__array_interface__ = {"shape": shape, "typestr": dtype.str, "data": (block.ptr, False), "version": 3}
        return np.asarray(owner)


_pools: dict[int, SimPool] = {}


def pool(index: int = 0) -> SimPool:
    """The pool of sim:`index`, made on first use."""
    found = _pools.get(index)
    if found is None:
        found = _pools[index] = SimPool()
    return found


def allocator(index: int) -> CachingAllocator:
    """The caching allocator of sim:`index`, for gf.memory."""
    if index not in _pools:
        raise RuntimeError(f"no caching allocator on sim:{index}: gpuflow has not used that device yet")
    return _pools[index].allocator
