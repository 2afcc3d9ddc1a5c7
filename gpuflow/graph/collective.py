"""Collective nodes: a cross-device exchange as an effect node of a traced graph (ir.COLLECTIVE).

gf.distribute's all-reduce of a bucket of gradients inside a compiled replica step is one: the graph holds
it where it belongs among the ops (right after the backward op that completes the bucket) and each run of
the graph calls its `fn`, which meets the other replicas and sums (distribute/graph_all_reduce.py). To the
graph it is only an effect: kept in order with the other effects, never pruned, merged or fused.
"""
from __future__ import annotations

from .ir import COLLECTIVE
from .trace import _Spec, current_graph_trace


def collective(params, tensors, out_specs=None) -> list:
    """params["fn"](tensors) now; or, inside a gf.function's trace, a COLLECTIVE node with these params that
    calls it on every run, whose outputs have the shapes and dtypes of `out_specs` (default: the inputs')."""
    trace = current_graph_trace()
    if trace is None:
        return list(params["fn"](list(tensors)))
    specs = [_Spec(tuple(s.shape), s.dtype) for s in (tensors if out_specs is None else out_specs)]
    return trace.add_node(COLLECTIVE, tensors, dict(params), specs, tensors[0]._device)

