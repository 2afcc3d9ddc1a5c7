"""`gf.random`: Philox-based draws that give the same bits on every device for the same seeds."""
from .ops.random_ops import get_global_seed, normal, set_seed, truncated_normal, uniform  # noqa: F401
from .ops.random_sampling import categorical, shuffle  # noqa: F401
