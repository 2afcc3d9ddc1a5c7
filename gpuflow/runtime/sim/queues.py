"""sim streams: concurrent in-order queues, run in a seeded interleaving, checked for races.

The default stream of a sim device stays what it always was: work issued to it runs at once, so a
program that never makes a stream runs exactly as before. Work issued to any other stream (a user's
`gf.cuda.Stream()`, the scheduler's copy stream) is queued. The queues advance at every interaction
with the engine (an issue, a record, a wait, a query), by a policy drawn from GPUFLOW_SIM_SEED:
seed % 3 == 0 runs each ready queue head with probability 1/2, 1 runs everything ready (a fast
GPU), 2 runs nothing until something must wait (a slow one); which ready queue goes next is drawn
from the seed too. Whatever must be done before the host continues (a host read, a synchronize, the
default stream waiting on an event) is run on the spot, so every schedule is one a GPU could follow.

Every op is stamped with its stream's vector clock when it is issued, and checked by
`happens_before.HappensBefore` when it runs. A race raises KernelError from whichever call the sim
ran the racing op in, the way CUDA reports asynchronous errors at a later call.

The engine also keeps the timeline model (gpuflow.runtime.timeline) of everything issued, which
gf.profiler writes out and bench/overlap.py measures.
"""
from __future__ import annotations

import collections
import itertools
import random
import threading
import weakref

import numpy as np

from ..timeline import COMPUTE, COPY, HOST, Timeline, copy_seconds, kernel_seconds
from .happens_before import Access, Actor, HappensBefore, root_of

POLICIES = (0.5, 1.0, 0.0)  # chance of running one more ready queue head at each interaction, by seed % 3


class Token:
    """One recording of an event: the work its stream had been given up to then."""
    __slots__ = ("clock", "time", "done")

    def __init__(self, clock: dict, time: float, done: bool):
        self.clock, self.time, self.done = clock, time, done


class _Wait:
    __slots__ = ("token",)

    def __init__(self, token):
        self.token = token


class _Op:
    __slots__ = ("name", "cat", "run", "access", "nbytes", "args")

    def __init__(self, name, cat, run, access, nbytes, args):
        self.name, self.cat, self.run, self.access, self.nbytes, self.args = name, cat, run, access, nbytes, args


class SimQueue:
    """One stream of a sim device. `immediate`: the default stream, whose work runs when issued."""

    def __init__(self, engine: "Engine", device: str, name: str, immediate: bool):
        self.device, self.name, self.immediate = device, name, immediate
        self.actor = Actor(next(engine.ids), f"{name} of {device}")
        self.entries: collections.deque = collections.deque()
        self.end = 0.0     # model time at which the work issued so far is done
        self.ready = 0.0   # model time at which the events it waits for are done

    def runnable(self) -> bool:
        head = self.entries[0]
        return not isinstance(head, _Wait) or head.token.done

    def __repr__(self):
        return f"<SimQueue {self.actor.name}: {len(self.entries)} pending>"


class _Host:
    __slots__ = ("actor", "time")

    def __init__(self, actor):
        self.actor, self.time = actor, 0.0


class Engine:
    def __init__(self):
        self.lock = threading.RLock()
        self.ids = itertools.count(1)
        self.checker = HappensBefore()
        self.timeline = Timeline()
        self.recording = False    # spans are kept only while a profiler or a benchmark asks
        self.tracking = False     # turned on by the first queued stream or recording; default-stream-only
        # programs never pay for the checker
        self._queues = weakref.WeakSet()    # every queued stream alive
        self._busy: dict[SimQueue, None] = {}  # those with work pending (held, in order, until it has run)
        self._defaults: dict[str, SimQueue] = {}
        self._hosts: dict[int, _Host] = {}
        self._local = threading.local()
        self.reseed()

    # ---- set-up -----------------------------------------------------------------------------
    def reseed(self, seed: int | None = None) -> None:
        """Draw the interleaving policy and order from `seed` (default: GPUFLOW_SIM_SEED)."""
        from .launcher import _seed
        self.seed = _seed() if seed is None else int(seed)
        self._rng = random.Random(self.seed)
        self._eagerness = POLICIES[self.seed % len(POLICIES)]

    def default_queue(self, device: str) -> SimQueue:
        queue = self._defaults.get(device)
        if queue is None:
            with self.lock:
                queue = self._defaults.setdefault(device, SimQueue(self, device, "default stream", True))
        return queue

    def new_queue(self, device: str, name: str) -> SimQueue:
        with self.lock:
            queue = SimQueue(self, device, name, False)
            self._queues.add(queue)
            self.tracking = True
            return queue

    def start_recording(self) -> Timeline:
        with self.lock:
            self.timeline, self.recording, self.tracking = Timeline(), True, True
            return self.timeline

    def stop_recording(self) -> Timeline:
        with self.lock:
            self.recording = False
            return self.timeline

    def executing(self) -> bool:
        """True inside an op the engine is running: its own launches and reads go straight through."""
        return getattr(self._local, "executing", False)

    def host(self) -> _Host:
        ident = threading.get_ident()
        host = self._hosts.get(ident)
        if host is None:
            name = f"host thread {threading.current_thread().name!r}"
            host = self._hosts[ident] = _Host(Actor(next(self.ids), name))
        return host

    # ---- issuing work -----------------------------------------------------------------------
    def submit(self, queue: SimQueue, name: str, cat: str, run, nbytes: int | None = None, **args):
        """Issue `run` (-> (result, arrays read, arrays written)) to `queue`. On the default stream it runs
        now and its result is returned (then `nbytes` may be None: the bytes it touched are counted)."""
        with self.lock:
            host = self.host()
            queue.actor.join(host.actor.clock)
            seq = queue.actor.tick()
            op = _Op(name, cat, run, Access(queue.actor, seq, name, dict(queue.actor.clock)), nbytes, args)
            if not queue.immediate:
                self._model(queue, host, op)
                self._enqueue(queue, op)
                self._advance()
                return None
            self._advance()
            return self._execute(op, queue, host)

    def created(self, queue: SimQueue, array: np.ndarray, name: str, cat: str) -> None:
        """`array` was just made and filled on `queue` (an upload by gf.constant, a fill by gf.zeros): done
        at once, since nothing else can know the new buffer yet, but its write belongs to `queue`, so another
        stream that reads it without waiting for `queue` races, as on a GPU."""
        with self.lock:
            host = self.host()
            queue.actor.join(host.actor.clock)
            seq = queue.actor.tick()
            op = _Op(name, cat, None, Access(queue.actor, seq, f"{name} #{seq}", dict(queue.actor.clock)),
                     array.nbytes, {})
            self._model(queue, host, op)
            self.checker.access(array, op.access, True)

    def _model(self, queue, host, op):
        start = max(host.time, queue.end, queue.ready)
        seconds = kernel_seconds(op.nbytes) if op.cat == COMPUTE else copy_seconds(op.nbytes)
        queue.end = op.access.end = start + seconds
        if self.recording:
            self.timeline.add(queue.device, queue.name, op.name, op.cat, start, queue.end, **op.args)

    def record(self, queue: SimQueue) -> Token:
        with self.lock:
            host = self.host()
            queue.actor.join(host.actor.clock)
            # Done in the model when the stream's work so far is, and not before the host issued the record.
            time = max(queue.end, queue.ready, host.time)
            token = Token(dict(queue.actor.clock), time, queue.immediate or not queue.entries)
            if not token.done:
                self._enqueue(queue, token)
            self._advance()
            return token

    def wait(self, queue: SimQueue, token: Token) -> None:
        """`queue`'s later work comes after the work `token` stands for (cudaStreamWaitEvent)."""
        with self.lock:
            queue.actor.join(token.clock)
            queue.ready = max(queue.ready, token.time)
            if queue.immediate:
                self._run_until(lambda: token.done)
            elif not token.done:
                self._enqueue(queue, _Wait(token))
            self._advance()

    # ---- the host waiting -------------------------------------------------------------------
    def synchronize_token(self, token: Token) -> None:
        with self.lock:
            self._run_until(lambda: token.done)
            self._host_after(token.clock, token.time)

    def synchronize_queue(self, queue: SimQueue) -> None:
        with self.lock:
            self._run_until(lambda: not queue.entries)
            self._host_after(queue.actor.clock, queue.end)

    def query_token(self, token: Token) -> bool:
        with self.lock:
            self._advance()
            if token.done:  # seen done: the host now comes after that work, as after a synchronize
                self._host_after(token.clock, token.time)
            return token.done

    def query_queue(self, queue: SimQueue) -> bool:
        with self.lock:
            self._advance()
            if not queue.entries:
                self._host_after(queue.actor.clock, queue.end)
            return not queue.entries

    def _host_after(self, clock, time):
        host = self.host()
        host.actor.join(clock)
        host.time = max(host.time, time)

    def host_read(self, array: np.ndarray, queue: SimQueue) -> None:
        """Before the host reads a device buffer (Tensor.numpy()): as CuPy's get(), a copy on the current
        stream behind its work, waited for; and, as the sim promises, whatever writes the buffer is run
        first. Every queue is drained, so a racing op still pending is run (and reported) now."""
        if self.executing():
            return
        with self.lock:
            self._run_until(lambda: not self._busy)
            host = self.host()
            queue.actor.join(host.actor.clock)
            seq = queue.actor.tick()
            op = _Op("copy device->host", COPY, None, Access(queue.actor, seq, "", {}), array.nbytes, {})
            self._model(queue, host, op)
            self._host_after(queue.actor.clock, queue.end)
            history = self.checker.history(array)
            if history is not None and history.write is not None:
                self._host_after(history.write.clock, history.write.end)

    def host_access(self, array: np.ndarray, what: str, write: bool) -> None:
        """The host itself reads or writes `array` (a staging buffer): checked like a stream's access."""
        with self.lock:
            host = self.host()
            seq = host.actor.tick()
            self.checker.access(array, Access(host.actor, seq, what, dict(host.actor.clock), host.time), write)

    def mark_host(self, name: str, start: float) -> float:
        """A host-side span (a training step) from `start` to the host's model time now; returns now."""
        with self.lock:
            now = self.host().time
            if self.recording:
                self.timeline.add("host", self.host().actor.name, name, HOST, start, now)
            return now

    def drain(self) -> None:
        """Run everything issued (gf.cuda.synchronize() on sim)."""
        with self.lock:
            self._run_until(lambda: not self._busy)
            for queue in list(self._queues) + list(self._defaults.values()):
                self._host_after(queue.actor.clock, queue.end)

    def reset(self) -> None:
        """Drop every queued op unrun (after a reported race, to start over clean); their events count as done."""
        with self.lock:
            for queue in self._busy:
                for entry in queue.entries:
                    if isinstance(entry, Token):
                        entry.done = True
                queue.entries.clear()
            self._busy.clear()

    # ---- running ------------------------------------------------------------------------------
    def _enqueue(self, queue, entry):
        queue.entries.append(entry)
        self._busy[queue] = None

    def _advance(self):
        if self._eagerness == 0.0 or self.executing():
            return
        while True:
            ready = [q for q in self._busy if q.runnable()]
            if not ready or self._rng.random() >= self._eagerness:
                return
            self._run_head(self._rng.choice(ready))

    def _run_until(self, done):
        while not done():
            ready = [q for q in self._busy if q.runnable()]
            if not ready:  # cannot happen: a wait names only work issued before it
                raise RuntimeError("sim streams: a wait can never be satisfied (a bug in gpuflow's engine)")
            self._run_head(self._rng.choice(ready))

    def _run_head(self, queue):
        entry = queue.entries.popleft()
        if not queue.entries:
            del self._busy[queue]
        if isinstance(entry, Token):
            entry.done = True
        elif isinstance(entry, _Op):
            self._execute(entry, queue, None)

    def _execute(self, op, queue, host):
        self._local.executing = True
        try:
            result, reads, writes = op.run()
        finally:
            self._local.executing = False
        if op.nbytes is None:  # default stream: the model is made now that the bytes are known
            op.nbytes = sum(a.nbytes for a in reads) + sum(a.nbytes for a in writes)
            self._model(queue, host, op)
        op.access.op = f"{op.name} #{op.access.seq}"
        for array in reads:
            self.checker.access(array, op.access, False)
        for array in writes:
            self.checker.access(array, op.access, True)
        return result


def fresh_outputs(outputs, inputs) -> list:
    """The outputs an op wrote: those that are not views of an input (reshape hands one back)."""
    roots = {id(root_of(a)) for a in inputs}
    return [o for o in outputs if isinstance(o, np.ndarray) and id(root_of(o)) not in roots]


_engine: Engine | None = None
_engine_lock = threading.Lock()


def engine() -> Engine:
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                _engine = Engine()
    return _engine
