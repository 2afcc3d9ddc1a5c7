"""Grad rules of the dense linear-algebra primitives (gpuflow/ops/solver_prims.py): TensorFlow's
(python/ops/linalg_grad.py), written in gpuflow ops. eigh and cholesky read only the lower triangle, so their
gradients live on it."""
from __future__ import annotations

from ... import devices, ops
from ...errors import UnimplementedError
from ...ops import matrix_ops
from ...ops import solver_prims as _prims
from ...ops.dispatch import defgrad


def mT(x):  # noqa: N802 - the usual name for a batch of transposes
    return matrix_ops.matrix_transpose(x)


def _inverse_grad(g, out, x):
    return (-ops.matmul(mT(out), ops.matmul(g, mT(out))),)


def _slogdet_grad(g, out, x):
    g_log = ops.reshape(g[1], tuple(g[1].shape) + (1, 1))
    return (g_log * mT(_prims.matrix_inverse(x)),)


def _solve_grad(g, out, a, b, adjoint):
    grad_b = _prims.matrix_solve(a, g, adjoint=not adjoint)
    grad_a = -ops.matmul(out, mT(grad_b)) if adjoint else -ops.matmul(grad_b, mT(out))
    return grad_a, grad_b


def _cholesky_grad(g, out, x):
    m = matrix_ops
    n = x.shape[-1]
    with_device = _eye_like(out, n)
    l_inv = _prims.triangular_solve(out, ops.broadcast_to(with_device, out.shape), lower=True, adjoint=False)
    middle = ops.matmul(mT(out), g)
    middle = m.set_diag(middle, 0.5 * m.diag_part(middle))
    middle = m.band_part(middle, -1, 0)
    grad = ops.matmul(ops.matmul(mT(l_inv), middle), l_inv)
    return (0.5 * (grad + mT(grad)),)


def _eye_like(x, n):
    with devices.device(x._device):
        return ops.eye(n, dtype=x.dtype)


def _triangular_grad(g, out, a, b, lower, adjoint):
    m = matrix_ops
    grad_b = _prims.triangular_solve(a, g, lower=lower, adjoint=not adjoint)
    grad_a = -ops.matmul(out, mT(grad_b)) if adjoint else -ops.matmul(grad_b, mT(out))
    return (m.band_part(grad_a, -1, 0) if lower else m.band_part(grad_a, 0, -1)), grad_b


def _r_solve(x, r):
    """x @ inv(r)ᵀ... as TF's _TriangularSolve: matmul(x, adjoint(matrix_inverse(r))) by a triangular solve."""
    return mT(_prims.triangular_solve(r, mT(x), lower=False, adjoint=False))


def _qr_grad(g, out, x, full_matrices):
    m, n = x.shape[-2:]
    if m < n or (full_matrices and m != n):
        raise UnimplementedError(f"the gradient of qr is defined for m >= n with full_matrices=False (or square "
                                 f"inputs), as in TF; got {list(x.shape)}, full_matrices={full_matrices}")
    q, r = out
    dq, dr = g
    qdq = ops.matmul(mT(q), dq)
    rdr = ops.matmul(r, mT(dr))
    tril = matrix_ops.band_part((qdq - mT(qdq)) + (rdr - mT(rdr)), -1, 0)
    return (ops.matmul(q, dr + _r_solve(tril, r)) + _r_solve(dq - ops.matmul(q, qdq), r),)


def _safe_reciprocal(x, eps=1e-20):
    return x / (x * x + eps)


def _svd_grad(g, out, x, full_matrices):
    """TF's _SvdGrad (real case), for full_matrices=False or square inputs."""
    mo = matrix_ops
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


def _eigh_grad(g, out, x):
    mo = matrix_ops
    e, v = out
    ge, gv = g
    f = mo.set_diag(ops.reciprocal(ops.expand_dims(e, -2) - ops.expand_dims(e, -1)), 0.0)
    grad = ops.matmul(v, ops.matmul(mo.diag(ge) + f * ops.matmul(mT(v), gv), mT(v)))
    grad = mo.band_part(grad + mT(grad), -1, 0)  # only the lower triangle is read
    return (mo.set_diag(grad, 0.5 * mo.diag_part(grad)),)


defgrad(_prims.matrix_inverse)(_inverse_grad)
defgrad(_prims.slogdet)(_slogdet_grad)
defgrad(_prims.matrix_solve)(_solve_grad)
defgrad(_prims.cholesky)(_cholesky_grad)
defgrad(_prims.triangular_solve)(_triangular_grad)
defgrad(_prims.qr)(_qr_grad)
defgrad(_prims.svd)(_svd_grad)
defgrad(_prims.eigh)(_eigh_grad)
