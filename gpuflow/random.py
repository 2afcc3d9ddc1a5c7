"""`gf.random`: Philox-based draws that give the same bits on every device for the same seeds."""
from .ops.random_ops import (get_global_seed, normal, set_seed, stateless_normal,  # noqa: F401
                             stateless_truncated_normal, stateless_uniform, truncated_normal, uniform)
from .ops.random_sampling import categorical, shuffle  # noqa: F401
