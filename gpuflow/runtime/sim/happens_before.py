"""The sim's race checker: vector-clock happens-before over every buffer that streams and host threads touch.

Actors are streams (each runs its work in order) and host threads (each in program order). Each
actor has a vector clock; an access is stamped with its actor's position (`seq`) and a copy of the
clock. Edges between actors come only from what CUDA orders: work issued by a host thread comes
after everything that thread did before; `stream.wait_event(e)` orders a stream after the work `e`
was recorded behind; `event.synchronize()` / `stream.synchronize()` / a host read order the host
after that work. An earlier access `p` is ordered before a later access `c` iff
`c.clock[p.actor] >= p.seq`.

Per buffer the checker keeps the last write and the reads since it (one per actor, as FastTrack
does). A write must be ordered after the last write and every read since; a read after the last
write. Anything else is a race a GPU could turn into wrong numbers, and raises KernelError naming
both actors, both ops and the buffer. Because the verdict depends on the clocks, not on the order
the sim happened to run things in, a missing wait is caught under every interleaving.

Buffers are keyed by their memory: the NumPy array that owns it (the root of a view's `.base`
chain), as (data pointer, size). A weak reference to that array forgets the buffer when NumPy frees
it, so memory handed out again later starts with a clean history.
"""
from __future__ import annotations

import weakref

import numpy as np

from gpuflow.errors import KernelError


class Actor:
    """A stream or a host thread: its name and its vector clock (actor id -> position)."""
    __slots__ = ("id", "name", "clock")

    def __init__(self, ident: int, name: str):
        self.id, self.name, self.clock = ident, name, {}

    def tick(self) -> int:
        seq = self.clock.get(self.id, 0) + 1
        self.clock[self.id] = seq
        return seq

    def join(self, clock: dict) -> None:
        mine = self.clock
        for actor, seq in clock.items():
            if mine.get(actor, 0) < seq:
                mine[actor] = seq


class Access:
    """One op's access, as the history of a buffer remembers it."""
    __slots__ = ("actor", "seq", "op", "clock", "end")

    def __init__(self, actor: Actor, seq: int, op: str, clock: dict, end: float = 0.0):
        self.actor, self.seq, self.op, self.clock, self.end = actor, seq, op, clock, end

    def before(self, later: "Access") -> bool:
        return later.clock.get(self.actor.id, 0) >= self.seq


class _History:
    __slots__ = ("write", "reads", "what", "ref")

    def __init__(self, what: str):
        self.write: Access | None = None
        self.reads: dict[int, Access] = {}
        self.what = what
        self.ref = None


def root_of(array: np.ndarray) -> np.ndarray:
    """The array that owns the memory a view looks at."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def describe(array: np.ndarray) -> str:
    shape = ",".join(map(str, array.shape))
    return f"{array.dtype}[{shape}] buffer at {array.ctypes.data:#x} ({array.nbytes} bytes)"


class HappensBefore:
    def __init__(self):
        self._buffers: dict[tuple[int, int], _History] = {}
        self.races = 0  # races reported (bench/overlap.py counts them)

    def history(self, array: np.ndarray) -> _History | None:
        root = root_of(array)
        return self._buffers.get((root.ctypes.data, root.nbytes))

    def _history_of(self, array: np.ndarray) -> _History:
        root = root_of(array)
        key = (root.ctypes.data, root.nbytes)
        found = self._buffers.get(key)
        if found is None:
            found = self._buffers[key] = _History(describe(root))
            buffers = self._buffers

            def forget(_, key=key, found=found):
                if buffers.get(key) is found:
                    del buffers[key]
            found.ref = weakref.ref(root, forget)
        return found

    def access(self, array: np.ndarray, access: Access, write: bool) -> None:
        if not array.nbytes:
            return
        history = self._history_of(array)
        last = history.write
        if last is not None and last.actor is not access.actor and not last.before(access):
            self._race(history, access, write, last, True)
        if write:
            for read in history.reads.values():
                if read.actor is not access.actor and not read.before(access):
                    self._race(history, access, True, read, False)
            history.write, history.reads = access, {}
        else:
            history.reads[access.actor.id] = access

    def _race(self, history, access, write, other, other_wrote):
        self.races += 1
        verb, other_verb = ("writes" if write else "reads"), ("wrote" if other_wrote else "read")
        raise KernelError(
            f"race on {history.what}: {access.op} on {access.actor.name} {verb} it, but {other.op} on "
            f"{other.actor.name} {other_verb} it and nothing orders the two: record an event on "
            f"{other.actor.name} after {other.op} and make {access.actor.name} wait for it "
            f"(stream.wait_event(event), or event.synchronize() on the host)")
