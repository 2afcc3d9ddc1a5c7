"""matmul on NumPy."""
from __future__ import annotations

import numpy as np

from ._registry import impl, narrow, widen


@impl("matmul")
def matmul(a, b, transpose_a, transpose_b):
    x = widen(a).swapaxes(-1, -2) if transpose_a else widen(a)  # the method: np.swapaxes adds a Python call
    y = widen(b).swapaxes(-1, -2) if transpose_b else widen(b)
    return np.ascontiguousarray(narrow(np.matmul(x, y), a.dtype))
