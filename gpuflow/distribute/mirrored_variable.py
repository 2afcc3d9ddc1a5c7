"""MirroredVariable: one copy of a variable per replica device, kept identical.

Made by `gf.Variable(...)` inside a strategy's scope (or inside one of its replicas). It is one Python
object, so layers, optimizers and tapes hold it as they hold any Variable; what its buffer is depends on
where it is read: inside replica i of `strategy.run` it is replica i's copy (on replica i's device), in
cross-replica context (the scope, callbacks, saving) it is the primary copy, replica 0's. Assigning
in cross-replica context writes every copy; assigning inside replica i writes copy i, so the copies stay
identical when every replica assigns the same value, as the optimizer does with all-reduced gradients.
"""
from __future__ import annotations

import numpy as np

from .. import devices as _device
from .._traces import traces
from ..tensor import Tensor, Variable, _check_creation_in_trace
from . import context


class MirroredVariable(Variable):
    """A variable made inside a MirroredStrategy's scope: one copy per replica device, kept identical. Inside a
    replica a read gives that replica's copy; outside, an assign writes every copy."""
    __slots__ = ("_values", "_devices", "_strategy", "_versions")

    def __init__(self, initial_value, trainable=True, name=None, dtype=None, constraint=None):
        from ..ops.dispatch import init_scope
        if traces.stack:  # made in a compiled replica step's first trace (optimizer slots): eagerly, as TF does
            _check_creation_in_trace(name, initial_value)
        with init_scope():
            self._init(initial_value, trainable, name, dtype, constraint)

    def _init(self, initial_value, trainable, name, dtype, constraint):
        from ..ops.creation import convert_to_tensor, copy_to
        strategy = context.get_strategy()
        self._strategy, self._devices = strategy, tuple(strategy.extended._local_devices)
        primary = self._devices[0]
        if callable(initial_value):
            initial_value = initial_value()
        with _device.device(primary):
            value = convert_to_tensor(initial_value, dtype=dtype)
        if value._device != primary:
            value = copy_to(value, primary)
        if strategy.extended._num_workers > 1:  # every worker starts from the chief's value, as in TF
            value = self._chiefs(strategy, value, name)
        self._values = None  # while Variable.__init__ runs: the setter keeps the one buffer it is given
        Variable.__init__(self, value, trainable=trainable, name=name, constraint=constraint)
        self._values = self._copies(self._values[0])

    @staticmethod
    def _chiefs(strategy, value, name):
        from ..ops.creation import convert_to_tensor
        chiefs = strategy.extended._broadcast_from_chief(value.numpy())
        if chiefs.shape != tuple(value.shape) or chiefs.dtype != value.dtype.np:
            raise ValueError(f"variable {name or '(unnamed)'}: this worker made it {value.dtype.name}"
                             f"{list(value.shape)} but the chief's variable made at the same point is {chiefs.dtype}"
                             f"{list(chiefs.shape)}; every worker must create the same variables in the same order")
        with _device.device(value._device):
            return convert_to_tensor(chiefs, dtype=value.dtype)

    def _copies(self, primary_data) -> list:
        """The primary buffer and a copy of it on every other replica device (the initial broadcast)."""
        from ..ops.creation import copy_to
        source = Tensor(primary_data, self._dtype, self._devices[0])
        return [primary_data] + [copy_to(source, d)._data for d in self._devices[1:]]

    # `_data` and `_device` are slots of Tensor that every op reads; here they depend on the reading replica.
    @property
    def _data(self):
        index = context.replica_index(self._strategy)
        return self._values[0 if index is None else index]

    @_data.setter
    def _data(self, data):
        if self._values is None:  # Variable.__init__ storing the initial buffer
            self._values = [data]
            return
        index = context.replica_index(self._strategy)
        if index is None:  # cross-replica: the value (on the primary device) goes to every copy
            self._values = self._copies(data)
        else:
            self._values[index] = data

    # The eager-assign count (HostMirror's test of "unchanged") is per copy too: a replica's assign changes its copy.
    @property
    def _version(self):
        index = context.replica_index(self._strategy)
        return self._versions[0 if index is None else index]

    @_version.setter
    def _version(self, version):
        index = context.replica_index(self._strategy)
        if index is None or getattr(self, "_versions", None) is None:  # cross-replica (or Variable.__init__): all
            self._versions = [version] * len(self._devices)
        else:
            self._versions[index] = version

    @property
    def _local_copy(self) -> int:
        """Which copy this thread reads: its replica's, or the primary (0) in cross-replica context."""
        index = context.replica_index(self._strategy)
        return 0 if index is None else index

    @property
    def _device(self):
        index = context.replica_index(self._strategy)
        return self._devices[0 if index is None else index]

    @_device.setter
    def _device(self, device):
        pass  # Tensor.__init__ sets it; the devices are the strategy's

    @property
    def values(self) -> tuple:
        """Each replica's copy, as tensors (TF's MirroredVariable.values / experimental_local_results)."""
        return tuple(Tensor(data, self._dtype, device) for data, device in zip(self._values, self._devices))

    @property
    def devices(self) -> tuple:
        return tuple(str(d) for d in self._devices)

    def assign(self, value, read_value=True):
        # In cross-replica context a value may come from anywhere (a number, a host array, a tensor on the
        # default device): it is placed on the primary device, then copied to every replica.
        from ..ops.creation import convert_to_tensor, copy_to
        here = self._device
        if not isinstance(value, Tensor):
            with _device.device(here):
                value = convert_to_tensor(value, dtype=self._dtype)
        elif value._device != here and context.replica_index(self._strategy) is None:
            value = copy_to(value, here)
        return super().assign(value, read_value)

    def __repr__(self):
        parts = ", ".join(f"{d}: {np.array2string(t.numpy(), separator=', ', threshold=20)}"
                          for d, t in zip(self._devices, self.values))
        return f"<MirroredVariable '{self.name}' shape={self._shape} dtype={self._dtype.name} {{{parts}}}>"
