"""dtypes with TensorFlow's names. Each knows its NumPy dtype and the C++ type our kernels use."""
from __future__ import annotations

import builtins

import numpy as np
import ml_dtypes

# Public names: what the API reference shows and `import *` takes (imported helpers are not API). `cast` is
# gf.cast, set here by gpuflow/ops/__init__.py (the ops sit above this module), as tf.dtypes.cast is tf.cast.
__all__ = ["DType", "as_dtype", "bfloat16", "bool", "cast", "double", "float16", "float32", "float64", "half", "int8",
           "int16", "int32", "int64", "uint8", "uint32"]


class DType:
    """A tensor element type: `gf.float16`, `bfloat16`, `float32`, `float64`, `int8`, `int16`, `int32`,
    `int64`, `uint8`, `uint32` or `bool`.

        Differs from TF:
            There are no uint16, uint64, complex, string or quantized dtypes; NumPy uint16 arrays are widened
            to int32 when they become tensors (on a GPU, uint16 buffers are how bfloat16 is stored).
            int8, int16, uint8 and uint32 are for storage, casts, comparisons, elementwise integer arithmetic
            (wrapping on overflow) and reductions; ops that take only int32/int64 or floats say so.
    """
    __slots__ = ("name", "np", "ctype", "kind")

    def __init__(self, name: str, np_dtype, ctype: str, kind: str):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.ctype = ctype      # the template argument naming this dtype in kernels/*.cu
        self.kind = kind        # 'f' float, 'i' signed integer, 'u' unsigned integer, 'b' bool (NumPy's letters)

    is_floating = property(lambda self: self.kind == "f")
    is_integer = property(lambda self: self.kind in "iu")
    is_unsigned = property(lambda self: self.kind == "u")
    is_bool = property(lambda self: self.kind == "b")
    itemsize = property(lambda self: self.np.itemsize)
    size = itemsize
    as_numpy_dtype = property(lambda self: self.np.type)

    @property
    def min(self):
        return -np.inf if self.is_floating else (False if self.is_bool else np.iinfo(self.np).min)

    @property
    def max(self):
        return np.inf if self.is_floating else (True if self.is_bool else np.iinfo(self.np).max)

    def __repr__(self):
        return f"gf.{self.name}"

    def __reduce__(self):
        return as_dtype, (self.name,)


float16 = DType("float16", np.float16, "__half", "f")
bfloat16 = DType("bfloat16", ml_dtypes.bfloat16, "__nv_bfloat16", "f")
float32 = DType("float32", np.float32, "float", "f")
float64 = DType("float64", np.float64, "double", "f")
int8 = DType("int8", np.int8, "signed char", "i")  # not `char`, whose signedness C++ leaves open
int16 = DType("int16", np.int16, "short", "i")
int32 = DType("int32", np.int32, "int", "i")
int64 = DType("int64", np.int64, "long long", "i")
uint8 = DType("uint8", np.uint8, "unsigned char", "u")
uint32 = DType("uint32", np.uint32, "unsigned", "u")
bool = DType("bool", np.bool_, "bool", "b")  # noqa: A001 - tf.bool

half, double = float16, float64
ALL = (float16, bfloat16, float32, float64, int8, int16, int32, int64, uint8, uint32, bool)
FLOATS = (float16, bfloat16, float32, float64)
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update(half=float16, double=float64, float=float32, int=int64)
_BY_NP = {d.np: d for d in ALL}


def as_dtype(value) -> DType:
    """Accepts a DType, its name, a NumPy dtype or type, or Python's float/int/bool."""
    if isinstance(value, DType):
        return value
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]
    if value is float:
        return float32
    if value is int:
        return int32
    if value is builtins.bool:
        return bool
    try:
        found = _BY_NP.get(np.dtype(value))
    except TypeError:
        found = None
    if found is None:
        raise TypeError(f"gpuflow has no dtype {value!r}; use one of {', '.join(d.name for d in ALL)}")
    return found


# gpuflow has no uint16 (CuPy buffers of uint16 hold bfloat16's bits): NumPy uint16 data widens losslessly
# to int32 instead of failing. Used by gf.constant and by gf.data alike.
_WIDENED = {np.dtype(np.uint16): np.dtype(np.int32)}


def widened(np_dtype) -> np.dtype:
    """The NumPy dtype gpuflow stores `np_dtype` as (itself, or a wider integer)."""
    np_dtype = np.dtype(np_dtype)
    return _WIDENED.get(np_dtype, np_dtype)


def of_python_values(array: np.ndarray):
    """TF's rule for Python numbers (not NumPy data): floats → float32, ints → int32, or int64 when
    they do not fit. None for anything else (bools, strings...), which keeps its own dtype."""
    if array.dtype.kind == "f":
        return float32
    if array.dtype.kind in "iu":
        fits = array.size == 0 or (array.min() >= -2**31 and array.max() < 2**31)
        return int32 if fits else int64
    return None
