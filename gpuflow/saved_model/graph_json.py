"""Traced graphs (gpuflow.graph IR) as JSON, and back with every field checked.

A graph is {"name", "symbols": [[dtype, shape], ...], "inputs", "outputs" (symbol numbers), "constants":
[[symbol, tensor key], ...], "variables": [numbers into the SavedModel's variable list], "nodes": [{"op",
"inputs", "outputs", "params", "device"}, ...]}. Ops are named, never pickled: a primitive of gpuflow.ops, an
effect (read_variable, assign_variable, print) or control flow (cond, while_loop, whose params hold their
sub-graphs). Reading one back checks each field's type, that every value is made once and before its use,
and re-runs each primitive's shape inference on the node's input specs, so a graph whose recorded shapes
disagree with its ops is refused before anything is allocated.
"""
from __future__ import annotations

from .. import dtypes
from ..graph.control_flow import ControlFlow, _cond_grad, _while_grad
from ..graph.ir import ASSIGN, EFFECTS, FEED, READ, Graph, Node
from ..ops.dispatch import PRIMITIVES
from ..tensor import TensorSpec
from . import params as _params


# ---------------------------------------------------------------- save
class GraphWriter:
    """Encodes graphs, collecting the variables they use (one list for the SavedModel) and their constants."""

    def __init__(self):
        self.variables = []                 # in first-use order
        self._variable_index = {}
        self.constants = {}                 # tensor key → NumPy array
        self._constant_keys = {}

    def variable(self, var) -> int:
        index = self._variable_index.get(var._id)
        if index is None:
            index = self._variable_index[var._id] = len(self.variables)
            self.variables.append(var)
        return index

    def constant(self, tensor) -> str:
        key = self._constant_keys.get(tensor._id)
        if key is None:
            import numpy as np
            key = self._constant_keys[tensor._id] = f"constants/{len(self.constants)}"
            self.constants[key] = np.asarray(tensor.numpy(), order="C")
        return key

    def graph(self, graph, owner) -> dict:
        return {"name": graph.name,
                "symbols": [[s.dtype.name, [None if d is None else int(d) for d in s.shape]] for s in graph.symbols],
                "inputs": [s.index for s in graph.inputs], "outputs": [s.index for s in graph.outputs],
                "constants": [[index, self.constant(t)] for index, t in graph.constants.items()],
                "variables": [self.variable(v) for v in graph.variables],
                "nodes": [self._node(node, owner) for node in graph.nodes]}

    def _node(self, node, owner) -> dict:
        name = node.prim.name
        where = f" (made at {node.where})" if node.where else ""
        if node.prim is FEED:
            raise ValueError(f"gf.saved_model.save: {owner} computes a host value on every call{where} (a random "
                             f"draw, or an optimizer's step-dependent scalar); a SavedModel holds no Python "
                             f"callables. Save an inference function (e.g. model(x, training=False)) without it")
        params = {}
        for key, value in node.params.items():
            try:
                params[key] = _params.encode(value, lambda g: self.graph(g, owner))
            except _params.Unsaveable as e:
                raise ValueError(f"gf.saved_model.save: {owner}: op {name}{where} has param {key} = {e}, which has "
                                 f"no JSON form; a SavedModel stores only numbers, strings, dtypes, shapes, "
                                 f"devices and sub-graphs") from None
        return {"op": name, "inputs": [s.index for s in node.inputs], "outputs": [s.index for s in node.outputs],
                "params": params, "device": node.device.kind}


# ---------------------------------------------------------------- load
_NODE_KEYS = {"op", "inputs", "outputs", "params", "device"}
_GRAPH_KEYS = {"name", "symbols", "inputs", "outputs", "constants", "variables", "nodes"}
_CONTROL_FLOW = {"cond": _cond_grad, "while_loop": _while_grad}


class GraphReader:
    """Decodes and checks graphs against the SavedModel's variable specs; the graphs it returns still lack
    their variables and constants, which `attach` gives them once the tensor file is read."""

    def __init__(self, variable_specs, device):
        self.variable_specs = variable_specs  # [TensorSpec] of the SavedModel's variables
        self.device = device                  # where every node of a loaded graph runs
        self.pending = []                     # (graph, variable numbers, [(symbol, key)]) per graph, sub-graphs too
        self.constant_specs = {}              # tensor key → TensorSpec it must have

    def graph(self, data, where) -> Graph:
        _expect_dict(data, _GRAPH_KEYS, where)
        graph = Graph(_typed(data["name"], str, where / "name"))
        for i, entry in enumerate(_typed(data["symbols"], list, where / "symbols")):
            spec = spec_of(entry, where / "symbols" / i)
            graph.new_symbol(spec.shape, spec.dtype)
        symbols = graph.symbols
        defined = set()

        def define(index, at):
            symbol = _symbol(symbols, index, at)
            if symbol.index in defined:
                raise at.error(f"value %{symbol.index} is made twice")
            defined.add(symbol.index)
            return symbol

        graph.inputs = [define(v, where / "inputs" / i) for i, v in enumerate(_typed(data["inputs"], list,
                                                                                     where / "inputs"))]
        constants = []
        for i, entry in enumerate(_typed(data["constants"], list, where / "constants")):
            at = where / "constants" / i
            if type(entry) is not list or len(entry) != 2 or type(entry[1]) is not str:
                raise at.error(f"expected [symbol, tensor key], got {entry!r:.80}")
            symbol = define(entry[0], at)
            if None in symbol.shape:
                raise at.error(f"constant %{symbol.index} has unknown dims {list(symbol.shape)}")
            self._constant(entry[1], TensorSpec(symbol.shape, symbol.dtype), at)
            constants.append((symbol.index, entry[1]))
        var_refs = []
        for i, v in enumerate(_typed(data["variables"], list, where / "variables")):
            if type(v) is not int or not 0 <= v < len(self.variable_specs):
                raise (where / "variables" / i).error(f"variable number {v!r:.40} is not one of the "
                                                      f"{len(self.variable_specs)} variables")
            var_refs.append(v)
        variables = [self.variable_specs[v] for v in var_refs]
        for i, entry in enumerate(_typed(data["nodes"], list, where / "nodes")):
            graph.nodes.append(self._node(entry, symbols, defined, define, variables, where / "nodes" / i))
        graph.outputs = [_symbol(symbols, v, where / "outputs" / i)
                         for i, v in enumerate(_typed(data["outputs"], list, where / "outputs"))]
        missing = sorted(set(range(len(symbols))) - defined)
        if missing:
            raise where.error(f"values {missing[:10]} are never made")
        graph.devices = {s.index: self.device for s in graph.outputs}
        self.pending.append((graph, var_refs, constants))
        return graph

    def _node(self, entry, symbols, defined, define, variables, at) -> Node:
        _expect_dict(entry, _NODE_KEYS, at)
        ins = [_symbol(symbols, v, at / "inputs" / j) for j, v in enumerate(_typed(entry["inputs"], list,
                                                                                   at / "inputs"))]
        for s in ins:
            if s.index not in defined:
                raise at.error(f"uses value %{s.index} before it is made")
        outs = [define(v, at / "outputs" / j) for j, v in enumerate(_typed(entry["outputs"], list, at / "outputs"))]
        if entry["device"] not in _params.DEVICE_KINDS:
            raise (at / "device").error(f"unknown device kind {entry['device']!r:.40}")
        params = {k: _params.decode(v, at / "params" / k, self.graph, self.device)
                  for k, v in _typed(entry["params"], dict, at / "params").items()}
        prim = self._check_node(_typed(entry["op"], str, at / "op"), ins, outs, params, variables, at)
        return Node(prim, ins, params, outs, self.device)

    def _constant(self, key, spec, at):
        known = self.constant_specs.setdefault(key, spec)
        if known != spec:
            raise at.error(f"tensor {key!r} is used as {spec.dtype.name}{list(spec.shape)} and as "
                           f"{known.dtype.name}{list(known.shape)}")

    def _check_node(self, op, ins, outs, params, variables, at):
        """The node's primitive, after checking its inputs, params and outputs agree with it."""
        if op in EFFECTS:
            return self._check_effect(EFFECTS[op], ins, outs, params, variables, at)
        if op in _CONTROL_FLOW:
            prim = ControlFlow(op, [TensorSpec(s.shape, s.dtype) for s in outs], _CONTROL_FLOW[op])
            _check_control_flow(op, ins, outs, params, at)
            return prim
        prim = PRIMITIVES.get(op) or _registered_primitives().get(op)
        if prim is None:
            raise at.error(f"unknown op {op!r:.60}: this gpuflow has no such primitive (was the model saved by a "
                           f"newer gpuflow?)", cls=_not_found())
        try:
            specs = prim.infer(*[TensorSpec(s.shape, s.dtype) for s in ins], **params)
        except Exception as e:  # noqa: BLE001 - any failure of the op's own checks means the file is wrong
            raise at.error(f"op {op} refuses its inputs {_shown(ins)} and params {params!r:.200}: "
                           f"{type(e).__name__}: {e}") from None
        specs = specs if prim.n_outputs != 1 else (specs,)
        _same_specs(op, specs, outs, at)
        return prim

    def _check_effect(self, effect, ins, outs, params, variables, at):
        if effect is FEED:
            raise at.error("op host_feed (a host callable) cannot be in a SavedModel")
        if effect is READ or effect is ASSIGN:
            _expect_params(params, {"var"}, at)
            var = params["var"]
            if type(var) is not int or not 0 <= var < len(variables):
                raise at.error(f"variable {var!r:.40} is not one of this graph's {len(variables)} variables")
            n_in, n_out = (0, 1) if effect is READ else (1, 0)
            if len(ins) != n_in or len(outs) != n_out:
                raise at.error(f"{effect.name} takes {n_in} input(s) and gives {n_out} output(s)")
            _same_specs(effect.name, [variables[var]], outs or ins, at)
            return effect
        # PRINT
        _expect_params(params, {"template", "summarize", "sep", "end", "output_stream"}, at)
        template = params["template"]
        if (not isinstance(template, tuple) or not all(p is None or type(p) is str for p in template)
                or sum(p is None for p in template) != len(ins) or outs):
            raise at.error("print: template must hold one null per input tensor and strings, and print gives no output")
        if params["output_stream"] not in ("stdout", "stderr") or type(params["summarize"]) is not int \
                or type(params["sep"]) is not str or type(params["end"]) is not str:
            raise at.error("print: output_stream must be 'stdout' or 'stderr', summarize an int, sep and end strings")
        return effect


def _check_control_flow(op, ins, outs, params, at):
    if op == "cond":
        _expect_params(params, {"branches", "maps"}, at)
        graphs, maps, captures = params["branches"], params["maps"], ins[1:]
        if not ins or ins[0].dtype is not dtypes.bool or tuple(ins[0].shape) != ():
            raise at.error("cond: the first input must be a scalar bool predicate")
        results = list(graphs) if isinstance(graphs, tuple) else []
        if len(results) != 2:
            raise at.error("cond: branches must be two graphs")
    else:
        _expect_params(params, {"cond", "body", "maps", "n_vars", "maximum_iterations"}, at)
        n, limit = params["n_vars"], params["maximum_iterations"]
        if type(n) is not int or not 0 <= n <= len(ins) or not (limit is None or type(limit) is int):
            raise at.error("while_loop: n_vars must count the loop variables among the inputs, "
                           "maximum_iterations be an int or null")
        graphs, maps, captures = (params["cond"], params["body"]), params["maps"], ins[n:]
        if len(outs) != n:
            raise at.error(f"while_loop: {len(outs)} outputs for {n} loop variables")
        cond_graph = graphs[0]
        if len(cond_graph.outputs) != 1 or cond_graph.outputs[0].dtype is not dtypes.bool:
            raise at.error("while_loop: cond must give one bool")
        results = [graphs[1]]
    if not isinstance(maps, tuple) or len(maps) != 2 or not all(
            isinstance(m, tuple) and all(type(j) is int and 0 <= j < len(captures) for j in m) for m in maps):
        raise at.error(f"{op}: maps must be two tuples of capture numbers below {len(captures)}")
    for k, graph in enumerate(graphs):
        lead = [] if op == "cond" else ins[:params["n_vars"]]
        expected = lead + [captures[j] for j in maps[k]]
        _same_specs(f"{op} sub-graph {graph.name} input", [TensorSpec(s.shape, s.dtype) for s in expected],
                    graph.inputs, at)
    for graph in results:
        _same_specs(f"{op} sub-graph {graph.name} output", [TensorSpec(s.shape, s.dtype) for s in outs],
                    graph.outputs, at, loose=True)


def attach(reader, variables, constants):
    """Gives each graph read by `reader` its Variables (the SavedModel's, in order) and constant Tensors
    (tensor key → Tensor)."""
    for graph, var_refs, constant_refs in reader.pending:
        graph.variables = [variables[v] for v in var_refs]
        graph.constants = {index: constants[key] for index, key in constant_refs}


# ---------------------------------------------------------------- checks
def _registered_primitives():
    """Every primitive of gpuflow.ops: some modules define theirs on first use (a layer's fused kernels), so a
    process that only loads a SavedModel imports them all here (gpuflow's own modules, never the file's)."""
    import importlib
    import pkgutil
    from .. import ops
    for module in pkgutil.iter_modules(ops.__path__):
        importlib.import_module(f"{ops.__name__}.{module.name}")
    return PRIMITIVES


def _not_found():
    from ..errors import NotFoundError
    return NotFoundError


def _typed(value, kind, where):
    if type(value) is not kind:
        raise where.error(f"expected a JSON {kind.__name__.replace('dict', 'object').replace('str', 'string')}, "
                          f"got {type(value).__name__} {value!r:.60}")
    return value


def _expect_dict(value, keys, where):
    _typed(value, dict, where)
    if set(value) != keys:
        missing, extra = sorted(keys - set(value)), sorted(set(value) - keys)
        raise where.error(f"expected the keys {sorted(keys)}" + (f"; missing {missing}" if missing else "")
                          + (f"; unknown {extra}" if extra else ""))


def _expect_params(params, keys, where):
    if set(params) != keys:
        raise where.error(f"params must be {sorted(keys)}, got {sorted(params)}")


def spec_of(entry, where) -> TensorSpec:
    """[dtype name, shape] → TensorSpec, checked."""
    if type(entry) is not list or len(entry) != 2:
        raise where.error(f"expected [dtype, shape], got {entry!r:.80}")
    dtype, shape = entry
    if dtype not in {d.name for d in dtypes.ALL}:
        raise where.error(f"unknown dtype {dtype!r:.40}")
    if type(shape) is not list or not all(d is None or (type(d) is int and d >= 0) for d in shape):
        raise where.error(f"a shape must be a list of sizes >= 0 or null, got {shape!r:.80}")
    return TensorSpec(shape, dtype)


def _symbol(symbols, index, where):
    if type(index) is not int or not 0 <= index < len(symbols):
        raise where.error(f"value number {index!r:.40} is not one of the graph's {len(symbols)} values")
    return symbols[index]


def _shown(values) -> str:
    return ", ".join(f"{s.dtype.name}{list(s.shape)}" for s in values) or "none"


def _same_specs(op, specs, symbols, where, loose=False):
    """The recorded values must have the specs the op gives (`loose`: unknown dims on either side agree)."""
    if len(specs) != len(symbols):
        raise where.error(f"{op} gives {len(specs)} values, the file records {len(symbols)}")
    for spec, symbol in zip(specs, symbols):
        same = spec.dtype == symbol.dtype and len(spec.shape) == len(symbol.shape) and all(
            a == b or (loose and (a is None or b is None)) for a, b in zip(spec.shape, symbol.shape))
        if not same:
            raise where.error(f"{op} gives {spec.dtype.name}{list(spec.shape)} where the file records "
                              f"{symbol.dtype.name}{list(symbol.shape)}")
