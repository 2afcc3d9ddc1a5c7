"""`gf.summary.experimental`: the default step, as tf.summary.experimental."""
from __future__ import annotations

from ._state import state


def set_step(step):
    """Set this thread's default step for summaries written without `step=` (an int, or a variable such as
    `optimizer.iterations`, read each time a summary is written). None unsets it."""
    state.step = step


def get_step():
    """This thread's default step (what set_step or writer.as_default(step=...) set), or None."""
    return state.step
