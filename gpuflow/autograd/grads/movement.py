"""Grad rules of the movement primitives (gpuflow/ops/movement.py) that are written in the public ops; those
that are another movement primitive sit beside their primitive."""
from __future__ import annotations

from ... import ops
from ...ops import movement as _prims
from ...ops.dispatch import defgrad
from .elementwise import unbroadcast


def _inverse(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


@defgrad(_prims.reshape)
def _reshape_grad(g, out, x, shape):
    return (ops.reshape(g, x.shape),)


@defgrad(_prims.transpose)
def _transpose_grad(g, out, x, perm):
    return (ops.transpose(g, _inverse(perm)),)


@defgrad(_prims.broadcast_to)
def _broadcast_grad(g, out, x, shape):
    return (unbroadcast(g, x.shape),)


@defgrad(_prims.concat)
def _concat_grad(g, out, *xs, axis):
    sizes = [x.shape[axis] for x in xs]
    return tuple(ops.split(g, sizes, axis=axis))


@defgrad(_prims.tile)
def _tile_grad(g, out, x, multiples):
    split = tuple(v for m, d in zip(multiples, x.shape) for v in (m, d))
    return (ops.reduce_sum(ops.reshape(g, split), axis=tuple(range(0, len(split), 2))),)
