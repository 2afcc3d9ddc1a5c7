"""stop_gradient as a primitive: the same buffer, and no grad rule, so no gradient flows back through it
on a tape, and a traced function keeps the cut (a plain re-wrap of the buffer would vanish from the IR)."""
from __future__ import annotations

from ..tensor import TensorSpec
from .dispatch import primitive

stop_gradient = primitive("stop_gradient", lambda x: TensorSpec(x.shape, x.dtype))
