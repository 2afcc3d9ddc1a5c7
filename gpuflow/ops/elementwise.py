"""Elementwise primitives: unary maps, binary maps with NumPy broadcasting, select, cast.

Each unary and binary op is its own primitive (its own grad rule) but they share one
shape rule and, on cuda, one kernel template per family with the op as a functor.
"""
from __future__ import annotations

import math

from .. import dtypes
from ..tensor import TensorSpec
from ._util import broadcast_shapes, require, same_dtype
from .dispatch import grad_needed, primitive

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


# ---- gradient helpers (written in gpuflow ops: they run on every device) ----------

def _ops():
    from .. import ops
    return ops


def unbroadcast(g, shape):
    """Sum `g` over the axes that broadcasting added or stretched, so it has `shape` again."""
    ops = _ops()
    if tuple(g.shape) == tuple(shape):
        return g
    lead = len(g.shape) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(shape) if d == 1 and g.shape[lead + i] != 1)
    return ops.reshape(ops.reduce_sum(g, axis=axes), shape) if axes else ops.reshape(g, shape)


def _grad2(fx, fy):
    """A binary grad rule from the two partial-derivative expressions, then unbroadcast."""
    def grad(g, out, x, y):
        # `x * 2.0`, `x - mean`: a constant operand's gradient is not computed (see grad_needed)
        gx = None if fx is None or not grad_needed(grad, 0) else unbroadcast(fx(g, out, x, y), x.shape)
        gy = None if fy is None or not grad_needed(grad, 1) else unbroadcast(fy(g, out, x, y), y.shape)
        return gx, gy
    return grad


def _zero_grad(g, out, x, **params):
    return (_ops().zeros_like(x),)


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _gelu_grad(g, out, x, **p):
    ops = _ops()
    cdf = 0.5 * (1.0 + ops.erf(x * (1 / math.sqrt(2.0))))
    pdf = ops.exp(-0.5 * ops.square(x)) * (1 / math.sqrt(2 * math.pi))
    return (g * (cdf + x * pdf),)


def _gelu_tanh_grad(g, out, x, **p):
    ops = _ops()
    inner = _SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)
    t = ops.tanh(inner)
    dinner = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * ops.square(x))
    return (g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * dinner),)


def _silu_grad(g, out, x, **p):
    s = _ops().sigmoid(x)
    return (g * (s + x * s * (1.0 - s)),)


def _where_pos(x, a, b):
    ops = _ops()
    return ops.where(x > 0, a, b)


# name: (accepts, result, grad(g, out, x, alpha) -> tuple)
UNARY = {
    "negative": ("signed", "same", lambda g, out, x, **p: (-g,)),
    "abs": ("signed", "same", lambda g, out, x, **p: (g * _ops().sign(x),)),
    "sign": ("signed", "same", _zero_grad),
    "exp": ("float", "same", lambda g, out, x, **p: (g * out,)),
    "log": ("float", "same", lambda g, out, x, **p: (g / x,)),
    "log1p": ("float", "same", lambda g, out, x, **p: (g / (1.0 + x),)),
    "sqrt": ("float", "same", lambda g, out, x, **p: (g * 0.5 / out,)),
    "rsqrt": ("float", "same", lambda g, out, x, **p: (g * -0.5 * out / x,)),
    "square": ("numeric", "same", lambda g, out, x, **p: (g * 2 * x,)),
    "reciprocal": ("float", "same", lambda g, out, x, **p: (-g * out * out,)),
    "sin": ("float", "same", lambda g, out, x, **p: (g * _ops().cos(x),)),
    "cos": ("float", "same", lambda g, out, x, **p: (-g * _ops().sin(x),)),
    "tanh": ("float", "same", lambda g, out, x, **p: (g * (1.0 - out * out),)),
    "sigmoid": ("float", "same", lambda g, out, x, **p: (g * out * (1.0 - out),)),
    "erf": ("float", "same", lambda g, out, x, **p: (g * (2 / math.sqrt(math.pi)) * _ops().exp(-_ops().square(x)),)),
    "floor": ("float", "same", _zero_grad),
    "ceil": ("float", "same", _zero_grad),
    "round": ("float", "same", _zero_grad),
    "relu": ("numeric", "same", lambda g, out, x, **p: (_where_pos(x, g, _ops().zeros_like(g)),)),
    "relu6": ("numeric", "same", lambda g, out, x, **p: (
        _ops().where(_ops().logical_and(x > 0, x < 6), g, _ops().zeros_like(g)),)),
    "leaky_relu": ("float", "same", lambda g, out, x, alpha=0.2: (_where_pos(x, g, g * alpha),)),
    "elu": ("float", "same", lambda g, out, x, alpha=1.0: (_where_pos(x, g, g * (out + alpha)),)),
    "softplus": ("float", "same", lambda g, out, x, **p: (g * _ops().sigmoid(x),)),
    "silu": ("float", "same", _silu_grad),
    "gelu": ("float", "same", _gelu_grad),
    "gelu_tanh": ("float", "same", _gelu_tanh_grad),
    "logical_not": ("bool", "same", None),
    "is_nan": ("float", "bool", None),
    "is_finite": ("float", "bool", None),
}


def _pow_grad_y(g, out, x, y):
    ops = _ops()
    safe = ops.where(x > 0, x, ops.ones_like(x))
    return g * out * ops.where(x > 0, ops.log(safe), ops.zeros_like(x))


# name: (accepts, result, d/dx, d/dy) — partials as f(g, out, x, y), None where no gradient flows
BINARY = {
    "add": ("any", "same", lambda g, o, x, y: g, lambda g, o, x, y: g),
    "subtract": ("numeric", "same", lambda g, o, x, y: g, lambda g, o, x, y: -g),
    "multiply": ("numeric", "same", lambda g, o, x, y: g * y, lambda g, o, x, y: g * x),
    "divide": ("float", "same", lambda g, o, x, y: g / y, lambda g, o, x, y: -g * o / y),
    "floordiv": ("numeric", "same", None, None),
    "mod": ("numeric", "same", lambda g, o, x, y: g, lambda g, o, x, y: -g * _ops().floordiv(x, y)),
    "pow": ("signed", "same", lambda g, o, x, y: g * y * _ops().pow(x, y - 1), _pow_grad_y),
    "maximum": ("numeric", "same", lambda g, o, x, y: g * _ops().cast(x >= y, g.dtype),
                lambda g, o, x, y: g * _ops().cast(x < y, g.dtype)),
    "minimum": ("numeric", "same", lambda g, o, x, y: g * _ops().cast(x <= y, g.dtype),
                lambda g, o, x, y: g * _ops().cast(x > y, g.dtype)),
    "equal": ("any", "bool", None, None),
    "not_equal": ("any", "bool", None, None),
    "less": ("numeric", "bool", None, None),
    "less_equal": ("numeric", "bool", None, None),
    "greater": ("numeric", "bool", None, None),
    "greater_equal": ("numeric", "bool", None, None),
    "logical_and": ("bool", "bool", None, None),
    "logical_or": ("bool", "bool", None, None),
}

unary = {name: primitive(name, _unary_infer(name, acc, res), grad)
         for name, (acc, res, grad) in UNARY.items()}
binary = {name: primitive(name, _binary_infer(name, acc, res),
                          None if fx is None and fy is None else _grad2(fx, fy))
          for name, (acc, res, fx, fy) in BINARY.items()}


def _select_infer(cond, x, y):
    require("where", cond, "b", "a bool condition")
    dtype = same_dtype("where", x, y)
    return TensorSpec(broadcast_shapes("where", cond.shape, x.shape, y.shape), dtype)


def _select_grad(g, out, cond, x, y):
    zeros = _ops().zeros_like(g)
    return None, unbroadcast(_ops().where(cond, g, zeros), x.shape), unbroadcast(_ops().where(cond, zeros, g), y.shape)


select = primitive("select", _select_infer, _select_grad)


def _cast_grad(g, out, x, dtype):
    return (_ops().cast(g, x.dtype) if x.dtype.is_floating and dtype.is_floating else None,)


cast = primitive("cast", lambda x, dtype: TensorSpec(x.shape, dtype), _cast_grad)
