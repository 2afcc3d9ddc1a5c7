"""A cpu graph's replay as one generated Python function: the cpu's counterpart of executor.Plan.

On cpu a node's NumPy call takes microseconds, so the interpreter's own bookkeeping around it (a value
list indexed per input, a tuple unpacked per step, a loop over drops) is a visible share of a step. Here
the plan is written out once as straight-line Python, compiled, and called on every step:

    def replay(a0, a1):
        v2 = V0._data                                          # read_variable var=0
        v3 = f1(a0, v2, transpose_a=P1_0, transpose_b=P1_1)   # matmul
        del a0
        ...
        V0._data = v42                                         # assign_variable var=0
        return [v66]

Values live in locals, each deleted right after its last use (as Plan drops them, so memory is given back
as eager code gives it back); impls, params, constants and variables are bound once as the function's
globals. Every primitive runs through the impl the executor would call (`backend.impls[prim.name]`, or a
fused primitive's own `impl_for(backend)`), so any primitive with a cpu impl replays here.

Optimizer updates run in place (the NumPy rules take `out=`, gpuflow/backend/numpy/optim.py): when an
update's param and slot inputs are reads of the very variables its outputs are assigned to, used by nothing
after it and by no other input of it, the call writes the new values into those variables' buffers. As
TF's copy-on-write variables do, only when nothing else holds a buffer: each call checks that the buffer
owns its memory (no view) and that its reference count is the replay's own (the variable's and the local's:
`BASE_REFS`). A Tensor the user kept from `v.value()`, or a view of it, makes that call write new buffers.

Graphs with other effect nodes (gf.print, host callbacks, cond / while_loop) replay through executor.Plan.
"""
from __future__ import annotations

import keyword
import sys

from .executor import in_place_updates
from .ir import ASSIGN, FEED, READ, Effect

_getrefcount = sys.getrefcount


def cpu_replay(graph):
    """The straight-line replay of `graph` when every node runs on cpu and is a primitive with a cpu impl or a
    variable read / assign / host feed; else None (executor.Plan replays it)."""
    for node in graph.nodes:
        if node.device.kind != "cpu" or getattr(node.prim, "control_flow", False):
            return None
        if isinstance(node.prim, Effect):
            if node.prim not in (READ, ASSIGN, FEED):
                return None
        elif _impl(node) is None:
            return None  # Plan says which primitive, on which device
    return CpuReplay(graph)


class CpuReplay:
    """Plan's interface: `run(arrays)` → the outputs' arrays. `source` is the generated function's text."""

    def __init__(self, graph):
        self.graph = graph
        self.variables = graph.variables
        self.source, namespace = _generate(graph)
        code = compile(self.source, f"<gpuflow cpu replay of {graph.name}>", "exec")
        exec(code, namespace)  # noqa: S102 - our own generated text, from the graph's structure only
        self._replay = namespace["replay"]

    def run(self, arrays):
        return self._replay(*arrays)

    def __repr__(self):
        return f"<CpuReplay {self.graph.name}: {len(self.graph.nodes)} nodes>"


def _generate(graph):
    names = {}
    namespace = {"_rc": _getrefcount, "BASE_REFS": BASE_REFS}
    for index, tensor in graph.constants.items():
        names[index] = f"C{index}"
        namespace[f"C{index}"] = tensor._data
    args = []
    for k, symbol in enumerate(graph.inputs):
        if symbol.index not in names:  # (an input given twice keeps its first name)
            names[symbol.index] = f"a{k}"
        args.append(f"a{k}")
    keep = {s.index for s in graph.outputs} | set(graph.constants)
    last_use = {}
    for i, node in enumerate(graph.nodes):
        for s in node.inputs:
            last_use[s.index] = i
    in_place = in_place_updates(graph, last_use, keep)

    lines = [f"def replay({', '.join(args)}):"]
    for k, symbol in enumerate(graph.inputs):  # an input used by nothing: dropped at once
        if symbol.index not in last_use and symbol.index not in keep and names[symbol.index] == f"a{k}":
            lines.append(f"    del a{k}")
    for i, node in enumerate(graph.nodes):
        for s in node.outputs:
            names[s.index] = f"v{s.index}"
        ins = [names[s.index] for s in node.inputs]
        outs = [names[s.index] for s in node.outputs]
        lines += _node_lines(i, node, ins, outs, in_place.get(i), graph.variables, namespace)
        dead = [s.index for s in node.inputs if last_use[s.index] == i and s.index not in keep]
        dead += [s.index for s in node.outputs if s.index not in last_use and s.index not in keep]
        dead = list(dict.fromkeys(names[j] for j in dead))
        if dead:
            lines.append(f"    del {', '.join(dead)}")
    lines.append(f"    return [{', '.join(names[s.index] for s in graph.outputs)}]")
    return "\n".join(lines) + "\n", namespace


def _node_lines(i, node, ins, outs, targets, variables, namespace):
    prim, params = node.prim, node.params
    if prim is READ or prim is ASSIGN:
        var = f"V{params['var']}"
        namespace[var] = variables[params["var"]]
        if prim is READ:
            return [f"    {outs[0]} = {var}._data  # read_variable"]
        return [f"    {var}._data = {ins[0]}  # assign_variable"]
    if prim is FEED:
        namespace[f"feed{i}"], namespace[f"dtype{i}"] = params["fn"], params["dtype"]
        namespace[f"from_numpy{i}"] = node.device.backend.from_numpy
        return [f"    {outs[0]} = from_numpy{i}(feed{i}(), dtype{i}, copy=False)  # host_feed"]
    namespace[f"f{i}"] = _impl(node)
    call_args = ins + _param_args(i, params, namespace)
    lhs = outs[0] if prim.n_outputs == 1 else ", ".join(outs) + ("," if len(outs) == 1 else "")
    lhs = f"{lhs} = " if outs else ""
    call = f"f{i}({', '.join(call_args)})"
    name = "".join(c if c.isprintable() else "?" for c in prim.name)  # a comment: never a line break
    if targets is None:
        return [f"    {lhs}{call}  # {name}"]
    # An update that may write into its param and slot buffers (see the module doc): only if they are held
    # by their variable and this local alone, and own their memory.
    names = [ins[k] for k in targets]
    free = " and ".join(f"_rc({t}) == BASE_REFS and {t}.base is None" for t in names)
    in_place = f"f{i}({', '.join(call_args)}, out=({', '.join(names)},))"
    return [f"    if {free}:",
            f"        {lhs}{in_place}  # {name}, in place",
            "    else:",
            f"        {lhs}{call}  # {name}"]


def _impl(node):
    """The node's function on its device, as the executor finds it (a fused primitive brings its own)."""
    backend = node.device.backend
    return node.prim.impl_for(backend) if hasattr(node.prim, "impl_for") else backend.impls.get(node.prim.name)


def _param_args(i, params, namespace):
    """Params as keyword arguments bound to globals (no dict per call), or one ** dict if a name cannot be."""
    if not all(k.isidentifier() and not keyword.iskeyword(k) and k != "out" for k in params):
        namespace[f"P{i}"] = params
        return [f"**P{i}"]
    args = []
    for j, (k, v) in enumerate(params.items()):
        namespace[f"P{i}_{j}"] = v
        args.append(f"{k}=P{i}_{j}")
    return args


def _base_refs():
    """sys.getrefcount of a replay's local holding a variable's buffer that nothing else holds: the variable's
    reference, the local's and the call's own argument (fewer where the interpreter borrows stack
    references), measured on a function generated the same way."""
    namespace = {"_rc": _getrefcount}
    exec(compile("def probe(V):\n    x = V._data\n    return _rc(x)\n", "<probe>", "exec"), namespace)  # noqa: S102

    class Holder:
        pass
    holder = Holder()
    holder._data = [0]
    return namespace["probe"](holder)


BASE_REFS = _base_refs()
