"""Public matmul (tf.matmul / tf.linalg.matmul) and tensordot."""
from __future__ import annotations

from . import linalg_prims as linalg
from .array import reshape, transpose
from .math import operands

# What gf exports from this module (gpuflow/ops/__init__.py takes its __all__): a new public op goes here.
__all__ = ["matmul", "tensordot"]


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


def tensordot(a, b, axes, name=None):
    """Contract `axes` of a with those of b, as one matmul between two reshaped operands."""
    a, b = operands(a, b)
    if isinstance(axes, int):
        a_axes, b_axes = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        a_axes, b_axes = ([axes[0]] if isinstance(axes[0], int) else list(axes[0]),
                          [axes[1]] if isinstance(axes[1], int) else list(axes[1]))
    a_axes = [x % a.ndim for x in a_axes]
    b_axes = [x % b.ndim for x in b_axes]
    a_free = [i for i in range(a.ndim) if i not in a_axes]
    b_free = [i for i in range(b.ndim) if i not in b_axes]
    k = 1
    for i in a_axes:
        k *= a.shape[i]
    a2 = reshape(transpose(a, a_free + a_axes), (-1, k))
    b2 = reshape(transpose(b, b_axes + b_free), (k, -1))
    out_shape = [a.shape[i] for i in a_free] + [b.shape[i] for i in b_free]
    return reshape(matmul(a2, b2), out_shape)
