"""Elementwise primitives on NumPy: the semantics kernels/elementwise.cu mirrors.

Where C++ and NumPy could differ, both follow one rule (see the kernel file's contract):
integer pow with a negative exponent is 1 for base 1, +-1 for base -1, else 0 (NumPy raises);
float64 and integers round once to float16/bfloat16 (`round_once`; ml_dtypes rounds twice).
"""
from __future__ import annotations

import math

import numpy as np

import ml_dtypes

from ._registry import impl, narrow, quiet, widen

_HALVES = (np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16))

_SQRT_HALF = 1 / math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_erf = np.vectorize(math.erf, otypes=[np.float64])
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def erf(x):
    return _erf(x).astype(x.dtype) if x.size else x.copy()


def _softplus(x):
    return np.logaddexp(0, x).astype(x.dtype)


UNARY = {
    "negative": np.negative, "abs": np.abs, "sign": np.sign, "exp": np.exp, "log": np.log,
    "log1p": np.log1p, "sqrt": np.sqrt, "rsqrt": lambda x: 1 / np.sqrt(x), "square": np.square,
    "reciprocal": lambda x: 1 / x, "sin": np.sin, "cos": np.cos, "tanh": np.tanh,
    "sigmoid": lambda x: np.exp(-np.logaddexp(0, -x)).astype(x.dtype),
    "erf": erf, "erfc": lambda x: _erfc(x).astype(x.dtype) if x.size else x.copy(), "expm1": np.expm1,
    "tan": np.tan, "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan, "sinh": np.sinh, "cosh": np.cosh,
    "asinh": np.arcsinh, "acosh": np.arccosh, "atanh": np.arctanh, "floor": np.floor, "ceil": np.ceil, "round": np.round,
    "relu": lambda x: np.maximum(x, 0), "relu6": lambda x: np.clip(x, 0, 6),
    "softplus": _softplus, "silu": lambda x: x / (1 + np.exp(-x)),
    "gelu": lambda x: 0.5 * x * (1 + erf(x * _SQRT_HALF)),
    "gelu_tanh": lambda x: 0.5 * x * (1 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3))),
    "logical_not": np.logical_not, "is_nan": np.isnan, "is_finite": np.isfinite,
}
WITH_ALPHA = {
    "leaky_relu": lambda x, alpha: np.where(x > 0, x, x * x.dtype.type(alpha)),
    "elu": lambda x, alpha: np.where(x > 0, x, x.dtype.type(alpha) * np.expm1(np.minimum(x, 0))),
}


@impl(*UNARY, *WITH_ALPHA)
def unary(name, x, alpha=0.0):
    wide = widen(x)
    with quiet():
        out = WITH_ALPHA[name](wide, alpha) if name in WITH_ALPHA else UNARY[name](wide)
    return narrow(out, x.dtype) if out.dtype != np.bool_ else out


BINARY = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.true_divide,
    "floordiv": np.floor_divide, "mod": np.mod, "pow": np.power, "atan2": np.arctan2, "maximum": np.maximum, "minimum": np.minimum,
    "equal": np.equal, "not_equal": np.not_equal, "less": np.less, "less_equal": np.less_equal,
    "greater": np.greater, "greater_equal": np.greater_equal,
    "logical_and": np.logical_and, "logical_or": np.logical_or,
}


def int_pow(x, y):
    """Power by squaring in the unsigned twin type (wraps like the kernel), defined for y < 0."""
    x, y = np.broadcast_arrays(x, y)
    unsigned = np.dtype(f"uint{8 * x.dtype.itemsize}")
    result = np.ones(x.shape, unsigned)
    base, exponent = x.astype(unsigned), np.where(y < 0, 0, y).astype(unsigned)
    while exponent.any():
        result = np.where(exponent & 1, result * base, result)
        base = base * base
        exponent = exponent >> unsigned.type(1)
    out = result.view(x.dtype)
    negative = y < 0
    odd = (y & 1).astype(bool)
    out[negative] = np.where(x == 1, 1, np.where(x == -1, np.where(odd, -1, 1), 0))[negative]
    return out


@impl(*BINARY)
def binary(name, x, y):
    if x.dtype == np.bool_ and name == "add":
        return np.logical_or(x, y)
    if name == "pow" and x.dtype.kind == "i":
        return int_pow(x, y)
    with quiet():
        out = BINARY[name](widen(x), widen(y))
    if out.dtype == np.bool_:
        return np.asarray(out)
    return narrow(out, x.dtype).astype(x.dtype, copy=False)


@impl("select")
def select(cond, x, y):
    return np.where(cond, x, y).astype(x.dtype, copy=False)


def round_once(wide: np.ndarray, target) -> np.ndarray:
    """float64 -> float16/bfloat16 rounded once to nearest even, as kernels/convert.cuh: round to
    float32 "to odd" first (float keeps the two extra bits a correct second rounding needs)."""
    f = wide.astype(np.float32)
    back = f.astype(np.float64)
    inexact = (back != wide) & ~np.isnan(wide)
    bits = f.view(np.uint32)
    bits[inexact & (np.abs(back) > np.abs(wide))] -= np.uint32(1)
    bits[inexact] |= np.uint32(1)
    return f.astype(target)


@impl("cast")
def cast(x, dtype):
    target = dtype.np
    with quiet():
        return _cast(x, target)


def _cast(x, target):
    if (x.dtype.kind == "f" or x.dtype in _HALVES) and target.kind in "iu":  # bfloat16's kind is 'V'
        # As the GPU's conversion does: truncate toward zero, saturate out-of-range values,
        # NaN becomes 0; so cpu, sim and cuda agree where C++ would be undefined.
        info = np.iinfo(target)
        wide = np.nan_to_num(widen(x).astype(np.float64), nan=0.0)
        too_big = wide >= float(info.max)
        out = np.asarray(np.trunc(np.clip(wide, info.min, info.max))).astype(target)  # 0-d: a ufunc gives a scalar
        out[too_big] = info.max
        return out
    if x.dtype == np.bool_ or target == np.bool_:
        return (x != 0).astype(target) if target == np.bool_ else x.astype(target)
    if target in _HALVES and (x.dtype == np.float64 or x.dtype.kind in "iu"):
        return round_once(x.astype(np.float64), target)
    return widen(x).astype(target)
