"""matmul on NumPy."""
from __future__ import annotations

import numpy as np

from ._registry import impl, narrow, widen


@impl("matmul")
def matmul(a, b, transpose_a, transpose_b):
    x = np.swapaxes(widen(a), -1, -2) if transpose_a else widen(a)
    y = np.swapaxes(widen(b), -1, -2) if transpose_b else widen(b)
    return np.ascontiguousarray(narrow(np.matmul(x, y), a.dtype))
