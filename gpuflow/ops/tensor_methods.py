"""The Tensor methods that run ops: Python's operators, indexing, `.to(device)` and the notebook view.

The tensor layer (gpuflow/tensor) sits below the ops and cannot call them, so this module, imported with
the op layer, gives Tensor these methods (TF's math_ops overrides tf.Tensor's operators the same way).
Each is the public op itself, so `x + y` and `gf.add(x, y)` are one call through the dispatch point.
"""
from __future__ import annotations

from .. import devices as _device
from ..tensor import Tensor
from . import math
from .creation import copy_to
from .indexing import getitem
from .linalg_ops import matmul
from .tensor_html import tensor_html

_BINARY = [("add", math.add), ("sub", math.subtract), ("mul", math.multiply), ("truediv", math.divide),
           ("floordiv", math.floordiv), ("mod", math.mod), ("pow", math.pow), ("matmul", matmul),
           ("and", math.logical_and), ("or", math.logical_or)]
_COMPARISONS = [("lt", math.less), ("le", math.less_equal), ("gt", math.greater), ("ge", math.greater_equal),
                ("eq", math.equal), ("ne", math.not_equal)]
_UNARY = [("neg", math.negative), ("abs", math.abs), ("invert", math.logical_not)]


def _reflected(name, fn):
    def method(self, other):
        return fn(other, self)
    method.__name__ = name
    return method


def to(self, device) -> Tensor:
    """A copy on another device (copies never happen unless asked for)."""
    return copy_to(self, _device.parse(device))


def _repr_html_(self):
    """What Jupyter shows: shape, dtype, device and a cut-down table of values (ops/tensor_html.py)."""
    return tensor_html(self)


# `x + y` calls gf.add(x, y) itself (no wrapper between: the operators run on every step of a training loop).
for _name, _fn in _BINARY:
    setattr(Tensor, f"__{_name}__", _fn)
    setattr(Tensor, f"__r{_name}__", _reflected(f"__r{_name}__", _fn))
for _name, _fn in _COMPARISONS + _UNARY:
    setattr(Tensor, f"__{_name}__", _fn)
Tensor.__getitem__ = getitem
Tensor.to = to
Tensor._repr_html_ = _repr_html_
