"""Public elementwise and reduction ops with TensorFlow's names and arguments."""
from __future__ import annotations

import math

import ml_dtypes
import numpy as np

from .. import devices as _device
from .. import dtypes
from ..errors import InvalidArgumentError
from ..tensor import AUTOCAST, Tensor
from ..tensor.convert import convert_to_tensor, tensor_on_device_of
from . import elementwise as ew
from . import movement, reduction as red, scan_prims, scatter_prims
from .creation import constant, zeros
from ._util import normalize_axes, normalize_axis
from .dispatch import autocast, bind
from .math_docs import DOCS

__all__ = ["negative", "abs", "sign", "exp", "log", "log1p", "sqrt", "rsqrt", "square", "reciprocal", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "asinh", "acosh", "atanh", "tanh", "sigmoid", "erf", "erfc", "expm1", "floor", "ceil", "round", "relu", "relu6", "softplus", "silu", "swish", "logical_not", "is_nan", "is_finite", "add", "subtract", "multiply", "floordiv", "mod", "floormod", "pow", "maximum", "minimum", "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and", "logical_or", "divide", "truediv", "realdiv", "where", "cast", "saturate_cast", "clip_by_value", "add_n", "reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "reduce_logsumexp", "reduce_mean", "reduce_any", "reduce_all", "reduce_variance", "reduce_std", "argmax", "argmin", "leaky_relu", "elu", "gelu", "count_nonzero"]


def operands(*values):
    """Tensors as they are; other values become tensors of the first tensor's dtype, on its device."""
    for v in values:
        if not isinstance(v, Tensor):
            break
    else:  # the common case: nothing to convert
        return values
    if AUTOCAST.active and AUTOCAST.dtype is not None:  # in a mixed-precision layer: `self.w * 2.0` takes
        values = autocast(values, AUTOCAST.dtype)                # the dtype w is read in
    like = next((v for v in values if isinstance(v, Tensor)), None)
    if like is None:
        return tuple(convert_to_tensor(v) for v in values)
    return tuple(v if isinstance(v, Tensor) else _python_scalar(v, like) if type(v) in _SCALAR_TYPES
                 else _convert_like(v, like) for v in values)


def _convert_like(value, like: Tensor) -> Tensor:
    with _device.device(like._device):
        return convert_to_tensor(value, dtype_hint=like.dtype)


# `x * 2.0`, `1 - p`, `g * 0.5`: Python numbers next to a tensor are converted on almost every
# step of a training loop, so each (number, dtype, device) is converted once and its tensor
# reused. Sharing is safe because tensors are immutable and no op writes into its inputs; on
# NumPy the shared buffer is also made read-only so that nothing can. The key holds the number's
# type (1, 1.0 and True convert differently) and a float's sign (-0.0 == 0.0 in Python); NaN is
# never equal to itself, so it is never looked up and is converted every time.
_SCALAR_TYPES = frozenset({float, int, bool})
_SCALARS: dict = {}
_SCALARS_SIZE = 1024


def _python_scalar(value, like: Tensor) -> Tensor:
    if value != value:  # NaN
        return _convert_like(value, like)
    key = (type(value), value, math.copysign(1.0, value) if type(value) is float else 1.0,
           like._dtype, like._device)
    tensor = _SCALARS.get(key)
    if tensor is None:
        tensor = _convert_like(value, like)
        if isinstance(tensor._data, np.ndarray):
            tensor._data.flags.writeable = False
        if len(_SCALARS) >= _SCALARS_SIZE:
            _SCALARS.clear()
        _SCALARS[key] = tensor
    return tensor


def _named(op, name):
    """A made op under its public name, with its docstring (math_docs.DOCS): what the API reference shows."""
    op.__name__ = op.__qualname__ = name
    op.__doc__ = DOCS[name]
    return op


def _unary(name):
    prim = ew.unary[name]

    def op(x, name=None):
        return bind(prim, *operands(x))  # bind directly: one Python call less than prim(...) per op
    return _named(op, name)


def _binary(name):
    prim = ew.binary[name]

    def op(x, y, name=None):
        return bind(prim, *operands(x, y))
    return _named(op, name)


negative, abs, sign, exp, log, log1p = map(_unary, ("negative", "abs", "sign", "exp", "log", "log1p"))  # noqa: A001
sqrt, rsqrt, square, reciprocal, sin, cos = map(_unary, ("sqrt", "rsqrt", "square", "reciprocal", "sin", "cos"))
tanh, sigmoid, erf, floor, ceil, round = map(_unary, ("tanh", "sigmoid", "erf", "floor", "ceil", "round"))  # noqa: A001
relu, relu6, softplus, silu = map(_unary, ("relu", "relu6", "softplus", "silu"))
logical_not, is_nan, is_finite = map(_unary, ("logical_not", "is_nan", "is_finite"))
erfc, expm1, tan, asin, acos, atan = map(_unary, ("erfc", "expm1", "tan", "asin", "acos", "atan"))
sinh, cosh, asinh, acosh, atanh = map(_unary, ("sinh", "cosh", "asinh", "acosh", "atanh"))

add, subtract, multiply, _divide = map(_binary, ("add", "subtract", "multiply", "divide"))
floordiv, mod, pow, maximum, minimum = map(_binary, ("floordiv", "mod", "pow", "maximum", "minimum"))  # noqa: A001
atan2 = _binary("atan2")
equal, not_equal, less, less_equal = map(_binary, ("equal", "not_equal", "less", "less_equal"))
greater, greater_equal, logical_and, logical_or = map(_binary, ("greater", "greater_equal", "logical_and",
                                                                 "logical_or"))
floormod = mod
swish = silu


# TF's truediv: integers are divided in a float wide enough to hold them exactly.
_TRUEDIV = {dtypes.int8: dtypes.float32, dtypes.int16: dtypes.float32, dtypes.uint8: dtypes.float32,
            dtypes.int32: dtypes.float64, dtypes.int64: dtypes.float64, dtypes.uint32: dtypes.float64}


def divide(x, y, name=None):
    """True division; integer inputs give float32 (8/16-bit) or float64 (int32, int64, uint32), as in TensorFlow."""
    x, y = operands(x, y)
    if x.dtype == y.dtype and x.dtype in _TRUEDIV:
        x, y = cast(x, _TRUEDIV[x.dtype]), cast(y, _TRUEDIV[x.dtype])
    return _divide(x, y)


truediv = divide
realdiv = divide


def where(condition, x=None, y=None, name=None):
    """tf.where: elements of x where condition is true, else of y (broadcast together); with condition alone,
    the int64 (num_true, rank) coordinates of its true (non-zero) elements, read back to size the result."""
    if x is None and y is None:
        return _where_indices(condition)
    if x is None or y is None:
        raise ValueError("where: give both x and y, or neither (for the coordinates of the true elements)")
    x, y = operands(x, y)
    return ew.select(tensor_on_device_of(x, condition, dtype_hint=dtypes.bool), x, y)


def _where_indices(condition):
    """tf.where(condition): int64 (num_true, rank) coordinates of the true (non-zero) elements, in row-major
    order. Computed on the device: positions are packed by an exclusive cumsum of the condition and one
    scatter; only the count is read back (the output shape), like boolean_mask."""
    c = condition if isinstance(condition, Tensor) else convert_to_tensor(condition)
    if not c.dtype.is_bool:
        c = not_equal(c, 0)
    n, rank = c.shape.num_elements(), c.ndim
    flat = movement.reshape(c, shape=(n,))
    flags = cast(flat, dtypes.int64)
    count = int(reduce_sum(flags).numpy()) if n else 0
    with _device.device(c._device):
        if count == 0 or rank == 0:
            return zeros((count, rank), dtypes.int64)
        positions = constant(np.arange(n, dtype=np.int64).reshape(n, 1))
        base = zeros((count, 1), dtypes.int64)
    slot = scan_prims.cumsum(flags, axis=0, exclusive=True, reverse=False)
    ids = where(flat, slot, -1)
    lin = scatter_prims.scatter_reduce(base, ids, positions, reduction="sum", drop_negative=True, op="where")
    strides = np.cumprod((list(c.shape[1:]) + [1])[::-1])[::-1]
    return movement.concat(*[mod(floordiv(lin, int(s)), int(d)) for s, d in zip(strides, c.shape)], axis=1)


def cast(x, dtype, name=None):
    """`x` converted to `dtype` (a no-op when it already has it). Floating-to-floating casts pass the gradient.

        Integer to integer keeps the low bits (300 becomes 44 in uint8); float to integer truncates toward zero,
        saturates at the dtype's limits (-1.5 becomes 0 and 300.0 becomes 255 in uint8) and sends NaN to 0, on
        every device; to bool is `x != 0`. TF leaves out-of-range float to integer casts to the platform.

        Differs from TF:
            gpuflow has no complex, string, uint16, uint64 or quantized dtypes to cast to.
    """
    x = operands(x)[0]
    dtype = dtypes.as_dtype(dtype)
    return x if x.dtype == dtype else ew.cast(x, dtype=dtype)


def _range(dtype):
    info = np.iinfo(dtype.np) if dtype.is_integer else ml_dtypes.finfo(dtype.np)
    return info.min, info.max


def saturate_cast(value, dtype, name=None):
    """`value` cast to `dtype` after clipping it to the range `dtype` can hold, so that nothing wraps: int32 300 becomes
    uint8 255 (gf.cast gives 44), -5 becomes 0, and float64 1e6 becomes float16's largest finite 65504, not inf.

        NaN is not clipped: it casts to 0 in an integer dtype and stays NaN in a float one, as gf.cast does.
    """
    x = operands(value)[0]
    dtype = dtypes.as_dtype(dtype)
    if x.dtype == dtype or x.dtype.is_bool or dtype.is_bool:
        return cast(x, dtype)
    (lo, hi), (x_lo, x_hi) = _range(dtype), _range(x.dtype)
    # Each bound in x's dtype: a float bound that rounds past an integer dtype's limit is saturated by cast itself.
    if x_lo < lo:
        x = maximum(x, _number_like(lo, x))
    if x_hi > hi:
        x = minimum(x, _number_like(hi, x))
    return cast(x, dtype)


def _number_like(number, like):
    """`number` as a tensor of `like`'s dtype on its device (rounded as NumPy's astype rounds)."""
    return tensor_on_device_of(like, np.asarray(number).astype(like.dtype.np))


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """`t` limited to [clip_value_min, clip_value_max], elementwise (bounds broadcast against `t`).

        The gradient passes where clip_value_min <= t <= clip_value_max, bounds included, as in TF.
    """
    t, lo, hi = operands(t, clip_value_min, clip_value_max)
    return minimum(maximum(t, lo), hi)


def add_n(inputs, name=None):
    """The elementwise sum of a list of tensors of one shape and dtype."""
    total = inputs[0]
    for t in inputs[1:]:
        total = add(total, t)
    return total


def _reduce(prim):
    def op(input_tensor, axis=None, keepdims=False, name=None):
        x = operands(input_tensor)[0]
        return prim(x, axes=normalize_axes(prim.name, axis, x.ndim), keepdims=bool(keepdims))
    return _named(op, prim.name)


reduce_sum = _reduce(red.reduce_sum)
reduce_max = _reduce(red.reduce_max)
reduce_min = _reduce(red.reduce_min)
reduce_prod = _reduce(red.reduce_prod)
reduce_logsumexp = _reduce(red.reduce_logsumexp)


def reduce_mean(input_tensor, axis=None, keepdims=False, name=None):
    """Mean over `axis` (an int, a list of ints, or None for every axis); `keepdims` keeps reduced axes.

        float16 and bfloat16 inputs are summed and divided in float32 and rounded once. Integer means truncate
        toward zero, as in TF, and are summed in int64, so the mean of uint8 pixels or of large int32 values does
        not overflow (an int64 sum still wraps, as in TF).

        Differs from TF:
            A 0-d input accepts `axis` 0 or -1, as NumPy does (TF raises).
    """
    x = operands(input_tensor)[0]
    if x.dtype in (dtypes.float16, dtypes.bfloat16):
        # Sum and divide in float32, round once: a half-precision sum or count overflows at 65504
        # (70,000 halves of 0.5 would average to 0) and 257 is not a bfloat16.
        return cast(reduce_mean(cast(x, dtypes.float32), axis, keepdims), x.dtype)
    if x.dtype.is_integer and x.dtype != dtypes.int64:
        # The mean of an image of uint8 pixels: a uint8 sum would wrap at 256. The mean lies within x's range.
        return cast(reduce_mean(cast(x, dtypes.int64), axis, keepdims), x.dtype)
    axes = normalize_axes("reduce_mean", axis, x.ndim)
    count = 1
    for a in axes:
        count *= x.shape[a]
    total = red.reduce_sum(x, axes=axes, keepdims=bool(keepdims))
    if x.dtype.is_floating:
        return total / count if count else total * float("nan")
    # Integer means truncate toward zero, as in TensorFlow (floor division would round -7/2 to -4).
    quotient = floordiv(abs(total), max(count, 1))
    return where(total < 0, -quotient, quotient)


def reduce_any(input_tensor, axis=None, keepdims=False, name=None):
    """Logical OR over `axis` (None: every axis) of a bool or numeric tensor; a bool result."""
    x = operands(input_tensor)[0]
    return reduce_max(cast(x, dtypes.int32), axis, keepdims) > 0


def reduce_all(input_tensor, axis=None, keepdims=False, name=None):
    """Logical AND over `axis` (None: every axis) of a bool or numeric tensor; a bool result."""
    x = operands(input_tensor)[0]
    return reduce_min(cast(x, dtypes.int32), axis, keepdims) > 0


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    """Population variance (divided by N) over `axis` (None: every axis), as tf.math.reduce_variance."""
    x = operands(input_tensor)[0]
    mean = reduce_mean(x, axis, keepdims=True)
    return reduce_mean(square(x - mean), axis, keepdims)


def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    """Population standard deviation over `axis` (None: every axis): sqrt(reduce_variance)."""
    return sqrt(reduce_variance(input_tensor, axis, keepdims))


def _arg(prim):
    def op(input, axis=None, output_type=dtypes.int64, name=None):  # noqa: A002 - tf's argument name
        x = operands(input)[0]
        if x.ndim == 0:  # TF refuses too; without this the range check would print "[0, -1]"
            raise InvalidArgumentError(f"{prim.name}: input is a 0-d {x.dtype.name}[] tensor, which has no axis to "
                                       f"search along; reshape it to [1] first (the answer is then 0)")
        return prim(x, axis=normalize_axis(prim.name, 0 if axis is None else axis, x.ndim),
                    output_type=dtypes.as_dtype(output_type))
    return _named(op, prim.name)


argmax = _arg(red.argmax)
argmin = _arg(red.argmin)


def leaky_relu(features, alpha=0.2, name=None):
    """x where x > 0, alpha * x elsewhere (default alpha 0.2, as tf.nn.leaky_relu). The gradient at 0 is alpha."""
    return ew.unary["leaky_relu"](operands(features)[0], alpha=float(alpha))


def elu(features, alpha=1.0, name=None):
    """Exponential linear unit: x where x > 0, alpha * (exp(x) - 1) elsewhere."""
    return ew.unary["elu"](operands(features)[0], alpha=float(alpha))


def gelu(features, approximate=False, name=None):
    """Gaussian error linear unit: x * Phi(x) with the exact erf form, or its tanh approximation when
        `approximate=True`, as tf.nn.gelu.
    """
    return ew.unary["gelu_tanh" if approximate else "gelu"](operands(features)[0])


def count_nonzero(input, axis=None, keepdims=False, dtype=dtypes.int64, name=None):  # noqa: A002
    """How many elements are not zero over `axis` (None: every axis), as int64 (or `dtype`)."""
    x = operands(input)[0]
    return reduce_sum(cast(not_equal(x, 0), dtype), axis, keepdims)
