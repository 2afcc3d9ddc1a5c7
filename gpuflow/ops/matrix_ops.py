"""tf.linalg's structural matrix ops, as compositions of existing primitives (so gradients and every
device come free): matrix_transpose, band_part, diag, diag_part, set_diag, trace, norm.

Masks (band_part, diag, set_diag) are boolean constants made on the tensor's device and applied
by `where`; diagonals are gathers from the flattened last two axes."""
from __future__ import annotations

import numpy as np

from .. import devices
from ..errors import InvalidArgumentError
from . import solver_prims
from .array import pad, reshape, transpose
from .creation import constant, zeros_like
from .math import abs, operands, pow, reduce_max, reduce_sum, sqrt, square, where  # noqa: A004
from .movement import gather

__all__ = ["matrix_transpose", "adjoint", "band_part", "diag", "diag_part", "set_diag", "trace", "norm"]


def _matrices(op, x):
    x = operands(x)[0]
    if x.ndim < 2:
        raise InvalidArgumentError(f"{op}: needs a matrix or a batch of them (rank >= 2), got "
                                   f"{x.dtype.name}{list(x.shape)}")
    return x


def _mask(like, mask):
    with devices.device(like._device):
        return constant(mask)


def matrix_transpose(a, conjugate=False, name=None):
    """The last two axes swapped (tf.linalg.matrix_transpose); real dtypes only, so conjugate changes nothing."""
    x = _matrices("matrix_transpose", a)
    return transpose(x, list(range(x.ndim - 2)) + [x.ndim - 1, x.ndim - 2])


def adjoint(matrix, name=None):
    """The conjugate transpose of the last two axes (tf.linalg.adjoint): the transpose for real dtypes."""
    return matrix_transpose(matrix)


def band_part(input, num_lower, num_upper, name=None):  # noqa: A002
    """Zeros outside a band of each matrix (tf.linalg.band_part): keeps entries (i, j) with i - j <= num_lower and
    j - i <= num_upper; a negative count keeps that whole triangle."""
    x = _matrices("band_part", input)
    lo, hi = int(num_lower), int(num_upper)
    m, n = x.shape[-2:]
    i, j = np.arange(m)[:, None], np.arange(n)[None, :]
    keep = ((lo < 0) | (i - j <= lo)) & ((hi < 0) | (j - i <= hi))
    return where(_mask(x, keep), x, zeros_like(x))


def _diagonal_positions(m, n):
    return np.arange(min(m, n), dtype=np.int64) * (n + 1)


def diag_part(input, k=0, name=None):  # noqa: A002
    """The main diagonal of each matrix (tf.linalg.diag_part): (..., m, n) -> (..., min(m, n))."""
    x = _matrices("diag_part", input)
    if k != 0:
        raise InvalidArgumentError(f"diag_part: only the main diagonal (k=0) is supported, got k={k}")
    m, n = x.shape[-2:]
    flat = reshape(x, tuple(x.shape[:-2]) + (m * n,))
    return gather(flat, _mask(x, _diagonal_positions(m, n)), axis=x.ndim - 2)


def diag(diagonal, name=None, k=0, num_rows=-1, num_cols=-1, padding_value=0):
    """Square matrices with `diagonal` (..., n) on their main diagonal and zeros elsewhere (tf.linalg.diag)."""
    d = operands(diagonal)[0]
    if k != 0 or num_rows not in (-1, None) or num_cols not in (-1, None) or padding_value != 0:
        raise InvalidArgumentError("diag: only the main diagonal of square matrices is supported (k=0, "
                                   "num_rows=num_cols=-1, padding_value=0)")
    if d.ndim < 1:
        raise InvalidArgumentError(f"diag: diagonal needs rank >= 1, got {d.dtype.name}{list(d.shape)}")
    n = d.shape[-1]
    column = reshape(d, tuple(d.shape) + (1,))          # (..., n, 1) broadcast along each row
    return where(_mask(d, np.eye(n, dtype=bool)), column, zeros_like(column))


def set_diag(input, diagonal, name=None, k=0):  # noqa: A002
    """`input` with its main diagonal replaced by `diagonal` (tf.linalg.set_diag). Chosen by `where`, so an inf or
    NaN in the replaced entries does not leak into the result or its gradient."""
    x = _matrices("set_diag", input)
    d = operands(diagonal)[0] if not isinstance(diagonal, (int, float)) else None
    if k != 0:
        raise InvalidArgumentError(f"set_diag: only the main diagonal (k=0) is supported, got k={k}")
    m, n = x.shape[-2:]
    if d is None:
        d = zeros_like(diag_part(x)) + diagonal
    if tuple(d.shape) != tuple(x.shape[:-2]) + (min(m, n),):
        raise InvalidArgumentError(f"set_diag: diagonal {list(d.shape)} must have shape "
                                   f"{list(x.shape[:-2]) + [min(m, n)]} for input {list(x.shape)}")
    eye = np.eye(m, n, dtype=bool)
    padded = reshape(d, tuple(d.shape[:-1]) + (1, min(m, n)))   # entry (i, i) reads d[i] down column i
    if n > m:
        padded = _pad_last(padded, n - m)
    return where(_mask(x, eye), padded, x)


def _pad_last(x, extra):
    return pad(x, [[0, 0]] * (x.ndim - 1) + [[0, extra]])


def trace(x, name=None):
    """The sum of each matrix's main diagonal (tf.linalg.trace)."""
    return reduce_sum(diag_part(x), axis=-1)


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None):  # noqa: A002
    """Vector and matrix norms (tf.norm / tf.linalg.norm). axis None: the whole tensor as one vector; an int: vector
    norms along it (ord 'euclidean', 1, 2, np.inf or any p > 0); a pair: matrix norms over those axes
    ('fro' / 'euclidean', 1, np.inf, 2 = the largest singular value)."""
    x = operands(tensor)[0]
    keep = bool(keepdims)
    if axis is None:
        flat = reshape(x, [-1]) if x.ndim != 1 else x
        out = _vector_norm(flat, ord, 0, False)
        return reshape(out, [1] * x.ndim) if keep else out
    axes = [axis] if isinstance(axis, int) else list(axis)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0] % max(x.ndim, 1), keep)
    if len(axes) != 2:
        raise ValueError(f"norm: axis must be None, an int or a pair of ints, got {axis!r}")
    return _matrix_norm(x, ord, [a % x.ndim for a in axes], keep)


def _vector_norm(x, ord, axis, keep):  # noqa: A002
    if ord in ("euclidean", 2, 2.0):
        return sqrt(reduce_sum(square(x), axis=axis, keepdims=keep))
    if ord in (1, 1.0):
        return reduce_sum(abs(x), axis=axis, keepdims=keep)
    if ord == np.inf:
        return reduce_max(abs(x), axis=axis, keepdims=keep)
    if isinstance(ord, (int, float)) and ord > 0:
        return pow(reduce_sum(pow(abs(x), float(ord)), axis=axis, keepdims=keep), 1.0 / ord)
    raise ValueError(f"norm: ord must be 'euclidean', 'fro' (matrices), 1, 2, np.inf or a number > 0, got {ord!r}")


def _matrix_norm(x, ord, axes, keep):  # noqa: A002
    if axes[0] == axes[1]:
        raise ValueError(f"norm: the two axes of a matrix norm must differ, got {axes}")
    if ord in ("fro", "euclidean"):
        return sqrt(reduce_sum(square(x), axis=axes, keepdims=keep))
    if ord in (1, np.inf):
        rows, cols = axes
        inner, outer = (rows, cols) if ord == 1 else (cols, rows)  # 1: max column sum; inf: max row sum
        sums = reduce_sum(abs(x), axis=inner, keepdims=True)
        out = reduce_max(sums, axis=outer, keepdims=True)
        return out if keep else reshape(out, [d for k, d in enumerate(x.shape) if k not in axes])
    if ord in (2, 2.0):
        rest = [k for k in range(x.ndim) if k not in axes]
        s = solver_prims.svd(transpose(x, rest + axes), full_matrices=False)[0]  # the singular values
        out = reduce_max(s, axis=-1)
        if keep:
            shape = list(x.shape)
            for a in axes:
                shape[a] = 1
            out = reshape(out, shape)
        return out
    raise ValueError(f"norm: a matrix norm's ord must be 'fro', 'euclidean', 1, 2 or np.inf, got {ord!r}")

