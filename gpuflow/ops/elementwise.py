"""Elementwise primitives: unary maps, binary maps with NumPy broadcasting, select, cast.

Each unary and binary op is its own primitive (its own grad rule, in gpuflow/autograd/grads/elementwise.py)
but they share one shape rule and, on cuda, one kernel template per family with the op as a functor.
"""
from __future__ import annotations

from .. import dtypes
from ..tensor import TensorSpec
from ._util import broadcast_shapes, require, same_dtype
from .dispatch import primitive

# ---- shape/dtype rules -------------------------------------------------------------

# Dtype classes as ops/_util.require names them; TF's op definitions say which op takes which
# (negative, abs, sign and pow take no unsigned integers in TF; the other integer ops take all).
_KINDS = {"float": ("f", "a floating-point"), "numeric": ("fisu", "a numeric (non-bool)"),
          "signed": ("fis", "a signed numeric"), "bool": ("b", "a bool"), "any": ("fisub", "any")}


def _unary_infer(name, accepts, result):
    kinds, what = _KINDS[accepts]

    def infer(x, alpha=0.0):
        require(name, x, kinds, what)
        return TensorSpec(x.shape, dtypes.bool if result == "bool" else x.dtype)
    return infer


def _binary_infer(name, accepts, result):
    kinds, what = _KINDS[accepts]

    def infer(x, y):
        dtype = same_dtype(name, x, y)
        require(name, x, kinds, what)
        return TensorSpec(broadcast_shapes(name, x.shape, y.shape), dtypes.bool if result == "bool" else dtype)
    return infer


# name: (accepts, result)
UNARY = {
    "negative": ("signed", "same"),
    "abs": ("signed", "same"),
    "sign": ("signed", "same"),
    "exp": ("float", "same"),
    "log": ("float", "same"),
    "log1p": ("float", "same"),
    "sqrt": ("float", "same"),
    "rsqrt": ("float", "same"),
    "square": ("numeric", "same"),
    "reciprocal": ("float", "same"),
    "sin": ("float", "same"),
    "cos": ("float", "same"),
    "tanh": ("float", "same"),
    "sigmoid": ("float", "same"),
    "erf": ("float", "same"),
    "erfc": ("float", "same"),
    "expm1": ("float", "same"),
    "tan": ("float", "same"),
    "asin": ("float", "same"),
    "acos": ("float", "same"),
    "atan": ("float", "same"),
    "sinh": ("float", "same"),
    "cosh": ("float", "same"),
    "asinh": ("float", "same"),
    "acosh": ("float", "same"),
    "atanh": ("float", "same"),
    "floor": ("float", "same"),
    "ceil": ("float", "same"),
    "round": ("float", "same"),
    "relu": ("numeric", "same"),
    "relu6": ("numeric", "same"),
    "leaky_relu": ("float", "same"),
    "elu": ("float", "same"),
    "softplus": ("float", "same"),
    "silu": ("float", "same"),
    "gelu": ("float", "same"),
    "gelu_tanh": ("float", "same"),
    "logical_not": ("bool", "same"),
    "is_nan": ("float", "bool"),
    "is_finite": ("float", "bool"),
}

# name: (accepts, result)
BINARY = {
    "add": ("any", "same"),
    "subtract": ("numeric", "same"),
    "multiply": ("numeric", "same"),
    "divide": ("float", "same"),
    "floordiv": ("numeric", "same"),
    "mod": ("numeric", "same"),
    "pow": ("signed", "same"),
    "atan2": ("float", "same"),
    "maximum": ("numeric", "same"),
    "minimum": ("numeric", "same"),
    "equal": ("any", "bool"),
    "not_equal": ("any", "bool"),
    "less": ("numeric", "bool"),
    "less_equal": ("numeric", "bool"),
    "greater": ("numeric", "bool"),
    "greater_equal": ("numeric", "bool"),
    "logical_and": ("bool", "bool"),
    "logical_or": ("bool", "bool"),
}

unary = {name: primitive(name, _unary_infer(name, acc, res)) for name, (acc, res) in UNARY.items()}
binary = {name: primitive(name, _binary_infer(name, acc, res)) for name, (acc, res) in BINARY.items()}


def _select_infer(cond, x, y):
    require("where", cond, "b", "a bool condition")
    dtype = same_dtype("where", x, y)
    return TensorSpec(broadcast_shapes("where", cond.shape, x.shape, y.shape), dtype)


select = primitive("select", _select_infer)
cast = primitive("cast", lambda x, dtype: TensorSpec(x.shape, dtype))
