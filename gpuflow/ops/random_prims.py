"""Random primitives: counter-based (Philox 4x32-10), so every device draws the same bits.

A draw is a pure function of (key, offset, shape): `key` comes from the global and op
seeds, `offset` counts the draws made with that key. Same seeds, same sequence of calls
→ same numbers on cpu, sim and cuda. The key is a param, fixed when a gf.function traces
the draw (as TF fixes seeds at trace); the offset is an INPUT, an int64 tensor of one
element that the kernels read on the device, so a traced graph is fed the next offset on
every call (random_ops.next_draw) and draws new numbers each time. No grad rules: the
draws' values do not depend on their input.
"""
from __future__ import annotations

from ..errors import InvalidArgumentError
from ..tensor import TensorSpec
from .dispatch import primitive


def check_offset(name, offset):
    """The offset input must be one int64 (0-d or shape [1]): the kernels read offset[0]."""
    if offset.dtype.name != "int64" or offset.shape.num_elements() != 1:
        raise InvalidArgumentError(
            f"{name}: the Philox offset must be an int64 tensor of one element (0-d or [1]), got "
            f"{offset.dtype.name}{list(offset.shape)}; draw through gf.random / gf.nn.dropout, which make it")


def _infer(name):
    def infer(offset, shape, dtype, key):
        check_offset(name, offset)
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
