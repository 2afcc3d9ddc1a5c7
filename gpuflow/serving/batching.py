"""Dynamic batching (--enable_batching): concurrent predict requests to one signature run as one batch.

Each servable has a queue per signature and per shape past the batch dim (only requests that agree there can
be stacked). A batch thread takes the queued requests once they fill max_batch_size rows or the first has
waited batch_timeout_micros, stacks them, pads the stack to the next of allowed_batch_sizes (repeating its first
row, so padding holds real values and the graph sees only a few batch sizes), runs the signature once and hands
each request its own rows. As in TF Serving, a request larger than max_batch_size is refused, and a queue
holding more than max_enqueued_batches full batches refuses new requests (503) instead of growing.
"""
from __future__ import annotations

import bisect
import collections
import concurrent.futures
import functools
import threading
import time

import numpy as np

from .errors import ServingError, invalid


class _Task:
    __slots__ = ("inputs", "rows", "future", "enqueued")

    def __init__(self, inputs, rows):
        self.inputs, self.rows = inputs, rows
        self.future = concurrent.futures.Future()
        self.enqueued = time.monotonic()


class _Queue:
    def __init__(self, run, params, on_batch):
        self._run, self._params, self._on_batch = run, params, on_batch
        self._tasks = collections.deque()
        self._rows = 0
        self._closed = False
        self._cv = threading.Condition()
        self._threads = [threading.Thread(target=self._work, name="batch", daemon=True)
                         for _ in range(params.num_batch_threads)]
        for thread in self._threads:
            thread.start()

    def submit(self, inputs, rows):
        task = _Task(inputs, rows)
        params = self._params
        with self._cv:
            if self._closed:  # the version was unloaded after this request picked it: run it alone
                return None
            if self._rows + rows > params.max_enqueued_batches * params.max_batch_size:
                raise ServingError("UNAVAILABLE", "The batch scheduling queue to which this task was submitted is "
                                                  "full; retry later")
            self._tasks.append(task)
            self._rows += rows
            self._cv.notify()
        return task.future

    def close(self):
        with self._cv:
            self._closed = True
            self._cv.notify_all()

    def _work(self):
        params = self._params
        timeout = params.batch_timeout_micros / 1e6
        while True:
            with self._cv:
                while not self._tasks:
                    if self._closed:
                        return
                    self._cv.wait()
                deadline = self._tasks[0].enqueued + timeout
                while self._tasks and self._rows < params.max_batch_size and not self._closed:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cv.wait(left)
                batch, rows = [], 0
                while self._tasks and rows + self._tasks[0].rows <= params.max_batch_size:
                    task = self._tasks.popleft()
                    batch.append(task)
                    rows += task.rows
                self._rows -= rows
            if batch:
                self._execute(batch, rows)

    def _execute(self, batch, rows):
        sizes = self._params.allowed_batch_sizes
        padded = sizes[bisect.bisect_left(sizes, rows)] if sizes else rows
        names = list(batch[0].inputs)
        stacked = {n: (np.concatenate([t.inputs[n] for t in batch]) if len(batch) > 1 else batch[0].inputs[n])
                   for n in names}
        if padded > rows:
            stacked = {n: np.concatenate([x, np.repeat(x[:1], padded - rows, axis=0)]) for n, x in stacked.items()}
        try:
            outputs = self._run(stacked)
            bad = [n for n, v in outputs.items() if v.ndim == 0 or v.shape[0] != padded]
            if bad:
                raise ServingError("INTERNAL", f"batching: outputs {bad} do not have one row per input row; serve "
                                               f"this model without --enable_batching")
        except BaseException as e:  # noqa: BLE001 - every request of the batch gets the error
            for task in batch:
                task.future.set_exception(e)
            return
        self._on_batch(rows, padded)
        start = 0
        for task in batch:
            task.future.set_result({n: v[start:start + task.rows] for n, v in outputs.items()})
            start += task.rows


class Batcher:
    """A servable's batch queues, made on first use."""

    def __init__(self, servable, params, on_batch):
        self.servable, self.params, self._on_batch = servable, params, on_batch
        self._queues = {}
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, key, inputs):
        """A Future of the request's outputs, or None when it cannot be batched (then it runs alone)."""
        function = self.servable.signature(key)
        if not _batchable(function, inputs):
            return None
        rows = len(next(iter(inputs.values())))
        if rows > self.params.max_batch_size:
            raise invalid(f"Task size {rows} is larger than maximum input batch size {self.params.max_batch_size}")
        shape_key = (function.name, tuple((n, a.shape[1:], a.dtype.str) for n, a in sorted(inputs.items())))
        with self._lock:
            if self._closed:
                return None
            queue = self._queues.get(shape_key)
            if queue is None:
                queue = self._queues[shape_key] = _Queue(functools.partial(self.servable.run, function.name),
                                                         self.params, functools.partial(self._on_batch, function.name))
        return queue.submit(inputs, rows)

    def close(self):
        """Queued requests still run; new ones run alone."""
        with self._lock:
            self._closed = True
            queues = list(self._queues.values())
        for queue in queues:
            queue.close()


def _batchable(function, inputs) -> bool:
    """Every input and output has a leading batch dim of unknown size, and the inputs agree on it."""
    specs = [spec for _, spec in function.inputs + function.outputs]
    if not function.inputs or any(len(s.shape) == 0 or s.shape[0] is not None for s in specs):
        return False
    rows = {a.shape[0] if a.ndim else None for a in inputs.values()}
    return len(rows) == 1 and None not in rows and 0 not in rows
