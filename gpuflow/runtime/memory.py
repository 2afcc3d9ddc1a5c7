"""The caching allocator behind every cuda tensor.

Why our own rather than CuPy's MemoryPool: we need (1) the largest free block in the OOM
message, (2) blocks freed while another stream still uses them held back until that stream's
work is done (torch's `record_stream`), and (3) exact allocated/reserved/peak numbers. CuPy's
pool exposes none of these. The logic here is device-agnostic (a raw malloc/free pair and an
event factory are injected), so it is tested on the CPU; `install()` wires it into CuPy.

Policy: sizes round up to 512 B (small) or 2 MiB (large) so freed blocks fit later requests;
each stream has its own free lists (a block is reused first on the stream that freed it, with
no synchronisation needed); best fit among cached blocks of at most twice the request.

Locking: one non-reentrant lock guards the pool, and `free()` never waits for it. Frees come from
finalisers (`_Owner.__del__`), and a finaliser can run wherever Python allocates, so also on the
thread that is inside `malloc` holding the lock: waiting there would hang that thread forever. A
free that cannot take the lock at once is parked, and whoever holds the lock settles the parked
frees before it lets go (CuPy's memory pool defers its frees the same way).
"""
from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, field

from ..errors import ResourceExhaustedError
from .counters import COUNTERS
from .parking_lock import ParkingLock

SMALL, LARGE = 512, 2 << 20


def round_size(size: int) -> int:
    unit = SMALL if size <= (1 << 20) else LARGE
    return max(unit, -(-size // unit) * unit)


@dataclass(eq=False)
class Block:
    ptr: int
    size: int
    stream: int
    pending: list = field(default_factory=list)   # events of other streams that used the block
    users: set = field(default_factory=set)       # streams besides `stream` that used the block


@dataclass(eq=False)
class ArenaBlock(Block):
    """A region of a compiled function's arena (gpuflow/graph/memory_plan.py): handed out and taken back by the
    arena itself, never by the allocator's lists."""
    arena: object = None
    request: int = -1


class CachingAllocator:
    def __init__(self, raw_malloc, raw_free, make_event=None, out_of_memory=(MemoryError,)):
        self._raw_malloc, self._raw_free = raw_malloc, raw_free
        # A compiled function's memory plan, while it replays on this thread: it serves (or records) the
        # requests first. Thread-local: another thread's allocations never take the plan's regions.
        self._hooks = threading.local()
        self.on_free = None  # a memory plan's recording call watches frees: free(block) calls on_free(block)
        self._make_event = make_event          # stream → event with .query() -> bool (done?)
        self._oom = out_of_memory
        self._free: dict[int, list] = {}       # stream → sorted [(size, ptr, block)]
        self._deferred: list[Block] = []       # freed, but another stream may still use them
        self._live: dict[int, Block] = {}
        self._lock = ParkingLock(self._settle_free)   # frees wait for no lock: see the module docstring
        self.allocated = self.reserved = self.peak = 0
        self.num_alloc_retries = self.num_ooms = 0

    # ---- allocation ---------------------------------------------------------------------
    def malloc(self, size: int, stream: int = 0) -> Block:
        size = round_size(size)
        hook = getattr(self._hooks, "hook", None)
        if hook is not None:
            block = hook.malloc(size, stream)
            if block is not None:
                return block
        block = self._malloc(size, stream)
        if hook is not None:
            hook.allocated(block)
        return block

    def set_hook(self, hook) -> object:
        """Install `hook` (None: none) for this thread; returns the one it replaces. A hook's malloc(size, stream)
        returns a Block it serves or None (the allocator serves it, then calls hook.allocated(block))."""
        previous = getattr(self._hooks, "hook", None)
        self._hooks.hook = hook
        return previous

    def _malloc(self, size: int, stream: int) -> Block:
        COUNTERS.pool_allocs += 1
        with self._lock:
            self._collect_deferred()
            block = self._take_cached(size, stream)
            if block is None:
                block = self._fresh(size, stream)
            self._live[block.ptr] = block
            self.allocated += block.size
            self.peak = max(self.peak, self.allocated)
            return block

    def _take_cached(self, size, stream):
        bucket = self._free.get(stream)
        if not bucket:
            return None
        i = bisect.bisect_left(bucket, (size, -1))
        if i < len(bucket) and bucket[i][0] <= 2 * size:
            return bucket.pop(i)[2]
        return None

    def _fresh(self, size, stream):
        try:
            ptr = self._raw_malloc(size)
        except self._oom:
            # Cached blocks are idle memory: give them back to the driver and try once more.
            self.num_alloc_retries += 1
            self._release_cached()
            try:
                ptr = self._raw_malloc(size)
            except self._oom:
                self.num_ooms += 1
                raise ResourceExhaustedError(
                    f"out of GPU memory: asked for {fmt(size)}; {fmt(self.allocated)} allocated by tensors, "
                    f"{fmt(self.reserved)} reserved by gpuflow, largest free cached block "
                    f"{fmt(self._largest_free())}. Free tensors you no longer need (del), use smaller "
                    f"batches, or call gf.memory.empty_cache() if other programs share the GPU.") from None
        self.reserved += size
        COUNTERS.raw_allocs += 1
        return Block(ptr, size, stream)

    # ---- freeing --------------------------------------------------------------------------
    def free(self, block: Block) -> None:
        """Give `block` back; never waits for the lock (it runs from finalisers), see the module docstring."""
        if type(block) is ArenaBlock:
            block.arena.release(block, self._make_event)
            return
        if self.on_free is not None:
            self.on_free(block)
        events = None
        if block.users and self._make_event is not None:
            # Made before the lock: recording an event calls CUDA and allocates Python objects,
            # and so can run finalisers that free blocks too.
            events = [self._make_event(s) for s in tuple(block.users)]
        self._lock.run_or_park((block, events))

    def _settle_free(self, item):
        block, events = item
        if self._live.pop(block.ptr, None) is None:
            return                                 # freed already
        self.allocated -= block.size
        if events:
            block.pending, block.users = events, set()
            self._deferred.append(block)
        else:
            self._cache(block)

    def record_stream(self, block: Block, stream: int) -> None:
        """`block` is used by work queued on `stream`: when freed it waits for that work."""
        if stream != block.stream:
            block.users.add(stream)

    def _cache(self, block):
        bisect.insort(self._free.setdefault(block.stream, []), (block.size, block.ptr, block))

    def _collect_deferred(self):
        still = []
        for block in self._deferred:
            if all(event.query() for event in block.pending):
                block.pending = []
                self._cache(block)
            else:
                still.append(block)
        self._deferred = still

    def _release_cached(self):
        for bucket in self._free.values():
            for size, ptr, _ in bucket:
                self._raw_free(ptr)
                self.reserved -= size
            bucket.clear()

    def empty_cache(self) -> None:
        with self._lock:
            self._collect_deferred()
            self._release_cached()

    # ---- statistics -----------------------------------------------------------------------
    def largest_free_block(self) -> int:
        with self._lock:
            return self._largest_free()

    def _largest_free(self):
        return max((bucket[-1][0] for bucket in self._free.values() if bucket), default=0)

    def cached_blocks(self) -> int:
        with self._lock:
            return self._cached_blocks()

    def _cached_blocks(self):
        return sum(len(b) for b in self._free.values()) + len(self._deferred)

    def reset_peak(self) -> None:
        with self._lock:
            self.peak = self.allocated

    def summary(self) -> str:
        with self._lock:
            return self._summary()

    def _summary(self):
        rows = [("allocated (live tensors)", fmt(self.allocated)), ("reserved (from the driver)", fmt(self.reserved)),
                ("peak allocated", fmt(self.peak)), ("cached free blocks", str(self._cached_blocks())),
                ("largest cached free block", fmt(self._largest_free())),
                ("waiting on other streams", str(len(self._deferred))),
                ("OOM retries after freeing the cache", str(self.num_alloc_retries)),
                ("out-of-memory errors", str(self.num_ooms))]
        width = max(len(k) for k, _ in rows)
        line = "-" * (width + 16)
        return "\n".join(["gpuflow caching allocator", line] + [f"{k:<{width}}  {v:>12}" for k, v in rows] + [line])


def fmt(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024


# ---- CuPy wiring ----------------------------------------------------------------------------
_allocators: dict[int, CachingAllocator] = {}


def allocator(device_index: int) -> CachingAllocator:
    try:
        return _allocators[device_index]
    except KeyError:
        raise RuntimeError(f"no caching allocator on cuda:{device_index}: gpuflow has not used that GPU yet "
                           "(memory statistics describe cuda tensors only)") from None


def install(device_index: int) -> CachingAllocator:
    """Route CuPy's allocations on this device through a CachingAllocator (idempotent).

    CuPy has one allocator hook per process, not per device: it is set once, and it picks the
    current device's pool on every call."""
    if device_index not in _allocators:
        _allocators[device_index] = _new_pool()
        import cupy
        if cupy.cuda.get_allocator() is not _cupy_malloc:
            cupy.cuda.set_allocator(_cupy_malloc)
    return _allocators[device_index]


def _new_pool() -> CachingAllocator:
    from cupy.cuda import runtime
    return CachingAllocator(runtime.malloc, runtime.free, _StreamEvent, out_of_memory=(runtime.CUDARuntimeError,))


class _StreamEvent:
    """An event recorded on a stream known only by its handle (the allocator keeps stream pointers), made
    with the raw runtime calls: cupy.cuda.Event.record wants a Stream object, and wrapping a pointer in
    one needs ExternalStream, deprecated in CuPy 14. query(): cudaEventQuery says done."""
    __slots__ = ("ptr",)

    def __init__(self, stream_ptr: int):
        from cupy.cuda import runtime
        self.ptr = runtime.eventCreateWithFlags(runtime.eventDisableTiming)
        runtime.eventRecord(self.ptr, stream_ptr)

    def query(self) -> bool:
        from cupy.cuda import runtime
        return runtime.eventQuery(self.ptr) == 0  # cudaSuccess; cudaErrorNotReady while pending

    def __del__(self):
        try:
            from cupy.cuda import runtime
            runtime.eventDestroy(self.ptr)
        except Exception:  # noqa: BLE001 - at interpreter exit CuPy's runtime may already be gone
            pass


class _Owner:
    """Holds a block while CuPy's memory object lives; gives it back to its pool when CuPy drops it."""
    __slots__ = ("pool", "block")

    def __init__(self, pool, block):
        self.pool, self.block = pool, block

    def __del__(self):
        self.pool.free(self.block)


def _cupy_malloc(size):
    import cupy
    from cupy.cuda import memory as cmem
    device = cupy.cuda.runtime.getDevice()
    pool = _allocators.get(device) or install(device)
    block = pool.malloc(size, cupy.cuda.get_current_stream().ptr)
    return cmem.MemoryPointer(cmem.UnownedMemory(block.ptr, block.size, _Owner(pool, block), device), 0)


def block_of(array):
    """The allocator block behind a CuPy array (for record_stream)."""
    owner = getattr(getattr(array.data, "mem", None), "_owner", None)  # None: not memory from our hook
    return getattr(owner, "block", None)
