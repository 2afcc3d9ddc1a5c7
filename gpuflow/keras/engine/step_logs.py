"""StepLogs: what a training or test step returns to the loop and its callbacks, read lazily.

A compiled step leaves its logs (loss and metric results) on the device. Reading them after every
step would make the host wait for the device every step; most steps nobody looks. So the logs stay
tensors until a value is looked at (a progress bar drawing, a callback reading `logs["loss"]`, the
end of an epoch), and then all of them are read in one device-to-host copy.
"""
from __future__ import annotations

import numpy as np

from ... import dtypes, ops
from ...tensor import Tensor


def _flat(logs, out):
    for name, value in dict(logs).items():
        if isinstance(value, dict):  # a metrics container's result: its names join the logs
            _flat(value, out)
        else:
            out[name] = value
    return out


class StepLogs(dict):
    """A dict of Python floats, filled from device tensors on first access."""

    def __init__(self, logs):
        super().__init__()
        self._pending = _flat(logs, {})
        super().update((name, None) for name in self._pending)

    def _read(self):
        pending = self._pending
        if pending is None:
            return
        self._pending = None
        super().update(read_floats(pending))

    def __getitem__(self, name):
        self._read()
        return super().__getitem__(name)

    def get(self, name, default=None):
        self._read()
        return super().get(name, default)

    def __iter__(self):
        self._read()
        return super().__iter__()

    def items(self):
        self._read()
        return super().items()

    def values(self):
        self._read()
        return super().values()

    def copy(self):
        self._read()
        return dict(super().items())

    def __repr__(self):
        self._read()
        return super().__repr__()


def read_floats(logs: dict) -> dict:
    """{name: float}: the scalar tensors (on one device) stacked and read in one copy, the rest one by one."""
    scalars = [(k, v) for k, v in logs.items() if isinstance(v, Tensor) and v.shape.num_elements() == 1]
    out = {k: float(np.asarray(v)) for k, v in logs.items() if not (isinstance(v, Tensor) and
                                                                      v.shape.num_elements() == 1)}
    if len({v._device for _, v in scalars}) == 1 and len(scalars) > 1:
        stacked = ops.stack([ops.cast(ops.reshape(v, ()), dtypes.float64) for _, v in scalars]).numpy()
        out.update((k, float(x)) for (k, _), x in zip(scalars, stacked))
    else:
        out.update((k, float(v.numpy().reshape(()))) for k, v in scalars)
    return {k: out[k] for k in logs}
