"""What a fused kernel computes, independent of any graph: the description the code generator reads.

A Program is a list of steps in one of three stages:

    map      elementwise over `shape` (every element once)
    reduce   one reduction of a map value over `axes` of `shape` (at most one step)
    epi      elementwise over the reduction's output shape (the epilogue), run once per output element

A step's arguments are Refs: a value an earlier step made (`value`), or an external input (`input`) read
at the current element, broadcast NumPy-style (trailing dims) to the stage's shape, or `rows`: indexed by
the leading dims of the map shape (sparse_softmax_xent_grad's per-row gradient and label).
`outputs` are the steps whose values leave the kernel: map values are written over `shape`, reduce and
epilogue values over the reduction's output shape.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Ref:
    kind: str    # "value" (index of a step) or "input" (index of an external input)
    index: int
    mode: str = "bcast"  # inputs: "bcast" (NumPy broadcasting to the stage shape) or "rows" (leading dims)


@dataclass
class Step:
    prim: str
    args: tuple
    params: dict
    dtype: object      # gpuflow DType of its value
    shape: tuple
    stage: str         # "map", "reduce" or "epi"


@dataclass
class Program:
    shape: tuple                                 # the map stage's shape
    inputs: list = field(default_factory=list)   # (shape, DType) of each external input
    steps: list = field(default_factory=list)
    outputs: list = field(default_factory=list)  # step indices, in the fused node's output order

    @property
    def reduction(self):
        return next((s for s in self.steps if s.stage == "reduce"), None)

    def key(self) -> str:
        """A stable text of everything the generated source depends on (its cache key)."""
        def ref(r):
            return f"{r.kind[0]}{r.index}{'' if r.mode == 'bcast' else r.mode}"
        parts = [f"shape={self.shape}", "in=" + ";".join(f"{d.name}{list(s)}" for s, d in self.inputs)]
        for s in self.steps:
            params = ",".join(f"{k}={_param_text(v)}" for k, v in sorted(s.params.items()))
            parts.append(f"{s.stage}:{s.prim}({','.join(ref(a) for a in s.args)})[{params}]->{s.dtype.name}{list(s.shape)}")
        parts.append(f"out={self.outputs}")
        return "|".join(parts)


def _param_text(value) -> str:
    name = getattr(value, "name", None)  # a DType
    return name if isinstance(name, str) else repr(value)
