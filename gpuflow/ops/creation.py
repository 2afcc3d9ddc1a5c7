"""Making tensors: from Python and NumPy values, filled, ranges, eye, and copies between devices."""
from __future__ import annotations

import numpy as np

from .. import devices as _device
from .. import dtypes
from ..errors import InvalidArgumentError
from ..tensor import Tensor, TensorSpec
from .dispatch import bind, primitive


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


def constant(value, dtype=None, shape=None, name=None) -> Tensor:
    """Like tf.constant: a new tensor on the current device from a Python or NumPy value."""
    if isinstance(value, Tensor):
        value = value.numpy()
    array = _to_array(value)
    dtype = dtypes.as_dtype(dtype) if dtype is not None else _infer_dtype(value, array)
    if dtype.is_integer and array.dtype.kind == "f" and not np.all(np.isfinite(array) & (array == np.trunc(array))):
        raise InvalidArgumentError(f"constant: {value!r:.80} has fractions but the dtype is {dtype.name}; "
                                   f"round it first or ask for a float dtype")
    if shape is not None:
        shape = tuple(shape)
        if array.size == 1:
            array = np.broadcast_to(array.reshape(()), shape)
        elif array.size == int(np.prod(shape)):
            array = array.reshape(shape)
        else:
            raise InvalidArgumentError(f"constant: a value with {array.size} elements cannot fill shape {list(shape)}")
    device = _device.current()
    return Tensor(device.backend.from_numpy(array.astype(dtype.np), dtype), dtype, device)


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
    return constant(value, dtype=dtype, shape=tuple(int(d) for d in _shape_list(dims)))


def _shape_list(shape):
    if isinstance(shape, Tensor):
        shape = shape.numpy().tolist()
    return [shape] if isinstance(shape, (int, np.integer)) else list(shape)


def zeros(shape, dtype=dtypes.float32, name=None) -> Tensor:
    return fill(shape, 0, dtype=dtype)


def ones(shape, dtype=dtypes.float32, name=None) -> Tensor:
    return fill(shape, 1, dtype=dtype)


def _like(x, value, dtype):
    x = convert_to_tensor(x)
    with _device.device(x._device):
        return fill(x.shape, value, dtype=dtype or x.dtype)


def zeros_like(x, dtype=None, name=None) -> Tensor:
    return _like(x, 0, dtype)


def ones_like(x, dtype=None, name=None) -> Tensor:
    return _like(x, 1, dtype)


def range(start, limit=None, delta=1, dtype=None, name="range") -> Tensor:  # noqa: A001 - tf.range
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
