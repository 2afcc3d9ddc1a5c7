"""ReplicaContext: what code inside `strategy.run` sees (TF's tf.distribute.ReplicaContext)."""
from __future__ import annotations

from .._traces import state_trace
from .reduce_op import as_reduce_op


class ReplicaContext:
    """What code inside strategy.run sees (tf.distribute.ReplicaContext): its replica id, num_replicas_in_sync,
    all_reduce / all_gather across the replicas, and merge_call."""

    def __init__(self, strategy, replica_id_in_sync_group: int, local_index: int = 0, runner=None):
        self._strategy = strategy
        self._replica_id = replica_id_in_sync_group
        self._local_index = local_index
        self._runner = runner  # the ReplicaThreads running this replica (None: a lone replica, run in place)

    @property
    def strategy(self):
        return self._strategy

    @property
    def num_replicas_in_sync(self) -> int:
        return self._strategy.num_replicas_in_sync

    @property
    def replica_id_in_sync_group(self) -> int:
        """This replica's index among all replicas kept in sync (across workers too). A Python int here
        (a scalar tensor in TF): it works in the same arithmetic and comparisons."""
        return self._replica_id

    @property
    def devices(self) -> tuple:
        return (str(self._strategy.extended._local_devices[self._local_index]),)

    def merge_call(self, merge_fn, args=(), kwargs=None):
        """Run `merge_fn(strategy, *args, **kwargs)` once for all replicas, in cross-replica context: every
        replica must call it; arguments that differ between replicas arrive as PerReplica values. Each
        replica gets the result (its own component when the result is PerReplica)."""
        kwargs = kwargs or {}
        alone = self._runner is None and self._strategy.extended._num_workers == 1
        if not alone and state_trace() is not None:  # alone, the merge is a plain call, traced like any other
            raise NotImplementedError(
                f"merge_call ({getattr(merge_fn, '__name__', 'a merge')}) inside a gf.function traced in a replica: "
                f"the merge would run once, at trace time. all_reduce works in a traced replica step (it becomes "
                f"collective nodes of the graph); for all_gather or a merge of your own, run that part eagerly")
        if self._runner is None:  # a lone replica: the merge is the call itself
            from . import context
            previous = context.set_replica(None)
            context.scope_stack().append(self._strategy)
            try:
                return merge_fn(self._strategy, *args, **kwargs)
            finally:
                context.scope_stack().pop()
                context.set_replica(previous)
        return self._runner.merge(self._local_index, merge_fn, args, kwargs)

    def all_reduce(self, reduce_op, value, options=None):
        """SUM or MEAN of `value` (a tensor or a nest of tensors) over every replica in sync; each replica
        gets the result on its own device. Tensors are packed into a few flat buckets and summed in replica
        order, the same on every device and every run."""
        op = as_reduce_op(reduce_op)
        if state_trace() is not None and not self._is_default():  # a compiled replica step: nodes of its graph
            from .graph_all_reduce import all_reduce_in_graph
            return all_reduce_in_graph(self._strategy, op, value)
        return self.merge_call(lambda strategy, v: strategy.extended._all_reduce_per_replica(op, v, options),
                               args=(value,))

    def all_gather(self, value, axis, options=None):
        """The replicas' values concatenated along `axis`, in replica order, on every replica."""
        return self.merge_call(lambda strategy, v: strategy.extended._all_gather_per_replica(v, axis, options),
                               args=(value,))

    def _is_default(self) -> bool:
        """The default strategy's one replica (outside any strategy): its merges are plain calls, traced or not."""
        from .default import default_strategy
        return self._strategy is default_strategy()

    def __repr__(self):
        return (f"ReplicaContext(strategy={type(self._strategy).__name__}, "
                f"replica_id_in_sync_group={self._replica_id})")
