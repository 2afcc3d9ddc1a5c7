"""Grad rules of the elementwise primitives (gpuflow/ops/elementwise.py), written in gpuflow ops so they run on
every device and can be differentiated again."""
from __future__ import annotations

import math

from ... import ops
from ...ops import elementwise as ew
from ...ops.dispatch import defgrad, grad_needed


def unbroadcast(g, shape):
    """Sum `g` over the axes that broadcasting added or stretched, so it has `shape` again."""
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
    return (ops.zeros_like(x),)


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _gelu_grad(g, out, x, **p):
    cdf = 0.5 * (1.0 + ops.erf(x * (1 / math.sqrt(2.0))))
    pdf = ops.exp(-0.5 * ops.square(x)) * (1 / math.sqrt(2 * math.pi))
    return (g * (cdf + x * pdf),)


def _gelu_tanh_grad(g, out, x, **p):
    inner = _SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)
    t = ops.tanh(inner)
    dinner = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * ops.square(x))
    return (g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * dinner),)


def _silu_grad(g, out, x, **p):
    s = ops.sigmoid(x)
    return (g * (s + x * s * (1.0 - s)),)


def _where_pos(x, a, b):
    return ops.where(x > 0, a, b)


def _pow_grad_y(g, out, x, y):
    safe = ops.where(x > 0, x, ops.ones_like(x))
    return g * out * ops.where(x > 0, ops.log(safe), ops.zeros_like(x))


# name: grad(g, out, x, alpha) -> tuple, for every differentiable unary primitive
UNARY = {
    "negative": lambda g, out, x, **p: (-g,),
    "abs": lambda g, out, x, **p: (g * ops.sign(x),),
    "sign": _zero_grad,
    "exp": lambda g, out, x, **p: (g * out,),
    "log": lambda g, out, x, **p: (g / x,),
    "log1p": lambda g, out, x, **p: (g / (1.0 + x),),
    "sqrt": lambda g, out, x, **p: (g * 0.5 / out,),
    "rsqrt": lambda g, out, x, **p: (g * -0.5 * out / x,),
    "square": lambda g, out, x, **p: (g * 2 * x,),
    "reciprocal": lambda g, out, x, **p: (-g * out * out,),
    "sin": lambda g, out, x, **p: (g * ops.cos(x),),
    "cos": lambda g, out, x, **p: (-g * ops.sin(x),),
    "tanh": lambda g, out, x, **p: (g * (1.0 - out * out),),
    "sigmoid": lambda g, out, x, **p: (g * out * (1.0 - out),),
    "erf": lambda g, out, x, **p: (g * (2 / math.sqrt(math.pi)) * ops.exp(-ops.square(x)),),
    "erfc": lambda g, out, x, **p: (g * (-2 / math.sqrt(math.pi)) * ops.exp(-ops.square(x)),),
    "expm1": lambda g, out, x, **p: (g * (out + 1.0),),
    "tan": lambda g, out, x, **p: (g * (1.0 + out * out),),
    "asin": lambda g, out, x, **p: (g * ops.rsqrt(1.0 - ops.square(x)),),
    "acos": lambda g, out, x, **p: (-g * ops.rsqrt(1.0 - ops.square(x)),),
    "atan": lambda g, out, x, **p: (g / (1.0 + ops.square(x)),),
    "sinh": lambda g, out, x, **p: (g * ops.cosh(x),),
    "cosh": lambda g, out, x, **p: (g * ops.sinh(x),),
    "asinh": lambda g, out, x, **p: (g * ops.rsqrt(ops.square(x) + 1.0),),
    "acosh": lambda g, out, x, **p: (g * ops.rsqrt(ops.square(x) - 1.0),),
    "atanh": lambda g, out, x, **p: (g / (1.0 - ops.square(x)),),
    "floor": _zero_grad,
    "ceil": _zero_grad,
    "round": _zero_grad,
    "relu": lambda g, out, x, **p: (_where_pos(x, g, ops.zeros_like(g)),),
    "relu6": lambda g, out, x, **p: (
        ops.where(ops.logical_and(x > 0, x < 6), g, ops.zeros_like(g)),),
    "leaky_relu": lambda g, out, x, alpha=0.2: (_where_pos(x, g, g * alpha),),
    "elu": lambda g, out, x, alpha=1.0: (_where_pos(x, g, g * (out + alpha)),),
    "softplus": lambda g, out, x, **p: (g * ops.sigmoid(x),),
    "silu": _silu_grad,
    "gelu": _gelu_grad,
    "gelu_tanh": _gelu_tanh_grad,
}

# name: (d/dx, d/dy) as f(g, out, x, y), None where no gradient flows
BINARY = {
    "add": (lambda g, o, x, y: g, lambda g, o, x, y: g),
    "subtract": (lambda g, o, x, y: g, lambda g, o, x, y: -g),
    "multiply": (lambda g, o, x, y: g * y, lambda g, o, x, y: g * x),
    "divide": (lambda g, o, x, y: g / y, lambda g, o, x, y: -g * o / y),
    "mod": (lambda g, o, x, y: g, lambda g, o, x, y: -g * ops.floordiv(x, y)),
    "pow": (lambda g, o, x, y: g * y * ops.pow(x, y - 1), _pow_grad_y),
    # atan2(y, x): the first operand is y
    "atan2": (lambda g, o, y, x: g * x / (ops.square(x) + ops.square(y)),
              lambda g, o, y, x: -g * y / (ops.square(x) + ops.square(y))),
    "maximum": (lambda g, o, x, y: g * ops.cast(x >= y, g.dtype),
                lambda g, o, x, y: g * ops.cast(x < y, g.dtype)),
    "minimum": (lambda g, o, x, y: g * ops.cast(x <= y, g.dtype),
                lambda g, o, x, y: g * ops.cast(x > y, g.dtype)),
}

for _name, _rule in UNARY.items():
    defgrad(ew.unary[_name])(_rule)
for _name, (_fx, _fy) in BINARY.items():
    defgrad(ew.binary[_name])(_grad2(_fx, _fy))


@defgrad(ew.select)
def _select_grad(g, out, cond, x, y):
    zeros = ops.zeros_like(g)
    return None, unbroadcast(ops.where(cond, g, zeros), x.shape), unbroadcast(ops.where(cond, zeros, g), y.shape)


@defgrad(ew.cast)
def _cast_grad(g, out, x, dtype):
    return (ops.cast(g, x.dtype) if x.dtype.is_floating and dtype.is_floating else None,)
