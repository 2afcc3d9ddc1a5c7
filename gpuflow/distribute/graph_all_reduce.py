"""The all-reduce of a compiled replica step: buckets of gradients as collective nodes of the traced graph.

Inside a gf.function traced in a replica (fit's step under a strategy, or a function handed to strategy.run),
`get_replica_context().all_reduce`, which apply_gradients calls, does not meet the other replicas while
tracing. It packs the values into buckets (buckets.py: filled from the last value back) and adds per bucket
  - the packing ops and a collective `start` node, moved up to right after the op that makes the bucket's
    last value: gradients come back last layer first, so bucket 0 starts while the backward pass is still
    computing the earlier layers' gradients;
  - where all_reduce was called, a collective `done` node and the unpacking ops.
When the graph runs, each start node is one merge of the replicas (replica_threads.py) in which the strategy's
cross-device ops sum that bucket: on cpu and sim the in-process sum, in replica order, exactly as eagerly; on
cuda NCCL on a communication stream of each GPU (nccl.py), whose event the done node makes the replica's
stream wait for, so only the update waits for the sum. One collective call per bucket per step.
"""
from __future__ import annotations

import threading

from .. import nest
from .._traces import state_trace
from ..graph.collective import collective
from ..graph.ir import COLLECTIVE, Effect
from ..ops.creation import convert_to_tensor
from ..runtime import streams
from ..tensor import Tensor
from . import context
from .buckets import Plan
from .reduce_op import ReduceOp
from .values import PerReplica, local_results


def all_reduce_in_graph(strategy, reduce_op, value):
    """`value` (a nest of tensors) summed (or averaged) over every replica in sync, as nodes of the graph being
    traced in this replica: see the module doc."""
    leaves = [v if isinstance(v, Tensor) else convert_to_tensor(v) for v in nest.flatten(value)]
    if not leaves:
        return value
    plan = Plan.for_reducer(leaves, strategy.extended._cross_device_ops)
    nodes = state_trace().graph.nodes
    started, early = [], set()
    for b in range(len(plan.buckets)):
        first = len(nodes)
        start = _Start()
        (pending,) = collective({"fn": start, "op": "all_reduce_start", "bucket": b}, [plan.pack_bucket(b, leaves)])
        early.update(id(n) for n in nodes[first:] if not isinstance(n.prim, Effect) or n.prim is COLLECTIVE)
        started.append((start, pending))
    hoist(nodes, early)
    out, n = [None] * plan.count, strategy.num_replicas_in_sync
    for b, (start, pending) in enumerate(started):
        (summed,) = collective({"fn": start.done, "op": "all_reduce_done", "bucket": b}, [pending])
        if reduce_op is ReduceOp.MEAN:
            summed = summed / n if summed.dtype.is_floating else summed // n
        plan.unpack_bucket(b, summed, out)
    return nest.pack_sequence_as(value, out)


def hoist(nodes, movable) -> None:
    """Reorder `nodes` (a graph's, in execution order) in place: each node whose id is in `movable` goes right
    after the last node that makes one of its inputs (and after the nodes moved before it, so moved nodes keep
    their order); the others keep theirs. Sound for nodes that depend on nothing but their inputs: the packing
    ops and the start nodes (which only read their bucket)."""
    order = [n for n in nodes if id(n) not in movable]
    previous = -1
    for node in (n for n in nodes if id(n) in movable):
        made_at = {s.index: i for i, n in enumerate(order) for s in n.outputs}
        at = max([previous] + [made_at[s.index] for s in node.inputs if s.index in made_at]) + 1
        order.insert(at, node)
        previous = at
    nodes[:] = order


class _Start:
    """What a start node runs, in its replica's thread: its part of one merge of all replicas, which starts
    the bucket's sum. What the done node must wait for is kept per thread (each replica runs its own graph)."""

    def __init__(self):
        self._pending = threading.local()

    def __call__(self, tensors):
        ctx = context.current_replica()
        if ctx is None:
            raise RuntimeError("a compiled all-reduce ran outside strategy.run: a gf.function traced inside a "
                               "replica sums over the replicas, so call it inside strategy.run only")
        summed, self._pending.event = ctx.merge_call(_start_sum, args=(tensors[0],))
        return [summed]

    def done(self, tensors):
        event = self._pending.__dict__.pop("event", None)
        if event is not None:  # the sum is queued on another stream (NCCL's): this replica's stream waits for it
            event.wait(streams.current_stream(tensors[0]._device))
        return tensors

    def __repr__(self):
        return "<all-reduce of a bucket>"


def _start_sum(strategy, flats):
    """(merge, cross-replica context) One bucket, a flat buffer per local replica: (its sum, what to wait for)
    per replica."""
    extended = strategy.extended
    parts = local_results(flats)
    specs = {(tuple(p.shape), p.dtype) for p in parts}
    if len(specs) > 1:
        shown = ", ".join(f"{p.dtype.name}{list(p.shape)} on {p.device}" for p in parts)
        raise ValueError(f"all_reduce: the replicas' buckets differ ({shown}); every replica must reduce tensors of "
                         f"the same shapes and dtypes, in the same order")
    sums, events = extended._cross_device_ops.start_sum_buffers([[p] for p in parts], extended._local_devices,
                                                                extended._workers)
    out = [(s[0], e) for s, e in zip(sums, events)]
    return PerReplica(out) if len(out) > 1 else out[0]
