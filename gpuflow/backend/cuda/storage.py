"""How the cuda backend stores each gpuflow dtype, and the one way back from an array to its gpuflow dtype.

CuPy has no bfloat16 (13; 14's is minimal and needs NumPy >= 2.1.2), so on a GPU bfloat16 lives in uint16
buffers holding its raw 16 bits, and kernels see `__nv_bfloat16`. gpuflow has no uint16 dtype, so a uint16
buffer is always bfloat16. On sim the arrays are NumPy arrays of ml_dtypes.bfloat16, which map back directly.
"""
from __future__ import annotations

import numpy as np

from ... import dtypes

BFLOAT16_STORAGE = np.dtype(np.uint16)  # what a bfloat16 buffer is on a GPU (CudaBackend.storage_dtype)

_DTYPES = {d.np: d for d in dtypes.ALL}
if BFLOAT16_STORAGE in _DTYPES:  # a gpuflow uint16 would make a uint16 buffer ambiguous
    raise ImportError("gpuflow.dtypes has a uint16: give bfloat16 another storage dtype on cuda first")
_DTYPES[BFLOAT16_STORAGE] = dtypes.bfloat16


def dtype_of(array) -> dtypes.DType:
    """The gpuflow dtype of a device array (CuPy on a GPU, NumPy on sim)."""
    found = _DTYPES.get(np.dtype(array.dtype))
    if found is None:
        raise TypeError(f"a cuda/sim array of {array.dtype} holds no gpuflow dtype (one of "
                        f"{', '.join(d.name for d in dtypes.ALL)}): a backend bug")
    return found


def ctype(array) -> str:
    """The kernel template argument for a device array's elements (`float`, `__nv_bfloat16`, ...)."""
    return dtype_of(array).ctype
