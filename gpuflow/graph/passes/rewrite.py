"""What the passes share: which nodes a pass may remove, merge or run early, and how a pass builds the
new Graph it returns (never touching the one it was given)."""
from __future__ import annotations

from ..ir import Effect, Graph, Node, derive  # noqa: F401 - derive: the passes build their graphs with it

# Primitives whose running matters beyond their outputs: check_numerics raises when its input holds NaN or Inf
# (TF marks CheckNumerics stateful so that grappler neither prunes, merges nor folds it; so do we).
IMPURE = frozenset({"check_numerics"})


def is_control_flow(node) -> bool:
    return getattr(node.prim, "control_flow", False)


def is_pure(node) -> bool:
    """Whether `node` is a primitive whose outputs depend only on its inputs and params and that does nothing
    else: not an effect (reads, assigns, feeds, prints, callbacks), not control flow, not in IMPURE. Random draws
    are pure: their Philox offset is an input (a FEED of its own per draw), their key a param."""
    prim = node.prim
    return not isinstance(prim, Effect) and not is_control_flow(node) and prim.name not in IMPURE


def subgraphs(node):
    """The sub-graphs a control-flow node holds (a cond's branches, a loop's condition and body), in params order."""
    for value in node.params.values():
        if isinstance(value, Graph):
            yield value
        elif isinstance(value, tuple) and value and all(isinstance(v, Graph) for v in value):
            yield from value


def map_subgraphs(node, run):
    """`node` with `run(graph)` in place of each of its sub-graphs (only control-flow nodes hold any). A
    sub-graph's inputs and outputs are the node's contract with it, and every pass keeps a graph's inputs and
    outputs, so running a pass inside is as safe as running it on the whole function."""
    if not is_control_flow(node):
        return node
    params = {}
    for key, value in node.params.items():
        if isinstance(value, Graph):
            value = run(value)
        elif isinstance(value, tuple) and value and all(isinstance(v, Graph) for v in value):
            value = tuple(run(v) for v in value)
        params[key] = value
    return Node(node.prim, node.inputs, params, node.outputs, node.device, node.where)


def rewired(node, replace: dict):
    """`node` reading replace[i] (a Symbol) wherever it read symbol i (the same node when none is replaced)."""
    if not any(s.index in replace for s in node.inputs):
        return node
    inputs = [replace.get(s.index, s) for s in node.inputs]
    return Node(node.prim, inputs, node.params, node.outputs, node.device, node.where)


def num_elements(symbol):
    """The number of elements of a value, or None when a dimension is unknown."""
    count = 1
    for d in symbol.shape:
        if d is None:
            return None
        count *= d
    return count
