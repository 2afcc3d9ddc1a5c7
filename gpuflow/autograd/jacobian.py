"""GradientTape.jacobian and batch_jacobian: one backward pass per output element, each seeded with
a one-hot cotangent, stacked into target.shape + source.shape.

batch_jacobian is vectorised over the batch: one pass per element of a single example's output
(its one-hot repeated down the batch), since example b's outputs depend on example b's inputs
only (TF's documented premise), so the passes of all examples share one run. jacobian has no such
structure to share and runs target.size passes (TF's pfor would vectorise those; gpuflow accepts
`experimental_use_pfor` and computes the same values by the loop). Everything is ordinary ops, so
an outer tape records it: a jacobian of a gradient is a Hessian."""
from __future__ import annotations

import contextlib
import math

import numpy as np

from .. import devices, nest, ops
from ..errors import InvalidArgumentError
from ..tensor import Tensor


@contextlib.contextmanager
def _reused(tape, use_pfor):
    """Let the loop call tape.gradient many times; a non-persistent tape is spent afterwards, as after one
    gradient (TF's pfor path uses it once too; its loop path needs a persistent tape)."""
    if not tape._persistent and not use_pfor:
        raise ValueError("GradientTape.jacobian with experimental_use_pfor=False needs GradientTape(persistent=True), "
                         "as in TF")
    if tape._used and not tape._persistent:
        raise RuntimeError("A non-persistent GradientTape can only be used to compute one set of gradients (or "
                           "jacobians); use GradientTape(persistent=True)")
    persistent, tape._persistent = tape._persistent, True
    try:
        yield
    finally:
        tape._persistent = persistent
        if not persistent:
            tape._used = True
            tape._records.clear(), tape._keep.clear()


def _one_hots(target, shape):
    """One seed per element of `shape` (a prefix-free slice of target.shape), each broadcast to target.shape."""
    n = math.prod(shape)
    eye = np.eye(n, dtype=target.dtype.np).reshape((n,) + tuple(shape))
    lead = tuple(target.shape[:len(target.shape) - len(shape)])
    with devices.device(target._device):
        return [ops.constant(np.broadcast_to(row, lead + tuple(shape)).copy()) for row in eye]


def _assemble(tape, target, sources, seeds, out_shape_of, unconnected_gradients, zero_unconnected):
    flat = nest.flatten(sources)
    rows = [tape.gradient(target, flat, output_gradients=seed, unconnected_gradients=unconnected_gradients)
            for seed in seeds]
    result = []
    for k, s in enumerate(flat):
        parts = [r[k] for r in rows]
        if not parts or all(p is None for p in parts):
            result.append(_zeros(s, out_shape_of(s)) if zero_unconnected or not parts else None)
            continue
        parts = [ops.zeros_like(s) if p is None else p for p in parts]
        result.append(ops.reshape(ops.stack(parts, axis=0), out_shape_of(s)))
    return nest.pack_sequence_as(sources, result)


def _zeros(like, shape):
    with devices.device(like._device):
        return ops.zeros(shape, like.dtype)


def jacobian(tape, target, sources, unconnected_gradients, zero_unconnected, use_pfor):
    if not isinstance(target, Tensor):
        raise InvalidArgumentError(f"GradientTape.jacobian: target must be a tensor, got {type(target).__name__}")
    with _reused(tape, use_pfor):
        seeds = _one_hots(target, tuple(target.shape))
        return _assemble(tape, target, sources, seeds, lambda s: tuple(target.shape) + tuple(s.shape),
                         unconnected_gradients, zero_unconnected)


def batch_jacobian(tape, target, source, unconnected_gradients, zero_unconnected, use_pfor):
    if not isinstance(target, Tensor) or not isinstance(source, Tensor):
        raise InvalidArgumentError("GradientTape.batch_jacobian: target and source must be tensors")
    if target.ndim < 1 or source.ndim < 1 or target.shape[0] != source.shape[0]:
        raise InvalidArgumentError(f"GradientTape.batch_jacobian: target {list(target.shape)} and source "
                                   f"{list(source.shape)} need the same first (batch) dimension")
    batch, per_example = target.shape[0], tuple(target.shape[1:])
    with _reused(tape, use_pfor):
        seeds = _one_hots(target, per_example) if batch else []
        jac = _assemble(tape, target, source, seeds, lambda s: (math.prod(per_example),) + tuple(s.shape),
                        unconnected_gradients, zero_unconnected)
    if jac is None:
        return None
    # (outputs per example, batch, source dims...) -> (batch, target dims..., source dims...)
    rest = tuple(source.shape[1:])
    moved = ops.transpose(jac, [1, 0] + list(range(2, jac.ndim)))
    return ops.reshape(moved, (batch,) + per_example + rest)
