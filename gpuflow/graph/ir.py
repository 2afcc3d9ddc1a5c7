"""The IR of a traced function: values (Symbols), nodes and one Graph per concrete function.

Small on purpose (design.md, "Tracing and the compiled step"): a node is a primitive, its input
values, its params and its output values with their shapes and dtypes. Besides the primitives of
gpuflow.ops, a few effect nodes carry state and host work (reading and assigning a captured
Variable, gf.print, a host value uploaded or a host function called on each call), and control-flow nodes (cond, while_loop) hold their branches and bodies
as sub-graphs.
"""
from __future__ import annotations

import copy

from ..tensor import Symbol


class Effect:
    """A node kind that is not a primitive of gpuflow.ops: the executor runs it itself."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"<effect {self.name}>"


READ = Effect("read_variable")       # params: var (index into graph.variables)
ASSIGN = Effect("assign_variable")   # inputs: (value,), params: var
PRINT = Effect("print")              # inputs: the tensors; params: template, sep, end, output_stream
FEED = Effect("host_feed")           # params: fn (host callable → NumPy value, run on every call), dtype
CALLBACK = Effect("host_callback")   # inputs: tensors; params: fn (called with their host values on every call)
# inputs: tensors; params: fn (called with them as Tensors on every call, returns the outputs as Tensors) and what
# it is, for printing; a cross-device exchange of gf.distribute (graph/collective.py). Not in EFFECTS: it holds a
# live object (the strategy's communicators), never written to a file.
COLLECTIVE = Effect("collective")
EFFECTS = {e.name: e for e in (READ, ASSIGN, PRINT, FEED, CALLBACK)}
# cond and while_loop nodes hold a control_flow.ControlFlow primitive (made per call, with sub-graphs in params).


class Node:
    __slots__ = ("prim", "inputs", "params", "outputs", "device", "where")

    def __init__(self, prim, inputs, params, outputs, device, where=None):
        self.prim, self.inputs, self.params, self.outputs = prim, tuple(inputs), params, tuple(outputs)
        self.device, self.where = device, where  # where: "file.py:12", the user's line that made it

    def __repr__(self):
        return node_line(self)


class Graph:
    """One traced function: placeholders in `inputs`, `outputs`, `nodes` in execution order, captured
    `constants` (symbol index → eager Tensor) and `variables` (captured gf.Variables, read and assigned
    by READ/ASSIGN nodes)."""

    def __init__(self, name="graph"):
        self.name = name
        self.symbols: list[Symbol] = []
        self.inputs: list[Symbol] = []
        self.outputs: list[Symbol] = []
        self.nodes: list[Node] = []
        self.constants: dict = {}
        self.variables: list = []
        self.devices: dict = {}  # output symbol index → the device of the tensor the function returned there
        self.custom_gradients: list = []  # gf.custom_gradient calls traced here (autograd/custom_gradient.Region)
        self._plan = None        # the executor's Plan, made on first use

    def new_symbol(self, shape, dtype) -> Symbol:
        symbol = Symbol(shape, dtype, self, len(self.symbols))
        self.symbols.append(symbol)
        return symbol

    def __str__(self):
        lines = [f"graph {self.name}({', '.join(_value(s) for s in self.inputs)}):"]
        for index, tensor in self.constants.items():
            lines.append(f"  %{index}: {_spec(self.symbols[index])} = constant")
        for i, var in enumerate(self.variables):
            lines.append(f"  var{i}: {var.dtype.name}{list(var.shape)} = {var.name}")
        lines += ["  " + node_line(node) for node in self.nodes]
        lines.append(f"  return {', '.join(f'%{s.index}' for s in self.outputs)}")
        return "\n".join(lines)

    def __len__(self):
        return len(self.nodes)


def derive(graph, nodes, constants=None, replace=None):
    """A new Graph like `graph` with these `nodes` (and `constants`, when given), its outputs renamed by
    `replace` (symbol index → Symbol). Symbols keep their indices (the list is copied, so symbols a later pass
    adds stay its own); variables and inputs are the same."""
    new = copy.copy(graph)  # whatever else a Graph carries comes along
    new.symbols = list(graph.symbols)
    new.inputs = list(graph.inputs)
    new.variables = list(graph.variables)
    new.nodes = list(nodes)
    new.constants = dict(graph.constants if constants is None else constants)
    new.outputs = list(graph.outputs)
    new.devices = dict(graph.devices)
    new._plan = None
    if replace:
        new.outputs = [replace.get(s.index, s) for s in graph.outputs]
        for old, now in zip(graph.outputs, new.outputs):
            if old.index in graph.devices:
                new.devices[now.index] = graph.devices[old.index]
    return new


def _spec(symbol) -> str:
    return f"{symbol.dtype.name}[{','.join('?' if d is None else str(d) for d in symbol.shape)}]"


def _value(symbol) -> str:
    return f"%{symbol.index}: {_spec(symbol)}"


def _param(value) -> str:
    if isinstance(value, Graph):
        return f"<graph {value.name}: {len(value.nodes)} nodes>"
    if isinstance(value, tuple) and value and all(isinstance(v, Graph) for v in value):
        return "(" + ", ".join(_param(v) for v in value) + ")"
    return repr(value)


def node_line(node) -> str:
    """'%5: float32[128,10] = matmul(%3, %4) transpose_a=False': one op per line, with shapes."""
    outs = ", ".join(_value(s) for s in node.outputs)
    params = " ".join(f"{k}={_param(v)}" for k, v in node.params.items())
    text = f"{node.prim.name}({', '.join(f'%{s.index}' for s in node.inputs)})"
    return (f"{outs} = " if outs else "") + text + (f" {params}" if params else "")
