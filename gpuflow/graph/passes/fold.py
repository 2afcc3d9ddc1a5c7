"""Constant folding: a pure node whose inputs are all constants runs once, when the function is planned, and
its outputs become constants of the graph.

It runs through the eager dispatch on the node's own device (the same kernel the step would launch, so the
values are the step's to the bit). One forward sweep folds whole chains: a folded output is a constant for the
nodes after it (`divide(c1, c2)` → reshape → broadcast_to, the loss's gradient seed, all fold). Two kinds of
node stay: those whose result would be large (more than LARGE elements, and more than its inputs hold:
broadcasting a scalar to a big shape is cheaper as a kernel than as memory held for the function's lifetime),
and those that fail when run now (the step raises their error when it runs, as it would without folding).
Constants no longer used are left for dead-code elimination.
"""
from __future__ import annotations

from ...ops.dispatch import evaluate
from .rewrite import derive, is_pure, map_subgraphs, num_elements

LARGE = 1 << 16  # elements


def fold_constants(graph):
    """`graph` with every foldable node computed now (see the module doc)."""
    constants = dict(graph.constants)
    nodes = []
    for node in graph.nodes:
        node = map_subgraphs(node, fold_constants)
        if is_pure(node) and all(s.index in constants for s in node.inputs) and _small(node):
            values = _run(node, [constants[s.index] for s in node.inputs])
            if values is not None:
                constants.update((s.index, t) for s, t in zip(node.outputs, values))
                continue
        nodes.append(node)
    return derive(graph, nodes, constants)


def _small(node) -> bool:
    produced = [num_elements(s) for s in node.outputs]
    if None in produced:
        return False
    size = sum(produced)
    return size <= LARGE or size <= sum(num_elements(s) or 0 for s in node.inputs)


def _run(node, inputs):
    """The node's output Tensors, computed now; None when it cannot run here."""
    try:
        out = evaluate(node.prim, inputs, dict(node.params), node.device)
    except Exception:  # noqa: BLE001 - the step will raise it when it runs the node, where the user expects it
        return None
    return out if node.prim.n_outputs != 1 else (out,)
