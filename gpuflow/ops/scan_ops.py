"""Public scans with TensorFlow's names: cumsum, cumprod, cumulative_logsumexp."""
from __future__ import annotations

from . import scan_prims
from ._util import host_int, normalize_axis
from .math import operands

__all__ = ["cumsum", "cumprod", "cumulative_logsumexp"]


def _scan(prim, x, axis, exclusive, reverse):
    x = operands(x)[0]
    axis = host_int(axis)
    return prim(x, axis=normalize_axis(prim.name, axis, x.ndim), exclusive=bool(exclusive), reverse=bool(reverse))


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    """Running sums along `axis` (tf.math.cumsum): out[i] = x[0] + ... + x[i]; `exclusive` stops at
    x[i-1] (0 first), `reverse` sums from the end. Integers wrap around on overflow."""
    return _scan(scan_prims.cumsum, x, axis, exclusive, reverse)


def cumprod(x, axis=0, exclusive=False, reverse=False, name=None):
    """Running products along `axis` (tf.math.cumprod), with cumsum's `exclusive` (1 first) and `reverse`.
    Its gradient, as TF's, is 0 at inputs equal to 0."""
    return _scan(scan_prims.cumprod, x, axis, exclusive, reverse)


def cumulative_logsumexp(x, axis=0, exclusive=False, reverse=False, name=None):
    """log(cumsum(exp(x))) along `axis` without overflow (tf.math.cumulative_logsumexp); `exclusive`
    starts from -inf."""
    return _scan(scan_prims.cumulative_logsumexp, x, axis, exclusive, reverse)
