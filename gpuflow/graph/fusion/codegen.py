"""CUDA source for a fused Program (program.py), on the templates of kernels/fused.cuh.

Every shape is a constant of the source, so each index is plain arithmetic on constants, and every op is
the functor its own kernel uses (kernels/elementwise_ops.cuh), with the same load/compute/store rounding:
a fused chain gives what the chain of single launches gives. Set GPUFLOW_DUMP_KERNELS=dir to get each
generated source written there (<kernel name>.cu) for reading and debugging.
"""
from __future__ import annotations

import hashlib
import math
import os
import re
from pathlib import Path

from ...backend.cuda.elementwise import BINARY, UNARY, functor

REDUCE_OPS = {"reduce_sum": "SumOp", "reduce_max": "MaxOp", "reduce_min": "MinOp"}


def kernel_name(program) -> str:
    return "gf_fused_" + hashlib.sha1(program.key().encode()).hexdigest()[:16]


def source(program, name: str) -> str:
    gen = _Generator(program)
    text = gen.kernel(name)
    folder = os.environ.get("GPUFLOW_DUMP_KERNELS")
    if folder:
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        (path / f"{name}.cu").write_text(text)
    return text


def launch_shape(program, max_blocks: int):
    """(grid, block, work) for the generated kernel; work 0: nothing to launch (an empty map)."""
    red = program.reduction
    if red is None:
        n = math.prod(program.shape)
        return max(1, min(math.ceil(n / 256), max_blocks)), 256, n
    out_n = math.prod(red.shape)
    red_n = math.prod(program.shape[d] for d in red.params["axes"])
    block = 32 if red_n <= 1024 else 256
    return max(1, min(out_n, max_blocks)), block, out_n


def _contiguous_strides(shape):
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= size
    return strides[::-1]


def _coords(index: str, sizes) -> list:
    """C expressions of the row-major coordinates of flat `index` over `sizes`."""
    exprs = []
    for j, size in enumerate(sizes):
        inner = math.prod(sizes[j + 1:])
        e = index if inner == 1 else f"({index} / {inner})"
        exprs.append(e if j == 0 else f"({e} % {size})")
    return exprs


def _offset(coords, target_shape, input_shape, mode) -> str:
    """The flat offset into an input of `input_shape` read at `coords` of `target_shape`."""
    if mode == "rows":  # indexed by the leading dims of the target
        dims = list(range(len(input_shape)))
    else:  # NumPy broadcasting: align trailing dims
        lead = len(target_shape) - len(input_shape)
        dims = [lead + j for j in range(len(input_shape))]
    strides = _contiguous_strides(input_shape)
    terms = [f"{coords[d]} * {s}" if s != 1 else coords[d]
             for d, s, size in zip(dims, strides, input_shape) if size != 1]
    return " + ".join(terms) if terms else "0"


def _literal(value) -> str:
    return f"{float(value).hex()}" if math.isfinite(float(value)) else ("(1e300 * 1e300)" if value > 0 else
                                                                          "(-1e300 * 1e300)")


class _Generator:
    def __init__(self, program):
        self.p = program

    def kernel(self, name):
        p = self.p
        params = [f"const {dtype.ctype}* __restrict__ in{k}" for k, (_, dtype) in enumerate(p.inputs)]
        params += [f"{p.steps[j].dtype.ctype}* __restrict__ out{n}" for n, j in enumerate(p.outputs)]
        head = (f'#include "fused.cuh"\n\n// {p.key()}\n'
                f'extern "C" __global__ void {name}({", ".join(params)}) {{\n')
        body = self._map_kernel() if p.reduction is None else self._reduce_kernel()
        return head + body + "}\n"

    # ---- kernels ------------------------------------------------------------------------------------
    def _map_kernel(self):
        p = self.p
        n = math.prod(p.shape)
        coords = _coords("i", p.shape) if p.shape else []
        lines = self._stage("map", coords, "i", p.shape)
        return f"  GF_GRID_STRIDE_LOOP(i, {n}) {{\n" + "".join(f"    {x}\n" for x in lines) + "  }\n"

    def _reduce_kernel(self):
        p = self.p
        red = p.reduction
        red_j = p.steps.index(red)
        axes = sorted(red.params["axes"])
        kept = [d for d in range(len(p.shape)) if d not in axes]
        out_n = math.prod(red.shape)
        red_n = math.prod(p.shape[d] for d in axes)
        kept_coords = _coords("o", [p.shape[d] for d in kept])
        red_coords = _coords("k", [p.shape[d] for d in axes])
        coords = [None] * len(p.shape)
        for d, c in zip(kept, kept_coords):
            coords[d] = c
        for d, c in zip(axes, red_coords):
            coords[d] = c
        flat = " + ".join(f"c{d} * {s}" for d, s in enumerate(_contiguous_strides(p.shape))) or "0"
        ctype = red.dtype.ctype
        op = f"gf::{REDUCE_OPS[red.prim]}<{ctype}>"
        elem = self._stage("map", coords, "i", p.shape, flat=flat)
        source = red.args[0]
        if source.kind == "input":  # the reduction of an input: the group has no map steps
            offset = _offset([f"c{d}" for d in range(len(p.shape))], p.shape, p.inputs[source.index][0], "bcast")
            elem.append(f"const {ctype} {self._input_var(source)} = in{source.index}[{offset}];")
        value = self._value(source)
        if red.params.get("keepdims"):
            epi_coords = [kept_coords[kept.index(d)] if d in kept else "0" for d in range(len(p.shape))]
        else:
            epi_coords = kept_coords
        epi = [f"const {ctype} v{red_j} = r;"]
        if red_j in p.outputs:
            epi.append(f"out{p.outputs.index(red_j)}[o] = v{red_j};")
        epi += self._stage("epi", epi_coords, "o", red.shape)
        return (f"  gf::fused::reduce<{op}>({out_n}, {red_n},\n"
                f"    [&](gf::index_t o, gf::index_t k) -> {ctype} {{\n"
                + "".join(f"      {x}\n" for x in elem) + f"      return {value};\n    }},\n"
                f"    [&](gf::index_t o, {ctype} r) {{\n" + "".join(f"      {x}\n" for x in epi) + "    });\n")

    # ---- one stage's statements -----------------------------------------------------------------------
    def _stage(self, stage, coords, index, shape, flat=None):
        """Statements computing the stage's values at `coords` (and writing its outputs at `index`)."""
        p = self.p
        lines = []
        loaded = set()
        cvars = [f"c{d}" for d in range(len(coords))]
        for j, step in enumerate(p.steps):
            if step.stage != stage:
                continue
            for ref in step.args:
                if ref.kind == "input" and (ref.index, ref.mode) not in loaded:
                    loaded.add((ref.index, ref.mode))
                    in_shape, in_dtype = p.inputs[ref.index]
                    # An input of the stage's own shape is read at the flat index itself: no coordinates to
                    # recompute, and on the host a loop the compiler vectorizes.
                    same = ref.mode == "bcast" and tuple(in_shape) == tuple(shape)
                    offset = index if same else _offset(cvars, shape, in_shape, ref.mode)
                    lines.append(f"const {in_dtype.ctype} {self._input_var(ref)} = in{ref.index}[{offset}];")
            lines.append(f"const {step.dtype.ctype} v{j} = {self._expr(step, cvars)};")
            if j in p.outputs:
                lines.append(f"out{p.outputs.index(j)}[{index}] = v{j};")
        used = " ".join(lines) + (flat or "")
        head = [f"const gf::index_t c{d} = {c};" for d, c in enumerate(coords) if re.search(rf"\bc{d}\b", used)]
        if flat is not None:
            head.append(f"const gf::index_t {index} = {flat};")
        return head + lines  # (only the coordinates something reads)

    @staticmethod
    def _input_var(ref):
        return f"x{ref.index}" + ("r" if ref.mode == "rows" else "")

    def _value(self, ref):
        return f"v{ref.index}" if ref.kind == "value" else self._input_var(ref)

    def _dtype_of(self, ref):
        return self.p.steps[ref.index].dtype if ref.kind == "value" else self.p.inputs[ref.index][1]

    def _expr(self, step, cvars):
        a = [self._value(r) for r in step.args]
        ct = step.dtype.ctype
        if step.prim in UNARY:
            alpha = _literal(step.params.get("alpha", 0.0))
            return f"gf::store<{ct}>({functor(step.prim)}()(gf::load({a[0]}), {alpha}))"
        if step.prim in BINARY:
            return f"gf::store<{ct}>({functor(step.prim)}()(gf::load({a[0]}), gf::load({a[1]})))"
        if step.prim == "select":
            return f"({a[0]} ? {a[1]} : {a[2]})"
        if step.prim == "cast":
            return f"gf::convert<{self._dtype_of(step.args[0]).ctype}, {ct}>({a[0]})"
        if step.prim == "sparse_softmax_xent_grad":  # g[row] * (probs - onehot(label[row]))
            hot = f"((gf::index_t){a[2]} == {cvars[-1]} ? gf::acc_t<{ct}>(1) : gf::acc_t<{ct}>(0))"
            return f"gf::store<{ct}>(gf::load({a[0]}) * (gf::load({a[1]}) - {hot}))"
        raise AssertionError(f"fusion: no code for {step.prim}")
