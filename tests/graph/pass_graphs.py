"""Helpers of the pass tests: trace a function into a Graph, run a Graph through the executor's Plan, and build
small graphs by hand (for shapes of graph the tracer would not make, such as two reads of one variable)."""
from __future__ import annotations

import contextlib

import numpy as np

import gpuflow as gf
from gpuflow.graph.executor import Plan
from gpuflow.graph.ir import Graph, Node
from gpuflow.tensor import Tensor


def traced(fn, *specs):
    """The traced (unoptimized) Graph of gf.function(fn) for these TensorSpecs."""
    return gf.function(fn).get_concrete_function(*specs).graph


def prims(graph) -> list[str]:
    return [node.prim.name for node in graph.nodes]


def run(graph, *inputs) -> list[np.ndarray]:
    """Run `graph` on eager tensors through a fresh Plan; its outputs as NumPy arrays."""
    arrays = Plan(graph).run([t._data for t in inputs])
    device = inputs[0]._device if inputs else gf.constant(0.0)._device
    return [Tensor(a, s.dtype, graph.devices.get(s.index, device)).numpy() for a, s in zip(arrays, graph.outputs)]


def snapshot(graph) -> tuple:
    """What a pass must leave unchanged in the graph it was given."""
    return str(graph), len(graph.nodes), dict(graph.constants), list(graph.outputs)


class Builder:
    """A Graph written node by node: b.input(shape), b.node(prim or effect, *inputs, out=[specs], **params)."""

    def __init__(self, device):
        self.graph = Graph("hand")
        self.device = device

    def input(self, shape, dtype=gf.float32):
        symbol = self.graph.new_symbol(tuple(shape), dtype)
        self.graph.inputs.append(symbol)
        return symbol

    def constant(self, value, dtype=gf.float32):
        tensor = gf.constant(value, dtype=dtype)
        symbol = self.graph.new_symbol(tuple(tensor.shape), tensor.dtype)
        self.graph.constants[symbol.index] = tensor
        return symbol

    def variable(self, var) -> int:
        self.graph.variables.append(var)
        return len(self.graph.variables) - 1

    def node(self, prim, *inputs, out=(), **params):
        outs = [self.graph.new_symbol(tuple(shape), dtype) for shape, dtype in out]
        self.graph.nodes.append(Node(prim, inputs, params, outs, self.device))
        return outs[0] if len(outs) == 1 else outs

    def returns(self, *symbols):
        self.graph.outputs = list(symbols)
        return self.graph


@contextlib.contextmanager
def optimizer_options(**options):
    """gf.config.optimizer.set_experimental_options(options) inside the block, the previous options after it."""
    saved = gf.config.optimizer.get_experimental_options()
    gf.config.optimizer.set_experimental_options(options)
    try:
        yield
    finally:
        gf.config.optimizer.set_experimental_options(saved)
