"""Random primitives on NumPy: the Philox streams of philox.py."""
from __future__ import annotations

from . import philox
from ._registry import impl


@impl("random_uniform")
def random_uniform(shape, dtype, key, offset):
    return philox.uniform(shape, dtype, key, offset)


@impl("random_normal")
def random_normal(shape, dtype, key, offset):
    return philox.normal(shape, dtype, key, offset)


@impl("truncated_normal")
def truncated_normal(shape, dtype, key, offset):
    return philox.truncated_normal(shape, dtype, key, offset)
