"""Each thread's trace stack (see ops/dispatch.py): here, below the tensor layer, so Variables can ask it too."""
from __future__ import annotations

import contextlib
import threading


class _TraceStack(threading.local):
    """This thread's traces, innermost last. Each has `process(prim, inputs, params, device, level)`, which
    handles a primitive call and may pass it down with `dispatch.bind_below(level, ...)`. A trace that
    captures state (gf.function's) also has `read_tensor(var)`, `assign(var, value)` and
    `allow_new_variables`, and sets `captures_state = True`."""

    def __init__(self):
        self.stack = []


traces = _TraceStack()


def state_trace():
    """This thread's innermost trace that captures Variables (a gf.function being traced), or None."""
    for trace in reversed(traces.stack):
        if getattr(trace, "captures_state", False):
            return trace
    return None


def executing_eagerly() -> bool:
    """False while this thread traces a gf.function (its Python body runs to build a graph), else True, as
    tf.executing_eagerly; True again inside `init_scope` and under gf.config.run_functions_eagerly(True)."""
    return state_trace() is None


@contextlib.contextmanager
def init_scope():
    """TF's init_scope: run the block eagerly, outside every trace of this thread (tapes and gf.function
    traces alike), e.g. a layer's build and a variable's initial value inside a traced call."""
    stack = traces.stack
    saved = stack[:]
    del stack[:]
    try:
        yield
    finally:
        stack[:] = saved + stack  # traces the block itself opened (and left open) stay on top
