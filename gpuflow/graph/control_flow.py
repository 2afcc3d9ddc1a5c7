"""gf.cond and gf.while_loop with tf's semantics.

With a Python or eager predicate they are plain Python: the branch taken runs, the loop loops. Inside
a gf.function with a symbolic predicate, each branch (the loop's condition and body) is traced once
into a sub-graph and the pair becomes one node, a primitive made for that call: at run time only the
branch taken runs (so its variable assignments and prints happen only then), and the loop runs until
its condition is false. The node goes through `bind`, so a GradientTape inside the function records
it; cond's grad rule is a cond of the branches' gradients (replayed from their sub-graphs, no Python
re-trace).
"""
from __future__ import annotations

from .. import dtypes, nest
from ..errors import InvalidArgumentError, UnimplementedError
from ..ops.dispatch import Primitive, bind
from ..tensor import Symbol, Tensor, TensorSpec, Variable
from .executor import run_traced
from .ir import ASSIGN, Graph
from .trace import GraphTrace, current_graph_trace


class ControlFlow(Primitive):
    """A cond or while_loop node's primitive: made per call, with the output specs its branches gave."""
    __slots__ = ()
    control_flow = True

    def __init__(self, name, specs, grad=None):
        specs = tuple(specs)
        super().__init__(name, lambda *inputs, **params: specs if len(specs) != 1 else specs[0], grad,
                         n_outputs=len(specs))


class BranchTrace(GraphTrace):
    """The trace of a branch or loop body: values of enclosing graphs, and Variables it has not assigned
    itself, become inputs of the sub-graph (captures), so the node that runs it takes them as inputs and a
    tape sees them."""

    def __init__(self, graph, parent):
        super().__init__(graph, parent.allow_new_variables, parent.owner)
        self.captures: list[Tensor] = []   # the enclosing values, in the sub-graph's input order
        self._captured = {}                # their ids → the sub-graph's placeholder
        self.dirty = set()                 # ids of Variables an inner cond/loop assigned: read live after it

    def symbol_of(self, t):
        data = t._data
        if type(data) is Symbol and data.graph is self.graph:
            return data
        if isinstance(t, Variable):
            return self.read(t)
        if type(data) is Symbol:
            return self._capture(t)
        return super().symbol_of(t)

    def read(self, var):
        if var._id in self._reads or var._id in self.dirty:
            return super().read(var)
        return self._capture(var)

    def _capture(self, t):
        symbol = self._captured.get(t._id)
        if symbol is None:
            symbol = self._captured[t._id] = self.graph.new_symbol(t.shape, t.dtype)
            self.graph.inputs.append(symbol)
            self.captures.append(t)
        return symbol


def _trace(fn, name, args=(), live=frozenset()):
    """Trace fn(*placeholders like args) into a sub-graph: (graph, its python output, its trace). `live`: ids of
    Variables read inside the sub-graph on every run (a loop body that assigns them) rather than captured."""
    parent = current_graph_trace()
    graph = Graph(name)
    with BranchTrace(graph, parent) as trace:
        trace.dirty |= set(live)
        placeholders = [trace.placeholder(a.shape, a.dtype, a._device) for a in args]
        out = fn(*placeholders)
        graph.outputs = [trace.symbol_of(t) for t in nest.flatten(out) if _is_value(t)]
    # After the node runs, the enclosing graph must read a Variable the branch assigned afresh.
    assigned = {v._id for v in graph.variables}
    parent._reads = {k: v for k, v in parent._reads.items() if k not in assigned}
    if isinstance(parent, BranchTrace):
        parent.dirty |= assigned
    return graph, out, trace


def _captured_and_assigned(graph, trace) -> set:
    """Ids of the Variables `trace` captured (their value at the node's entry) that `graph` assigns."""
    assigned = {graph.variables[n.params["var"]]._id for n in graph.nodes if n.prim is ASSIGN}
    return {t._id for t in trace.captures if isinstance(t, Variable) and t._id in assigned}


def _forget_reads(*graphs):
    """After a cond/while node: the enclosing trace reads again the Variables its sub-graphs assign (binding
    the node read each captured Variable there, before the node runs)."""
    parent = current_graph_trace()
    assigned = {v._id for g in graphs for v in g.variables}
    parent._reads = {k: v for k, v in parent._reads.items() if k not in assigned}


def _is_value(x) -> bool:
    return isinstance(x, Tensor)


def _union_captures(traces):
    """All captures of the traces, once each, and per trace where its own captures sit in that list."""
    captures, where = [], {}
    for trace in traces:
        for t in trace.captures:
            if t._id not in where:
                where[t._id] = len(captures)
                captures.append(t)
    return captures, tuple(tuple(where[t._id] for t in trace.captures) for trace in traces)


def _is_symbolic(x) -> bool:
    return isinstance(x, Tensor) and type(x._data) is Symbol


def _truth(pred) -> bool:
    if isinstance(pred, Tensor):
        if pred.shape.num_elements() != 1:
            raise InvalidArgumentError(f"cond: the predicate must be a scalar, got shape {list(pred.shape)}")
        return bool(pred.numpy().reshape(()))
    return bool(pred)


# ---- cond ------------------------------------------------------------------------------------------------
def cond(pred, true_fn=None, false_fn=None, name=None):
    """tf.cond: true_fn() if pred else false_fn(). With a symbolic pred (inside gf.function) both branches are
    traced and only the one taken runs on each call; they must return the same structure and dtypes."""
    if not callable(true_fn) or not callable(false_fn):
        raise TypeError("cond: true_fn and false_fn must be callables taking no arguments")
    if not _is_symbolic(pred):
        return true_fn() if _truth(pred) else false_fn()
    if pred.dtype.name != "bool" or pred.shape != ():
        raise InvalidArgumentError(f"cond: the predicate must be a scalar bool tensor, got "
                                   f"{pred.dtype.name}{list(pred.shape)}")
    true_graph, true_out, true_trace = _trace(true_fn, "cond_true")
    false_graph, false_out, false_trace = _trace(false_fn, "cond_false")
    specs = _matched_specs("cond", true_out, false_out, "true_fn", "false_fn")
    captures, maps = _union_captures([true_trace, false_trace])
    prim = ControlFlow("cond", specs, _cond_grad)
    outs = bind(prim, pred, *captures, branches=(true_graph, false_graph), maps=maps)
    _forget_reads(true_graph, false_graph)
    return _pack(true_out, outs if isinstance(outs, tuple) else (outs,))


def _matched_specs(op, a, b, a_name, b_name):
    try:
        nest.assert_same_structure(a, b)
    except ValueError:
        raise ValueError(f"{op}: {a_name} and {b_name} must return the same structure; got {a!r:.120} and "
                         f"{b!r:.120}") from None
    specs = []
    for x, y in zip(nest.flatten(a), nest.flatten(b)):
        if _is_value(x) != _is_value(y):
            raise TypeError(f"{op}: {a_name} returns {x!r:.80} where {b_name} returns {y!r:.80}; both must be "
                            f"tensors or equal Python values")
        if not _is_value(x):
            if x != y:
                raise ValueError(f"{op}: {a_name} and {b_name} return different Python values ({x!r} and {y!r})")
            continue
        if x.dtype != y.dtype:
            raise TypeError(f"{op}: {a_name} returns {x.dtype.name} where {b_name} returns {y.dtype.name}")
        shape = tuple(d if d == e else None for d, e in zip(x.shape, y.shape)) if len(x.shape) == len(y.shape) \
            else None
        if shape is None:
            raise ValueError(f"{op}: {a_name} returns shape {list(x.shape)} where {b_name} returns "
                             f"{list(y.shape)}; the ranks must agree")
        specs.append(TensorSpec(shape, x.dtype))
    return specs


def _pack(template, outs):
    it = iter(outs)
    return nest.pack_sequence_as(template, [next(it) if _is_value(x) else x for x in nest.flatten(template)])


def _cond_grad(g, out, pred, *captures, branches, maps):
    from ..autograd.tape import GradientTape, UnconnectedGradients
    from .. import ops
    seeds = list(g) if isinstance(g, tuple) else [g]

    def branch_grads(k):
        def grads():
            inputs = [captures[j] for j in maps[k]]
            with GradientTape() as tape:
                tape.watch([t for t in inputs if t.dtype.is_floating])
                outs = run_traced(branches[k], inputs)
            found = tape.gradient(outs, inputs, output_gradients=seeds, unconnected_gradients=UnconnectedGradients.ZERO)
            full = [ops.zeros_like(c) for c in captures]
            for j, grad in zip(maps[k], found):
                if grad is not None:
                    full[j] = grad
            return full
        return grads
    return (None, *cond(pred, branch_grads(0), branch_grads(1)))


def run_cond(node, values):
    """The Plan's COND step: run the branch the (host-read) predicate picks."""
    branches, maps = node.params["branches"], node.params["maps"]
    k = 0 if _truth(values[0]) else 1
    graph = branches[k]
    arrays = graph_plan(graph).run([values[1 + j]._data for j in maps[k]])
    return [Tensor(a, s.dtype, node.device) for a, s in zip(arrays, node.outputs)]


def traced_cond(node, ins):
    branches, maps = node.params["branches"], node.params["maps"]
    out = cond(ins[0], lambda: run_traced(branches[0], [ins[1 + j] for j in maps[0]]),
               lambda: run_traced(branches[1], [ins[1 + j] for j in maps[1]]))
    return out


# ---- while_loop --------------------------------------------------------------------------------------------
def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10, back_prop=True,
               swap_memory=False, maximum_iterations=None, name=None):
    """tf.while_loop: `while cond(*loop_vars): loop_vars = body(*loop_vars)`, returning the final loop_vars.
    Inside gf.function the condition and body are traced once and the loop runs at call time; the body must
    keep each loop variable's dtype and shape."""
    if not callable(cond) or not callable(body):
        raise TypeError("while_loop: cond and body must be callables")
    single = not isinstance(loop_vars, (list, tuple))
    template = [loop_vars] if single else loop_vars
    from .. import ops
    flat = [ops.convert_to_tensor(v) if not isinstance(v, Tensor) else v for v in nest.flatten(template)]

    def unpack(values):
        return nest.pack_sequence_as(template, list(values))

    if current_graph_trace() is None:  # eager: a Python loop
        values, i = flat, 0
        while (maximum_iterations is None or i < maximum_iterations) and _truth(cond(*unpack(values))):
            values = nest.flatten(_listify(body(*unpack(values))))
            i += 1
        out = unpack(values)
        return out[0] if single else out
    cond_graph, _, cond_trace = _trace(lambda *v: cond(*unpack(v)), "while_cond", flat)
    if len(cond_graph.outputs) != 1 or cond_graph.symbols[cond_graph.outputs[0].index].dtype.name != "bool":
        raise InvalidArgumentError("while_loop: cond must return one scalar bool tensor")
    def trace_body(live=frozenset()):
        return _trace(lambda *v: _listify(body(*unpack(v))), "while_body", flat, live)
    body_graph, body_out, body_trace = trace_body()
    stale = frozenset(_captured_and_assigned(body_graph, body_trace) | _captured_and_assigned(body_graph, cond_trace))
    if stale:  # each iteration must read what the previous one assigned: trace again, reading those live
        cond_graph, _, cond_trace = _trace(lambda *v: cond(*unpack(v)), "while_cond", flat, stale)
        body_graph, body_out, body_trace = trace_body(stale)
    outs = nest.flatten(body_out)
    if len(outs) != len(flat):
        raise ValueError(f"while_loop: body returned {len(outs)} values for {len(flat)} loop variables")
    for i, (before, after) in enumerate(zip(flat, outs)):
        if not isinstance(after, Tensor) or after.dtype != before.dtype or tuple(after.shape) != tuple(before.shape):
            raise ValueError(f"while_loop: loop variable {i} enters as {before.dtype.name}{list(before.shape)} but "
                             f"the body returns {after!r:.100}; the body must keep each loop variable's dtype and "
                             f"shape")
    captures, maps = _union_captures([cond_trace, body_trace])
    prim = ControlFlow("while_loop", [TensorSpec(t.shape, t.dtype) for t in flat], _while_grad)
    result = bind(prim, *flat, *captures, cond=cond_graph, body=body_graph, maps=maps, n_vars=len(flat),
                  maximum_iterations=None if maximum_iterations is None else int(maximum_iterations))
    _forget_reads(cond_graph, body_graph)
    result = result if isinstance(result, tuple) else (result,)
    out = unpack(result)
    return out[0] if single else out


def _listify(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _while_grad(g, out, *inputs, **params):
    raise UnimplementedError("the gradient of gf.while_loop with a tensor predicate is not supported yet; inside "
                             "the GradientTape, loop with a Python bound (for i in range(n)), which unrolls")


def run_while(node, values):
    p = node.params
    n, limit = p["n_vars"], p["maximum_iterations"]
    cond_plan, body_plan = graph_plan(p["cond"]), graph_plan(p["body"])
    state = [v._data for v in values[:n]]
    captures = [v._data for v in values[n:]]
    cond_caps = [captures[j] for j in p["maps"][0]]
    body_caps = [captures[j] for j in p["maps"][1]]
    i = 0
    while limit is None or i < limit:
        (flag,) = cond_plan.run(state + cond_caps)
        if not _truth(Tensor(flag, dtypes.bool, node.device)):
            break
        state = body_plan.run(state + body_caps)
        i += 1
    return [Tensor(a, s.dtype, node.device) for a, s in zip(state, node.outputs)]


def traced_while(node, ins):
    p = node.params
    n = p["n_vars"]
    captures = ins[n:]
    cond_caps = [captures[j] for j in p["maps"][0]]
    body_caps = [captures[j] for j in p["maps"][1]]
    out = while_loop(lambda *v: run_traced(p["cond"], list(v) + cond_caps)[0],
                     lambda *v: run_traced(p["body"], list(v) + body_caps), list(ins[:n]),
                     maximum_iterations=p["maximum_iterations"])
    return out


def graph_plan(graph):
    """The graph's replay plan, made once: a cpu graph's straight-line replay, else the executor's Plan."""
    plan = graph._plan
    if plan is None:
        from .cpu_replay import cpu_replay
        from .executor import Plan
        plan = graph._plan = cpu_replay(graph) or Plan(graph)
    return plan
