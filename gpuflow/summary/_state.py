"""The per-thread summary state TF keeps: the default writer, the default step and the record condition.

Per thread as in TF, so summaries written by a worker thread (a data pipeline's map function, say) never
land in a writer another thread made the default.
"""
from __future__ import annotations

import contextlib
import threading

import numpy as np


class _State(threading.local):
    def __init__(self):
        self.writer = None       # the SummaryWriter made default by `as_default`, or None
        self.step = None         # the default step: an int, a gf Variable (read when a summary is written) or None
        self.condition = True    # what `record_if` set: a bool or a callable returning one


state = _State()


def should_record_summaries() -> bool:
    """True when a summary written now would be recorded: a default writer is set and the innermost
    `record_if` condition holds (a callable condition is called)."""
    if state.writer is None:
        return False
    condition = state.condition
    return bool(condition() if callable(condition) else condition)


@contextlib.contextmanager
def record_if(condition):
    """Record summaries only while `condition` (a bool, or a callable called at each write) holds.

    As in TF the innermost condition wins: `record_if(True)` inside `record_if(False)` records."""
    previous, state.condition = state.condition, condition
    try:
        yield
    finally:
        state.condition = previous


def resolve_step(op: str, name: str, step) -> int:
    """The step a summary is written at: `step`, else the default step; an error names the summary when
    there is neither (TF raises too, rather than guess)."""
    if step is None:
        step = state.step
    if step is None:
        raise ValueError(f"gf.summary.{op}({name!r}): no step set; pass step=..., enter "
                         f"writer.as_default(step=...) or call gf.summary.experimental.set_step(...)")
    value = np.asarray(step)  # a gf Variable such as optimizer.iterations: one host read
    integral = value.dtype.kind in "iu" or (value.dtype.kind == "f" and value.shape == () and float(value).is_integer())
    if value.shape != () or not integral:
        raise ValueError(f"gf.summary.{op}({name!r}): step must be an integer scalar, got {step!r}")
    return int(value)


@contextlib.contextmanager
def default_writer(writer, step):
    """`writer` (None: record nothing) is the default inside the block; so is `step`, when given."""
    previous_writer, previous_step = state.writer, state.step
    set_default(writer, step)
    try:
        yield writer
    finally:
        state.writer = previous_writer
        if step is not None:
            state.step = previous_step


def set_default(writer, step=None):
    state.writer = writer
    if step is not None:
        state.step = step
