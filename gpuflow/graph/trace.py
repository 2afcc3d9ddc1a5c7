"""GraphTrace: the trace gf.function pushes while it runs the Python function once.

Each primitive call becomes an IR node; its output specs come from the primitive's `infer`
(abstract evaluation), so no kernel runs while tracing. Inputs that are not values of this graph
are captured: an eager tensor becomes a constant, a gf.Variable a READ node (the latest value
assigned in this graph, if any, is used instead), so state lives in the graph as data.
"""
from __future__ import annotations

import os
import sys

from .._traces import state_trace
from ..errors import InvalidArgumentError
from ..ops import dispatch
from ..tensor import Symbol, Tensor, Variable
from .ir import ASSIGN, FEED, READ, Graph, Node

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def user_line(skip: int = 2) -> str | None:
    """'file.py:12': the innermost caller outside gpuflow (where the user wrote the op)."""
    frame = sys._getframe(skip)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE):
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back
    return None


class GraphTrace:
    captures_state = True  # Variables read and assign through this trace (gpuflow/_traces.py)

    def __init__(self, graph: Graph, allow_new_variables: bool, owner: str):
        self.graph = graph
        self.allow_new_variables = allow_new_variables
        self.owner = owner              # the function's name, for error messages
        self._constants = {}            # id of an eager tensor → its constant symbol
        self._reads = {}                # id of a Variable → the symbol holding its current value here
        self._variables = {}            # id of a Variable → its index in graph.variables

    # ---- the trace stack ---------------------------------------------------------------------------
    def __enter__(self):
        """`with trace:` the calling thread's ops go to this trace until the block ends."""
        dispatch.trace_stack().append(self)
        return self

    def __exit__(self, *exc):
        dispatch.trace_stack().remove(self)


    def process(self, prim, inputs, params, device, level):
        symbols = [self.symbol_of(t) for t in inputs]
        specs = dispatch._infer(prim, inputs, params)
        many = prim.n_outputs != 1
        outs = [self.graph.new_symbol(spec.shape, spec.dtype) for spec in (specs if many else (specs,))]
        self.graph.nodes.append(Node(prim, symbols, params, outs, device, user_line(3)))
        tensors = tuple(Tensor(s, s.dtype, device) for s in outs)
        return tensors if many else tensors[0]

    # ---- values --------------------------------------------------------------------------------
    def placeholder(self, shape, dtype, device) -> Tensor:
        symbol = self.graph.new_symbol(shape, dtype)
        self.graph.inputs.append(symbol)
        return Tensor(symbol, dtype, device)

    def symbol_of(self, t: Tensor) -> Symbol:
        data = t._data
        if type(data) is Symbol:
            if data.graph is self.graph:
                return data
            raise InvalidArgumentError(
                f"{self.owner}: uses a symbolic tensor of another gf.function's trace ({data!r}, "
                f"{t.dtype.name}{list(t.shape)}); pass it in as an argument instead of capturing it")
        if isinstance(t, Variable):
            return self.read(t)
        symbol = self._constants.get(t._id)
        if symbol is None:  # an eager tensor used inside the function: captured by value, as TF does
            symbol = self._constants[t._id] = self.graph.new_symbol(t.shape, t.dtype)
            self.graph.constants[symbol.index] = t
        return symbol

    def variable_index(self, var: Variable) -> int:
        index = self._variables.get(var._id)
        if index is None:
            index = self._variables[var._id] = len(self.graph.variables)
            self.graph.variables.append(var)
        return index

    def read(self, var: Variable) -> Symbol:
        symbol = self._reads.get(var._id)
        if symbol is None:
            symbol = self.graph.new_symbol(var.shape, var.dtype)
            self.graph.nodes.append(Node(READ, (), {"var": self.variable_index(var)}, (symbol,), var._device))
            self._reads[var._id] = symbol
        return symbol

    def read_tensor(self, var: Variable) -> Tensor:
        return Tensor(self.read(var), var.dtype, var._device)

    def assign(self, var: Variable, value: Tensor) -> None:
        symbol = self.symbol_of(value)
        self.graph.nodes.append(Node(ASSIGN, (symbol,), {"var": self.variable_index(var)}, (), var._device,
                                     user_line(3)))
        self._reads[var._id] = symbol  # later reads in this graph see the assigned value

    def feed(self, fn, dtype, device) -> Tensor:
        """A value the host computes on every call (fn() → NumPy) and uploads: per-step scalars such as the
        optimizer's learning rate and bias corrections, or a random draw's offset. Its shape is fn()'s now."""
        import numpy as np
        shape = np.shape(fn(probe=True))
        return self.add_node(FEED, (), {"fn": fn, "dtype": dtype}, [_Spec(shape, dtype)], device)[0]

    def add_node(self, effect, inputs, params, out_specs, device) -> list[Tensor]:
        """An effect node (print, cond, while_loop) with `inputs` (tensors) and outputs of `out_specs`."""
        symbols = [self.symbol_of(t) for t in inputs]
        outs = [self.graph.new_symbol(spec.shape, spec.dtype) for spec in out_specs]
        self.graph.nodes.append(Node(effect, symbols, params, outs, device, user_line(3)))
        return [Tensor(s, s.dtype, device) for s in outs]


class _Spec:
    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape, self.dtype = tuple(shape), dtype


def current_graph_trace() -> GraphTrace | None:
    """This thread's innermost gf.function trace, if one is running (the traces that capture state are
    GraphTraces)."""
    return state_trace()
