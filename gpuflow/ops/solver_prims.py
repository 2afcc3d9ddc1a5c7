"""Dense linear-algebra primitives (batched over leading axes; float32 and float64): matrix_inverse,
slogdet, matrix_solve, cholesky, triangular_solve, qr, svd, eigh. Their backends call LAPACK
through NumPy on cpu and sim, cuSOLVER through CuPy on cuda (gpuflow/backend/solvers.py).

Gradient rules are TensorFlow's (python/ops/linalg_grad.py), written in gpuflow ops:
gpuflow/autograd/grads/solver.py."""
from __future__ import annotations

from .. import dtypes
from ..errors import InvalidArgumentError
from ..tensor import TensorSpec
from .dispatch import primitive


def _float(op, *specs):
    for s in specs:
        if s.dtype not in (dtypes.float32, dtypes.float64):
            raise InvalidArgumentError(f"{op}: needs float32 or float64 input, got {s.dtype.name}{list(s.shape)}; "
                                       f"cast it with gf.cast (LAPACK and cuSOLVER have no half-precision solvers)")
    if len(specs) > 1 and len({s.dtype for s in specs}) > 1:
        raise InvalidArgumentError(f"{op}: inputs need one dtype, got "
                                   f"{', '.join(f'{s.dtype.name}{list(s.shape)}' for s in specs)}")


def _square(op, x):
    _float(op, x)
    if len(x.shape) < 2 or x.shape[-1] != x.shape[-2]:
        raise InvalidArgumentError(f"{op}: needs square matrices (..., n, n), got {x.dtype.name}{list(x.shape)}")


def _inverse_infer(x):
    _square("inv", x)
    return TensorSpec(x.shape, x.dtype)


matrix_inverse = primitive("matrix_inverse", _inverse_infer)


def _slogdet_infer(x):
    _square("slogdet", x)
    return TensorSpec(x.shape[:-2], x.dtype), TensorSpec(x.shape[:-2], x.dtype)


slogdet = primitive("slogdet", _slogdet_infer, n_outputs=2)


def _rhs_spec(op, a, b):
    """The spec of a solve's result: b's, once a is square, both float, and b of shape (..., n, k) with a's batch."""
    _square(op, a)
    _float(op, a, b)
    if len(b.shape) != len(a.shape) or b.shape[:-2] != a.shape[:-2] or b.shape[-2] != a.shape[-1]:
        raise InvalidArgumentError(f"{op}: rhs {list(b.shape)} must be (..., {a.shape[-1]}, k) with the batch dims "
                                   f"of matrix {list(a.shape)}")
    return TensorSpec(b.shape, b.dtype)


def _solve_infer(a, b, adjoint):
    return _rhs_spec("solve", a, b)


matrix_solve = primitive("matrix_solve", _solve_infer)


def _cholesky_infer(x):
    _square("cholesky", x)
    return TensorSpec(x.shape, x.dtype)


cholesky = primitive("cholesky", _cholesky_infer)


def _triangular_infer(a, b, lower, adjoint):
    return _rhs_spec("triangular_solve", a, b)


triangular_solve = primitive("triangular_solve", _triangular_infer)


def _qr_infer(x, full_matrices):
    _float("qr", x)
    if len(x.shape) < 2:
        raise InvalidArgumentError(f"qr: needs matrices (..., m, n), got {x.dtype.name}{list(x.shape)}")
    m, n = x.shape[-2:]
    k = m if full_matrices else min(m, n)
    return TensorSpec(x.shape[:-2] + (m, k), x.dtype), TensorSpec(x.shape[:-2] + (k, n), x.dtype)


qr = primitive("qr", _qr_infer, n_outputs=2)


def _svd_infer(x, full_matrices):
    _float("svd", x)
    if len(x.shape) < 2:
        raise InvalidArgumentError(f"svd: needs matrices (..., m, n), got {x.dtype.name}{list(x.shape)}")
    m, n = x.shape[-2:]
    k = min(m, n)
    batch = x.shape[:-2]
    return (TensorSpec(batch + (k,), x.dtype), TensorSpec(batch + ((m, m) if full_matrices else (m, k)), x.dtype),
            TensorSpec(batch + ((n, n) if full_matrices else (n, k)), x.dtype))


svd = primitive("svd", _svd_infer, n_outputs=3)


def _eigh_infer(x):
    _square("eigh", x)
    return TensorSpec(x.shape[:-1], x.dtype), TensorSpec(x.shape, x.dtype)


eigh = primitive("eigh", _eigh_infer, n_outputs=2)
