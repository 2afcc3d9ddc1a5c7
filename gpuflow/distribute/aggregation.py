"""Gradient aggregation inside a replica: what Optimizer.apply_gradients does first under a strategy."""
from __future__ import annotations

from . import context
from .reduce_op import ReduceOp


def aggregate_gradients(grads) -> list:
    """The gradients summed over every replica in sync when called inside strategy.run with several
    replicas; the gradients as they are otherwise (one replica, or no strategy). None stays None."""
    ctx = context.current_replica()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return list(grads)
    grads = list(grads)
    present = [i for i, g in enumerate(grads) if g is not None]
    summed = ctx.all_reduce(ReduceOp.SUM, [grads[i] for i in present])
    for i, g in zip(present, summed):
        grads[i] = g
    return grads
