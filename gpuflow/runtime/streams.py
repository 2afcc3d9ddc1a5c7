"""Streams and events on every device, with torch.cuda's / CuPy's names (exported as gf.cuda.*).

A Stream is an in-order queue of device work; an Event marks a point in one, so another stream
(`wait_event`) or the host (`synchronize`) can wait for the work before it. Each device kind has a
driver that does the work:

- cuda: CuPy streams (created non-blocking, so only events order them against the default stream)
  and CuPy events (gpuflow/runtime/cuda_streams.py);
- sim:  queues that run concurrently in a seeded interleaving, checked for races
  (gpuflow/runtime/sim/queues.py);
- cpu:  work runs when issued, so a stream is only a name and every event is done at once.

`with stream(s):` makes `s` the current stream of its device in this thread: ops and RawKernel
launches on that device's tensors go to it.
"""
from __future__ import annotations

import contextlib
import itertools
import threading
import time

from ..errors import InvalidArgumentError

_local = threading.local()  # .stacks: {device: [Stream, ...]} of `with stream(...)` scopes


# ---- drivers ------------------------------------------------------------------------------------
class _HostStream:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


class HostDriver:
    """cpu: every op has finished when its call returns, so there is never anything to wait for."""

    def __init__(self):
        self._default = _HostStream("default stream")

    def new_stream(self, device, name, priority):
        return _HostStream(name)

    def default_stream(self, device):
        return self._default

    def record(self, handle, event):
        return time.perf_counter()

    def wait(self, handle, token, device):
        pass

    def synchronize_token(self, token):
        pass

    def query_token(self, token):
        return True

    def synchronize_stream(self, handle):
        pass

    def query_stream(self, handle):
        return True

    def elapsed_ms(self, start, end):
        return (end - start) * 1e3

    def scope(self, device, handle):
        return contextlib.nullcontext()

    def ptr(self, handle):
        return 0


class SimDriver:
    def __init__(self):
        from .sim.queues import engine
        self.engine = engine()

    def new_stream(self, device, name, priority):
        return self.engine.new_queue(str(device), name)

    def default_stream(self, device):
        return self.engine.default_queue(str(device))

    def record(self, handle, event):
        return self.engine.record(handle)

    def wait(self, handle, token, device):
        self.engine.wait(handle, token)

    def synchronize_token(self, token):
        self.engine.synchronize_token(token)

    def query_token(self, token):
        return self.engine.query_token(token)

    def synchronize_stream(self, handle):
        self.engine.synchronize_queue(handle)

    def query_stream(self, handle):
        return self.engine.query_queue(handle)

    def elapsed_ms(self, start, end):
        return (end.time - start.time) * 1e3  # the timeline model's times (gpuflow.runtime.timeline)

    def scope(self, device, handle):
        return contextlib.nullcontext()

    def ptr(self, handle):
        return handle.actor.id


_drivers: dict[str, object] = {}


def driver(kind: str):
    found = _drivers.get(kind)
    if found is None:
        if kind == "cuda":
            from .cuda_streams import CudaDriver
            found = CudaDriver()
        else:
            found = SimDriver() if kind == "sim" else HostDriver()
        _drivers[kind] = found
    return found


def _device(device):
    from .. import devices
    return devices.current() if device is None else devices.parse(device)


# ---- the public objects -------------------------------------------------------------------------
class Stream:
    """`gf.cuda.Stream(device=None, priority=0)`: a new stream on `device` (default: the current device)."""

    def __init__(self, device=None, priority=0, *, name=None, _handle=None):
        self._device = _device(device)
        self._driver = driver(self._device.kind)
        self.priority = priority
        self._scopes = []
        self._handle = _handle if _handle is not None else self._driver.new_stream(
            self._device, name or f"stream {next(_numbers)}", priority)

    @property
    def device(self) -> str:
        return str(self._device)

    @property
    def ptr(self) -> int:
        """The raw handle on cuda (cudaStream_t); a number naming the stream elsewhere."""
        return self._driver.ptr(self._handle)

    def wait_event(self, event: "Event") -> None:
        """Work issued to this stream later runs after the work `event` was recorded behind. Returns at once."""
        if not isinstance(event, Event):
            raise InvalidArgumentError(f"Stream.wait_event: expected a gf.cuda.Event, got {type(event).__name__}")
        if event._token is None:  # never recorded: nothing to wait for, as in CUDA
            return
        self._same_device(event._device, "wait_event")
        self._driver.wait(self._handle, event._token, self._device)

    def wait_stream(self, stream: "Stream") -> None:
        """Work issued to this stream later runs after all work issued to `stream` so far."""
        self.wait_event(stream.record_event())

    def record_event(self, event: "Event | None" = None) -> "Event":
        event = Event() if event is None else event
        event.record(self)
        return event

    def synchronize(self) -> None:
        """Block the host until every op issued to this stream has finished."""
        self._driver.synchronize_stream(self._handle)

    def query(self) -> bool:
        """Whether every op issued to this stream has finished."""
        return self._driver.query_stream(self._handle)

    def _same_device(self, device, what):
        if device != self._device:
            raise InvalidArgumentError(f"Stream.{what}: the event was recorded on {device}, this stream is on "
                                       f"{self._device}; streams of different devices are ordered through the host")

    def __enter__(self):  # `with s:` as CuPy allows, the same as `with gf.cuda.stream(s):`
        scope = stream(self)
        self._scopes.append(scope)
        return scope.__enter__()

    def __exit__(self, *exc):
        return self._scopes.pop().__exit__(*exc)

    def __eq__(self, other):
        return isinstance(other, Stream) and other._device == self._device and other._handle is self._handle

    def __hash__(self):
        return hash((self._device, id(self._handle)))

    def __repr__(self):
        return f"<gf.cuda.Stream {self._name()} on {self._device}>"

    def _name(self):
        return getattr(self._handle, "name", f"{self.ptr:#x}")


_numbers = itertools.count(1)


class Event:
    """`gf.cuda.Event(enable_timing=False, blocking=False)`: a point in a stream to wait for or time."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        self.enable_timing, self.blocking, self.interprocess = enable_timing, blocking, interprocess
        self._device = self._driver = self._token = None
        self._cuda_event = None  # cuda: the CuPy event, made on the first record

    def record(self, stream: Stream | None = None) -> None:
        """Mark the end of the work issued to `stream` (default: the current stream of the current device)."""
        stream = current_stream() if stream is None else stream
        if not isinstance(stream, Stream):
            raise InvalidArgumentError(f"Event.record: expected a gf.cuda.Stream, got {type(stream).__name__}")
        if self._device is not None and self._device != stream._device:
            raise InvalidArgumentError(f"Event.record: this event belongs to {self._device}; record it on a stream "
                                       f"of that device, or make a new Event for {stream._device}")
        self._device, self._driver = stream._device, stream._driver
        self._token = self._driver.record(stream._handle, self)

    def wait(self, stream: Stream | None = None) -> None:
        (current_stream(self._device) if stream is None else stream).wait_event(self)

    def query(self) -> bool:
        """Whether the recorded work has finished (True if never recorded)."""
        return self._token is None or self._driver.query_token(self._token)

    def synchronize(self) -> None:
        """Block the host until the recorded work has finished."""
        if self._token is not None:
            self._driver.synchronize_token(self._token)

    def elapsed_time(self, end_event: "Event") -> float:
        """Milliseconds between this event and `end_event` (both recorded and done). On sim: in the timeline
        model's time (gpuflow/runtime/timeline.py), not the host's."""
        if self._token is None or end_event._token is None:
            raise InvalidArgumentError("Event.elapsed_time: both events must have been recorded")
        if self._device != end_event._device:
            raise InvalidArgumentError(f"Event.elapsed_time: events on {self._device} and {end_event._device}")
        self.synchronize()
        end_event.synchronize()
        return self._driver.elapsed_ms(self._token, end_event._token)

    def __repr__(self):
        state = "not recorded" if self._token is None else f"recorded on {self._device}"
        return f"<gf.cuda.Event {state}>"


_defaults: dict = {}


def default_stream(device=None) -> Stream:
    """The device's default stream: where gpuflow's ops run unless a `with stream(s)` scope says otherwise."""
    dev = _device(device)
    found = _defaults.get(dev)
    if found is None:
        drv = driver(dev.kind)
        found = _defaults.setdefault(dev, Stream(dev, _handle=drv.default_stream(dev)))
    return found


def current_stream(device=None) -> Stream:
    """The stream this thread issues work to on `device` (default: the current device)."""
    dev = _device(device)
    stack = getattr(_local, "stacks", {}).get(dev)
    return stack[-1] if stack else default_stream(dev)


def current_handle(device):
    """current_stream(device)._handle, for the hot paths that route every op (device is a Device)."""
    stacks = getattr(_local, "stacks", None)
    stack = stacks.get(device) if stacks else None
    return stack[-1]._handle if stack else default_stream(device)._handle


@contextlib.contextmanager
def stream(s: Stream | None):
    """`with gf.cuda.stream(s):` issues this thread's work on `s`'s device to `s` (None: changes nothing)."""
    if s is None:
        yield None
        return
    if not isinstance(s, Stream):
        raise InvalidArgumentError(f"gf.cuda.stream: expected a gf.cuda.Stream or None, got {type(s).__name__}")
    stack = _local.__dict__.setdefault("stacks", {}).setdefault(s._device, [])
    stack.append(s)
    try:
        with s._driver.scope(s._device, s._handle):
            yield s
    finally:
        stack.pop()


def synchronize(device=None) -> None:
    """Block the host until all work issued to every stream of `device` has finished."""
    dev = _device(device)
    if dev.kind == "sim":
        driver("sim").engine.drain()
    elif dev.kind == "cuda":
        driver("cuda").synchronize_device(dev)
