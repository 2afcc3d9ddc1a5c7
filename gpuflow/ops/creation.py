"""Making tensors: from Python and NumPy values, filled, ranges, eye, and copies between devices."""
from __future__ import annotations

import numpy as np

from .. import devices as _device
from .. import dtypes
from ..errors import InvalidArgumentError
from ..tensor import Tensor, TensorSpec
from ..tensor.convert import _from_owned_array, checked_dtype, constant, convert_to_tensor, full_on, to_array  # noqa: F401
# (_from_owned_array: keras' data adapter and saved_model take it from here, with the public constructors)
from .dispatch import bind, primitive

# What gf exports from this module (gpuflow/ops/__init__.py takes its __all__): a new public op goes here.
__all__ = ["constant", "convert_to_tensor", "copy_to", "eye", "fill", "identity", "ones", "ones_like", "range",
           "zeros", "zeros_like"]


def fill(dims, value, dtype=None, name=None) -> Tensor:
    """A tensor of shape `dims` with every element `value` (dtype: `dtype`, else inferred from `value` as in
        `constant`), filled on the current device with no host array of the full size.
    """
    return _filled(_device.current(), dims, value, dtype, "fill")


def _filled(device, dims, value, dtype, op):
    """What fill, zeros, ones and the *_like ops share: dtype and checks as `constant(value, dtype)`, the
    tensor filled on `device`."""
    shape = tuple(int(d) for d in _shape_list(dims))
    if isinstance(value, Tensor):
        value = value.numpy()
    array = to_array(value)
    if array.size != 1:  # as tf.constant(value, shape=...): reshaped when the sizes match, else its error
        return constant(value, dtype=dtype, shape=shape)
    dtype = checked_dtype(value, array, dtype, op)
    return full_on(device, shape, array.reshape(()), dtype, op)


def _shape_list(shape):
    if isinstance(shape, Tensor):
        shape = shape.numpy().tolist()
    return [shape] if isinstance(shape, (int, np.integer)) else list(shape)


def _dtype_or(dtype, default):
    """dtype=None means `default`: x's dtype for *_like, int32 (what a plain 0 or 1 infers) for zeros/ones."""
    return dtypes.as_dtype(dtype) if dtype is not None else default


# 0 and 1 as 0-d arrays: zeros/ones (run for gradients on every training step) skip the value checks.
_ZERO, _ONE = np.array(0), np.array(1)


def zeros(shape, dtype=dtypes.float32, name=None) -> Tensor:
    """A tensor of `shape` filled with zeros (float32 unless `dtype`), made on the current device."""
    return full_on(_device.current(), tuple(int(d) for d in _shape_list(shape)), _ZERO, _dtype_or(dtype, dtypes.int32),
                 "zeros")


def ones(shape, dtype=dtypes.float32, name=None) -> Tensor:
    """A tensor of `shape` filled with ones (float32 unless `dtype`), made on the current device."""
    return full_on(_device.current(), tuple(int(d) for d in _shape_list(shape)), _ONE, _dtype_or(dtype, dtypes.int32),
                 "ones")


def _like(x, value, dtype, op):
    x = convert_to_tensor(x)
    return full_on(x._device, tuple(x.shape), value, _dtype_or(dtype, x.dtype), op)


def zeros_like(x, dtype=None, name=None) -> Tensor:
    """Zeros of `x`'s shape, and of its dtype unless `dtype` is given, on the current device."""
    return _like(x, _ZERO, dtype, "zeros_like")


def ones_like(x, dtype=None, name=None) -> Tensor:
    """Ones of `x`'s shape, and of its dtype unless `dtype` is given, on the current device."""
    return _like(x, _ONE, dtype, "ones_like")


def range(start, limit=None, delta=1, dtype=None, name="range") -> Tensor:  # noqa: A001 - tf.range
    """The numbers start, start + delta, ... below `limit` (`range(n)` counts 0..n-1), as tf.range.

        The dtype follows the arguments (int32 for Python ints, float32 for floats) unless `dtype` is given.
    """
    if limit is None:
        start, limit = 0, start
    values = [v.numpy().item() if isinstance(v, Tensor) else v for v in (start, limit, delta)]
    if values[2] == 0:
        raise InvalidArgumentError("range: delta must not be 0")
    array = np.arange(*values)
    if dtype is None:
        dtype = dtypes.float32 if any(isinstance(v, float) for v in values) else dtypes.int32
    return constant(array, dtype=dtype)


def eye(num_rows, num_columns=None, batch_shape=None, dtype=dtypes.float32, name=None) -> Tensor:
    """An identity matrix of `num_rows` x `num_columns` (default square), optionally batched by `batch_shape`."""
    array = np.eye(num_rows, num_columns)
    if batch_shape:
        array = np.broadcast_to(array, tuple(batch_shape) + array.shape)
    return constant(array, dtype=dtype)


def _copy_grad(g, out, x, device, source, dtype):
    return (copy_to(g, x._device),)


_copy = primitive("copy_to", lambda x, source, dtype: TensorSpec(x.shape, x.dtype), _copy_grad, crosses_devices=True)


def copy_to(x: Tensor, device) -> Tensor:
    """The one way data moves between devices (differentiable: the gradient moves back)."""
    return bind(_copy, x, device=_device.parse(device), source=x._device, dtype=x.dtype)


def identity(x, name=None) -> Tensor:
    """`gf.identity(x)`, under a `gf.device` scope other than x's, copies x there (tf semantics)."""
    x = convert_to_tensor(x)
    scope = getattr(_device._scope, "stack", None)  # only an explicit gf.device scope moves a tensor
    target = scope[-1] if scope else x._device
    return copy_to(x, target) if target != x._device else x
