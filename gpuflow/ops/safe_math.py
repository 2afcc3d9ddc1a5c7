"""tf.math's guarded arithmetic, built on the elementwise primitives: divide_no_nan, xlogy, xdivy, and the small
compositions TF names (squared_difference, is_inf, log_sigmoid).

Where a result is defined as 0 at some input (y == 0 for divide_no_nan, x == 0 for xlogy and xdivy), the input of
the expression that would make inf or NaN there is first replaced by a harmless value (1). A plain
`where(cond, expr, 0)` gives the right values but NaN gradients: the branch not taken still runs backwards, with
an inf or NaN inside. The gradients are then TF's: 0 at those points, the expression's derivative elsewhere.
"""
from __future__ import annotations

from .. import dtypes
from ._util import require
from .math import abs as _abs, cast, divide, equal, log, logical_and, logical_not, logical_or, multiply, negative, \
    floor, not_equal, operands, reduce_sum, softplus, sqrt, square, subtract, where

__all__ = ["divide_no_nan", "xlogy", "xdivy", "squared_difference", "is_inf", "log_sigmoid", "logical_xor",
           "reduce_euclidean_norm"]


def floats(op: str, *tensors):
    """The tensors, after checking each is floating-point (the error names the op and the dtypes it takes)."""
    for t in tensors:
        require(op, t, "f", "a floating-point")
    return tensors


def divide_no_nan(x, y, name=None):
    """x / y, and 0 wherever y is 0 (even where x is inf or NaN), as tf.math.divide_no_nan. Gradients are 0 there."""
    x, y = floats("divide_no_nan", *operands(x, y))
    nonzero = not_equal(y, 0.0)
    return where(nonzero, divide(x, where(nonzero, y, 1.0)), 0.0)


def xlogy(x, y, name=None):
    """x * log(y), and 0 wherever x is 0 (whatever y is), as tf.math.xlogy."""
    x, y = floats("xlogy", *operands(x, y))
    zero = equal(x, 0.0)
    return where(zero, 0.0, multiply(x, log(where(zero, 1.0, y))))


def xdivy(x, y, name=None):
    """x / y, and 0 wherever x is 0 (whatever y is), as tf.math.xdivy."""
    x, y = floats("xdivy", *operands(x, y))
    zero = equal(x, 0.0)
    return where(zero, 0.0, divide(x, where(zero, 1.0, y)))


def squared_difference(x, y, name=None):
    """(x - y) ** 2, elementwise with broadcasting, as tf.math.squared_difference."""
    x, y = operands(x, y)
    return square(subtract(x, y))


def is_inf(x, name=None):
    """True where x is +inf or -inf (not NaN), as tf.math.is_inf."""
    (x,) = floats("is_inf", *operands(x))
    return equal(_abs(x), float("inf"))


def log_sigmoid(x, name=None):
    """log(sigmoid(x)) = -softplus(-x), without overflow for large |x|, as tf.math.log_sigmoid."""
    (x,) = floats("log_sigmoid", *operands(x))
    return negative(softplus(negative(x)))


def logical_xor(x, y, name=None):
    """x != y for booleans, elementwise with broadcasting, as tf.math.logical_xor."""
    x, y = operands(x, y)
    return logical_and(logical_or(x, y), logical_not(logical_and(x, y)))


def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None):
    """sqrt(sum(x ** 2)) over `axis` (None: every axis), as tf.math.reduce_euclidean_norm; integers give the
    integer part of the norm, in their own dtype (the sum of squares wraps as TF's does)."""
    x = operands(input_tensor)[0]
    total = reduce_sum(square(x), axis, keepdims)
    if x.dtype.is_floating:
        return sqrt(total)
    return cast(floor(sqrt(cast(total, dtypes.float64))), x.dtype)
