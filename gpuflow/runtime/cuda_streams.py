"""The cuda driver of gpuflow.runtime.streams: CuPy streams and events (CuPy 14 API).

Streams are made with `non_blocking=True` (cudaStreamNonBlocking), as torch's are: the legacy
default stream, where gpuflow's ops run unless told otherwise, then never waits for them
implicitly, so copies on a side stream really overlap, and only events order the two. Nothing
here uses `cupy.cuda.ExternalStream` (deprecated in CuPy 14): a stream is always the CuPy object
that made it, and the allocator's events are recorded by raw handle (gpuflow/runtime/memory.py).
"""
from __future__ import annotations

import contextlib

_names: dict[int, str] = {}  # stream handle -> the name it was made with (profiler tracks)


def stream_name(ptr: int) -> str:
    return "default stream" if ptr == 0 else _names.get(ptr, f"stream {ptr:#x}")


class CudaDriver:
    def __init__(self):
        import cupy
        self.cupy = cupy

    def new_stream(self, device, name, priority):
        with self.cupy.cuda.Device(device.index):  # a stream belongs to the device current when it is made
            handle = self.cupy.cuda.Stream(non_blocking=True, priority=priority)
        _names[handle.ptr] = name
        return handle

    def default_stream(self, device):
        return self.cupy.cuda.Stream.null

    def record(self, handle, event):
        with self.cupy.cuda.Device(event._device.index):  # made there too: an event records on its own device only
            if event._cuda_event is None:
                event._cuda_event = self.cupy.cuda.Event(block=event.blocking, disable_timing=not event.enable_timing,
                                                         interprocess=event.interprocess)
            event._cuda_event.record(handle)
        return event._cuda_event

    def wait(self, handle, token, device):
        with self.cupy.cuda.Device(device.index):  # the default stream (handle 0) is the current device's
            handle.wait_event(token)

    def synchronize_token(self, token):
        token.synchronize()

    def query_token(self, token):
        return token.done

    def synchronize_stream(self, handle):
        handle.synchronize()

    def query_stream(self, handle):
        return handle.done

    def elapsed_ms(self, start, end):
        return self.cupy.cuda.get_elapsed_time(start, end)

    def scope(self, device, handle):
        # CuPy's `with stream:` checks that the stream's device is current: enter the device first.
        stack = contextlib.ExitStack()
        stack.enter_context(self.cupy.cuda.Device(device.index))
        stack.enter_context(handle)
        return stack

    def ptr(self, handle):
        return handle.ptr

    def synchronize_device(self, device):
        self.cupy.cuda.Device(device.index).synchronize()
