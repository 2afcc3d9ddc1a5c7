"""Distributed input: global batches split across replicas, or per-replica datasets from a function.

A global batch of B rows is split across the N replicas in sync as evenly as it goes (the first B % N
replicas get one row more), in global replica order: with several workers, every worker reads the same
global batches and keeps the rows of its own replicas (TF's DATA auto-sharding).
"""
from __future__ import annotations

import numpy as np

from .. import devices as _device
from .. import nest
from ..ops.creation import convert_to_tensor, copy_to
from ..tensor import Tensor
from .values import regroup


class InputContext:
    """What dataset_fn learns about the input pipelines (TF's tf.distribute.InputContext)."""

    def __init__(self, num_input_pipelines=1, input_pipeline_id=0, num_replicas_in_sync=1):
        self.num_input_pipelines = num_input_pipelines
        self.input_pipeline_id = input_pipeline_id
        self.num_replicas_in_sync = num_replicas_in_sync

    def get_per_replica_batch_size(self, global_batch_size):
        if global_batch_size % self.num_replicas_in_sync:
            raise ValueError(f"The global batch size {global_batch_size} is not divisible by num_replicas_in_sync "
                             f"{self.num_replicas_in_sync}")
        return global_batch_size // self.num_replicas_in_sync

    def __repr__(self):
        return (f"InputContext(num_input_pipelines={self.num_input_pipelines}, input_pipeline_id="
                f"{self.input_pipeline_id}, num_replicas_in_sync={self.num_replicas_in_sync})")


class ValueContext:
    """What value_fn learns in experimental_distribute_values_from_function (TF's tf.distribute.ValueContext)."""

    def __init__(self, replica_id_in_sync_group=0, num_replicas_in_sync=1):
        self.replica_id_in_sync_group = replica_id_in_sync_group
        self.num_replicas_in_sync = num_replicas_in_sync


def split_sizes(batch: int, replicas: int) -> list:
    return [batch // replicas + (1 if g < batch % replicas else 0) for g in range(replicas)]


def batch_size_of(structure) -> int:
    for leaf in nest.flatten(structure):
        shape = getattr(leaf, "shape", None)
        if shape is not None and len(shape):
            return int(shape[0])
    raise ValueError("cannot split this batch across replicas: it holds no array with a batch dimension")


def shard_batch(strategy, structure):
    """([this worker's replica i's rows of every leaf, on device i], [their row counts]) of a global batch."""
    extended = strategy.extended
    batch = batch_size_of(structure)
    sizes = split_sizes(batch, strategy.num_replicas_in_sync)
    starts = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    shards, counts = [], []
    for i, device in enumerate(extended._local_devices):
        g = extended._global_replica_id(i)
        rows = slice(int(starts[g]), int(starts[g + 1]))
        shards.append(nest.map_structure(lambda leaf: _rows(leaf, rows, device), structure))
        counts.append(sizes[g])
    return shards, counts


def _rows(leaf, rows, device):
    if leaf is None:
        return None
    if isinstance(leaf, Tensor):
        part = leaf[rows] if leaf.ndim else leaf
        return part if part._device == device else copy_to(part, device)
    with _device.device(device):
        return convert_to_tensor(np.asarray(leaf)[rows])


class DistributedDataset:
    """Iterating gives PerReplica batches (plain batches with one local replica); see experimental_distribute_dataset."""

    def __init__(self, strategy, dataset):
        self._strategy, self._dataset = strategy, dataset

    def __iter__(self):
        return DistributedIterator(self._strategy, iter(self._dataset))


class DistributedIterator:
    def __init__(self, strategy, iterator):
        self._strategy, self._iterator = strategy, iterator

    def __iter__(self):
        return self

    def __next__(self):
        shards, _ = shard_batch(self._strategy, next(self._iterator))
        return regroup(shards)

    get_next = __next__


class DistributedDatasetsFromFunction:
    """dataset_fn(InputContext) is called once per worker; its elements are per-replica batches, dealt to
    the local replicas in turn (element k to local replica k % replicas)."""

    def __init__(self, strategy, dataset_fn):
        extended = strategy.extended
        self._strategy = strategy
        context = InputContext(extended._num_workers, extended._worker_index, strategy.num_replicas_in_sync)
        self._dataset = dataset_fn(context)

    def __iter__(self):
        return _DealingIterator(self._strategy, iter(self._dataset))


class _DealingIterator(DistributedIterator):
    def __next__(self):
        devices = self._strategy.extended._local_devices
        batches = [next(self._iterator) for _ in devices]  # a partial last round ends the epoch, as in TF
        return regroup([nest.map_structure(lambda leaf, d=d: _to(leaf, d), b) for b, d in zip(batches, devices)])

    get_next = __next__


def _to(leaf, device):
    if leaf is None:
        return None
    if isinstance(leaf, Tensor):
        return leaf if leaf._device == device else copy_to(leaf, device)
    with _device.device(device):
        return convert_to_tensor(leaf)
