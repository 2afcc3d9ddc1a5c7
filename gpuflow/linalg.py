"""`gf.linalg`."""
from .ops.linalg_ops import matmul, tensordot  # noqa: F401
