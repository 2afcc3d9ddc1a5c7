"""Common-subexpression elimination: two pure nodes with the same primitive, device, inputs and equal params
compute the same values, so the later one goes and its users read the first one's outputs.

Only pure nodes merge (rewrite.is_pure): never an effect (so never two reads of a variable, with or without an
assign between them), a control-flow node or check_numerics. Random draws do merge when identical: a draw is a
pure function of its key (a param) and its Philox offset (an input), and every draw traced gets an offset feed
of its own, so two draws share all their inputs only when they are the very same draw (a stateless draw with
the same seed twice, say). Small constants of equal value, dtype, shape and device become one first, so the
nodes reading them can merge too.

Params are compared by value and type (1, 1.0 and True differ; so do 0.0 and -0.0), containers and NumPy
arrays element by element; any other object only with itself.
"""
from __future__ import annotations

import numpy as np

from ...dtypes import DType
from .rewrite import derive, is_pure, map_subgraphs, rewired

SMALL_CONSTANT = 64  # elements: constants up to this size are compared by value (a host read each, at plan time)


def eliminate_common_subexpressions(graph):
    """`graph` with each repeated pure computation done once."""
    replace, constants = _merge_constants(graph)
    seen, nodes = {}, []
    for node in graph.nodes:
        node = map_subgraphs(rewired(node, replace), eliminate_common_subexpressions)
        if is_pure(node):
            key = (node.prim, node.device, tuple(s.index for s in node.inputs), params_key(node.params))
            first = seen.get(key)
            if first is not None:
                for mine, theirs in zip(node.outputs, first.outputs):
                    replace[mine.index] = theirs
                continue
            seen[key] = node
        nodes.append(node)
    return derive(graph, nodes, constants, replace)


def _merge_constants(graph):
    """({duplicate symbol index: the first equal constant's symbol}, the constants without the duplicates)."""
    replace, constants, first = {}, {}, {}
    for index, tensor in graph.constants.items():
        if tensor.shape.num_elements() <= SMALL_CONSTANT:
            array = np.ascontiguousarray(tensor.numpy())
            key = (tensor._device, tensor.dtype, tuple(tensor.shape), array.tobytes())
            if key in first:
                replace[index] = graph.symbols[first[key]]
                continue
            first[key] = index
        constants[index] = tensor
    return replace, constants


_ATOMS = (bool, int, str, bytes, type(None), DType)


def params_key(value):
    """A hashable stand-in for a params value: equal keys mean the op computes the same thing."""
    kind = type(value)
    if kind in _ATOMS:
        return kind, value
    if kind is float:  # by its bits: 0.0 and -0.0 differ, a NaN equals itself
        return kind, value.hex()
    if kind is complex:
        return kind, value.real.hex(), value.imag.hex()
    if kind is dict:
        return kind, tuple(sorted(((params_key(k), params_key(v)) for k, v in value.items()), key=repr))
    if isinstance(value, (tuple, list)):  # TensorShape, namedtuples: their type says which
        return kind, tuple(params_key(v) for v in value)
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.ascontiguousarray(value)
        return np.ndarray, array.dtype.str, array.shape, array.tobytes()
    return "object", id(value)  # the same object only (nodes hold their params, so the id stays theirs)
