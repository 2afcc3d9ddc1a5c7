"""Background work: prefetch (a producer thread filling a bounded queue) and map's ordered thread pool.

Both hand work to other threads while keeping the pipeline's contract: elements come out in input order,
an exception raised upstream is raised in the consumer, and dropping the iterator stops the threads.
"""
from __future__ import annotations

import collections
import concurrent.futures
import queue
import threading

from ..ops import random_ops
from ._args import as_int
from .node import AUTOTUNE, Node

AUTOTUNE_BUFFER = 2  # enough to overlap producing the next batch with the step that consumes this one
_POLL_S = 0.05       # how often a producer blocked on a full queue checks whether it was told to stop
_JOIN_S = 1.0        # how long closing waits for a producer stuck inside a slow upstream call


class Prefetch(Node):
    def __init__(self, input_dataset, buffer_size):
        self._input = input_dataset
        size = as_int(buffer_size, "prefetch: buffer_size", 0, allow=(AUTOTUNE,))
        self._size = AUTOTUNE_BUFFER if size == AUTOTUNE else size

    def _elements(self, probe=False):
        if probe or self._size == 0:
            yield from self._input._elements(probe)
            return
        slots, stop = queue.Queue(maxsize=self._size), threading.Event()
        # The thread gets the upstream generator, never this one, so dropping this one can run our `finally`.
        # The producer draws random numbers (a map function's, say) in a stream of its own, forked here in
        # the consumer's order: racing the consumer's draws for one stream would make them unrepeatable.
        worker = threading.Thread(target=_produce, args=(self._input._elements(), slots, stop,
                                                         random_ops.fork_stream()),
                                  name="gf.data.prefetch", daemon=True)
        worker.start()
        try:
            while True:
                kind, value = slots.get()
                if kind == "element":
                    yield value
                elif kind == "error":
                    raise value
                else:
                    return
        finally:
            stop.set()
            worker.join(_JOIN_S)

    def _compute_spec(self):
        return self._input.element_spec

    def _cardinality(self):
        return self._input._cardinality()


def _produce(source, slots, stop, stream):
    def put(item) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    try:
        with random_ops.in_stream(stream):
            for element in source:
                if not put(("element", element)):
                    return
        put(("end", None))
    except BaseException as e:  # noqa: BLE001 - handed to the consumer, which raises it
        put(("error", e))
    finally:
        source.close()


def ordered_parallel(fn, source, workers: int, in_flight: int | None = None, pool=None):
    """`map(fn, source)` on a pool of `workers` threads, at most `in_flight` (default 2 x workers) calls in
    flight, results in order. `pool`: an executor to use instead (e.g. processes); it is shut down here."""
    if pool is None:
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gf.data.map")
    limit = max(in_flight or 2 * workers, 1)
    pending = collections.deque()
    try:
        for element in source:
            pending.append(pool.submit(fn, element))
            if len(pending) >= limit:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
