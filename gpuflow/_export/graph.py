"""The exporters' graph: Values (one tensor each, shape with None for unknown dims such as the batch) and Ops
(one layer-level operation each: 'dense', 'conv', 'pool', ..., with NumPy weights and plain attributes).

An op kind means the same thing to every exporter; lower.py says what each kind's attrs and weights are."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._names import UniqueNames
from ..errors import InvalidArgumentError


class ExportError(InvalidArgumentError):
    """A model, a layer or an option that an exporter cannot write; the message names it and says what to do."""


@dataclass(eq=False)
class Value:
    name: str
    shape: tuple          # None for an unknown dim (the batch, a free sequence length)
    dtype: str = "float32"

    @property
    def rank(self):
        return len(self.shape)


@dataclass(eq=False)
class Op:
    kind: str
    layer: str                      # the Keras layer it comes from, for names and error messages
    layer_type: str
    inputs: list
    outputs: list
    attrs: dict = field(default_factory=dict)
    weights: dict = field(default_factory=dict)   # name → np.ndarray (float32 unless said otherwise)

    @property
    def where(self):
        return f"layer {self.layer!r} ({self.layer_type})"


class Graph:
    def __init__(self, name):
        self.name = name
        self.inputs, self.outputs, self.ops = [], [], []
        self._names = UniqueNames()

    def unique(self, name):
        """`name`, or `name_1`, `name_2`, ... when it is taken: every Value and op output has its own name."""
        return self._names(name)

    def value(self, name, shape, dtype="float32"):
        # Exported graphs compute in float32 whatever the layers' dtype policy (mixed_float16 included).
        dtype = "float32" if dtype in ("float16", "bfloat16", "float64") else dtype
        return Value(self.unique(name), tuple(shape), dtype)

    def add(self, kind, layer, inputs, outputs, attrs=None, weights=None):
        op = Op(kind, layer.name, type(layer).__name__, list(inputs), list(outputs), dict(attrs or {}),
                {k: np.asarray(v, np.float32) if np.asarray(v).dtype.kind == "f" else np.asarray(v)
                 for k, v in (weights or {}).items() if v is not None})
        self.ops.append(op)
        return op

    def consumers(self, value):
        return [op for op in self.ops if any(v is value for v in op.inputs)]

    def name_outputs(self, names):
        """Gives each output Value its Keras output name (a repeated name, as a layer with several outputs
        gives, becomes name, name_1, ...). A Value that is a graph input or already an output under another
        name gets an 'identity' op so that both names exist."""
        unique, seen = [], {}
        for name in names:
            seen[name] = seen.get(name, -1) + 1
            unique.append(name if not seen[name] else f"{name}_{seen[name]}")
        renamed = []
        for value, name in zip(self.outputs, unique):
            if value.name == name:
                renamed.append(value)
                continue
            if any(value is v for v in self.inputs) or any(value is v for v in renamed):
                out = Value(name, value.shape, value.dtype)
                self.ops.append(Op("identity", name, "Identity", [value], [out]))
                value = out
            else:
                for other in self._all_values():
                    if other.name == name and other is not value:
                        other.name = self.unique(name)
                value.name = name
            self._names.taken.add(name)
            renamed.append(value)
        self.outputs = renamed

    def _all_values(self):
        seen = {id(v): v for v in self.inputs}
        for op in self.ops:
            for v in op.inputs + op.outputs:
                seen.setdefault(id(v), v)
        return list(seen.values())

    def kinds(self):
        return sorted({op.kind for op in self.ops})
