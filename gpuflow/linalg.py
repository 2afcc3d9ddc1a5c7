"""`gf.linalg`."""
from .ops.linalg_ops import matmul, matvec, tensordot  # noqa: F401
from .ops.einsum import einsum  # noqa: F401
from .ops.matrix_ops import (adjoint, band_part, diag, diag_part, matrix_transpose, norm, set_diag,  # noqa: F401
                             trace)
from .ops.solver_ops import (cholesky, cholesky_solve, det, eigh, eigvalsh, inv, logdet, qr, slogdet,  # noqa: F401
                             solve, svd, triangular_solve)
from .ops.creation import eye  # noqa: F401
from .ops.clip_ops import global_norm  # noqa: F401
from .ops.nn_ops import l2_normalize  # noqa: F401
