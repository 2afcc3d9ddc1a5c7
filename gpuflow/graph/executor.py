"""Running a traced Graph: the fast replay, and the replay through `bind` when a trace is active.

`Plan` is what a concrete function calls when nothing traces this thread: each node resolved once to
its backend's impl and to slots of one value list, and each value dropped right after its last use
(so the caching allocator gets buffers back as eager code would give them). No infer, no device
checks, no Tensor objects per op: the per-op bookkeeping of `bind` is paid once, at trace time.

`run_traced` replays the same nodes through `bind`, so a GradientTape records them (differentiating a
gf.function from outside) and an enclosing gf.function's trace inlines them.

Optimizer updates run in place in a Plan (on cuda and sim, whose kernels write straight into buffers):
when an update's parameter and slot inputs are reads of the variables its outputs are assigned to, used
by nothing after it, the new values are written into those variables' own buffers (no new buffers per
step). As TF's copy-on-write variables do, this happens only
when nothing else holds a buffer: its reference count is checked on every call (a Tensor the user kept
from `v.value()`, or a view of it, makes that call write new buffers instead).
"""
from __future__ import annotations

import sys

from ..backend.optim_rules import RULES
from ..runtime import scheduler
from ..tensor import Tensor
from .ir import ASSIGN, CALLBACK, COLLECTIVE, FEED, PRINT, READ, Effect


class Plan:
    def __init__(self, graph):
        self.graph = graph
        self.size = len(graph.symbols)
        self.constants = [(index, tensor._data) for index, tensor in graph.constants.items()]
        self.inputs = [s.index for s in graph.inputs]
        self.outputs = [s.index for s in graph.outputs]
        self.variables = graph.variables
        keep = set(self.outputs) | set(graph.constants)
        last_use = {}
        for i, node in enumerate(graph.nodes):
            for s in node.inputs:
                last_use[s.index] = i
        # cpu: NumPy computes into new arrays anyway; copying them over the old ones only costs (cpu_replay.py
        # writes cpu updates in place with its own calls)
        in_place = {i: positions for i, positions in in_place_updates(graph, last_use, keep).items()
                    if graph.nodes[i].device.kind != "cpu"}
        self.steps = []
        for i, node in enumerate(graph.nodes):
            ins = tuple(s.index for s in node.inputs)
            outs = tuple(s.index for s in node.outputs)
            drop = tuple({j for j in ins if last_use[j] == i and j not in keep} |
                         {j for j in outs if j not in last_use and j not in keep})
            prim = node.prim
            if isinstance(prim, Effect) or getattr(prim, "control_flow", False):
                self.steps.append((None, node, ins, outs, drop))
            else:
                backend = node.device.backend
                impl = prim.impl_for(backend) if hasattr(prim, "impl_for") else backend.impls.get(prim.name)
                if impl is None:
                    from ..errors import UnimplementedError
                    raise UnimplementedError(f"{graph.name}: {prim.name} is not implemented on {node.device.kind}; "
                                             f"trace the function under another gf.device")
                if i in in_place:  # its outputs always as a tuple
                    self.steps.append((_InPlace(impl, in_place[i]), node.params, ins, outs, drop))
                    continue
                self.steps.append((impl, node.params, ins, outs if prim.n_outputs != 1 else outs[0], drop))
        self.memory = _memory_plan(graph)
        self.graphs = _graph_replay(self)

    def run(self, arrays):
        """Backend arrays of the outputs, given backend arrays of the inputs."""
        if self.graphs is not None and self.graphs.ready():
            out = self.graphs.run(arrays)
            if out is not None:
                return out
        if self.memory is not None:
            return self.memory.run(self._run, arrays)
        return self._run(arrays)

    def _run(self, arrays, effect=None):
        """One replay of the steps; `effect`: how effect nodes run (a CUDA Graph capture runs them its way)."""
        effect = effect or _effect
        env = [None] * self.size
        for index, data in self.constants:
            env[index] = data
        for index, data in zip(self.inputs, arrays):
            env[index] = data
        for impl, params, ins, outs, drop in self.steps:
            if impl is None:
                effect(self, params, env, ins, outs)
            elif type(impl) is _InPlace:
                for j, value in zip(outs, impl(env, ins, params)):
                    env[j] = value
            elif type(outs) is int:
                env[outs] = impl(*[env[j] for j in ins], **params)
            else:
                for j, value in zip(outs, impl(*[env[j] for j in ins], **params)):
                    env[j] = value
            for j in drop:
                env[j] = None
        return [env[j] for j in self.outputs]


class _InPlace:
    """An optimizer update whose outputs may overwrite its parameter and slot inputs (see the module doc)."""
    __slots__ = ("impl", "positions")

    def __init__(self, impl, positions):
        self.impl, self.positions = impl, positions  # positions: the inputs that are (param, *slots)

    def __call__(self, env, ins, params):
        targets = [ins[k] for k in self.positions]
        # 3 references: the variable's, the value list's and getrefcount's own argument. More: someone else
        # holds the buffer (a kept Tensor, a view: views hold their base): then new buffers, as eager code would
        # make. A buffer that is itself a view of another array could have siblings nobody counts: never.
        if all(sys.getrefcount(env[j]) == 3 and _sole_owner(env[j].base) for j in targets):
            result = self.impl(*[env[j] for j in ins], out=[env[j] for j in targets], **params)
        else:
            result = self.impl(*[env[j] for j in ins], **params)
        return result if isinstance(result, tuple) else (result,)


def _memory_plan(graph):
    """A static memory plan (memory_plan.py) when the optimizer options allow one and the graph runs on one
    cuda or sim device with no control flow (whose branches would allocate differently from call to call)."""
    from ..config_optimizer import enabled
    devices = {node.device for node in graph.nodes if node.device is not None}
    if not enabled("memory_plan") or len(devices) != 1:
        return None
    device = next(iter(devices))
    if device is None or device.kind not in ("cuda", "sim") or \
            any(getattr(node.prim, "control_flow", False) for node in graph.nodes):
        return None
    from .memory_plan import MemoryPlan
    return MemoryPlan(device, graph.name)


def _graph_replay(plan):
    """CUDA Graph replay (cuda_graph.py) for a plan on cuda with a memory plan, when the options allow it."""
    from ..config_optimizer import enabled
    memory = plan.memory
    if memory is None or memory.device.kind != "cuda" or not enabled("cuda_graphs"):
        return None
    from .cuda_graph import GraphReplay
    return GraphReplay(plan)


def _sole_owner(base) -> bool:
    """A buffer's base allows writing in place: none (it owns its memory), or an allocator's owner object (sim's
    pool) that only this array refers to (its own reference, this parameter's and getrefcount's)."""
    return base is None or (not hasattr(base, "shape") and sys.getrefcount(base) == 3)


def in_place_updates(graph, last_use, keep):
    """{node position: input positions of its (param, *slots), in output order} for the optimizer updates that may
    write into their inputs' buffers (on any device; the Plan uses it on cuda and sim, cpu_replay.py on cpu): each
    of those inputs a READ of the very variable its output is ASSIGNed to, read by no node between the update and
    that assign, used by nothing after the update and by no other of its inputs (a gradient that is a slot)."""
    reads = {n.outputs[0].index: n.params["var"] for n in graph.nodes if n.prim is READ}
    assigned_at = {n.inputs[0].index: (a, n.params["var"]) for a, n in enumerate(graph.nodes) if n.prim is ASSIGN}
    read_at = {}
    for r, n in enumerate(graph.nodes):
        if n.prim is READ:
            read_at.setdefault(n.params["var"], []).append(r)
    found = {}
    for i, node in enumerate(graph.nodes):
        positions = _update_positions(node)
        if positions is None:
            continue
        ins = [s.index for s in node.inputs]

        def writable(j, out):
            var = reads.get(j)
            at, assigned = assigned_at.get(out, (None, None))
            return (var is not None and assigned == var and last_use.get(j) == i and j not in keep
                    and ins.count(j) == 1 and not any(i < r < at for r in read_at[var]))
        if all(writable(ins[k], node.outputs[o].index) for o, k in enumerate(positions)):
            found[i] = positions
    return found


def _update_positions(node):
    """For an optimizer update: the input positions its outputs may overwrite, in output order; else None."""
    pairs = getattr(node.prim, "in_place_pairs", None)  # a multi-tensor update (graph/fusion/multi_update.py)
    if pairs is not None:
        return tuple(k for k, _ in sorted(pairs, key=lambda pair: pair[1]))
    rule = RULES.get(node.prim.name)
    if rule is None or getattr(node.prim, "control_flow", False):
        return None
    return (0,) + tuple(range(2, 2 + len(rule[0])))  # (param, grad, *slots, step): param and slots


def _effect(plan, node, env, ins, outs):
    prim, params = node.prim, node.params
    if prim is READ:
        env[outs[0]] = plan.variables[params["var"]]._data
    elif prim is FEED:
        env[outs[0]] = _feed(node.device, params["fn"](), params["dtype"])
    elif prim is ASSIGN:
        plan.variables[params["var"]]._data = env[ins[0]]
    elif prim is PRINT or prim is CALLBACK:
        values = [node.device.backend.to_numpy(env[j], s.dtype) for j, s in zip(ins, node.inputs)]
        if prim is CALLBACK:
            params["fn"](*values)
        else:
            from .printing import emit
            emit(params, values)
    elif prim is COLLECTIVE:
        values = [Tensor(env[j], s.dtype, node.device) for j, s in zip(ins, node.inputs)]
        for j, t in zip(outs, params["fn"](values)):
            env[j] = t._data
    else:
        from .control_flow import run_cond, run_while
        values = [Tensor(env[j], s.dtype, node.device) for j, s in zip(ins, node.inputs)]
        results = run_cond(node, values) if prim.name == "cond" else run_while(node, values)
        for j, t in zip(outs, results):
            env[j] = t._data


def _feed(device, value, dtype):
    """A host feed's value on the device: on cuda and sim through the stream scheduler's copy stream (the compute
    stream waits for its event, the host does not), else a plain upload."""
    if device.kind != "cpu" and scheduler.enabled():
        return scheduler.for_device(device).upload_value(value, dtype)
    return device.backend.from_numpy(value, dtype, copy=False)


def run_traced(graph, args):
    """Replay `graph` on `args` (Tensors) through bind: tapes record it, an enclosing trace inlines it."""
    from ..ops.dispatch import bind
    env = dict(graph.constants)
    for symbol, t in zip(graph.inputs, args):
        env[symbol.index] = t
    assigned_after = _assigned_after(graph)
    regions = _CustomRegions(graph, env)
    for i, node in enumerate(graph.nodes):
        regions.at(i)
        prim, params = node.prim, node.params
        ins = [env[s.index] for s in node.inputs]
        if prim is READ:
            var = graph.variables[params["var"]]
            # The Variable itself (so a tape watches it), unless the graph assigns it later: then a snapshot.
            env[node.outputs[0].index] = var.value() if params["var"] in assigned_after[i] else var
            continue
        if prim is ASSIGN:
            graph.variables[params["var"]].assign(ins[0])
            continue
        if prim is FEED:
            from ..ops.feeds import host_fed
            env[node.outputs[0].index] = host_fed(params["fn"], params["dtype"], node.device)
            continue
        if prim is PRINT:
            from .printing import print_tensors
            print_tensors(params, ins)
            continue
        if prim is CALLBACK:
            from .printing import host_call
            host_call(params["fn"], ins)
            continue
        if getattr(prim, "control_flow", False):
            from .control_flow import traced_cond, traced_while
            results = traced_cond(node, ins) if prim.name == "cond" else traced_while(node, ins)
            results = results if isinstance(results, (list, tuple)) else (results,)
        elif prim is COLLECTIVE:
            from .collective import collective
            results = collective(params, ins, node.outputs)
        else:
            out = bind(prim, *ins, device=node.device, **params)
            results = out if prim.n_outputs != 1 else (out,)
        for s, t in zip(node.outputs, results):
            env[s.index] = t
    regions.at(len(graph.nodes))
    return [env[s.index] for s in graph.outputs]


class _CustomRegions:
    """run_traced's view of the graph's gf.custom_gradient calls: each one's nodes replay with the tapes paused,
    then the tapes get the call's own gradient entry (and an enclosing trace notes the region), as the call did
    when it was traced (autograd/custom_gradient.py)."""

    def __init__(self, graph, env):
        from ..autograd.custom_gradient import node_count, note, paused_tapes
        self.node_count, self.note, self.paused_tapes = node_count, note, paused_tapes
        self.env, self.open = env, []
        self.starts, self.ends = {}, {}
        for r in sorted(graph.custom_gradients, key=lambda r: r.end - r.start, reverse=True):  # outer ones first
            self.starts.setdefault(r.start, []).append(r)
            self.ends.setdefault(r.end, []).insert(0, r)  # inner ones end first

    def at(self, i):
        """Before node i (or after the last, i = len(nodes)): close the regions that end here, open those that
        start here."""
        for r in self.ends.get(i, ()):
            pause, start = self.open.pop()
            pause.__exit__(None, None, None)
            env = self.env
            self.note([env[s.index] for s in r.inputs], r.variables, [env[s.index] for s in r.outputs], r.grad_fn,
                      start)
        for _ in self.starts.get(i, ()):
            pause = self.paused_tapes()
            pause.__enter__()
            self.open.append((pause, self.node_count()))


def _assigned_after(graph):
    """Per node position: the variable indices that some later node assigns."""
    later, out = set(), [None] * len(graph.nodes)
    for i in range(len(graph.nodes) - 1, -1, -1):
        out[i] = frozenset(later)
        node = graph.nodes[i]
        if node.prim is ASSIGN:
            later.add(node.params["var"])
    return out
