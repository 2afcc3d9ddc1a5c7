"""Multi-tensor optimizer updates: the per-parameter update nodes of one optimizer step as one kernel.

An optimizer step is one update node per parameter (adam_update(p, g, m, v, step)...), each a launch. Nodes
of the same rule, hyper-parameters, dtype, device and per-step scalars (`step`) become one generated kernel
over all their elements (kernels/fused.cuh), which runs optim.cuh's per-element rule: the same arithmetic
as the single launches. On cpu the node runs the same kernel built for the host, once per tensor, in one call
from Python (host_update.py: NumPy's rule bit for bit, in one vectorized loop instead of ~12 passes); without
a C++ compiler, and for half types, it is one call of NumPy's rule over each tensor (backend/numpy/optim.py,
Runner.many): a cpu step's small updates cost their set-up more than their arithmetic. The node keeps in-place writing (executor.py): its `in_place_pairs` tell which output may
overwrite which input, so parameters and slots are updated in their own buffers as before.
At most MAX_TENSORS parameters per kernel (a kernel's arguments are limited to 4 KB).
"""
from __future__ import annotations

import hashlib
import math

from ...backend.cuda.optim import _KERNELS, _scalars
from ...backend.numpy.optim import multi_update as numpy_multi_update
from ...backend.optim_rules import RULES
from ..ir import Node
from .codegen import _literal
from .groups import Fuser, Group
from .host_update import host_multi_update
from .kernel import GeneratedKernel

MAX_TENSORS = 32


class MultiUpdate(GeneratedKernel):
    name = "multi_update"
    kind = "multi_update"

    def __init__(self, rule: str, hyper: dict, dtype, sizes: list):
        self.rule, self.hyper, self.dtype, self.sizes = rule, dict(hyper), dtype, list(sizes)
        self.slots = RULES[rule][0]
        key = f"{rule}|{sorted(self.hyper.items())}|{dtype.name}|{self.sizes}"
        super().__init__("gf_multi_" + hashlib.sha1(key.encode()).hexdigest()[:16], len(sizes) * (1 + len(self.slots)))
        self.shapes = None  # set by the pass: each parameter's shape

    @property
    def in_place_pairs(self):
        """(input position, output position) of each parameter and slot: the output may overwrite the input."""
        k, pairs = len(self.slots), []
        for t in range(len(self.sizes)):
            base_in, base_out = t * (2 + k), t * (1 + k)
            pairs += [(base_in, base_out)] + [(base_in + 2 + s, base_out + 1 + s) for s in range(k)]
        return tuple(pairs)

    def output_specs(self):
        return [(shape, self.dtype) for shape in self.shapes for _ in range(1 + len(self.slots))]

    def impl_for(self, backend):
        if backend.name != "cpu":
            return super().impl_for(backend)
        # cpu: optim.cu's kernel built for the host, once per tensor (host_update.py); where that cannot be (no C++
        # compiler, half types), NumPy's rule over each tensor in one call (its set-up made once). Same arithmetic.
        native = host_multi_update(self.rule, self.hyper, self.dtype, self.sizes)
        if native is not None:
            return backend.counted(native)
        many, hyper = numpy_multi_update(self.rule), self.hyper

        def run(*arrays, out=None, **_params):  # params: only for reading the IR (rule, parameters, kernel)
            return many(*arrays, out=out, **hyper)
        return backend.counted(run)

    def launch(self, backend, kernel, arrays, outs):
        total = sum(self.sizes)
        if total:
            kernel((backend.grid_for(total),), (256,), (*arrays, *outs))

    def generate(self):
        kernel, kernel_slots = _KERNELS[self.rule]
        ct, k = self.dtype.ctype, len(self.slots)
        acc = "double" if ct == "double" else "float"
        scalars = [_c_scalar(v, acc) for v in _scalars(kernel, dict(zip(self.slots, self.slots)), self.hyper,
                                                        lambda v: float(v))]
        params, calls, start = [], [], 0
        for t, n in enumerate(self.sizes):
            params += [f"const {ct}* p{t}", f"const {ct}* g{t}"] + [f"const {ct}* s{t}_{j}" for j in range(k)]
        params.append("const double* step")
        for t in range(len(self.sizes)):
            params += [f"{ct}* op{t}"] + [f"{ct}* os{t}_{j}" for j in range(k)]
        for t, n in enumerate(self.sizes):
            ins = [f"s{t}_{self.slots.index(s)}" if s in self.slots else f"p{t}" for s in kernel_slots]
            outs = [f"os{t}_{self.slots.index(s)}" if s in self.slots else f"op{t}" for s in kernel_slots]
            args = [f"i - {start}", f"p{t}", f"g{t}", *ins, f"op{t}", *outs, "step", *scalars]
            cond = "" if t == len(self.sizes) - 1 else f"if (i < {start + n}) "
            calls.append(f"{'else ' if t else ''}{cond}{kernel.replace('_update', '')}_element<{ct}>({', '.join(args)});")
            start += n
        body = "".join(f"    {c}\n" for c in calls)
        return (f'#include "fused.cuh"\n#include "optim.cuh"\n\n// {self.rule} over {len(self.sizes)} parameters: '
                f'{self.sizes}\nextern "C" __global__ void {self.kernel_name}({", ".join(params)}) {{\n'
                f"  GF_GRID_STRIDE_LOOP(i, {sum(self.sizes)}) {{\n{body}  }}\n}}\n")


def _c_scalar(value, acc) -> str:
    if isinstance(value, float):
        return f"({acc}){_literal(value)}"
    return str(int(value))


def _key(node):
    prim = node.prim
    if prim.name not in RULES or prim.name not in _KERNELS or node.device is None:
        return None
    if any(None in s.shape for s in node.inputs):
        return None
    try:
        params = tuple(sorted(node.params.items()))
        hash(params)
    except TypeError:
        return None
    return prim.name, params, node.inputs[0].dtype, node.inputs[-1].index, node.device


def fuse_updates(graph):
    """`graph` with each run of compatible optimizer updates as one multi-tensor update node."""
    fuser = Fuser(graph)
    open_groups: dict = {}
    groups = []
    for i, node in enumerate(fuser.nodes):
        key = _key(node)
        if key is None:
            continue
        group = open_groups.get(key)
        deferred = None
        if group is not None and len(group.members) < MAX_TENSORS and not _uses(node, fuser, group):
            deferred = fuser._deferrable_consumers(group, i)
        if deferred is None:
            group = open_groups[key] = Group(node.device)
            group.build = _update_node
            groups.append(group)
            deferred = []
        group.members.append(i)
        group.deferred.extend(deferred)
        for s in node.outputs:
            group.stage_of[s.index] = "update"
    groups = [g for g in groups if len(g.members) > 1]
    return fuser.rewrite(groups) if groups else graph


def _uses(node, fuser, group) -> bool:
    """Whether `node` takes a value the group makes (it could not run in the same launch)."""
    return any(s.index in group.stage_of for s in node.inputs)


def _update_node(fuser, group) -> Node:
    members = [fuser.nodes[p] for p in group.members]
    first = members[0]
    prim = MultiUpdate(first.prim.name, first.params, first.inputs[0].dtype,
                       [math.prod(n.inputs[0].shape) for n in members])
    prim.shapes = [tuple(n.inputs[0].shape) for n in members]
    inputs = [s for n in members for s in n.inputs[:-1]] + [first.inputs[-1]]
    outputs = [s for n in members for s in n.outputs]
    return Node(prim, inputs, {"rule": first.prim.name, "parameters": len(members), "kernel": prim.kernel_name},
                outputs, group.device, members[-1].where)
