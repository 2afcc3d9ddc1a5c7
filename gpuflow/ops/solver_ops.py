"""Public dense linear algebra with tf.linalg's names, on the primitives of solver_prims.py."""
from __future__ import annotations

import collections

from . import solver_prims as sp
from .math import exp, log, multiply, operands, reduce_sum
from .matrix_ops import diag_part, matrix_transpose

__all__ = ["inv", "det", "slogdet", "logdet", "solve", "cholesky", "cholesky_solve", "triangular_solve", "qr",
           "svd", "eigh", "eigvalsh"]

Qr = collections.namedtuple("Qr", ["q", "r"])
Slogdet = collections.namedtuple("Slogdet", ["sign", "log_abs_determinant"])


def inv(input, adjoint=False, name=None):  # noqa: A002
    """The inverse of each square matrix (tf.linalg.inv); `adjoint` inverts its transpose. A singular matrix is an
    InvalidArgumentError on cpu and sim (LAPACK reports it); cuSOLVER on cuda returns inf/NaN as TF's GPU kernel."""
    x = operands(input)[0]
    out = sp.matrix_inverse(x)
    return matrix_transpose(out) if adjoint else out


def slogdet(input, name=None):  # noqa: A002
    """(sign, log|det|) of each square matrix (tf.linalg.slogdet): no overflow for large determinants."""
    return Slogdet(*sp.slogdet(operands(input)[0]))


def det(input, name=None):  # noqa: A002
    """The determinant of each square matrix (tf.linalg.det), as sign * exp(log|det|)."""
    sign, logabs = sp.slogdet(operands(input)[0])
    return multiply(sign, exp(logabs))


def logdet(matrix, name=None):
    """log(det) of Hermitian positive definite matrices (tf.linalg.logdet): 2 * sum(log(diag(cholesky)))."""
    return 2.0 * reduce_sum(log(diag_part(sp.cholesky(operands(matrix)[0]))), axis=-1)


def solve(matrix, rhs, adjoint=False, name=None):
    """X with matrix @ X = rhs (matrixᵀ @ X with adjoint) for each square matrix (tf.linalg.solve)."""
    a, b = operands(matrix, rhs)
    return sp.matrix_solve(a, b, adjoint=bool(adjoint))


def cholesky(input, name=None):  # noqa: A002
    """The lower-triangular L with L @ Lᵀ = input, reading input's lower triangle (tf.linalg.cholesky). A matrix that
    is not positive definite is an InvalidArgumentError on cpu and sim. Its gradient is TF's: the symmetric one,
    the derivative along symmetric changes of input."""
    return sp.cholesky(operands(input)[0])


def triangular_solve(matrix, rhs, lower=True, adjoint=False, name=None):
    """X with matrix @ X = rhs for triangular matrices (tf.linalg.triangular_solve); only the lower (or upper)
    triangle of `matrix` is read."""
    a, b = operands(matrix, rhs)
    return sp.triangular_solve(a, b, lower=bool(lower), adjoint=bool(adjoint))


def cholesky_solve(chol, rhs, name=None):
    """X with A @ X = rhs given chol = cholesky(A) (tf.linalg.cholesky_solve): two triangular solves."""
    c, b = operands(chol, rhs)
    return sp.triangular_solve(c, sp.triangular_solve(c, b, lower=True, adjoint=False), lower=True, adjoint=True)


def qr(input, full_matrices=False, name=None):  # noqa: A002
    """Q (orthonormal columns) and upper-triangular R with Q @ R = input (tf.linalg.qr)."""
    return Qr(*sp.qr(operands(input)[0], full_matrices=bool(full_matrices)))


def svd(tensor, full_matrices=False, compute_uv=True, name=None):
    """Singular values s (descending) and, with compute_uv, u and v with tensor = u @ diag(s) @ vᵀ (tf.linalg.svd:
    returns s, u, v in that order; v, not vᵀ)."""
    s, u, v = sp.svd(operands(tensor)[0], full_matrices=bool(full_matrices))
    return (s, u, v) if compute_uv else s


def eigh(tensor, name=None):
    """Eigenvalues (ascending) and eigenvectors (columns) of each symmetric matrix, from its lower triangle
    (tf.linalg.eigh)."""
    return sp.eigh(operands(tensor)[0])


def eigvalsh(tensor, name=None):
    """The eigenvalues of each symmetric matrix, ascending (tf.linalg.eigvalsh)."""
    return sp.eigh(operands(tensor)[0])[0]
