"""Host-computed values that a traced step must take afresh on every call.

Some numbers change every step but are cheapest to compute on the host: the optimizer's learning rate
(a schedule of the step) and bias corrections, a random draw's Philox offset. Baked into a graph as
constants they would freeze at their traced values; `host_fed` makes them a FEED node of the graph
instead, whose callable runs and whose result is uploaded on each call. Eagerly it is just the upload.
"""
from __future__ import annotations

import numpy as np

from .._traces import state_trace
from ..tensor import Tensor


def host_fed(fn, dtype, device) -> Tensor:
    """fn() as a tensor of `dtype` on `device`: now, or on every call of the gf.function being traced.
    `fn(probe=True)` must return a value of the right shape without side effects (tracing asks it once)."""
    trace = state_trace()
    if trace is not None:
        return trace.feed(fn, dtype, device)
    array = np.asarray(fn(), dtype=dtype.np)
    return Tensor(device.backend.from_numpy(array, dtype, copy=False), dtype, device)
