"""The runtime side of gf.profiler: one recording session at a time, gathering a Timeline.

- sim: the engine's timeline model (gpuflow/runtime/sim/queues.py) records every op, kernel and
  copy on its stream's track, in the model's time; host steps are spans of the host's model time.
- cuda: while a session is open, every op of every cuda backend is bracketed by two CUDA events on
  the stream it runs on, and so are the scheduler's copies; `stop()` waits for them and places each
  span at its events' elapsed time from an origin event recorded at `start()`. Host steps use the
  host clock from the same start.
- cpu: host steps only.

`step(device, k)` is called by gpuflow.data.device for every batch it hands out: the host span of
step k runs from there to the next call, and device work issued meanwhile is tagged with step k.
"""
from __future__ import annotations

import contextlib
import threading
import time

from .timeline import HOST, Timeline

_session: "_Session | None" = None
_lock = threading.Lock()


def active() -> bool:
    return _session is not None


def start() -> None:
    global _session
    with _lock:
        if _session is not None:
            raise RuntimeError("a profiling session is already running; stop it first (gf.profiler.stop())")
        _session = _Session()


def stop() -> Timeline:
    global _session
    with _lock:
        if _session is None:
            raise RuntimeError("no profiling session is running; start one with gf.profiler.start(logdir)")
        session, _session = _session, None
    return session.finish()


def step(device, k: int | None) -> None:
    """The host starts step `k` on `device` (None: the steps are over)."""
    session = _session
    if session is not None:
        session.step(device, k)


@contextlib.contextmanager
def batch(device, k: int):
    """Copies issued inside are the upload of batch `k` (tags the timeline's copy spans)."""
    session = _session
    if session is None or device.kind != "sim":
        yield
        return
    session.sim_timeline.batch = k
    try:
        yield
    finally:
        session.sim_timeline.batch = None


@contextlib.contextmanager
def host_span(name: str, device=None):
    """A named span on the host track (gf.profiler.experimental.Trace)."""
    session = _session
    if session is None:
        yield
        return
    start_time = session.host_now(device)
    try:
        yield
    finally:
        session.host_done(device, name, start_time)


def cuda_span(device, stream_handle, name: str, cat: str, **args):
    """Brackets cuda work issued inside it with events on `stream_handle` (a no-op unless profiling)."""
    session = _session
    if session is None or session.cuda is None or device.kind != "cuda":
        return contextlib.nullcontext()
    return session.cuda.span(device, stream_handle, name, cat, args)


class _Session:
    def __init__(self):
        self.t0 = time.perf_counter()
        self.timeline = Timeline()
        self._steps: dict = {}   # device -> (k, host start)
        from .sim.queues import engine
        self.sim = engine()
        self.sim_timeline = self.sim.start_recording()
        from .. import devices
        self.cuda = _CudaClock(self) if devices.cuda_available() else None

    def host_now(self, device) -> float:
        if device is not None and device.kind == "sim":
            return self.sim.host().time
        return time.perf_counter() - self.t0

    def host_done(self, device, name, start_time):
        if device is not None and device.kind == "sim":
            self.sim.mark_host(name, start_time)
        else:
            self.timeline.add("host", f"host thread {threading.current_thread().name!r}", name, HOST, start_time,
                              self.host_now(device))

    def step(self, device, k):
        previous = self._steps.pop(device, None)
        if previous is not None:
            self.host_done(device, f"step {previous[0]}", previous[1])
        if device.kind == "sim":
            self.sim_timeline.step = k
        elif self.cuda is not None:
            self.cuda.step = k
        if k is not None:
            self._steps[device] = (k, self.host_now(device))

    def finish(self) -> Timeline:
        for device in list(self._steps):
            self.step(device, None)
        self.sim.stop_recording()
        self.timeline.spans += self.sim_timeline.spans
        if self.cuda is not None:
            self.timeline.spans += self.cuda.finish()
        return self.timeline


class _CudaClock:
    """CUDA-event timing of ops and copies on every GPU while a session runs (written for CuPy 14; awaits a GPU)."""

    def __init__(self, session):
        import cupy
        from ..devices import Device
        self.cupy, self.session, self.step = cupy, session, None
        self.pending = []   # (device, stream ptr, name, cat, start event, end event, args)
        self.origins = {}
        self.patched = []
        for index in range(cupy.cuda.runtime.getDeviceCount()):
            device = Device("cuda", index)
            with cupy.cuda.Device(index):
                origin = cupy.cuda.Event()
                origin.record(cupy.cuda.Stream.null)
            self.origins[index] = origin
            backend = device.backend
            self.patched.append((backend, backend.impls))
            backend.impls = {name: self._timed(device, name, fn) for name, fn in backend.impls.items()}

    def _timed(self, device, name, fn):
        def impl(*arrays, **params):
            with self.span(device, self.cupy.cuda.get_current_stream(), name, "compute", {}):
                return fn(*arrays, **params)
        return impl

    @contextlib.contextmanager
    def span(self, device, stream_handle, name, cat, args):
        start, end = self.cupy.cuda.Event(), self.cupy.cuda.Event()
        with self.cupy.cuda.Device(device.index):
            start.record(stream_handle)
            yield
            end.record(stream_handle)
        if self.step is not None:
            args = dict(args, step=self.step)
        self.pending.append((device, stream_handle.ptr, name, cat, start, end, args))

    def finish(self) -> list:
        from .timeline import Span
        from .cuda_streams import stream_name
        for backend, impls in self.patched:
            backend.impls = impls
        spans = []
        for device, ptr, name, cat, start, end, args in self.pending:
            end.synchronize()
            origin = self.origins[device.index]
            t0 = self.cupy.cuda.get_elapsed_time(origin, start) / 1e3
            t1 = self.cupy.cuda.get_elapsed_time(origin, end) / 1e3
            spans.append(Span(str(device), stream_name(ptr), name, cat, t0, t1, args))
        return spans
