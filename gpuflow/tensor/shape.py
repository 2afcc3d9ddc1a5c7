"""What is known of a value without the value: TensorShape, TensorSpec (shape and dtype, what shape
inference works on) and Symbol (a value of a graph being traced)."""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt


class TensorShape(tuple):
    """A tuple of ints (None for unknown dims), with the few tf.TensorShape methods people call."""

    def __new__(cls, dims=()):
        if type(dims) is tuple and all(type(d) is int for d in dims):  # the hot path: array.shape
            return super().__new__(cls, dims)
        return super().__new__(cls, (None if d is None else int(d) for d in dims))

    rank = property(lambda self: len(self))
    ndims = rank

    def as_list(self):
        return list(self)

    def num_elements(self):
        return None if None in self else int(np.prod(self, dtype=np.int64))

    def is_fully_defined(self):
        return None not in self

    def __getitem__(self, key):
        if type(key) is int:  # shape[-1], shape[0]: on every layer call
            return tuple.__getitem__(self, key)
        item = super().__getitem__(key)
        return TensorShape(item) if isinstance(key, slice) else item

    def __repr__(self):
        return f"TensorShape({list(self)})"

    def __str__(self):
        return "(" + ", ".join("None" if d is None else str(d) for d in self) + ("," if len(self) == 1 else "") + ")"


class TensorSpec:
    """Shape and dtype of a value without the value: what shape inference works on."""
    __slots__ = ("shape", "dtype", "name")

    def __init__(self, shape, dtype=_dt.float32, name=None):
        self.shape = shape if type(shape) is TensorShape else TensorShape(shape)
        self.dtype = dtype if type(dtype) is _dt.DType else _dt.as_dtype(dtype)
        self.name = name

    def __eq__(self, other):
        return isinstance(other, TensorSpec) and (self.shape, self.dtype) == (other.shape, other.dtype)

    def __hash__(self):
        return hash((self.shape, self.dtype))

    def __repr__(self):
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype!r}, name={self.name!r})"

    def is_compatible_with(self, other) -> bool:
        shape, dtype = (other.shape, other.dtype)
        return dtype == self.dtype and len(shape) == len(self.shape) and all(
            a is None or b is None or a == b for a, b in zip(self.shape, shape))


class Symbol:
    """A value of a graph being traced by gf.function: shape, dtype and where it comes from, no data.

    A symbolic Tensor holds a Symbol as its `_data`, so it flows through every op and layer like an eager
    one; only reading its value (numpy(), float(), bool()) is refused. `graph` is the gpuflow.graph IR it
    belongs to and `index` its number there."""
    __slots__ = ("shape", "dtype", "graph", "index")

    def __init__(self, shape, dtype, graph, index):
        self.shape, self.dtype, self.graph, self.index = shape, dtype, graph, index

    def __repr__(self):
        return f"%{self.index}"
