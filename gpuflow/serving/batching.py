"""Dynamic batching (--enable_batching): concurrent predict requests to one signature run as one batch.

Each servable has a queue per signature and per shape past the batch dim (only requests that agree there can
be stacked). The queues live on the server's event loop: a request waits on an asyncio future, and a batch
starts once a batch thread is free and the queued rows fill max_batch_size or the oldest request has waited
batch_timeout_micros (at once with a timeout of 0: requests that arrive while every batch thread is busy form
the next batch). The batch thread stacks the requests, pads the stack to the next of allowed_batch_sizes
(repeating its first row, so the padding holds real values and the graph sees few batch sizes), runs the
signature once and the loop hands each request its own rows: one hand-off to a thread per batch, not per
request. As in TF Serving, a request larger than max_batch_size is refused, and a queue holding more than
max_enqueued_batches full batches refuses new requests (503) instead of growing.
"""
from __future__ import annotations

import asyncio
import bisect
import collections
import concurrent.futures
import time

import numpy as np

from .errors import ServingError, invalid


class _Queue:
    def __init__(self, run, params, executor, on_batch):
        self._run, self._params, self._executor, self._on_batch = run, params, executor, on_batch
        self._tasks = collections.deque()   # (inputs, rows, future, arrival time)
        self._rows = 0
        self._running = 0                   # batches on batch threads now
        self._timer = None

    async def submit(self, inputs, rows):
        params = self._params
        if self._rows + rows > params.max_enqueued_batches * params.max_batch_size:
            raise ServingError("UNAVAILABLE", "The batch scheduling queue to which this task was submitted is full; "
                                              "retry later")
        future = asyncio.get_running_loop().create_future()
        self._tasks.append((inputs, rows, future, time.monotonic()))
        self._rows += rows
        self._schedule()
        return await future

    def _schedule(self):
        """Start every batch that may start now; else wake up when the oldest request's wait is over."""
        params, loop = self._params, asyncio.get_running_loop()
        timeout = params.batch_timeout_micros / 1e6
        while self._tasks and self._running < params.num_batch_threads:
            due = self._tasks[0][3] + timeout
            if self._rows < params.max_batch_size and time.monotonic() < due:
                if self._timer is None:
                    self._timer = loop.call_at(loop.time() + (due - time.monotonic()), self._on_timer)
                return
            self._start(self._take())

    def _on_timer(self):
        self._timer = None
        self._schedule()

    def _take(self):
        batch, rows = [], 0
        while self._tasks and rows + self._tasks[0][1] <= self._params.max_batch_size:
            task = self._tasks.popleft()
            batch.append(task)
            rows += task[1]
        self._rows -= rows
        return batch

    def _start(self, batch):
        self._running += 1
        work = asyncio.get_running_loop().run_in_executor(self._executor, self._execute, [t[0] for t in batch])
        work.add_done_callback(lambda done: self._finish(batch, done))

    def _execute(self, inputs):
        """On a batch thread: (outputs, rows, padded rows) of the stacked and padded requests."""
        rows = sum(len(next(iter(x.values()))) for x in inputs)
        sizes = self._params.allowed_batch_sizes
        padded = sizes[bisect.bisect_left(sizes, rows)] if sizes else rows
        stacked = {n: (np.concatenate([x[n] for x in inputs]) if len(inputs) > 1 else inputs[0][n])
                   for n in inputs[0]}
        if padded > rows:
            stacked = {n: np.concatenate([x, np.repeat(x[:1], padded - rows, axis=0)]) for n, x in stacked.items()}
        outputs = self._run(stacked)
        bad = [n for n, v in outputs.items() if v.ndim == 0 or v.shape[0] != padded]
        if bad:
            raise ServingError("INTERNAL", f"batching: outputs {bad} do not have one row per input row; serve this "
                                           f"model without --enable_batching")
        return outputs, rows, padded

    def _finish(self, batch, done):
        self._running -= 1
        error = done.exception()
        if error is None:
            outputs, rows, padded = done.result()
            self._on_batch(rows, padded)
        start = 0
        for _, rows, future, _ in batch:
            if not future.done():  # a request that timed out is gone
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result({n: v[start:start + rows] for n, v in outputs.items()})
            start += rows
        self._schedule()


class Batcher:
    """A servable's batch queues (made on first use) and its batch threads."""

    def __init__(self, servable, params, on_batch):
        self.servable, self.params, self._on_batch = servable, params, on_batch
        self._queues = {}
        self._executor = concurrent.futures.ThreadPoolExecutor(params.num_batch_threads, thread_name_prefix="batch")
        self._closed = False

    async def run(self, key, inputs):
        """The request's outputs, run in a batch; None when it cannot be batched (then it runs alone)."""
        function = self.servable.signature(key)
        if self._closed or not _batchable(function, inputs):
            return None
        rows = len(next(iter(inputs.values())))
        if rows > self.params.max_batch_size:
            raise invalid(f"Task size {rows} is larger than maximum input batch size {self.params.max_batch_size}")
        shape_key = (function.name, tuple((n, a.shape[1:], a.dtype.str) for n, a in sorted(inputs.items())))
        queue = self._queues.get(shape_key)
        if queue is None:
            queue = self._queues[shape_key] = _Queue(
                lambda stacked: self.servable.run(function.name, stacked), self.params, self._executor,
                lambda rows, padded: self._on_batch(function.name, rows, padded))
        return await queue.submit(inputs, rows)

    def close(self):
        """When the version is unloaded: queued requests still run, new ones run alone. The batch threads end
        when the executor is collected with the servable, after the last batch."""
        self._closed = True


def _batchable(function, inputs) -> bool:
    """Every input and output has a leading batch dim of unknown size, and the inputs agree on it."""
    specs = [spec for _, spec in function.inputs + function.outputs]
    if not function.inputs or any(len(s.shape) == 0 or s.shape[0] is not None for s in specs):
        return False
    rows = {a.shape[0] if a.ndim else None for a in inputs.values()}
    return len(rows) == 1 and None not in rows and 0 not in rows
