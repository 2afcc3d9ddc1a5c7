"""The op layer: primitives (records + dispatch) and the public tf-named functions built on them."""
from .dispatch import PRIMITIVES, bind, primitive  # noqa: F401
from . import elementwise, reduction, movement, linalg_prims, nn_prims, random_prims, state_prims, debugging  # noqa: F401,E501  (the primitives)
from . import math as _math
from .math import *  # noqa: F401,F403
from .creation import (constant, convert_to_tensor, copy_to, eye, fill, identity, ones, ones_like,  # noqa: F401
                       range, zeros, zeros_like)
from .array import (broadcast_to, concat, expand_dims, gather, one_hot, pad, rank, reshape, reverse,  # noqa: F401
                    shape, size, slice, split, squeeze, stack, tile, transpose, unstack)
from .indexing import boolean_mask  # noqa: F401
from .linalg_ops import matmul, tensordot  # noqa: F401
from .sort_ops import argsort, searchsorted, sort  # noqa: F401
from .scan_ops import cumsum  # noqa: F401
from .einsum import einsum  # noqa: F401
from .scatter_ops import (gather_nd, scatter_nd, tensor_scatter_nd_add, tensor_scatter_nd_max,  # noqa: F401
                          tensor_scatter_nd_min, tensor_scatter_nd_sub, tensor_scatter_nd_update)
from .selection_ops import unique, unique_with_counts  # noqa: F401
from .array import roll  # noqa: F401
from .matrix_ops import norm  # noqa: F401

__all__ = list(_math.__all__) + [
    "constant", "convert_to_tensor", "copy_to", "eye", "fill", "identity", "ones", "ones_like", "range", "zeros",
    "zeros_like", "broadcast_to", "concat", "expand_dims", "gather", "one_hot", "pad", "rank", "reshape", "shape",
    "size", "slice", "split", "squeeze", "stack", "tile", "transpose", "unstack", "boolean_mask", "matmul",
    "tensordot", "reverse", "sort", "argsort", "searchsorted", "cumsum", "einsum", "gather_nd", "scatter_nd",
    "tensor_scatter_nd_add", "tensor_scatter_nd_max", "tensor_scatter_nd_min", "tensor_scatter_nd_sub",
    "tensor_scatter_nd_update", "unique", "unique_with_counts", "roll", "norm"]
