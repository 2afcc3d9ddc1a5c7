"""gf.debugging.check_numerics on cpu: NumPy scans the tensor and the op raises at once."""
from __future__ import annotations

from ..numerics import Described, host_kinds, user_frame
from ._registry import impl


@impl("check_numerics")
def check_numerics(x, message):
    kinds = host_kinds(x)
    if kinds:
        spec = (x.dtype.name, tuple(x.shape), "cpu:0")
        raise Described("check_numerics", [spec], 0, 1, spec, user_frame(2), message).error(kinds, on_device=False)
    return x
