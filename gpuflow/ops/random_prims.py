"""Random primitives: counter-based (Philox 4x32-10), so every device draws the same bits.

A draw is a pure function of (key, offset, shape): `key` comes from the global and op
seeds, `offset` counts the draws made with that key. Same seeds, same sequence of calls
→ same numbers on cpu, sim and cuda.
"""
from __future__ import annotations

from ..tensor import TensorSpec
from ._util import require
from .dispatch import primitive


def _infer(name):
    def infer(shape, dtype, key, offset):
        require(name, TensorSpec((), dtype), "f", "a floating-point dtype for the")
        return TensorSpec(shape, dtype)
    return infer


random_uniform = primitive("random_uniform", _infer("random.uniform"))
random_normal = primitive("random_normal", _infer("random.normal"))
truncated_normal = primitive("truncated_normal", _infer("random.truncated_normal"))
