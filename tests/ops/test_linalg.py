"""gf.linalg: inv, det, slogdet, logdet, solve, cholesky, cholesky_solve, triangular_solve, qr, svd,
eigh, norm, matrix_transpose, band_part, diag, diag_part, set_diag, trace. Forward against NumPy
(decompositions by their defining identities, which hold whatever signs a library picks) on every
device, empty and odd sizes, float64 finite-difference gradients on cpu (through sign-invariant
functions of the factors), sim/cuda parity, and the errors."""
from __future__ import annotations

import numpy as np
import pytest

import gpuflow as gf
from tests.harness import check_grad, check_op, check_parity, rand

SQUARE = [(1, 1), (3, 3), (2, 5, 5), (0, 0), (3, 0, 0), (2, 1, 7, 7)]


def well_conditioned(shape, seed=0, dtype="float64"):
    """Random square matrices with a dominant diagonal: far from singular."""
    x = rand(shape, dtype, seed=seed)
    n = shape[-1]
    return (x + 3 * n * np.eye(n, dtype=x.dtype) if n else x).astype(dtype)


def spd(shape, seed=0, dtype="float64"):
    x = rand(shape, "float64", seed=seed)
    return (x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])).astype(dtype)


def mT(a):  # noqa: N802
    return np.swapaxes(a, -1, -2)


@pytest.mark.parametrize("shape", SQUARE, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_inverse_determinants_and_solves(device, shape, dtype):
    a = well_conditioned(shape, seed=1, dtype=dtype)
    b = rand(shape[:-1] + (2,), dtype, seed=2)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == "float32" else {}
    check_op(gf.linalg.inv, [a], np.linalg.inv, device, **tol)
    check_op(lambda x: gf.linalg.inv(x, adjoint=True), [a], lambda x: np.linalg.inv(mT(x)), device, **tol)
    check_op(gf.linalg.det, [a], np.linalg.det, device, **tol)
    check_op(lambda x: list(gf.linalg.slogdet(x)), [a], lambda x: list(np.linalg.slogdet(x)), device, **tol)
    check_op(gf.linalg.solve, [a, b], np.linalg.solve, device, **tol)
    check_op(lambda x, y: gf.linalg.solve(x, y, adjoint=True), [a, b], lambda x, y: np.linalg.solve(mT(x), y), device,
             **tol)
    s = spd(shape, seed=3, dtype=dtype)
    check_op(gf.linalg.cholesky, [s], np.linalg.cholesky, device, **tol)
    check_op(gf.linalg.logdet, [s], lambda x: np.linalg.slogdet(x)[1], device, **tol)
    check_op(lambda x, y: gf.linalg.cholesky_solve(gf.linalg.cholesky(x), y), [s, b], np.linalg.solve, device, **tol)
    for lower in (True, False):
        for adjoint in (False, True):
            def ref(x, y, lower=lower, adjoint=adjoint):
                t = np.tril(x) if lower else np.triu(x)
                return np.linalg.solve(mT(t) if adjoint else t, y)
            check_op(lambda x, y: gf.linalg.triangular_solve(x, y, lower=lower, adjoint=adjoint), [a, b], ref, device,
                     **tol)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 6, 2), (0, 3), (1, 1)], ids=str)
def test_decompositions_satisfy_their_identities(device, shape):
    x = rand(shape, "float64", seed=4)
    m, n = shape[-2:]
    k = min(m, n)
    for full in (False, True):
        q, r = gf.linalg.qr(gf.constant(x), full_matrices=full)
        q, r = q.numpy(), r.numpy()
        assert q.shape[-2:] == (m, m if full else k) and r.shape[-2:] == (m if full else k, n)
        np.testing.assert_allclose(q @ r, x, atol=1e-12)
        np.testing.assert_allclose(mT(q) @ q, np.broadcast_to(np.eye(q.shape[-1]), mT(q).shape[:-1] + (q.shape[-1],)),
                                   atol=1e-12)
        np.testing.assert_array_equal(np.tril(r, -1), 0)
        s, u, v = (t.numpy() for t in gf.linalg.svd(gf.constant(x), full_matrices=full))
        np.testing.assert_allclose(s, np.linalg.svd(x, compute_uv=False), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose((u[..., :, :k] * s[..., None, :]) @ mT(v[..., :, :k]), x, atol=1e-12)
        assert u.shape[-2:] == (m, m if full else k) and v.shape[-2:] == (n, n if full else k)
    np.testing.assert_allclose(gf.linalg.svd(gf.constant(x), compute_uv=False).numpy(),
                               np.linalg.svd(x, compute_uv=False), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (1, 1), (0, 0)], ids=str)
def test_eigh(device, shape):
    a = rand(shape, "float64", seed=5)
    sym = a + mT(a)
    e, v = (t.numpy() for t in gf.linalg.eigh(gf.constant(sym)))
    np.testing.assert_allclose(e, np.linalg.eigvalsh(sym), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sym @ v, v * e[..., None, :], atol=1e-12)
    # only the lower triangle is read, as in TF
    np.testing.assert_allclose(gf.linalg.eigvalsh(gf.constant(np.tril(sym) + np.triu(a, 1) * 7)).numpy(), e,
                               rtol=1e-12, atol=1e-12)


# ---- structural ops and norms ---------------------------------------------------------------------
def test_structural_ops(device):
    x = rand((2, 3, 5), seed=6)
    check_op(gf.linalg.matrix_transpose, [x], mT, device)
    check_op(gf.linalg.adjoint, [x], mT, device)
    for lo, hi in [(0, 0), (1, 0), (-1, 0), (0, -1), (2, 1), (-1, -1)]:
        def band(a, lo=lo, hi=hi):
            i, j = np.arange(a.shape[-2])[:, None], np.arange(a.shape[-1])[None, :]
            return np.where(((lo < 0) | (i - j <= lo)) & ((hi < 0) | (j - i <= hi)), a, 0)
        check_op(lambda a: gf.linalg.band_part(a, lo, hi), [x], band, device)
    check_op(gf.linalg.diag_part, [x], lambda a: np.diagonal(a, axis1=-2, axis2=-1), device)
    check_op(gf.linalg.diag_part, [mT(x)], lambda a: np.diagonal(a, axis1=-2, axis2=-1), device)
    check_op(gf.linalg.trace, [x], lambda a: np.trace(a, axis1=-2, axis2=-1), device)
    d = rand((2, 4), seed=7)
    check_op(gf.linalg.diag, [d], lambda a: a[..., None] * np.eye(4), device)
    check_op(gf.linalg.diag, [np.array([1, 2], np.int32)], lambda a: np.diag(a), device)
    for shape in [(2, 3, 5), (2, 5, 3), (3, 3)]:
        base = rand(shape, seed=8)
        k = min(shape[-2:])
        diagonal = rand(shape[:-2] + (k,), seed=9)

        def ref(a, b):
            out = a.copy()
            idx = np.arange(b.shape[-1])
            out[..., idx, idx] = b
            return out
        check_op(gf.linalg.set_diag, [base, diagonal], ref, device)
    check_op(gf.linalg.diag_part, [np.zeros((3, 0, 4))], lambda a: np.zeros((3, 0)), device)


NORMS = [("euclidean", None), (1, -1), (2, 0), (np.inf, 1), (3.5, -1), ("fro", (-2, -1)), ("euclidean", (1, 2)),
         (1, (-2, -1)), (np.inf, (-2, -1)), (2, (-2, -1)), (2, (0, 2))]


@pytest.mark.parametrize("ord,axis", NORMS, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_norm(device, ord, axis, keepdims):  # noqa: A002
    x = rand((2, 3, 4), seed=10)

    def ref(a):
        if axis is None:
            out = np.linalg.norm(a.reshape(-1))
            return out.reshape((1,) * a.ndim) if keepdims else out
        nord = "fro" if ord == "euclidean" and not isinstance(axis, int) else (None if ord == "euclidean" else ord)
        return np.linalg.norm(a, nord, axis=axis, keepdims=keepdims)
    check_op(lambda a: gf.norm(a, ord=ord, axis=axis, keepdims=keepdims), [x], ref, device)
    if device == "cpu" and not (ord == np.inf or (ord == 1 and not isinstance(axis, int))):
        check_grad(lambda a: gf.linalg.norm(a, ord=ord, axis=axis, keepdims=keepdims), [x])


# ---- gradients ------------------------------------------------------------------------------------
def sym(t):
    return t + gf.linalg.matrix_transpose(t)


def test_solver_gradients():
    a, b = well_conditioned((2, 3, 3), seed=11), rand((2, 3, 2), "float64", seed=12)
    check_grad(gf.linalg.inv, [a])
    check_grad(gf.linalg.det, [a])
    check_grad(lambda x: gf.linalg.slogdet(x).log_abs_determinant, [a])
    check_grad(gf.linalg.solve, [a, b])
    check_grad(lambda x, y: gf.linalg.solve(x, y, adjoint=True), [a, b])
    for lower in (True, False):
        for adjoint in (False, True):
            check_grad(lambda x, y: gf.linalg.triangular_solve(x, y, lower=lower, adjoint=adjoint), [a, b])
    m = rand((2, 3, 3), "float64", seed=13)
    check_grad(lambda t: gf.linalg.cholesky(gf.matmul(t, gf.linalg.matrix_transpose(t)) + 3.0 * gf.eye(3, dtype=gf.float64)),
               [m])
    check_grad(lambda t: gf.linalg.logdet(gf.matmul(t, gf.linalg.matrix_transpose(t)) + 3.0 * gf.eye(3, dtype=gf.float64)),
               [m])
    # TF's cholesky gradient is the symmetric one (for a symmetric input), so the checks above go through t tᵀ


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (2, 5, 2)], ids=str)
def test_qr_gradient(shape):
    check_grad(lambda t: list(gf.linalg.qr(t)), [rand(shape, "float64", seed=15)])


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3), (2, 2, 5)], ids=str)
def test_svd_gradient(shape):
    """s, and the sign-invariant projections u uᵀ and v vᵀ (each singular vector's sign is the library's choice)."""
    def f(t):
        s, u, v = gf.linalg.svd(t)
        return [s, gf.matmul(u, gf.linalg.matrix_transpose(u)), gf.matmul(v, gf.linalg.matrix_transpose(v))]
    k = min(shape[-2:])
    spread = np.zeros(shape[-2:])
    spread[range(k), range(k)] = 2.0 * np.arange(1, k + 1)  # well separated singular values
    x = rand(shape, "float64", seed=16) + spread
    check_grad(f, [x])
    check_grad(lambda t: gf.linalg.svd(t, compute_uv=False), [x])


def test_eigh_gradient():
    x = rand((2, 4, 4), "float64", seed=17)

    def f(t):
        e, v = gf.linalg.eigh(t)
        return [e, v * v]  # v * v does not depend on each eigenvector's sign
    check_grad(f, [x + mT(x)])
    check_grad(lambda t: gf.linalg.eigvalsh(sym(t)), [x])


def test_structural_gradients():
    x = rand((2, 3, 4), "float64", seed=18)
    check_grad(lambda t: gf.linalg.band_part(t, 1, 0), [x])
    check_grad(gf.linalg.diag_part, [x])
    check_grad(gf.linalg.trace, [x])
    check_grad(gf.linalg.diag, [rand((2, 3), "float64", seed=19)])
    check_grad(gf.linalg.set_diag, [x, rand((2, 3), "float64", seed=20)])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linalg_parity(device, dtype):
    a = well_conditioned((2, 4, 4), seed=21, dtype=dtype)
    check_parity(lambda x: gf.linalg.inv(x), [a], device)
    check_parity(lambda x, y: gf.linalg.solve(x, y), [a, rand((2, 4, 3), dtype, seed=22)], device)
    check_parity(lambda x: gf.linalg.cholesky(x), [spd((3, 3), seed=23, dtype=dtype)], device)
    check_parity(lambda x: gf.linalg.slogdet(x).log_abs_determinant, [a], device)


def test_linalg_errors(device):
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"inv: needs float32 or float64 input, got int32"):
        gf.linalg.inv(gf.constant(np.eye(2, dtype=np.int32)))
    assert gf.linalg.inv(gf.constant(np.eye(2, dtype=np.float16))).dtype == gf.float16  # solved in float32
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"cholesky: needs square matrices \(\.\.\., n, n\), got "
                                                             r"float32\[2, 3\]"):
        gf.linalg.cholesky(gf.constant(rand((2, 3))))
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"solve: rhs \[3, 1\] must be \(\.\.\., 2, k\)"):
        gf.linalg.solve(gf.constant(np.eye(2)), gf.constant(np.ones((3, 1))))
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"matrix_transpose: needs a matrix"):
        gf.linalg.matrix_transpose(gf.constant([1.0]))
    if device != "cuda":  # cuSOLVER returns inf/NaN there, as TF's GPU kernels
        with pytest.raises(gf.errors.InvalidArgumentError, match=r"inv: input float64\[2, 2\] holds a singular matrix"):
            gf.linalg.inv(gf.constant(np.ones((2, 2))))
        with pytest.raises(gf.errors.InvalidArgumentError, match=r"cholesky: .* not symmetric positive definite"):
            gf.linalg.cholesky(gf.constant(-np.eye(2)))
    with pytest.raises(ValueError, match="norm: ord must be"):
        gf.norm(gf.constant([1.0]), ord="nuc")
