"""`gf.profiler`: a timeline of device work you can open in Perfetto (ui.perfetto.dev) or chrome://tracing.

    gf.profiler.start("logs/run1")
    model.fit(x, y, epochs=1)
    path = gf.profiler.stop()      # logs/run1/plugins/profile/<time>/<host>.trace.json

The trace has a process per device and a track per stream (the default/compute stream, the copy
stream, your own streams) with every kernel, op and copy, plus a host track with the training steps.
On sim the times come from the simulated schedule (gpuflow/runtime/timeline.py: kernel time from
bytes moved over a nominal bandwidth), so it shows the overlap structure, not GPU speed; on cuda
they come from CUDA events. `tf.profiler.experimental.start/stop/Trace` have the same names here.
"""
from __future__ import annotations

import json
import socket
import time
from pathlib import Path

from .runtime import profiling

_logdir: list = [None]


def start(logdir, options=None) -> None:
    """Start recording; `stop()` writes the trace under `logdir`. `options` is accepted for tf's signature."""
    profiling.start()
    _logdir[0] = Path(logdir)


def stop(save: bool = True) -> str | None:
    """Stop recording and write the Chrome-trace JSON; returns its path (None with save=False)."""
    timeline = profiling.stop()
    logdir, _logdir[0] = _logdir[0], None
    if not save:
        return None
    folder = logdir / "plugins" / "profile" / time.strftime("%Y_%m_%d_%H_%M_%S")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{socket.gethostname() or 'localhost'}.trace.json"
    path.write_text(json.dumps(timeline.to_chrome()))
    return str(path)


class Trace:
    """`with gf.profiler.experimental.Trace("load"):` a named span on the host track while profiling."""

    def __init__(self, name, **kwargs):
        self.name = name if not kwargs else f"{name} " + " ".join(f"{k}={v}" for k, v in kwargs.items())

    def __enter__(self):
        from . import devices  # on sim the host track is in the simulated schedule's time
        self._span = profiling.host_span(self.name, devices.current())
        return self._span.__enter__()

    def __exit__(self, *exc):
        return self._span.__exit__(*exc)


class experimental:  # noqa: N801 - tf.profiler.experimental's names
    """tf.profiler.experimental: start, stop and Trace under their TF names."""
    start = staticmethod(start)
    stop = staticmethod(stop)
    Trace = Trace
