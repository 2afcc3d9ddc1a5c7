"""Public matmul (tf.matmul / tf.linalg.matmul) and tensordot."""
from __future__ import annotations

import math

import numpy as np

from ..errors import InvalidArgumentError
from ..tensor import Tensor
from . import linalg_prims as linalg
from ._util import normalize_axis
from .array import reshape, transpose
from .math import operands

# What gf exports from this module (gpuflow/ops/__init__.py takes its __all__): a new public op goes here.
__all__ = ["matmul", "matvec", "tensordot"]


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False, name=None):
    """Matrix product of `a` and `b` over their last two axes, with NumPy-style batch broadcasting;
        `transpose_a`/`transpose_b` (and, for real dtypes, `adjoint_a`/`adjoint_b`) transpose an operand first.

        On cuda the product runs on cuBLAS (through CuPy), not on a kernel of ours; on sim it is NumPy's.

        Differs from TF:
            Operands of different dtypes are an error (TF raises too, but also rejects some mixes gpuflow never
            sees, having no complex dtypes).
    """
    a, b = operands(a, b)
    return linalg.matmul(a, b, transpose_a=bool(transpose_a or adjoint_a), transpose_b=bool(transpose_b or adjoint_b))


def _axis_list(value):
    if isinstance(value, Tensor):
        value = value.numpy().tolist()
    return [int(value)] if isinstance(value, (int, np.integer)) else [int(v) for v in value]


def tensordot(a, b, axes, name=None):
    """Contracts `axes` of a with those of b (tf.tensordot): an int n pairs a's last n axes with b's
    first n; a pair of lists names them. One matmul between two transposed, reshaped operands."""
    a, b = operands(a, b)
    if isinstance(axes, Tensor):
        axes = axes.numpy().tolist()
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if not 0 <= n <= min(a.ndim, b.ndim):
            raise InvalidArgumentError(f"tensordot: axes = {n} must be in [0, {min(a.ndim, b.ndim)}] for "
                                       f"{a.dtype.name}{list(a.shape)} and {b.dtype.name}{list(b.shape)}")
        a_axes, b_axes = list(range(a.ndim - n, a.ndim)), list(range(n))
    else:
        if len(axes) != 2:
            raise InvalidArgumentError(f"tensordot: axes must be an int or a pair of axis lists, got {axes!r}")
        a_axes = [normalize_axis("tensordot", x, a.ndim) for x in _axis_list(axes[0])]
        b_axes = [normalize_axis("tensordot", x, b.ndim) for x in _axis_list(axes[1])]
    if len(a_axes) != len(b_axes) or any(a.shape[i] != b.shape[j] for i, j in zip(a_axes, b_axes)):
        raise InvalidArgumentError(f"tensordot: axes {a_axes} of {a.dtype.name}{list(a.shape)} and {b_axes} of "
                                   f"{b.dtype.name}{list(b.shape)} must pair up with equal sizes")
    a_free = [i for i in range(a.ndim) if i not in a_axes]
    b_free = [i for i in range(b.ndim) if i not in b_axes]
    k = math.prod(a.shape[i] for i in a_axes)
    a2 = reshape(transpose(a, a_free + a_axes), (math.prod(a.shape[i] for i in a_free), k))
    b2 = reshape(transpose(b, b_axes + b_free), (k, math.prod(b.shape[i] for i in b_free)))
    return reshape(matmul(a2, b2), [a.shape[i] for i in a_free] + [b.shape[i] for i in b_free])


def matvec(a, b, transpose_a=False, adjoint_a=False, a_is_sparse=False, b_is_sparse=False, name=None):
    """a @ b for matrices a [..., M, N] and vectors b [..., N] (batch axes broadcast): [..., M], as
    tf.linalg.matvec; transpose_a / adjoint_a use a's transpose."""
    a, b = operands(a, b)
    if a.ndim < 2 or b.ndim < 1:
        raise InvalidArgumentError(f"matvec: needs a matrix (rank >= 2) and a vector (rank >= 1), got "
                                   f"{a.dtype.name}{list(a.shape)} and {b.dtype.name}{list(b.shape)}")
    product = matmul(a, reshape(b, tuple(b.shape) + (1,)), transpose_a=transpose_a, adjoint_a=adjoint_a)
    return reshape(product, tuple(product.shape)[:-1])
