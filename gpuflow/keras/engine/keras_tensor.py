"""Symbolic tensors of the functional API.

A KerasTensor has a shape (None for unknown dims) and a dtype but no value. Each one
remembers the Node (one call of one layer) that made it, so `Model(inputs, outputs)` can
walk the graph back from its outputs. Its arithmetic operators (`x + y`) make layers, so
op_layer.py, where that layer is, defines them.
"""
from __future__ import annotations

from ... import dtypes as _dtypes
from ... import nest
from ...tensor import TensorShape, TensorSpec


class Node:
    """One call of `layer` on symbolic arguments; `outputs` is the call's result structure."""

    def __init__(self, layer, args=(), kwargs=None, outputs=None):
        self.layer = layer
        self.args, self.kwargs = tuple(args), dict(kwargs or {})
        self.outputs = outputs
        self.parents = [t for t in nest.flatten((self.args, self.kwargs)) if isinstance(t, KerasTensor)]

    def __repr__(self):
        return f"<Node {self.layer.name} ({len(self.parents)} inputs)>"


class KerasTensor:
    # `_keras_mask` (set only on the outputs of a masking layer): a KerasTensor with the shape and dtype of the
    # mask the output will carry when the model runs; read it with getattr(t, "_keras_mask", None).
    __slots__ = ("shape", "dtype", "name", "node", "index", "_keras_mask")

    def __init__(self, shape, dtype="float32", name=None, node=None, index=0):
        self.shape = TensorShape(shape)
        self.dtype = _dtypes.as_dtype(dtype)
        self.name = name
        self.node, self.index = node, index  # the Node that made it and its place in node's flat outputs

    ndim = property(lambda self: len(self.shape))
    rank = ndim

    @property
    def spec(self) -> TensorSpec:
        return TensorSpec(self.shape, self.dtype)

    @property
    def _keras_history(self):
        """(layer, node, index): the name tf.keras code reaches for."""
        return self.node.layer, self.node, self.index

    def __repr__(self):
        return f"<KerasTensor shape={self.shape} dtype={self.dtype.name} name={self.name!r}>"

    def __hash__(self):
        return id(self)

    def __bool__(self):
        raise TypeError("a KerasTensor has no value: it is a placeholder of the functional API. Compute with "
                        "layers (or a Lambda layer), then build a Model and call it on real data")

    def __array__(self, dtype=None, copy=None):
        raise TypeError("a KerasTensor has no value to convert to NumPy; build a Model(inputs, outputs) and "
                        "call it (or model.predict) on real data")

    def __iter__(self):
        raise TypeError("a KerasTensor cannot be iterated; index it through a layer instead")

    def __getitem__(self, key):
        raise TypeError("a KerasTensor cannot be indexed directly; slice it inside a layer (e.g. a Layer subclass "
                        "whose call does the indexing)")


def is_keras_tensor(x) -> bool:
    return isinstance(x, KerasTensor)


def any_symbolic(structure) -> bool:
    return any(isinstance(t, KerasTensor) for t in nest.flatten(structure))
