"""`gf.linalg`."""
from .ops.linalg_ops import matmul, tensordot  # noqa: F401
from .ops.einsum import einsum  # noqa: F401
