"""The stream scheduler: host<->device copies on a copy stream, overlapping the compute stream's work.

Per device: the compute stream is whatever stream gpuflow's ops run on (the current stream, the
default one unless a `gf.cuda.stream` scope says otherwise); the copy stream is the scheduler's own;
two staging rings of pinned host buffers carry uploads and downloads.

Upload of a batch (`upload`):
  1. take a staging slot: the host waits for the event of that slot's last copy (never earlier);
  2. write the host arrays into it;
  3. take the device buffers from the scheduler's own double buffer (two sets per batch signature:
     the static inputs a compiled step reads, with no allocator call per batch) and copy into them on
     the copy stream (`ndarray.set(..., stream=copy)` on cuda). A set is reused for batch k+1 once
     nothing on the host holds its arrays (the step that read them has returned and fit dropped
     batch k-1) and after the copy stream waits for an event recorded on the compute stream: every
     step enqueued so far, batch k-1's included, has read it. A set still held gets new buffers;
  4. record an event on the copy stream after the copies: the compute stream waits on it
     (`ready`), the host never does.
Download (`download`): the copy stream waits for an event recorded on the compute stream after the
values were made, copies them into a pinned slot, records an event; the host waits on that event
only when a value is used (HostValue.numpy()).

On sim the same steps run on sim streams, so the race checker sees every one; on cpu there is no
copy to overlap and uploads are plain conversions (gpuflow.data.device skips the scheduler there).
"""
from __future__ import annotations

import os
import sys
import threading

import numpy as np

from . import profiling, streams
from .counters import COUNTERS
from .staging import StagingRing
from .timeline import COPY

SLOTS = 2

_lock = threading.Lock()
_schedulers: dict = {}
_enabled = [os.environ.get("GPUFLOW_PREFETCH_TO_DEVICE", "1") != "0"]


def enabled() -> bool:
    """Whether fit/evaluate/predict upload through the scheduler (default yes; GPUFLOW_PREFETCH_TO_DEVICE=0 or
    set_enabled(False) turns it off, so every batch is copied synchronously on the compute stream)."""
    return _enabled[0]


def set_enabled(on: bool) -> None:
    _enabled[0] = bool(on)


def for_device(device) -> "Scheduler":
    found = _schedulers.get(device)
    if found is None:
        with _lock:
            found = _schedulers.get(device) or Scheduler(device)
            _schedulers[device] = found
    return found


class Scheduler:
    def __init__(self, device, slots: int = SLOTS):
        if device.kind == "cpu":
            raise ValueError("the stream scheduler is for devices with streams (cuda, sim), not cpu")
        self.device = device
        self.backend = device.backend
        self.copy_stream = streams.Stream(device, name="copy stream")
        self.uploads = StagingRing(device.kind, slots)
        self.downloads = StagingRing(device.kind, slots)
        self.feeds = StagingRing(device.kind, slots)  # host feeds: small, their own ring (never wait on a batch)
        self.inputs: dict = {}  # batch signature → [the buffer sets, index of the next]: the static inputs
        if device.kind == "sim":
            from .sim.queues import engine
            self._engine = engine()

    # ---- host -> device ------------------------------------------------------------------------
    def upload(self, hosts: list, dtypes: list, batch: int | None = None):
        """Host arrays (already of each dtype's NumPy type) -> (device buffers, Event after their copies).
        Before the compute stream uses the buffers it must wait on the event: `ready(event)`."""
        storage = [self.backend.storage_dtype(dt) for dt in dtypes]
        hosts = [np.asarray(h).view(s) if np.asarray(h).dtype != s else np.asarray(h) for h, s in zip(hosts, storage)]
        slot, views = self._stage(self.uploads, hosts, f"staging write (batch {batch})")
        compute = streams.current_stream(self.device)
        targets = self._input_buffers([(h.shape, h.dtype) for h in hosts], compute)
        datas = [self._to_device(view, target, compute, batch) for view, target in zip(views, targets)]
        slot.event = self.copy_stream.record_event()
        return datas, slot.event

    def _stage(self, ring, hosts, label):
        """(slot, views): the host arrays written into the next free slot of `ring` (its pinned memory)."""
        specs = [(h.shape, h.dtype) for h in hosts]
        slot = ring.acquire(specs)
        views = slot.views(specs)
        for view, host in zip(views, hosts):
            np.copyto(view, host)
            if self.device.kind == "sim":
                self._engine.host_access(view, label, write=True)
        return slot, views

    def _input_buffers(self, specs, compute) -> list:
        """The next set of static input buffers for a batch of `specs` (see the module doc, step 3)."""
        key = tuple((tuple(shape), np.dtype(dtype).str) for shape, dtype in specs)
        ring = self.inputs.get(key)
        if ring is None:
            if len(self.inputs) >= 8:  # a new batch signature each time (ragged data): keep a few only
                self.inputs.clear()
            ring = self.inputs[key] = [[None] * SLOTS, 0]
        sets, k = ring
        ring[1] = (k + 1) % SLOTS
        buffers = sets[k]
        # the ring's list, the loop variable and getrefcount's argument: nobody else holds the array
        if buffers is None or any(sys.getrefcount(b) > 3 for b in buffers):
            with streams.stream(self.copy_stream):  # cuda: from the copy stream's pool
                buffers = sets[k] = [self.backend.xp.empty(shape, dtype) for shape, dtype in specs]
        else:
            self.copy_stream.wait_event(compute.record_event())  # the steps that read them are done first
        return buffers

    def upload_value(self, host, dtype):
        """A graph's host feed (a few bytes computed on the host each call, gpuflow/graph/executor.py) as a device
        buffer copied on the copy stream, as batches are: the compute stream waits for its event, not the host,
        and the compute stream's queue holds kernels only."""
        storage = self.backend.storage_dtype(dtype)
        host = np.asarray(host, dtype=dtype.np)
        host = host.view(storage) if host.dtype != storage else host
        slot, (view,) = self._stage(self.feeds, [host], "staging write (feed)")
        compute = streams.current_stream(self.device)
        with streams.stream(self.copy_stream):  # cuda: allocated on the copy stream (a memory plan's arena serves it)
            data = self.backend.xp.empty(host.shape, host.dtype)
        self._to_device(view, data, compute, None, "copy host->device (feed)")
        slot.event = self.copy_stream.record_event()
        self.ready(slot.event, compute)
        return data

    def _to_device(self, view, data, compute, batch, what="copy host->device"):
        COUNTERS.upload(view.nbytes)
        if self.device.kind == "sim":
            def run():
                np.copyto(data, view)
                return None, [view], [data]
            tags = {} if batch is None else {"batch": batch}  # a feed's copy belongs to no batch
            self._engine.submit(self.copy_stream._handle, what, COPY, run, nbytes=view.nbytes, **tags)
            return data
        from . import memory
        with streams.stream(self.copy_stream):
            with profiling.cuda_span(self.device, self.copy_stream._handle, what, COPY,
                                     **({} if batch is None else {"batch": batch})):
                data.set(view, stream=self.copy_stream._handle)
        block = memory.block_of(data)
        if block is not None and compute._handle.ptr != self.copy_stream.ptr:
            memory.allocator(self.device.index).record_stream(block, compute._handle.ptr)
        return data

    def ready(self, event, stream=None) -> None:
        """The compute stream (default: the current one) waits for `event` before its later work; the host goes on."""
        (streams.current_stream(self.device) if stream is None else stream).wait_event(event)

    # ---- device -> host ------------------------------------------------------------------------
    def download(self, datas: list, dtypes: list) -> list:
        """Device buffers -> HostValues, copied on the copy stream after the compute stream's work so far."""
        compute = streams.current_stream(self.device)
        self.copy_stream.wait_event(compute.record_event())
        slot = self.downloads.acquire([(d.shape, d.dtype) for d in datas])
        views = slot.views([(d.shape, d.dtype) for d in datas])
        for data, view in zip(datas, views):
            self._to_host(data, view)
        slot.event = self.copy_stream.record_event()
        slot.values = [HostValue(view, slot.event, dt, self) for view, dt in zip(views, dtypes)]
        return slot.values

    def _to_host(self, data, view):
        COUNTERS.download(view.nbytes)
        if self.device.kind == "sim":
            def run():
                np.copyto(view, data)
                return None, [data], [view]
            self._engine.submit(self.copy_stream._handle, "copy device->host", COPY, run, nbytes=view.nbytes)
            return
        from . import memory
        with streams.stream(self.copy_stream), \
                profiling.cuda_span(self.device, self.copy_stream._handle, "copy device->host", COPY):
            data.get(stream=self.copy_stream._handle, out=view, blocking=False)
        block = memory.block_of(data)
        if block is not None:  # the compute side may free `data` before the copy has read it
            memory.allocator(self.device.index).record_stream(block, self.copy_stream.ptr)


class HostValue:
    """A value on its way to the host: `numpy()` (or np.asarray, float, int) waits for its copy's event."""
    __slots__ = ("_view", "_event", "_dtype", "_scheduler", "_value")

    def __init__(self, view, event, dtype, scheduler):
        self._view, self._event, self._dtype, self._scheduler, self._value = view, event, dtype, scheduler, None

    def numpy(self) -> np.ndarray:
        if self._value is None:
            self._event.synchronize()
            if self._scheduler.device.kind == "sim":
                self._scheduler._engine.host_access(self._view, "host read of a download", write=False)
            value = self._view.copy()  # the slot is reused: keep a copy of our own
            self._value = value.view(self._dtype.np) if value.dtype != self._dtype.np else value
            self._view = None
        return self._value

    @property
    def shape(self):
        return self.numpy().shape if self._view is None else self._view.shape

    def __array__(self, dtype=None, copy=None):
        value = self.numpy()
        return value if dtype is None else value.astype(dtype)

    def __float__(self):
        return float(self.numpy().reshape(()))

    def __int__(self):
        return int(self.numpy().reshape(()))

    def __repr__(self):
        state = "pending" if self._value is None else repr(self._value)
        return f"<HostValue {self._dtype.name}{list(self.shape)} {state}>"
