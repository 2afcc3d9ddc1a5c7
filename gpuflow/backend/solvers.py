"""Dense linear algebra written once against `xp` (NumPy on cpu and sim, CuPy on cuda, where its linalg
calls cuSOLVER and cuBLAS): the implementations of gpuflow/ops/solver_prims.py for both backends.

An empty input is answered by NumPy on the host (LAPACK's conventions: det 1, no factors), so a
backend's own library never sees a zero-sized matrix. LAPACK's refusals (a singular matrix, one
that is not positive definite) become InvalidArgumentError naming the op and the shape."""
from __future__ import annotations

import contextlib

import numpy as np

from ..errors import InvalidArgumentError


@contextlib.contextmanager
def _lapack(op, x):
    try:
        yield
    except np.linalg.LinAlgError as e:
        what = {"cholesky": "a matrix that is not symmetric positive definite"}.get(op, "a singular matrix")
        raise InvalidArgumentError(f"{op}: input {x.dtype}{list(x.shape)} holds {what} ({e}); LAPACK cannot "
                                   f"factor it") from None


def _host_if_empty(xp, fn, *arrays):
    """fn(xp, *arrays), or fn(np, ...) moved back to the device when any array is empty."""
    if all(a.size for a in arrays) or xp is np:
        return fn(xp, *arrays)
    out = fn(np, *[np.zeros(a.shape, a.dtype) for a in arrays])
    return tuple(xp.asarray(o) for o in out) if isinstance(out, tuple) else xp.asarray(out)


def _contiguous(xp, out, dtype):
    if isinstance(out, tuple):
        return tuple(_contiguous(xp, o, dtype) for o in out)
    return xp.asarray(out, dtype=dtype, order="C")  # ascontiguousarray would make a 0-d result 1-d


def _mT(xp, x):  # noqa: N802
    return xp.swapaxes(x, -1, -2)


def matrix_inverse(xp, x):
    with _lapack("inv", x):
        return _contiguous(xp, _host_if_empty(xp, lambda m, a: m.linalg.inv(a), x), x.dtype)


def slogdet(xp, x):
    with _lapack("slogdet", x):
        return _contiguous(xp, _host_if_empty(xp, lambda m, a: tuple(m.linalg.slogdet(a)), x), x.dtype)


def matrix_solve(xp, a, b, adjoint):
    with _lapack("solve", a):
        return _contiguous(xp, _host_if_empty(xp, lambda m, p, q: m.linalg.solve(_mT(m, p) if adjoint else p, q),
                                              a, b), b.dtype)


def cholesky(xp, x):
    with _lapack("cholesky", x):
        return _contiguous(xp, _host_if_empty(xp, lambda m, a: m.linalg.cholesky(a), x), x.dtype)


def triangular_solve(xp, a, b, lower, adjoint):
    # A general solve on the triangle alone: only that triangle is read, as TF's kernel does.
    def run(m, p, q):
        tri = m.tril(p) if lower else m.triu(p)
        return m.linalg.solve(_mT(m, tri) if adjoint else tri, q)
    with _lapack("triangular_solve", a):
        return _contiguous(xp, _host_if_empty(xp, run, a, b), b.dtype)


def qr(xp, x, full_matrices):
    mode = "complete" if full_matrices else "reduced"
    with _lapack("qr", x):
        return _contiguous(xp, _host_if_empty(xp, lambda m, a: tuple(m.linalg.qr(a, mode=mode)), x), x.dtype)


def svd(xp, x, full_matrices):
    def run(m, a):
        u, s, vh = m.linalg.svd(a, full_matrices=full_matrices)
        return s, u, _mT(m, vh)
    with _lapack("svd", x):
        return _contiguous(xp, _host_if_empty(xp, run, x), x.dtype)


def eigh(xp, x):
    with _lapack("eigh", x):
        return _contiguous(xp, _host_if_empty(xp, lambda m, a: tuple(m.linalg.eigh(a)), x), x.dtype)


NAMES = ("matrix_inverse", "slogdet", "matrix_solve", "cholesky", "triangular_solve", "qr", "svd", "eigh")
