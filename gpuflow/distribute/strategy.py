"""Strategy: TF's tf.distribute.Strategy API, shared by every strategy here.

A strategy holds its local replica devices (`extended._local_devices`) and how their values are summed
(`extended._cross_device_ops`); a multi-worker one also holds its worker group. Everything else (scope,
run, reduce, gather, distributed datasets) is written once here on top of those.
"""
from __future__ import annotations

import contextlib

from .. import devices as _device
from .. import nest
from .._traces import state_trace
from ..ops.creation import convert_to_tensor, copy_to
from ..tensor import Tensor, Variable
from . import context
from .buckets import Plan
from .mirrored_variable import MirroredVariable
from .reduce_op import ReduceOp, as_reduce_op
from .values import DistributedValues, PerReplica, local_results, regroup, select_replica


class StrategyExtended:
    """TF's `strategy.extended`: the devices and the reductions behind the public API."""

    def __init__(self, strategy, devices, cross_device_ops, workers=None):
        self._strategy = strategy
        self._local_devices = list(devices)
        self._cross_device_ops = cross_device_ops
        self._workers = workers  # worker_group.WorkerGroup when several workers train together

    # ---- who is where -----------------------------------------------------------------------
    @property
    def _num_workers(self) -> int:
        return self._workers.size if self._workers is not None else 1

    @property
    def _worker_index(self) -> int:
        return self._workers.rank if self._workers is not None else 0

    @property
    def worker_devices(self) -> tuple:
        return tuple(str(d) for d in self._local_devices)

    parameter_devices = worker_devices

    @property
    def should_checkpoint(self) -> bool:
        """Whether this worker writes checkpoints: only the chief (worker 0) does."""
        return self._worker_index == 0

    should_save_summary = should_checkpoint

    @property
    def experimental_between_graph(self) -> bool:
        return self._num_workers > 1

    def _in_multi_worker_mode(self) -> bool:
        return self._num_workers > 1

    def _global_replica_id(self, local_index: int) -> int:
        return self._worker_index * len(self._local_devices) + local_index

    # ---- collectives, called in cross-replica context ---------------------------------------
    def _all_reduce_per_replica(self, reduce_op, value, options=None):
        """`value`: a PerReplica of same-shaped nests of tensors (or one nest for a lone replica). Returns the
        reduced nest per local replica, on its device."""
        op = as_reduce_op(reduce_op)
        structures = list(local_results(value))
        flats = [[self._as_tensor(v, i) for v in nest.flatten(s)] for i, s in enumerate(structures)]
        if not flats[0]:
            return value
        reducer = self._cross_device_ops
        plan = Plan.for_reducer(flats[0], reducer)
        for i, flat in enumerate(flats[1:], 1):
            plan.check(flat, f"replica {i}")
        buffers = [plan.pack(flat) for flat in flats]
        summed = reducer.sum_buffers(buffers, self._local_devices, self._workers)
        if op is ReduceOp.MEAN:
            n = self._strategy.num_replicas_in_sync
            summed = [[b / n if b.dtype.is_floating else b // n for b in bs] for bs in summed]
        out = [nest.pack_sequence_as(structures[0], plan.unpack(bs)) for bs in summed]
        return PerReplica(out) if len(out) > 1 else out[0]

    def _all_gather_per_replica(self, value, axis, options=None):
        """Each leaf concatenated along `axis` over all replicas in sync (replica order), on every replica."""
        from .. import ops
        structures = list(local_results(value))
        flats = [[self._as_tensor(v, i) for v in nest.flatten(s)] for i, s in enumerate(structures)]
        first = self._local_devices[0]
        gathered = []
        for leaves in zip(*flats):
            local = ops.concat([t if t._device == first else copy_to(t, first) for t in leaves], axis=axis) \
                if len(leaves) > 1 else leaves[0]
            if self._num_workers > 1:
                parts = self._workers.all_gather(local.numpy())
                with _device.device(first):
                    local = ops.concat([convert_to_tensor(p) for p in parts], axis=axis)
            gathered.append(local)
        out = [nest.pack_sequence_as(structures[0], [g if g._device == d else copy_to(g, d) for g in gathered])
               for d in self._local_devices]
        return PerReplica(out) if len(out) > 1 else out[0]

    def _as_tensor(self, value, index):
        if isinstance(value, Tensor):
            return value
        with _device.device(self._local_devices[index]):
            return convert_to_tensor(value)

    def _broadcast_from_chief(self, array):
        """The chief's host array on every worker (variables start equal on all workers, as in TF)."""
        if self._num_workers == 1:
            return array
        return self._workers.broadcast_array(array)

    def _close(self):
        if self._workers is not None:
            self._workers.close()


class Strategy:
    """Base of MirroredStrategy, OneDeviceStrategy and MultiWorkerMirroredStrategy."""
    _variable_class = MirroredVariable

    def __init__(self, extended: StrategyExtended):
        self._extended = extended

    @property
    def extended(self) -> StrategyExtended:
        return self._extended

    @property
    def num_replicas_in_sync(self) -> int:
        return len(self._extended._local_devices) * self._extended._num_workers

    @property
    def cluster_resolver(self):
        return getattr(self, "_cluster_resolver", None)

    # ---- scope ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def scope(self):
        """Variables made inside (model weights, optimizer state) are mirrored: one copy per replica."""
        stack = context.scope_stack()
        replica = context.current_replica()
        if replica is not None and replica._strategy is not self:
            raise RuntimeError(f"{type(self).__name__}.scope() entered inside a replica of another strategy")
        if stack and stack[-1] is not self and stack[-1] is not _default():
            raise ValueError(f"Mixing different gf.distribute strategies: {type(self).__name__}.scope() entered "
                             f"inside {type(stack[-1]).__name__}.scope(); use one strategy at a time")
        stack.append(self)
        try:
            yield self
        finally:
            stack.pop()

    # ---- running replicas -------------------------------------------------------------------
    def run(self, fn, args=(), kwargs=None, options=None):
        """Runs fn once per replica, each on its device with its own ReplicaContext. PerReplica arguments give
        each replica its component; tensors are copied to each replica's device. Returns the results as
        PerReplica (a plain value where every replica returned the same object, or with one replica)."""
        if context.current_replica() is not None:
            raise RuntimeError(f"{type(self).__name__}.run called inside a replica (strategy.run does not nest); "
                               f"call it from cross-replica context")
        kwargs = kwargs or {}
        devices = self._extended._local_devices
        if len(devices) > 1 and state_trace() is not None:
            raise NotImplementedError(
                f"{type(self).__name__}.run inside a gf.function: the replicas run in threads of their own, which "
                f"this trace does not see. Hand strategy.run a gf.function instead (strategy.run(gf.function(step), "
                f"...)): each replica traces and runs its own graph, with its all-reduces as collective nodes")
        calls = [(self._place(select_replica(i, args), d), self._place(select_replica(i, kwargs), d))
                 for i, d in enumerate(devices)]
        from .replica_threads import run_replicas
        results = run_replicas(self, fn, calls)
        return regroup(results)

    @staticmethod
    def _place(structure, device):
        def place(v):
            if isinstance(v, Tensor) and not isinstance(v, Variable) and v._device != device:
                return copy_to(v, device)
            return v
        return nest.map_structure(place, structure) if nest.is_nested(structure) else place(structure)

    def experimental_local_results(self, value) -> tuple:
        return local_results(value)

    def experimental_distribute_values_from_function(self, value_fn):
        """PerReplica of value_fn(ValueContext) for each local replica."""
        from .input_lib import ValueContext
        n = self.num_replicas_in_sync
        values = []
        for i, device in enumerate(self._extended._local_devices):
            with _device.device(device):
                values.append(value_fn(ValueContext(self._extended._global_replica_id(i), n)))
        return PerReplica(values) if len(values) > 1 else values[0]

    # ---- reductions from cross-replica context -----------------------------------------------
    def reduce(self, reduce_op, value, axis=None):
        """SUM or MEAN of a per-replica value over all replicas in sync, as one tensor on the current device.
        With `axis`, each replica's value is first reduced along it; MEAN then divides by the total count along
        `axis` over all replicas (the mean over the global batch, not the mean of the replicas' means)."""
        from .. import ops
        op = as_reduce_op(reduce_op)
        if context.current_replica() is not None:
            raise RuntimeError("strategy.reduce must be called in cross-replica context (outside strategy.run); "
                               "inside a replica use gf.distribute.get_replica_context().all_reduce")
        if not isinstance(value, DistributedValues) and not any(
                isinstance(v, DistributedValues) for v in nest.flatten(value)):
            if op is ReduceOp.MEAN or len(self._extended._local_devices) * self._extended._num_workers == 1:
                return value
            raise ValueError(f"strategy.reduce(SUM, ...): {value!r:.80} is not a per-replica value; only "
                             f"per-replica values (strategy.run's results) can be summed over replicas")
        parts = list(local_results(value))
        per_leaf = 1 if axis is None else 2  # [sum] or [sum along axis, count along axis]

        def prepare(v, i):
            t = self._extended._as_tensor(v, i)
            if axis is None:
                return [t]
            count = 1
            for a in ([axis] if isinstance(axis, int) else list(axis)):
                count *= t.shape[a]
            with _device.device(t._device):
                return [ops.reduce_sum(t, axis=axis), convert_to_tensor(count, dtype=t.dtype)]
        prepared = [[x for v in nest.flatten(p) for x in prepare(v, i)] for i, p in enumerate(parts)]
        summed = self._extended._all_reduce_per_replica(
            ReduceOp.SUM, PerReplica(prepared) if len(prepared) > 1 else prepared[0])
        flat = local_results(summed)[0]
        here = _device.current()
        out = []
        for j in range(len(flat) // per_leaf):
            total = flat[j * per_leaf]
            if op is ReduceOp.MEAN:
                total = total / (flat[j * per_leaf + 1] if axis is not None else self.num_replicas_in_sync)
            out.append(total if total._device == here else copy_to(total, here))
        return nest.pack_sequence_as(parts[0], out)

    def gather(self, value, axis):
        """The per-replica values concatenated along `axis` over all replicas in sync, on the current device."""
        if context.current_replica() is not None:
            raise RuntimeError("strategy.gather must be called in cross-replica context; inside a replica use "
                               "gf.distribute.get_replica_context().all_gather")
        if not isinstance(value, DistributedValues) and self.num_replicas_in_sync == 1:
            return value
        gathered = local_results(self._extended._all_gather_per_replica(value, axis))[0]
        here = _device.current()
        return nest.map_structure(lambda t: t if t._device == here else copy_to(t, here), gathered)

    # ---- input ------------------------------------------------------------------------------
    def experimental_distribute_dataset(self, dataset, options=None):
        """Each element of `dataset` is a global batch; iterating gives PerReplica batches, the global batch
        split along its first dimension across all replicas in sync (this worker's share, on each device)."""
        from .input_lib import DistributedDataset
        return DistributedDataset(self, dataset)

    def distribute_datasets_from_function(self, dataset_fn, options=None):
        """dataset_fn(InputContext) makes this worker's dataset of per-replica batches; each local replica
        takes the next element in turn."""
        from .input_lib import DistributedDatasetsFromFunction
        return DistributedDatasetsFromFunction(self, dataset_fn)

    def __repr__(self):
        return f"<{type(self).__name__} devices={list(self._extended.worker_devices)}>"


def _default():
    from .default import default_strategy
    return default_strategy()
