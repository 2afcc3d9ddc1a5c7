"""gpuflow: a GPU-first deep learning framework with TensorFlow's names.

    import gpuflow as gf
    x = gf.constant([[1.0, 2.0]])
    with gf.GradientTape() as tape: ...
"""
from __future__ import annotations

import logging as _logging

_log = _logging.getLogger("gpuflow")
if not _log.handlers:  # say the default-device choice once, like TF's start-up lines; users may reconfigure
    _handler = _logging.StreamHandler()
    _handler.setFormatter(_logging.Formatter("gpuflow %(levelname)s: %(message)s"))
    _log.addHandler(_handler)
    _log.setLevel(_logging.INFO)
    _log.propagate = False

from . import dtypes, errors, nest  # noqa: E402
from ._version import __version__  # noqa: E402,F401
from .dtypes import (DType, as_dtype, bfloat16, bool, double, float16, float32, float64, half,  # noqa: E402,F401,A004
                     int8, int16, int32, int64, uint8, uint32)
from .devices import device  # noqa: E402
from ._names import name_scope  # noqa: E402,F401
from ._traces import executing_eagerly, init_scope  # noqa: E402,F401
from .tensor import Tensor, TensorShape, TensorSpec, Variable  # noqa: E402
from .ops import *  # noqa: E402,F401,F403
from .autograd import GradientTape, UnconnectedGradients, custom_gradient, stop_gradient  # noqa: E402
from . import math, nn, random, linalg, image, config, cuda, memory, profiler, keras  # noqa: E402,F401
from . import data  # noqa: E402,F401
from . import debugging  # noqa: E402,F401
from .graph import function, cond, while_loop  # noqa: E402,F401
from .graph.functional import case, foldl, foldr, map_fn, scan, switch_case, vectorized_map  # noqa: E402,F401
from .graph import gf_print as print  # noqa: E402,F401,A001  (tf.print)
from . import summary  # noqa: E402,F401
from .module import Module  # noqa: E402,F401
from . import lite, onnx  # noqa: E402,F401  (neither imports tflite/onnx until used)
from . import distribute  # noqa: E402,F401
from . import saved_model  # noqa: E402,F401
from . import train  # noqa: E402,F401
from . import experimental  # noqa: E402,F401

newaxis = None


def is_tensor(x) -> bool:
    """Whether `x` is a gpuflow tensor (a `gf.Tensor` or `gf.Variable`)."""
    return isinstance(x, Tensor)
