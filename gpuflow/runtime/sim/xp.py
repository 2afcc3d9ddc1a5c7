"""`xp` of the cuda backend on sim: the few NumPy calls it makes, with every array they create allocated
from the sim device's pool (gpuflow/runtime/sim/memory.py), as CuPy allocates from the GPU's.

Only what gpuflow/backend/cuda uses is here, on purpose: a NumPy function reached behind this object's
back would allocate device memory outside the pool, so a call it does not know fails loudly instead.
Views (swapaxes, transpose) allocate nothing and are NumPy's own.
"""
from __future__ import annotations

import numpy as np

from .memory import SimPool


class SimArrays:
    swapaxes = staticmethod(np.swapaxes)
    transpose = staticmethod(np.transpose)
    # The solvers' library calls (cuSOLVER through cupy.linalg on a GPU; gpuflow/backend/solvers.py): NumPy's
    # LAPACK on sim, its results host arrays outside the pool, as a library's temporaries are on a GPU.
    linalg = np.linalg
    tril = staticmethod(np.tril)
    triu = staticmethod(np.triu)

    def __init__(self, pool: SimPool):
        self.pool = pool
        self.empty = pool.empty

    def empty_like(self, a):
        return self.pool.empty(a.shape, a.dtype)

    def zeros(self, shape, dtype=np.float64):
        out = self.pool.empty(shape, dtype)
        out[...] = 0
        return out

    def copy(self, a):
        """A copy of `a` in a new block (the device-to-device copy behind Tensor copies)."""
        out = self.pool.empty(a.shape, a.dtype)
        np.copyto(out, a)
        return out

    def array(self, a, dtype=None, copy=True):
        if not copy and isinstance(a, np.ndarray) and (dtype is None or a.dtype == dtype):
            return a
        a = np.asarray(a)
        out = self.pool.empty(a.shape, a.dtype if dtype is None else dtype)
        np.copyto(out, a, casting="unsafe")
        return out

    def asarray(self, a, dtype=None, order=None):
        """`a` itself when it is already such an array (order 'C' asks for a C-contiguous one), else a copy in
        the pool."""
        if order == "C" and isinstance(a, np.ndarray) and not a.flags.c_contiguous:
            return self.array(np.ascontiguousarray(a), dtype)
        return self.array(a, dtype, copy=False)

    def ascontiguousarray(self, a):
        a = a if type(a) is np.ndarray else np.asarray(a)
        if a.flags.c_contiguous:
            return a if a.ndim else a.reshape(1)  # NumPy's answer for a 0-d array is 1-d, here too
        return self.copy(a)

    def matmul(self, a, b):
        if a.ndim < 2 or b.ndim < 2:  # vector cases: NumPy's shape rules, then into the pool
            return self.copy(np.matmul(a, b))
        if a.shape[-1] != b.shape[-2]:
            return np.matmul(a, b)  # NumPy's own error for mismatched inner dimensions
        batch = () if a.ndim == b.ndim == 2 else np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        dtype = a.dtype if a.dtype == b.dtype else np.result_type(a.dtype, b.dtype)
        return np.matmul(a, b, out=self.pool.empty(batch + (a.shape[-2], b.shape[-1]), dtype))

    def sort(self, a):
        out = self.copy(a)
        out.sort(axis=-1)
        return out

    def searchsorted(self, a, v, side="left"):
        return self.copy(np.searchsorted(a, v, side=side))

    def arange(self, *args, dtype=None):
        return self.copy(np.arange(*args, dtype=dtype))
