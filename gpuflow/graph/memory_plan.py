"""The static memory plan: every buffer a replayed step asks for, as a region of one arena per function.

A Plan's kernels allocate through the device's caching allocator (cuda and sim). Replaying the same
graph asks for the same sizes in the same order, and frees them in the same order (CPython frees a value at
its last use). So the first call records the requests (size, when taken, when given back), and the plan
lays them out by liveness in one arena: two requests share addresses only when their lifetimes do not
overlap. Later calls take their buffers from the arena through the allocator's hook: no allocator call at all.

A request whose buffer outlives the call (an output, a variable's new value) gets two regions of its own and
takes whichever is free: the previous call's value (still held by fit's logs, or by the variable until this
call assigns it) keeps the other. Every region a request may take is checked free first: a value that lives
longer than recorded (a Tensor someone kept) makes that request, and the rest of the call, use the allocator
as before. A call that asks for other sizes than recorded records again (up to MAX_RECORDINGS times).
"""
from __future__ import annotations

import logging

import numpy as np

from ..runtime.memory import ArenaBlock

ALIGN = 256
MAX_RECORDINGS = 3
log = logging.getLogger("gpuflow")


def allocator_of(device):
    """The caching allocator of a cuda or sim device."""
    backend = device.backend
    if backend.on_gpu:
        from ..runtime.memory import allocator
        return allocator(backend.device_id)
    return backend.xp.pool.allocator


class MemoryPlan:
    """Per Plan: records the first call, then serves every later one from its arena."""

    def __init__(self, device, name):
        self.device, self.name = device, name
        self.arena = None
        self.recordings = 0
        self.replays = 0  # calls served from the arena (a CUDA Graph is captured only after one)
        self.disabled = False

    def run(self, fn, *args):
        if self.disabled:
            return fn(*args)
        allocator = allocator_of(self.device)
        if self.arena is None:
            return self._record(allocator, fn, args)
        arena = self.arena
        if not arena.begin():
            return fn(*args)  # a previous call's buffer is still alive: this call allocates as before
        previous = allocator.set_hook(arena)
        try:
            out = fn(*args)
        finally:
            allocator.set_hook(previous)
        if arena.broken:
            self.arena = None  # the requests changed: record the next call again
            self.replays = 0
        else:
            self.replays += 1
        return out

    def _record(self, allocator, fn, args):
        if self.recordings >= MAX_RECORDINGS:
            self.disabled = True
            log.info("gf.function %s: no static memory plan (its allocations differ from call to call)", self.name)
            return fn(*args)
        self.recordings += 1
        recorder = _Recorder()
        previous = allocator.set_hook(recorder)
        watching = allocator.on_free
        allocator.on_free = recorder.freed
        try:
            out = fn(*args)
        finally:
            allocator.set_hook(previous)
            allocator.on_free = watching
        if recorder.sizes:
            self.arena = Arena(self.device, *layout(recorder.sizes, recorder.taken, recorder.given_back))
        return out


class _Recorder:
    """The hook of a recording call: serves nothing, notes each request and when its block comes back."""

    def __init__(self):
        self.sizes, self.taken, self.given_back = [], [], []
        self.clock = 0
        self._pending_size = None
        self._request_of = {}  # id(block) → request

    def malloc(self, size, stream):
        self._pending_size = size
        return None

    def allocated(self, block):
        k = len(self.sizes)
        self.sizes.append(self._pending_size)
        self.taken.append(self._tick())
        self.given_back.append(None)
        self._request_of[id(block)] = (k, block)

    def freed(self, block):
        found = self._request_of.pop(id(block), None)
        if found is not None and found[1] is block:
            self.given_back[found[0]] = self._tick()

    def _tick(self):
        self.clock += 1
        return self.clock


def layout(sizes, taken, given_back):
    """(sizes, offsets, escaping, conflicts, total): offsets of each request in the arena; escaping: request →
    its two regions' offsets (a value that outlives the call); conflicts: request → the earlier requests of the
    call whose regions overlap its own (all given back before it is taken, as recorded)."""
    n = len(sizes)
    inner = [k for k in range(n) if given_back[k] is not None]
    offsets = [None] * n
    placed = []  # (offset, end, taken, given_back, k)
    for k in sorted(inner, key=lambda k: (-sizes[k], taken[k])):
        busy = sorted((o, e) for o, e, t, g, _ in placed if t < given_back[k] and taken[k] < g)
        offset = 0
        for o, e in busy:
            if offset + sizes[k] <= o:
                break
            offset = max(offset, _align(e))
        offsets[k] = offset
        placed.append((offset, offset + sizes[k], taken[k], given_back[k], k))
    end = max((e for _, e, _, _, _ in placed), default=0)
    escaping = {}
    for k in range(n):
        if given_back[k] is None:
            first = _align(end)
            second = _align(first + sizes[k])
            escaping[k] = (first, second)
            end = second + sizes[k]
    conflicts = {}
    for k in inner:
        conflicts[k] = [j for o, e, t, g, j in placed
                        if j != k and t < taken[k] and o < offsets[k] + sizes[k] and offsets[k] < e]
    return sizes, offsets, escaping, conflicts, _align(end)


def _align(n):
    return -(-n // ALIGN) * ALIGN


class Arena:
    """The regions of one plan in one buffer; the allocator hook of the calls it serves."""

    def __init__(self, device, sizes, offsets, escaping, conflicts, total):
        self.sizes, self.offsets, self.escaping, self.conflicts = sizes, offsets, escaping, conflicts
        backend = device.backend
        self.backing = backend.xp.empty((max(total, 1),), np.uint8)  # one allocation, for the plan's life
        self.base = self.backing.data.ptr if backend.on_gpu else self.backing.ctypes.data
        n = len(sizes)
        # regions: request k (inside the call) is region k; escaping request k has regions region_of[k]
        self.region_of = {k: (n + 2 * e, n + 2 * e + 1) for e, k in enumerate(sorted(escaping))}
        self.occupied = [False] * (n + 2 * len(escaping))
        self.pending = {}  # region → events of other streams that still use it
        self.total = total
        self.next, self.broken = 0, False
        self.force_region = None  # 0 or 1: a CUDA Graph capture takes that region of every escaping request

    def begin(self) -> bool:
        """Start a call: False when a buffer of the previous call's inside is still alive."""
        if any(self.occupied[k] for k in self.conflicts):
            return False
        self.next, self.broken = 0, False
        return True

    def malloc(self, size, stream):
        k = self.next
        self.next += 1
        if self.broken or k >= len(self.sizes) or self.sizes[k] != size:
            self.broken = True
            return None
        if k in self.escaping:
            if self.force_region is not None:
                region, offset = self.region_of[k][self.force_region], self.escaping[k][self.force_region]
                if self._free(region):
                    return self._take(region, offset, size, stream)
                self.broken = True
                return None
            for region, offset in zip(self.region_of[k], self.escaping[k]):
                if self._free(region):
                    return self._take(region, offset, size, stream)
            return None  # both kept alive (a caller holds two earlier results): the allocator serves it
        if any(self.occupied[j] for j in self.conflicts[k]):
            self.broken = True  # something lives longer than recorded: stop serving this call
            return None
        return self._take(k, self.offsets[k], size, stream)

    def allocated(self, block):
        pass

    def _free(self, region) -> bool:
        if self.occupied[region]:
            return False
        events = self.pending.get(region)
        if events:
            if not all(e.query() for e in events):
                return False
            del self.pending[region]
        return True

    def _take(self, region, offset, size, stream):
        self.occupied[region] = True
        return ArenaBlock(self.base + offset, size, stream, arena=self, request=region)

    def release(self, block, make_event=None):
        if block.users and make_event is not None:  # another stream used it: free once its work is done
            self.pending[block.request] = [make_event(s) for s in tuple(block.users)]
        self.occupied[block.request] = False
