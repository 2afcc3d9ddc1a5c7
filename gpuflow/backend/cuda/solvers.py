"""Dense linear algebra on cuda (cuSOLVER / cuBLAS through CuPy's xp.linalg) and sim (NumPy's LAPACK):
gpuflow/backend/solvers.py with the backend's xp."""
from __future__ import annotations

from .. import solvers
from ._registry import IMPLS


def _on_xp(fn):
    def impl(backend, *arrays, **params):
        return fn(backend.xp, *arrays, **params)
    return impl


for _name in solvers.NAMES:
    IMPLS[_name] = _on_xp(getattr(solvers, _name))
