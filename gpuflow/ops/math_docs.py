"""Docstrings of the ops that gpuflow/ops/math.py makes from a table (one function per primitive).

The API reference (tools/api_reference.py) shows these; tests/docs/test_api_reference.py checks every
public name has one. The convention, as for every public docstring: a one-paragraph summary, then
optional `Devices:` (when not every device) and `Differs from TF:` sections.
"""

_ELEMENTWISE = ("Elementwise, with NumPy broadcasting between the two inputs, which must have the same dtype "
                "(Python numbers take the tensor's dtype).")
_NO_PROMOTION = """

Differs from TF:
    Inputs of different dtypes are an error rather than an implicit conversion, NumPy float64
    arrays included: cast with `gf.cast`."""


def _unary(summary, domain="Floating-point input."):
    return f"{summary}\n\nElementwise; the result has the input's shape and dtype. {domain}"


def _binary(summary):
    return f"{summary}\n\n{_ELEMENTWISE}{_NO_PROMOTION}"


def _compare(summary):
    return f"{summary}, elementwise: a bool tensor.\n\n{_ELEMENTWISE}{_NO_PROMOTION}"


def _reduce(summary, extra=""):
    return (f"{summary} over `axis` (an int, a list of ints, or None for every axis).\n\n"
            f"`keepdims=True` keeps each reduced axis with size 1.{extra}\n\n"
            "Differs from TF:\n    A 0-d input accepts `axis` 0 or -1, as NumPy does (TF raises).")


DOCS = {
    "negative": _unary("Numerical negative: -x.", "Numeric input."),
    "abs": _unary("Absolute value: |x|. The gradient at 0 is 0 (sign(0)), as in TF.", "Numeric input."),
    "sign": _unary("Sign: -1, 0 or 1 (NaN for NaN). Its gradient is zero.", "Numeric input."),
    "exp": _unary("Exponential: e**x."),
    "log": _unary("Natural logarithm: log(x); -inf at 0 and NaN below it."),
    "log1p": _unary("log(1 + x), accurate for small x."),
    "sqrt": _unary("Square root."),
    "rsqrt": _unary("Reciprocal square root: 1 / sqrt(x)."),
    "square": _unary("Square: x * x.", "Numeric input."),
    "reciprocal": _unary("Reciprocal: 1 / x."),
    "sin": _unary("Sine, in radians."),
    "cos": _unary("Cosine, in radians."),
    "tanh": _unary("Hyperbolic tangent."),
    "sigmoid": _unary("Logistic sigmoid: 1 / (1 + exp(-x)), without overflow for large |x|."),
    "erf": _unary("Gauss error function."),
    "erfc": _unary("Complementary error function: 1 - erf(x), accurate where erf(x) is near 1."),
    "expm1": _unary("exp(x) - 1, accurate for small x."),
    "tan": _unary("Tangent, in radians."),
    "asin": _unary("Inverse sine, in radians, in [-pi/2, pi/2]; NaN outside [-1, 1]."),
    "acos": _unary("Inverse cosine, in radians, in [0, pi]; NaN outside [-1, 1]."),
    "atan": _unary("Inverse tangent, in radians, in (-pi/2, pi/2)."),
    "sinh": _unary("Hyperbolic sine."),
    "cosh": _unary("Hyperbolic cosine."),
    "asinh": _unary("Inverse hyperbolic sine."),
    "acosh": _unary("Inverse hyperbolic cosine; NaN below 1."),
    "atanh": _unary("Inverse hyperbolic tangent; +-inf at +-1 and NaN outside [-1, 1]."),
    "floor": _unary("Largest integer value not greater than x (a float). Its gradient is zero."),
    "ceil": _unary("Smallest integer value not less than x (a float). Its gradient is zero."),
    "round": _unary("Rounds to the nearest integer value, halves to even, as tf.round. Its gradient is zero."),
    "relu": _unary("Rectified linear unit: max(x, 0). The gradient at 0 is 0, as in TF.", "Numeric input."),
    "relu6": _unary("min(max(x, 0), 6). The gradient is 1 strictly between 0 and 6 and 0 elsewhere, as in TF.",
                    "Numeric input."),
    "softplus": _unary("log(1 + exp(x)), computed without overflow; its gradient is sigmoid(x)."),
    "silu": _unary("Sigmoid-weighted linear unit (swish): x * sigmoid(x)."),
    "logical_not": _unary("Logical NOT.", "Bool input."),
    "is_nan": _unary("True where x is NaN (a bool tensor).", "Floating-point input."),
    "is_finite": _unary("True where x is neither infinite nor NaN (a bool tensor).", "Floating-point input."),
    "add": _binary("x + y."),
    "subtract": _binary("x - y."),
    "multiply": _binary("x * y."),
    "divide": _binary("x / y for floating-point inputs."),
    "floordiv": _binary("Floor division: the largest integer not greater than x / y (for floats: floor(x / y))."),
    "mod": _binary("Remainder of floor division, with the sign of y, as tf.math.floormod (and Python's %)."),
    "pow": _binary("x ** y."),
    "atan2": _binary("The angle of the point (y, x) (note the order: atan2(y, x), as TF and NumPy), in radians, "
                     "in [-pi, pi]."),
    "maximum": _binary("Elementwise maximum. At a tie the gradient goes to x (TF's rule: x >= y)."),
    "minimum": _binary("Elementwise minimum. At a tie the gradient goes to x (TF's rule: x <= y)."),
    "equal": _compare("x == y"),
    "not_equal": _compare("x != y"),
    "less": _compare("x < y"),
    "less_equal": _compare("x <= y"),
    "greater": _compare("x > y"),
    "greater_equal": _compare("x >= y"),
    "logical_and": _compare("Logical AND of two bool tensors"),
    "logical_or": _compare("Logical OR of two bool tensors"),
    "reduce_sum": _reduce("Sum"),
    "reduce_max": _reduce("Maximum", " Tied maxima share the gradient equally, as in TF."),
    "reduce_min": _reduce("Minimum", " Tied minima share the gradient equally, as in TF."),
    "reduce_prod": _reduce("Product", " The gradient is exact where x has zeros (no division by x)."),
    "reduce_logsumexp": _reduce("log(sum(exp(x))), computed without overflow,"),
    "argmax": ("Index of the largest value along `axis` (default 0), as int64 (or `output_type`).\n\n"
               "Ties give the first index. A 0-d input is an error, as in TF."),
    "argmin": ("Index of the smallest value along `axis` (default 0), as int64 (or `output_type`).\n\n"
               "Ties give the first index. A 0-d input is an error, as in TF."),
}
