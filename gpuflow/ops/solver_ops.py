"""Public dense linear algebra with tf.linalg's names, on the primitives of solver_prims.py.

The primitives take float32 and float64 (LAPACK and cuSOLVER have no half-precision solvers); float16 and
bfloat16 matrices are solved in float32 and each result rounded once to the input's dtype (`_solve`), which
is what TF's half kernels do too (they compute in float). TF takes float16 here but bfloat16 only in
triangular_solve; gpuflow takes both everywhere."""
from __future__ import annotations

import collections

from .. import dtypes
from . import solver_prims as sp
from .math import cast, exp, log, multiply, operands, reduce_sum
from .matrix_ops import diag_part, matrix_transpose

__all__ = ["inv", "det", "slogdet", "logdet", "solve", "cholesky", "cholesky_solve", "triangular_solve", "qr",
           "svd", "eigh", "eigvalsh"]

Qr = collections.namedtuple("Qr", ["q", "r"])
Slogdet = collections.namedtuple("Slogdet", ["sign", "log_abs_determinant"])
_HALVES = (dtypes.float16, dtypes.bfloat16)


def _solve(prim, *tensors, **params):
    """prim on `tensors`, through float32 when they are float16/bfloat16 (gradients pass through both casts)."""
    half = tensors[0].dtype
    if half not in _HALVES or any(t.dtype != half for t in tensors):  # mixed dtypes: the primitive's own error
        return prim(*tensors, **params)
    out = prim(*[cast(t, dtypes.float32) for t in tensors], **params)
    return tuple(cast(o, half) for o in out) if isinstance(out, tuple) else cast(out, half)


def inv(input, adjoint=False, name=None):  # noqa: A002
    """The inverse of each square matrix (tf.linalg.inv); `adjoint` inverts its transpose. A singular matrix is an
    InvalidArgumentError on cpu and sim (LAPACK reports it); cuSOLVER on cuda returns inf/NaN as TF's GPU kernel."""
    x = operands(input)[0]
    out = _solve(sp.matrix_inverse, x)
    return matrix_transpose(out) if adjoint else out


def slogdet(input, name=None):  # noqa: A002
    """(sign, log|det|) of each square matrix (tf.linalg.slogdet): no overflow for large determinants."""
    return Slogdet(*_solve(sp.slogdet, operands(input)[0]))


def det(input, name=None):  # noqa: A002
    """The determinant of each square matrix (tf.linalg.det), as sign * exp(log|det|)."""
    return _solve(_det, operands(input)[0])


def _det(x):
    sign, logabs = sp.slogdet(x)
    return multiply(sign, exp(logabs))


def logdet(matrix, name=None):
    """log(det) of Hermitian positive definite matrices (tf.linalg.logdet): 2 * sum(log(diag(cholesky)))."""
    return _solve(lambda x: 2.0 * reduce_sum(log(diag_part(sp.cholesky(x))), axis=-1), operands(matrix)[0])


def solve(matrix, rhs, adjoint=False, name=None):
    """X with matrix @ X = rhs (matrixᵀ @ X with adjoint) for each square matrix (tf.linalg.solve)."""
    a, b = operands(matrix, rhs)
    return _solve(sp.matrix_solve, a, b, adjoint=bool(adjoint))


def cholesky(input, name=None):  # noqa: A002
    """The lower-triangular L with L @ Lᵀ = input, reading input's lower triangle (tf.linalg.cholesky). A matrix that
    is not positive definite is an InvalidArgumentError on cpu and sim. Its gradient is TF's: the symmetric one,
    the derivative along symmetric changes of input."""
    return _solve(sp.cholesky, operands(input)[0])


def triangular_solve(matrix, rhs, lower=True, adjoint=False, name=None):
    """X with matrix @ X = rhs for triangular matrices (tf.linalg.triangular_solve); only the lower (or upper)
    triangle of `matrix` is read."""
    a, b = operands(matrix, rhs)
    return _solve(sp.triangular_solve, a, b, lower=bool(lower), adjoint=bool(adjoint))


def cholesky_solve(chol, rhs, name=None):
    """X with A @ X = rhs given chol = cholesky(A) (tf.linalg.cholesky_solve): two triangular solves."""
    c, b = operands(chol, rhs)
    return _solve(_cholesky_solve, c, b)


def _cholesky_solve(c, b):
    return sp.triangular_solve(c, sp.triangular_solve(c, b, lower=True, adjoint=False), lower=True, adjoint=True)


def qr(input, full_matrices=False, name=None):  # noqa: A002
    """Q (orthonormal columns) and upper-triangular R with Q @ R = input (tf.linalg.qr)."""
    return Qr(*_solve(sp.qr, operands(input)[0], full_matrices=bool(full_matrices)))


def svd(tensor, full_matrices=False, compute_uv=True, name=None):
    """Singular values s (descending) and, with compute_uv, u and v with tensor = u @ diag(s) @ vᵀ (tf.linalg.svd:
    returns s, u, v in that order; v, not vᵀ)."""
    s, u, v = _solve(sp.svd, operands(tensor)[0], full_matrices=bool(full_matrices))
    return (s, u, v) if compute_uv else s


def eigh(tensor, name=None):
    """Eigenvalues (ascending) and eigenvectors (columns) of each symmetric matrix, from its lower triangle
    (tf.linalg.eigh)."""
    return _solve(sp.eigh, operands(tensor)[0])


def eigvalsh(tensor, name=None):
    """The eigenvalues of each symmetric matrix, ascending (tf.linalg.eigvalsh)."""
    return _solve(sp.eigh, operands(tensor)[0])[0]
