"""Dense linear-algebra primitives (batched over leading axes; float32 and float64): matrix_inverse,
slogdet, matrix_solve, cholesky, triangular_solve, qr, svd, eigh. Their backends call LAPACK
through NumPy on cpu and sim, cuSOLVER through CuPy on cuda (gpuflow/backend/solvers.py).

Gradient rules are TensorFlow's (python/ops/linalg_grad.py), written in gpuflow ops. eigh and
cholesky read only the lower triangle, so their gradients live on it."""
from __future__ import annotations

from .. import dtypes
from ..errors import InvalidArgumentError, UnimplementedError
from ..tensor import TensorSpec
from .dispatch import primitive


def _ops():
    from .. import ops
    return ops


def _m():
    from . import matrix_ops
    return matrix_ops


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


def mT(x):  # noqa: N802 - the usual name for a batch of transposes
    return _m().matrix_transpose(x)


def _inverse_infer(x):
    _square("inv", x)
    return TensorSpec(x.shape, x.dtype)


def _inverse_grad(g, out, x):
    ops = _ops()
    return (-ops.matmul(mT(out), ops.matmul(g, mT(out))),)


matrix_inverse = primitive("matrix_inverse", _inverse_infer, _inverse_grad)


def _slogdet_infer(x):
    _square("slogdet", x)
    return TensorSpec(x.shape[:-2], x.dtype), TensorSpec(x.shape[:-2], x.dtype)


def _slogdet_grad(g, out, x):
    ops = _ops()
    g_log = ops.reshape(g[1], tuple(g[1].shape) + (1, 1))
    return (g_log * mT(matrix_inverse(x)),)


slogdet = primitive("slogdet", _slogdet_infer, _slogdet_grad, n_outputs=2)


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


def _solve_grad(g, out, a, b, adjoint):
    ops = _ops()
    grad_b = matrix_solve(a, g, adjoint=not adjoint)
    grad_a = -ops.matmul(out, mT(grad_b)) if adjoint else -ops.matmul(grad_b, mT(out))
    return grad_a, grad_b


matrix_solve = primitive("matrix_solve", _solve_infer, _solve_grad)


def _cholesky_infer(x):
    _square("cholesky", x)
    return TensorSpec(x.shape, x.dtype)


def _cholesky_grad(g, out, x):
    ops, m = _ops(), _m()
    n = x.shape[-1]
    with_device = _eye_like(out, n)
    l_inv = triangular_solve(out, ops.broadcast_to(with_device, out.shape), lower=True, adjoint=False)
    middle = ops.matmul(mT(out), g)
    middle = m.set_diag(middle, 0.5 * m.diag_part(middle))
    middle = m.band_part(middle, -1, 0)
    grad = ops.matmul(ops.matmul(mT(l_inv), middle), l_inv)
    return (0.5 * (grad + mT(grad)),)


def _eye_like(x, n):
    from .. import devices
    with devices.device(x._device):
        return _ops().eye(n, dtype=x.dtype)


cholesky = primitive("cholesky", _cholesky_infer, _cholesky_grad)


def _triangular_infer(a, b, lower, adjoint):
    return _rhs_spec("triangular_solve", a, b)


def _triangular_grad(g, out, a, b, lower, adjoint):
    ops, m = _ops(), _m()
    grad_b = triangular_solve(a, g, lower=lower, adjoint=not adjoint)
    grad_a = -ops.matmul(out, mT(grad_b)) if adjoint else -ops.matmul(grad_b, mT(out))
    return (m.band_part(grad_a, -1, 0) if lower else m.band_part(grad_a, 0, -1)), grad_b


triangular_solve = primitive("triangular_solve", _triangular_infer, _triangular_grad)


def _qr_infer(x, full_matrices):
    _float("qr", x)
    if len(x.shape) < 2:
        raise InvalidArgumentError(f"qr: needs matrices (..., m, n), got {x.dtype.name}{list(x.shape)}")
    m, n = x.shape[-2:]
    k = m if full_matrices else min(m, n)
    return TensorSpec(x.shape[:-2] + (m, k), x.dtype), TensorSpec(x.shape[:-2] + (k, n), x.dtype)


def _r_solve(x, r):
    """x @ inv(r)ᵀ... as TF's _TriangularSolve: matmul(x, adjoint(matrix_inverse(r))) by a triangular solve."""
    return mT(triangular_solve(r, mT(x), lower=False, adjoint=False))


def _qr_grad(g, out, x, full_matrices):
    ops = _ops()
    m, n = x.shape[-2:]
    if m < n or (full_matrices and m != n):
        raise UnimplementedError(f"the gradient of qr is defined for m >= n with full_matrices=False (or square "
                                 f"inputs), as in TF; got {list(x.shape)}, full_matrices={full_matrices}")
    q, r = out
    dq, dr = g
    qdq = ops.matmul(mT(q), dq)
    rdr = ops.matmul(r, mT(dr))
    tril = _m().band_part((qdq - mT(qdq)) + (rdr - mT(rdr)), -1, 0)
    return (ops.matmul(q, dr + _r_solve(tril, r)) + _r_solve(dq - ops.matmul(q, qdq), r),)


qr = primitive("qr", _qr_infer, _qr_grad, n_outputs=2)


def _svd_infer(x, full_matrices):
    _float("svd", x)
    if len(x.shape) < 2:
        raise InvalidArgumentError(f"svd: needs matrices (..., m, n), got {x.dtype.name}{list(x.shape)}")
    m, n = x.shape[-2:]
    k = min(m, n)
    batch = x.shape[:-2]
    return (TensorSpec(batch + (k,), x.dtype), TensorSpec(batch + ((m, m) if full_matrices else (m, k)), x.dtype),
            TensorSpec(batch + ((n, n) if full_matrices else (n, k)), x.dtype))


def _safe_reciprocal(x, eps=1e-20):
    return x / (x * x + eps)


def _svd_grad(g, out, x, full_matrices):
    """TF's _SvdGrad (real case), for full_matrices=False or square inputs."""
    ops, mo = _ops(), _m()
    m, n = x.shape[-2:]
    if full_matrices and m != n:
        raise UnimplementedError(f"the gradient of svd with full_matrices=True is defined for square inputs only "
                                 f"here; got {list(x.shape)} (pass full_matrices=False)")
    s, u, v = out
    grad_s, grad_u, grad_v = g
    transposed = m > n
    if transposed:  # work on xᵀ = v s uᵀ and transpose the result
        m, n = n, m
        u, v, grad_u, grad_v = v, u, grad_v, grad_u
    s_mat = mo.diag(s)
    s2 = s * s
    f = mo.set_diag(_safe_reciprocal(ops.expand_dims(s2, -2) - ops.expand_dims(s2, -1)), 0.0)
    u_gu = ops.matmul(mT(u), grad_u)
    v_gv = ops.matmul(mT(v), grad_v)
    f_u, f_v = f * u_gu, f * v_gv
    inner = mo.diag(grad_s) + ops.matmul(f_u + mT(f_u), s_mat) + ops.matmul(s_mat, f_v + mT(f_v))
    grad = ops.matmul(u, ops.matmul(inner, mT(v)))
    if m != n:
        gvt = mT(grad_v)
        extra = gvt - ops.matmul(ops.matmul(gvt, v), mT(v))
        grad = grad + ops.matmul(ops.matmul(u, mo.diag(_safe_reciprocal(s))), extra)
    return (mT(grad) if transposed else grad,)


svd = primitive("svd", _svd_infer, _svd_grad, n_outputs=3)


def _eigh_infer(x):
    _square("eigh", x)
    return TensorSpec(x.shape[:-1], x.dtype), TensorSpec(x.shape, x.dtype)


def _eigh_grad(g, out, x):
    ops, mo = _ops(), _m()
    e, v = out
    ge, gv = g
    f = mo.set_diag(ops.reciprocal(ops.expand_dims(e, -2) - ops.expand_dims(e, -1)), 0.0)
    grad = ops.matmul(v, ops.matmul(mo.diag(ge) + f * ops.matmul(mT(v), gv), mT(v)))
    grad = mo.band_part(grad + mT(grad), -1, 0)  # only the lower triangle is read
    return (mo.set_diag(grad, 0.5 * mo.diag_part(grad)),)


eigh = primitive("eigh", _eigh_infer, _eigh_grad, n_outputs=2)
