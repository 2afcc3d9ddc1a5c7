"""`gf.summary.create_file_writer`: a SummaryWriter over tensorboard's own EventFileWriter.

The event file (TFRecord framing, CRCs, the `brain.Event:2` header) is written by tensorboard's writer,
so whatever TensorBoard reads, these files are; gpuflow only builds the Event protos.
"""
from __future__ import annotations

import contextlib
import os
import time
import weakref

from ._state import default_writer, set_default, state
from ._tensorboard import require


class SummaryWriter:
    """Writes summaries to one event file. Make it the default with `with writer.as_default(step=...):`, then
    call gf.summary.scalar / histogram / image / text. Made by `create_file_writer`."""

    def __init__(self, logdir, max_queue=None, flush_millis=None, filename_suffix=None):
        event_file_writer = require("summary.writer.event_file_writer", "gf.summary.create_file_writer")
        self._logdir = os.fspath(logdir)
        self._events = event_file_writer.EventFileWriter(
            self._logdir, max_queue_size=10 if max_queue is None else int(max_queue),
            flush_secs=120 if flush_millis is None else flush_millis / 1000.0,
            filename_suffix=".v2" if filename_suffix is None else filename_suffix)  # TF's name: *.v2
        self._closed = False
        # The writer thread is a daemon: without this, events not yet flushed would be lost at exit.
        self._finalizer = weakref.finalize(self, self._events.close)

    @property
    def logdir(self) -> str:
        return self._logdir

    @contextlib.contextmanager
    def as_default(self, step=None):
        """Make this the default writer inside the block; `step`, when given, is the default step there
        (the previous one comes back on exit). As in TF, a normal exit flushes the events to disk."""
        with default_writer(self, step):
            yield self
            self.flush()

    def set_as_default(self, step=None):
        """Make this the default writer until another is set (TF's non-context form)."""
        set_default(self, step)

    def init(self):
        """TF creates its file lazily here; this writer made it in the constructor, so nothing is left to do."""

    def add_summary(self, summary, step: int):
        """Append a `summary_pb2.Summary` at `step` (the building block of gf.summary's ops)."""
        event_pb2 = require("compat.proto.event_pb2", "gf.summary")
        self.add_event(event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary))

    def add_event(self, event):
        if self._closed:
            raise RuntimeError(f"gf.summary: the writer for {self._logdir!r} is closed; make a new one with "
                               f"gf.summary.create_file_writer")
        self._events.add_event(event)

    def flush(self):
        """Write every pending event to disk now."""
        if not self._closed:
            self._events.flush()

    def close(self):
        """Flush and close the file; writing afterwards raises. Closing twice is harmless."""
        if not self._closed:
            self._closed = True
            self._finalizer()  # flushes and closes the event file once
            if state.writer is self:
                state.writer = None

    def __repr__(self):
        return f"<gf.summary.SummaryWriter logdir={self._logdir!r}{' closed' if self._closed else ''}>"


def create_file_writer(logdir, max_queue=None, flush_millis=None, filename_suffix=None, name=None,
                       experimental_trackable=False):
    """A SummaryWriter writing to a new event file in `logdir` (created if missing), as tf.summary's.

    `max_queue` events are buffered (default 10) and flushed at least every `flush_millis` (default 120 s).
    Needs the tensorboard package (`pip install "gpuflow[interop]"`)."""
    if logdir is None:
        raise ValueError("gf.summary.create_file_writer: logdir is None; give a directory path "
                         "(gf.summary.create_noop_writer() makes a writer that writes nothing)")
    return SummaryWriter(logdir, max_queue, flush_millis, filename_suffix)


class _NoopWriter:
    """What tf.summary.create_noop_writer returns: as_default works, nothing is recorded."""

    def as_default(self, step=None):
        return default_writer(None, step)

    def set_as_default(self, step=None):
        set_default(None, step)

    def init(self):
        pass

    flush = close = init


def create_noop_writer():
    """A writer that records nothing (tf.summary.create_noop_writer): summaries under it return False."""
    return _NoopWriter()
