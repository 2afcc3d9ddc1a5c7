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

# gf's ops: each family module's __all__, so a new public op is exported by adding it there.
__all__ = [name for family in (math, creation, array, indexing, linalg_ops) for name in family.__all__]
