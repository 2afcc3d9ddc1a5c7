"""Host values (Python numbers, lists, NumPy arrays) into Tensors: gf.constant's rules, and the conversion
every op and Variable applies to its non-tensor arguments.

No primitive runs here: a value is copied (or, on cuda, filled by a fill kernel) straight into device
memory, so the tensor layer can make tensors without the op layer above it.
"""
from __future__ import annotations

import numpy as np

from .. import devices as _device
from .. import dtypes
from ..errors import InvalidArgumentError
from .core import Tensor


def _infer_dtype(value, array: np.ndarray):
    """TF's rules: Python floats → float32, ints → int32 (int64 when they do not fit); NumPy keeps its dtype,
    and so does a list of Tensors (it is packed, like tf.stack)."""
    if isinstance(value, (np.ndarray, np.generic)):
        return dtypes.as_dtype(dtypes.widened(array.dtype))
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Tensor) for v in value):
        return value[0].dtype
    return dtypes.of_python_values(array) or dtypes.as_dtype(array.dtype)


def to_array(value) -> np.ndarray:
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


def checked_dtype(value, array: np.ndarray, dtype, op: str):
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
    array = to_array(value)
    dtype = checked_dtype(value, array, dtype, "constant")
    device = _device.current()
    if shape is not None:
        shape = tuple(shape)
        if array.size == 1:  # one value repeated: filled on the device, no host array of the full shape
            return full_on(device, shape, array.reshape(()), dtype, "constant")
        if array.size != int(np.prod(shape)):
            raise InvalidArgumentError(f"constant: a value with {array.size} elements cannot fill shape {list(shape)}")
        array = array.reshape(shape)
    return Tensor(device.backend.from_numpy(array, dtype, copy=not owned), dtype, device)


def full_on(device, shape, value: np.ndarray, dtype, op: str) -> Tensor:
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
        array = to_array(value)
        hint = dtypes.as_dtype(dtype_hint)
        if array.dtype.kind in "iuf" and not (hint.is_integer and array.dtype.kind == "f") and not hint.is_bool:
            dtype = hint
    return constant(value, dtype=dtype)


def tensor_on_device_of(like: Tensor, value, dtype_hint=None) -> Tensor:
    """`value` as a tensor on `like`'s device (its own dtype rules, guided by dtype_hint)."""
    if isinstance(value, Tensor):
        return value
    with _device.device(like._device):
        return convert_to_tensor(value, dtype_hint=dtype_hint)
