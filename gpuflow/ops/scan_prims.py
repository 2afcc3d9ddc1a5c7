"""Scan primitives: cumsum, cumprod and cumulative_logsumexp along one axis, inclusive or
exclusive, forwards or reversed. Their gradients are scans the other way (TF's rules): cumsum's here,
the others, written in gpuflow ops, in gpuflow/autograd/grads/scan.py."""
from __future__ import annotations

from ..tensor import TensorSpec
from ._util import require
from .dispatch import primitive


def _infer(name, kinds, what):
    def infer(x, axis, exclusive, reverse):
        require(name, x, kinds, what)
        return TensorSpec(x.shape, x.dtype)
    return infer


def _cumsum_grad(g, out, x, axis, exclusive, reverse):
    return (cumsum(g, axis=axis, exclusive=exclusive, reverse=not reverse),)


cumsum = primitive("cumsum", _infer("cumsum", "fi", "a numeric"), _cumsum_grad)
cumprod = primitive("cumprod", _infer("cumprod", "fi", "a numeric"))
cumulative_logsumexp = primitive("cumulative_logsumexp", _infer("cumulative_logsumexp", "f", "a floating-point"))
