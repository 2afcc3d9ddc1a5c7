"""Grad rule of matmul (gpuflow/ops/linalg_prims.py): matmuls of the gradient with the other operand, unbroadcast."""
from __future__ import annotations

from ...ops import linalg_prims as _prims
from ...ops.dispatch import defgrad, grad_needed
from .elementwise import unbroadcast


def _grad(g, out, a, b, transpose_a, transpose_b):
    ga = gb = None
    if grad_needed(_grad, 0):  # not for a first layer's input data
        if transpose_a:
            ga = unbroadcast(_prims.matmul(b, g, transpose_a=transpose_b, transpose_b=True), a.shape)
        else:
            ga = unbroadcast(_prims.matmul(g, b, transpose_a=False, transpose_b=not transpose_b), a.shape)
    if grad_needed(_grad, 1):
        if transpose_b:
            gb = unbroadcast(_prims.matmul(g, a, transpose_a=True, transpose_b=transpose_a), b.shape)
        else:
            gb = unbroadcast(_prims.matmul(a, g, transpose_a=not transpose_a, transpose_b=False), b.shape)
    return ga, gb


defgrad(_prims.matmul)(_grad)
