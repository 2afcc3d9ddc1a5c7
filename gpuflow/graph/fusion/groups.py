"""Which nodes of a graph fuse into one kernel, and the graph rewritten with one node per group.

One pass in node order. A node joins an open group when it can run inside that group's kernel:

- an elementwise node whose output has the group's current shape (the map shape before the group's
  reduction, the reduction's output shape after it: the epilogue), taking its inputs from the group or
  from values made before it; first the group of one of its inputs, else (horizontally) one of the latest
  open groups whose current shape it has;
- a reduction (sum, max, min) of a map value of the group, when the group has none yet.

The fused node takes the place of its group's last member. So a value a member makes must not be needed
earlier by a node outside the group; the one exception is an assign_variable, which moves to just after
the fused node when no node between reads, assigns or could observe that variable (a host callback,
control flow). Only nodes on cuda/sim with known shapes fuse; a group of one node stays as it was.
"""
from __future__ import annotations

from ...backend.cuda.elementwise import BINARY, UNARY
from ..ir import ASSIGN, CALLBACK, READ, Effect, Graph, Node, derive
from .codegen import REDUCE_OPS
from .kernel import FusedKernel
from .program import Program, Ref, Step

POINTWISE = frozenset(UNARY) | frozenset(BINARY) | {"select", "cast", "sparse_softmax_xent_grad"}
CTYPES = frozenset({"float", "double", "__half", "__nv_bfloat16", "signed char", "short", "int", "long long",
                    "unsigned char", "unsigned", "bool"})
# Effects that may observe a variable from the host: a user's host callback could read one. A FEED's function
# reads host-side state only (the optimizer's step mirror, RNG offsets: never a device value, which would be a
# read back), and gf.print prints the values it is given, so neither keeps an assign from moving past it.
_BARRIERS = (CALLBACK,)
HORIZONTAL = 8  # open groups a node with no producer in a group tries to join


def classify(node):
    """'pointwise', 'reduce' or None (does not fuse)."""
    prim = node.prim
    if isinstance(prim, Effect) or getattr(prim, "control_flow", False) or node.device is None:
        return None
    if node.device.kind not in ("cuda", "sim"):
        return None
    symbols = node.inputs + node.outputs
    if any(None in s.shape for s in symbols) or any(s.dtype.ctype not in CTYPES for s in symbols):
        return None
    if prim.name in POINTWISE:
        return "pointwise"
    if prim.name in REDUCE_OPS and len(node.params.get("axes") or ()) and len(node.inputs[0].shape):
        return "reduce"
    return None


class Group:
    def __init__(self, device):
        self.device = device
        self.members: list[int] = []
        self.stage_of: dict[int, str] = {}  # symbol index → the stage that makes it
        self.map_shape = None
        self.reduced = False
        self.epi_shape = None
        self.deferred: list[int] = []       # positions of assigns moved after the fused node
        self.build = None                   # (fuser, group) -> the Node that replaces the group

    @property
    def shape(self):
        return self.epi_shape if self.reduced else self.map_shape


class Fuser:
    def __init__(self, graph):
        self.graph = graph
        self.nodes = graph.nodes
        end = len(self.nodes)
        self.consumers: dict[int, list[int]] = {}
        for i, node in enumerate(self.nodes):
            for s in node.inputs:
                self.consumers.setdefault(s.index, []).append(i)
        for s in graph.outputs:
            self.consumers.setdefault(s.index, []).append(end)
        self.open: list[Group] = []

    # ---- grouping -------------------------------------------------------------------------------------
    def run(self):
        for i, node in enumerate(self.nodes):
            kind = classify(node)
            if kind is None:
                continue
            for group in self._candidates(node, kind):
                deferred = self._joinable(group, i, node, kind)
                if deferred is not None:
                    self._add(group, i, node, kind, deferred)
                    break
            else:
                group = Group(node.device)
                group.build = Fuser._fused_node
                self.open.append(group)
                self._add(group, i, node, kind, [])
        return [g for g in self.open if len(g.members) > 1]

    def _candidates(self, node, kind):
        producers = []
        for s in node.inputs:
            for g in reversed(self.open):
                if s.index in g.stage_of and g not in producers:
                    producers.append(g)
        if kind != "pointwise":
            return producers
        shape = tuple(node.outputs[0].shape)  # horizontally: the latest few open groups of the same shape
        return producers + [g for g in reversed(self.open) if g not in producers and g.shape == shape][:HORIZONTAL]

    def _joinable(self, group, i, node, kind):
        """The assigns to defer if `node` (position i) may join `group`, else None."""
        if node.device != group.device:
            return None
        shape = tuple(node.outputs[0].shape)
        if kind == "reduce":
            src = node.inputs[0].index
            if group.reduced or group.stage_of.get(src) != "map":
                return None
        else:
            if shape != group.shape:
                return None
            if node.prim.name == "sparse_softmax_xent_grad" and group.reduced:
                return None
            for s in node.inputs:
                stage = group.stage_of.get(s.index)
                if stage == "map" and group.reduced:
                    return None  # a map value inside the epilogue: shapes differ
        return self._deferrable_consumers(group, i)

    def _deferrable_consumers(self, group, i):
        members = set(group.members)
        deferred = []
        for symbol in group.stage_of:
            for p in self.consumers.get(symbol, ()):
                if p in members or p >= i or p in group.deferred:
                    continue
                if self.nodes[p].prim is ASSIGN and self._can_defer(p, i):
                    deferred.append(p)
                    continue
                return None
        return deferred

    def _can_defer(self, p, i):
        var = self.nodes[p].params["var"]
        for q in range(p + 1, i):
            node = self.nodes[q]
            if node.prim in (READ, ASSIGN) and node.params["var"] == var:
                return False
            if node.prim in _BARRIERS or getattr(node.prim, "control_flow", False):
                return False
        return True

    def _add(self, group, i, node, kind, deferred):
        group.members.append(i)
        group.deferred.extend(p for p in deferred if p not in group.deferred)
        shape = tuple(node.outputs[0].shape)
        if kind == "reduce":
            if group.map_shape is None:  # a reduction of a value made outside: the group starts with it
                group.map_shape = tuple(node.inputs[0].shape)
            group.reduced, group.epi_shape = True, shape
            group.stage_of[node.outputs[0].index] = "reduce"
            return
        if group.map_shape is None:
            group.map_shape = shape
        group.stage_of[node.outputs[0].index] = "epi" if group.reduced else "map"

    # ---- rewriting ------------------------------------------------------------------------------------
    def rewrite(self, groups) -> Graph:
        fused_at = {g.members[-1]: g for g in groups}
        skipped = {p for g in groups for p in g.members + g.deferred}
        nodes = []
        for i, node in enumerate(self.nodes):
            group = fused_at.get(i)
            if group is not None:
                nodes.append(group.build(self, group))
                nodes.extend(self.nodes[p] for p in sorted(group.deferred))
            elif i not in skipped:
                nodes.append(node)
        return derive(self.graph, nodes)

    def _fused_node(self, group) -> Node:
        members = [self.nodes[p] for p in group.members]
        step_of: dict[int, int] = {}
        inputs: list = []
        input_of: dict[int, int] = {}
        program = Program(shape=group.map_shape)
        for node in members:
            args = []
            rows = node.prim.name == "sparse_softmax_xent_grad"
            for k, s in enumerate(node.inputs):
                if s.index in step_of:
                    args.append(Ref("value", step_of[s.index]))
                    continue
                if s.index not in input_of:
                    input_of[s.index] = len(inputs)
                    inputs.append(s)
                    program.inputs.append((tuple(s.shape), s.dtype))
                args.append(Ref("input", input_of[s.index], "rows" if rows and k != 1 else "bcast"))
            out = node.outputs[0]
            stage = group.stage_of[out.index]
            params = dict(node.params)
            if stage == "reduce":
                params = {"axes": tuple(a % len(node.inputs[0].shape) for a in node.params["axes"]),
                          "keepdims": bool(node.params.get("keepdims", False))}
            step_of[out.index] = len(program.steps)
            program.steps.append(Step(node.prim.name, tuple(args), params, out.dtype, tuple(out.shape), stage))
        outputs = outside_outputs(self, group)
        program.outputs = [step_of[s.index] for s in outputs]
        prim = FusedKernel(program)
        ops = "+".join(n.prim.name for n in members)
        return Node(prim, inputs, {"ops": ops, "kernel": prim.kernel_name}, outputs, group.device, members[-1].where)


def hoist(graph) -> Graph:
    """`graph` with each reduction that may fuse moved up to just after the node making its input (after the
    reductions already moved there), so the chain it ends is not cut by an unrelated node traced in between
    (a GEMM reading the masked ReLU gradient before its column sum, say). Only these pure nodes move, and only
    earlier: every effect keeps its order, and every value still exists before its use. (Elementwise nodes
    stay: moved up too, they join other groups than the ones their neighbours in the trace form.)"""
    nodes: list = []
    made_at: dict[int, Node] = {}  # symbol index → the node that makes it
    moved: set = set()
    for node in graph.nodes:
        if classify(node) != "reduce":
            nodes.append(node)
        else:
            producers = {id(made_at[s.index]) for s in node.inputs if s.index in made_at}
            at = 0
            for k in range(len(nodes) - 1, -1, -1):
                if id(nodes[k]) in producers:
                    at = k + 1
                    break
            while at < len(nodes) and id(nodes[at]) in moved:
                at += 1
            nodes.insert(at, node)
            moved.add(id(node))
        for s in node.outputs:
            made_at[s.index] = node
    return derive(graph, nodes)


def fuse_elementwise(graph) -> Graph:
    graph = hoist(graph)
    fuser = Fuser(graph)
    groups = fuser.run()
    return fuser.rewrite(groups) if groups else graph


def outside_outputs(fuser, group) -> list:
    """The output symbols of the group's members that something outside the group uses."""
    member_set = set(group.members)
    return [s for p in group.members for s in fuser.nodes[p].outputs
            if any(q not in member_set for q in fuser.consumers.get(s.index, ()))]
