"""Dead-code elimination: drop the pure nodes whose outputs reach neither a graph output nor an effect.

One backward sweep: a node is live when it is not pure (effects, control flow, check_numerics: see
rewrite.is_pure) or when a live node or a graph output uses one of its outputs; a live node makes its inputs
live. Constants nothing live uses go too. Inside cond branches and loop bodies the same sweep runs with the
sub-graph's outputs as roots (the node's own inputs and outputs stay as they are).
"""
from __future__ import annotations

from .rewrite import derive, is_pure, map_subgraphs


def eliminate_dead_code(graph):
    """`graph` without the nodes and constants that no output and no effect depends on."""
    live = {s.index for s in graph.outputs}
    kept = []
    for node in reversed(graph.nodes):
        if is_pure(node) and not any(s.index in live for s in node.outputs):
            continue
        kept.append(map_subgraphs(node, eliminate_dead_code))
        live.update(s.index for s in node.inputs)
    kept.reverse()
    constants = {index: t for index, t in graph.constants.items() if index in live}
    return derive(graph, kept, constants)
