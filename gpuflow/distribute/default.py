"""The default strategy: what get_strategy() returns outside any scope. One replica, on whatever device is
current; variables are plain Variables and run/reduce are the identity, as in TF."""
from __future__ import annotations

import contextlib
import functools

from .. import devices as _device
from .cross_device_ops import ReductionToOneDevice
from .replica_context import ReplicaContext
from .strategy import Strategy, StrategyExtended


class _DefaultExtended(StrategyExtended):
    @property
    def _local_devices(self):
        return [_device.current()]

    @_local_devices.setter
    def _local_devices(self, value):
        pass


class _DefaultStrategy(Strategy):
    _variable_class = None  # gf.Variable stays a Variable

    def __init__(self):
        super().__init__(_DefaultExtended(self, [], ReductionToOneDevice()))
        self._default_replica_context = ReplicaContext(self, 0, 0, None)

    @contextlib.contextmanager
    def scope(self):
        yield self

    def run(self, fn, args=(), kwargs=None, options=None):
        return fn(*args, **(kwargs or {}))

    def experimental_distribute_dataset(self, dataset, options=None):
        return dataset

    def distribute_datasets_from_function(self, dataset_fn, options=None):
        from .input_lib import InputContext
        return dataset_fn(InputContext())


@functools.lru_cache(maxsize=None)
def default_strategy():
    return _DefaultStrategy()
