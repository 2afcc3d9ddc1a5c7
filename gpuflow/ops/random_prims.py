"""Random primitives: counter-based (Philox 4x32-10), so every device draws the same bits.

A draw is a pure function of (key, offset, shape): `key` comes from the global and op
seeds, `offset` counts the draws made with that key. Same seeds, same sequence of calls
→ same numbers on cpu, sim and cuda. No grad rules: draws do not depend on any input.
"""
from __future__ import annotations

from ..errors import InvalidArgumentError
from ..tensor import TensorSpec
from .dispatch import primitive


def _infer(name):
    def infer(shape, dtype, key, offset):
        if not dtype.is_floating:
            raise InvalidArgumentError(
                f"{name}: dtype must be float16, bfloat16, float32 or float64, got {dtype.name}; "
                f"draw floats and gf.cast them (gf.random.uniform takes an integer dtype with maxval)")
        if any(d < 0 for d in shape):
            raise InvalidArgumentError(f"{name}: shape {list(shape)} has a negative dimension")
        return TensorSpec(shape, dtype)
    return infer


random_uniform = primitive("random_uniform", _infer("random.uniform"))
random_normal = primitive("random_normal", _infer("random.normal"))
truncated_normal = primitive("truncated_normal", _infer("random.truncated_normal"))
