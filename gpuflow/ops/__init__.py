"""The op layer: primitives (records + dispatch) and the public tf-named functions built on them."""
from .dispatch import PRIMITIVES, bind, primitive  # noqa: F401
from ..backend import import_family_modules

# Every module here is imported, so each primitive family registers itself the way backend impls do:
# adding a family is adding a file (docs/architecture.md, "Adding an op").
import_family_modules(__name__, __path__)
from . import array, creation, indexing, linalg_ops, math  # noqa: E402  (the public ops, by family)
from .array import *  # noqa: F401,F403,E402
from .creation import *  # noqa: F401,F403,E402
from .indexing import *  # noqa: F401,F403,E402
from .linalg_ops import *  # noqa: F401,F403,E402
from .math import *  # noqa: F401,F403,E402
from .sort_ops import argsort, searchsorted, sort  # noqa: F401,E402  (top_k lives in gf.math and gf.nn, as in TF)
from .scan_ops import cumsum  # noqa: F401,E402  (cumprod, cumulative_logsumexp: gf.math)
from .einsum import einsum  # noqa: F401,E402
from .scatter_ops import *  # noqa: F401,F403,E402
from .selection_ops import unique, unique_with_counts  # noqa: F401,E402
from .matrix_ops import norm  # noqa: F401,E402  (the rest: gf.linalg)
from .clip_ops import clip_by_global_norm, clip_by_norm  # noqa: F401,E402  (global_norm: gf.linalg)
from .linspace_ops import linspace  # noqa: F401,E402
from .array_composites import ensure_shape, meshgrid, repeat, sequence_mask  # noqa: F401,E402
from .control_ops import control_dependencies, group, no_op  # noqa: F401,E402
from .shape_ops import broadcast_dynamic_shape, broadcast_static_shape, shape_n  # noqa: F401,E402

# gf's ops: each family module's __all__, so a new public op is exported by adding it there, plus the names of
# the newer families that TF puts at the top level too.
from . import control_ops as _control, scatter_ops as _scatter, shape_ops as _shape  # noqa: E402
__all__ = [name for family in (math, creation, array, indexing, linalg_ops, _scatter, _control, _shape)
           for name in family.__all__] + [
    "sort", "argsort", "searchsorted", "cumsum", "einsum", "unique", "unique_with_counts", "norm", "clip_by_norm",
    "clip_by_global_norm", "linspace", "ensure_shape", "meshgrid", "repeat", "sequence_mask"]

# tf.dtypes.cast is tf.cast. gpuflow.dtypes sits below the ops (it cannot import them), so they hand it down.
from .. import dtypes as _dtypes  # noqa: E402
_dtypes.cast = math.cast
