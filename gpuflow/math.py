"""`gf.math`: the elementwise and reduction ops under their tf.math names."""
from .ops.math import *  # noqa: F401,F403
from .ops.math import __all__  # noqa: F401
from .ops.nn_ops import log_softmax, softmax  # noqa: F401
from .ops.sort_ops import top_k  # noqa: F401
from .ops.scan_ops import cumprod, cumsum, cumulative_logsumexp  # noqa: F401
from .ops.segment_ops import (bincount, confusion_matrix, segment_max, segment_mean, segment_min,  # noqa: F401
                               segment_sum, unsorted_segment_max, unsorted_segment_mean, unsorted_segment_min,
                               unsorted_segment_sum)
from .ops.safe_math import (divide_no_nan, is_inf, log_sigmoid, logical_xor, reduce_euclidean_norm,  # noqa: F401
                            squared_difference, xdivy, xlogy)
from .ops.nn_ops import l2_normalize  # noqa: F401
from .ops.sort_ops import in_top_k  # noqa: F401
