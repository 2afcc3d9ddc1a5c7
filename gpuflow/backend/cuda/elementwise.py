"""Elementwise primitives on cuda and sim: kernels/elementwise.cu (unary, binary, select, cast).

Host side of the launch-shape choices the kernel file's contract describes: the 16-byte
vector width when pointers allow it, the flat path for same-shape or scalar operands, and
the collapsed shape/strides table of the general broadcasting path.
"""
from __future__ import annotations

import numpy as np

from ... import dtypes
from ...errors import UnimplementedError
from ._registry import impl
from .storage import dtype_of

FILE = "elementwise.cu"
BLOCK = 256
MAX_RANK = 8
VECTOR_BYTES = 16

# The primitives of gpuflow/ops/elementwise.py (a backend does not import the op layer above it;
# tests/ops/test_elementwise.py checks these lists cover every primitive there).
UNARY = ("negative", "abs", "sign", "exp", "log", "log1p", "sqrt", "rsqrt", "square", "reciprocal", "sin", "cos",
         "tanh", "sigmoid", "erf", "erfc", "expm1", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh",
         "atanh", "floor", "ceil", "round", "relu", "relu6", "leaky_relu", "elu", "softplus", "silu",
         "gelu", "gelu_tanh", "logical_not", "is_nan", "is_finite")
BINARY = ("add", "subtract", "multiply", "divide", "floordiv", "mod", "pow", "atan2", "maximum", "minimum", "equal",
          "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and", "logical_or")
BOOL_RESULT = {"is_nan", "is_finite", "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
               "logical_and", "logical_or"}


def functor(name: str) -> str:
    """'gelu_tanh' -> 'gf::GeluTanh': the functor type kernels/elementwise.cu names the op by."""
    return "gf::" + "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def _address(backend, array) -> int:
    return array.data.ptr if backend.on_gpu else array.ctypes.data


def vector_width(backend, dtype, out_dtype, *arrays) -> int:
    """Elements per 16-byte pack if every array (inputs, then the output last) is aligned for it, else 1."""
    width = VECTOR_BYTES // dtype.itemsize
    out = arrays[-1]
    aligned = all(_address(backend, a) % VECTOR_BYTES == 0 for a in arrays[:-1]) and \
        _address(backend, out) % (width * out_dtype.itemsize) == 0
    return width if aligned else 1


def _launch(backend, name, n, args):
    backend.kernel(FILE, name)((backend.grid_for(n, BLOCK),), (BLOCK,), args)


def broadcast_table(op, out_shape, *shapes) -> tuple[np.ndarray, int]:
    """(int64 [shape, strides of each operand], rank) with size-1 output dims dropped and adjacent
    dims merged where every operand is contiguous across them, so most calls become rank 1 or 2."""
    rank = len(out_shape)
    strides = []
    for shape in shapes:
        padded = (1,) * (rank - len(shape)) + tuple(shape)
        s, step = [0] * rank, 1
        for d in reversed(range(rank)):
            s[d] = 0 if padded[d] == 1 else step
            step *= padded[d]
        strides.append(s)
    dims = [d for d in range(rank) if out_shape[d] != 1]
    merged_shape, merged_strides = [], [[] for _ in shapes]
    for d in dims:
        if merged_shape and all(st[-1] == s[d] * out_shape[d] for st, s in zip(merged_strides, strides)):
            merged_shape[-1] *= out_shape[d]
            for st, s in zip(merged_strides, strides):
                st[-1] = s[d]
            continue
        merged_shape.append(out_shape[d])
        for st, s in zip(merged_strides, strides):
            st.append(s[d])
    if not merged_shape:
        merged_shape, merged_strides = [1], [[0] for _ in shapes]
    if len(merged_shape) > MAX_RANK:
        raise UnimplementedError(
            f"{op}: broadcasting {' and '.join(str(tuple(s)) for s in shapes)} to {tuple(out_shape)} needs "
            f"{len(merged_shape)} dimensions after merging, the cuda kernels take at most {MAX_RANK}; "
            f"reshape the operands to fewer dimensions first")
    table = np.array(merged_shape + [v for st in merged_strides for v in st], dtype=np.int64)
    return table, len(merged_shape)


_TABLES: dict = {}  # (device, table bytes) -> the table on the device: a launch should not wait on a copy


def device_table(backend, table: np.ndarray):
    key = (backend.name, table.dtype.str, table.tobytes())
    found = _TABLES.get(key)
    if found is None:
        if len(_TABLES) >= 1024:
            _TABLES.clear()
        found = _TABLES[key] = backend.upload(table)
    return found


def _out_dtype(name: str, dtype):
    return dtypes.bool if name in BOOL_RESULT else dtype


@impl(*UNARY)
def unary(backend, name, x, alpha=0.0):
    dtype = dtype_of(x)
    out_dtype = _out_dtype(name, dtype)
    y = backend.empty(x.shape, out_dtype)
    n = x.size
    if n:
        width = vector_width(backend, dtype, out_dtype, x, y)
        _launch(backend, f"unary<{dtype.ctype}, {functor(name)}, {width}>", max(n // width, 1),
                (x, y, np.int64(n), np.float64(alpha)))
    return y


@impl(*BINARY)
def binary(backend, name, x, y):
    dtype = dtype_of(x)
    out_dtype = _out_dtype(name, dtype)
    out_shape = np.broadcast_shapes(x.shape, y.shape)
    z = backend.empty(out_shape, out_dtype)
    n = z.size
    if not n:
        return z
    op = functor(name)
    if x.shape == y.shape or x.size == 1 or y.size == 1:
        x_scalar, y_scalar = x.size == 1 and n > 1, y.size == 1 and n > 1
        full = [a for a, scalar in ((x, x_scalar), (y, y_scalar)) if not scalar]
        width = vector_width(backend, dtype, out_dtype, *full, z)
        _launch(backend, f"binary_flat<{dtype.ctype}, {op}, {width}>", max(n // width, 1),
                (x, y, z, np.int64(n), np.int32(x_scalar), np.int32(y_scalar)))
        return z
    table, rank = broadcast_table(name, out_shape, x.shape, y.shape)
    _launch(backend, f"binary_bcast<{dtype.ctype}, {op}>", n,
            (x, y, z, np.int64(n), device_table(backend, table), np.int32(rank)))
    return z


@impl("select")
def select(backend, cond, x, y):
    dtype = dtype_of(x)
    out_shape = np.broadcast_shapes(cond.shape, x.shape, y.shape)
    z = backend.empty(out_shape, dtype)
    n = z.size
    if n:
        table, rank = broadcast_table("where", out_shape, cond.shape, x.shape, y.shape)
        _launch(backend, f"select_bcast<{dtype.ctype}>", n,
                (cond, x, y, z, np.int64(n), device_table(backend, table), np.int32(rank)))
    return z


@impl("cast")
def cast(backend, x, dtype):
    y = backend.empty(x.shape, dtype)
    n = x.size
    if n:
        _launch(backend, f"cast<{dtype_of(x).ctype}, {dtype.ctype}>", n, (x, y, np.int64(n)))
    return y


def fill(backend, shape, value, dtype):
    """`shape` filled with `value` (a 0-d array of dtype) by the fill kernel: zeros/ones/fill allocate on the
    device and write there, with no host array or transfer of the full size. Not a primitive (no inputs,
    nothing to differentiate): CudaBackend.full calls it."""
    y = backend.empty(shape, dtype)
    n = y.size
    if n:
        # The value's bits in the storage dtype: CuPy holds bfloat16 as uint16 (the kernel reads its bits).
        bits = value.reshape(1).view(backend.storage_dtype(dtype))[0]
        _launch(backend, f"fill<{dtype.ctype}>", n, (y, np.int64(n), bits))
    return y
