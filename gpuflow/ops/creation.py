"""Making tensors: from Python and NumPy values, filled, ranges, eye, and copies between devices."""
from __future__ import annotations

import numpy as np

from .. import devices as _device
from .. import dtypes
from ..errors import InvalidArgumentError
from ..tensor import Tensor, TensorSpec
from .dispatch import bind, primitive

# What gf exports from this module (gpuflow/ops/__init__.py takes its __all__): a new public op goes here.
__all__ = ["constant", "convert_to_tensor", "copy_to", "eye", "fill", "identity", "ones", "ones_like", "range",
           "zeros", "zeros_like"]


def _infer_dtype(value, array: np.ndarray):
    """TF's rules: Python floats → float32, ints → int32 (int64 when they do not fit); NumPy keeps its dtype,
    and so does a list of Tensors (it is packed, like tf.stack)."""
    if isinstance(value, (np.ndarray, np.generic)):
        return dtypes.as_dtype(dtypes.widened(array.dtype))
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Tensor) for v in value):
        return value[0].dtype
    return dtypes.of_python_values(array) or dtypes.as_dtype(array.dtype)


def _to_array(value) -> np.ndarray:
    if isinstance(value, (list, tuple)) and any(isinstance(v, Tensor) for v in value):
        value = [v.numpy() if isinstance(v, Tensor) else v for v in value]
    try:
        array = np.asarray(value)
    except ValueError:  # NumPy refuses ragged nesting outright
        array = np.empty(0, object)
    if array.dtype == object:
        raise InvalidArgumentError(f"constant: cannot make a tensor from {type(value).__name__} {value!r:.80}; "
                                   f"nested lists must be rectangular and hold numbers or bools")
    return array


def _checked_dtype(value, array: np.ndarray, dtype, op: str):
    """The tensor's dtype: the one asked for (refusing to truncate fractions into integers), else inferred."""
    dtype = dtypes.as_dtype(dtype) if dtype is not None else _infer_dtype(value, array)
    if dtype.is_integer and array.dtype.kind == "f" and not np.all(np.isfinite(array) & (array == np.trunc(array))):
        raise InvalidArgumentError(f"{op}: {value!r:.80} has fractions but the dtype is {dtype.name}; "
                                   f"round it first or ask for a float dtype")
    python_value = not isinstance(value, (np.ndarray, np.generic))
    if dtype.is_integer and array.size and array.dtype.kind in "iuf" and python_value:
        # As TF: a Python number that does not fit is an error (`uint8_image + 300`); NumPy data is converted
        # as NumPy's astype does (wrapping), as tf.constant converts arrays.
        info = np.iinfo(dtype.np)
        if array.min() < info.min or array.max() > info.max:
            raise InvalidArgumentError(f"{op}: {value!r:.80} does not fit in {dtype.name} ({info.min} to {info.max}); "
                                       f"use a wider dtype, or cast after making the tensor")
    return dtype


def constant(value, dtype=None, shape=None, name=None) -> Tensor:
    """Like tf.constant: a new tensor on the current device from a Python or NumPy value.

    The tensor never shares memory with `value` (one copy, made straight into the tensor's dtype):
    gpuflow tensors are immutable, and a NumPy array the caller changes later must not change them."""
    return _constant(value, dtype, shape, owned=False)


def _from_owned_array(array: np.ndarray) -> Tensor:
    """A constant from a NumPy array the caller has just made and keeps no other reference to (a batch sliced
    out by fancy indexing, a dtype conversion): on cpu the tensor takes it over when its dtype and layout
    already fit, with no copy. Same dtype rules and checks as `constant`."""
    return _constant(array, None, None, owned=True)


def _constant(value, dtype, shape, owned):
    if type(value) is np.ndarray and dtype is None and shape is None and value.dtype.kind != "O":
        # The common call (a batch of training data, every step): its own dtype, nothing to check or reshape.
        dtype, device = _infer_dtype(value, value), _device.current()
        return Tensor(device.backend.from_numpy(value, dtype, copy=not owned), dtype, device)
    if isinstance(value, Tensor):
        value, owned = value.numpy(), True  # numpy() is a fresh host copy: no need to copy it again
    array = _to_array(value)
    dtype = _checked_dtype(value, array, dtype, "constant")
    device = _device.current()
    if shape is not None:
        shape = tuple(shape)
        if array.size == 1:  # one value repeated: filled on the device, no host array of the full shape
            return _full(device, shape, array.reshape(()), dtype, "constant")
        if array.size != int(np.prod(shape)):
            raise InvalidArgumentError(f"constant: a value with {array.size} elements cannot fill shape {list(shape)}")
        array = array.reshape(shape)
    return Tensor(device.backend.from_numpy(array, dtype, copy=not owned), dtype, device)


def _full(device, shape, value: np.ndarray, dtype, op: str) -> Tensor:
    """A `shape` tensor of the one value in `value` (converted to dtype as NumPy's astype does), allocated and
    filled on `device`: on cuda a fill kernel, so neither host memory nor a transfer scales with the size."""
    if any(d < 0 for d in shape):
        raise InvalidArgumentError(f"{op}: shape {list(shape)} has a negative dimension; every dimension must be "
                                   f">= 0")
    return Tensor(device.backend.full(shape, value.astype(dtype.np), dtype), dtype, device)


def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None) -> Tensor:
    """Tensors pass through (a dtype mismatch is an error); anything else becomes a constant."""
    if isinstance(value, Tensor):
        if dtype is not None and dtypes.as_dtype(dtype) != value.dtype:
            raise InvalidArgumentError(f"convert_to_tensor: the tensor is {value.dtype.name}, {dtypes.as_dtype(dtype).name} "
                                       f"was asked for; use gf.cast to change dtypes")
        return value
    if dtype is None and dtype_hint is not None and not isinstance(value, (np.ndarray, np.generic)):
        array = _to_array(value)
        hint = dtypes.as_dtype(dtype_hint)
        if array.dtype.kind in "iuf" and not (hint.is_integer and array.dtype.kind == "f") and not hint.is_bool:
            dtype = hint
    return constant(value, dtype=dtype)


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
    array = _to_array(value)
    if array.size != 1:  # as tf.constant(value, shape=...): reshaped when the sizes match, else its error
        return constant(value, dtype=dtype, shape=shape)
    dtype = _checked_dtype(value, array, dtype, op)
    return _full(device, shape, array.reshape(()), dtype, op)


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
    return _full(_device.current(), tuple(int(d) for d in _shape_list(shape)), _ZERO, _dtype_or(dtype, dtypes.int32),
                 "zeros")


def ones(shape, dtype=dtypes.float32, name=None) -> Tensor:
    """A tensor of `shape` filled with ones (float32 unless `dtype`), made on the current device."""
    return _full(_device.current(), tuple(int(d) for d in _shape_list(shape)), _ONE, _dtype_or(dtype, dtypes.int32),
                 "ones")


def _like(x, value, dtype, op):
    x = convert_to_tensor(x)
    return _full(x._device, tuple(x.shape), value, _dtype_or(dtype, x.dtype), op)


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
