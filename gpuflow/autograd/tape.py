"""GradientTape with TensorFlow's semantics.

A tape is a trace on its thread's stack (see ops/dispatch.py): while active it passes each
primitive call down, then keeps the calls whose inputs depend on a watched tensor. A tape
belongs to the thread that opened it, as in TF: ops of other threads never reach it.
`gradient` walks those calls backwards and runs each primitive's grad rule, itself made of
gpuflow ops, so an outer tape records the backward pass and higher-order gradients need
nothing special.
"""
from __future__ import annotations

import contextlib
import enum

from .. import nest, ops
from ..ops import dispatch as _dispatch, state_prims
from ..ops.math import operands
from . import jacobian as _jacobian
from ..tensor import Tensor, Variable


class UnconnectedGradients(enum.Enum):
    """What `GradientTape.gradient` returns for a source the target does not depend on:
        None (NONE, the default) or zeros (ZERO), as tf.UnconnectedGradients.
    """
    NONE = "none"
    ZERO = "zero"


def _zero(unconnected_gradients) -> bool:
    """Whether an unconnected source gets zeros (UnconnectedGradients.ZERO, or TF's string for it)."""
    return unconnected_gradients in (UnconnectedGradients.ZERO, "zero")


def _differentiable(t: Tensor) -> bool:
    return t.dtype.is_floating


class GradientTape:
    """Records the ops run inside its `with` block so `gradient(target, sources)` can differentiate them.

        Trainable variables read inside are watched automatically (unless `watch_accessed_variables=False`);
        other tensors need `tape.watch`. A persistent tape can compute several gradients; tapes nest, so
        higher-order gradients work (every grad rule is written in gpuflow ops). `jacobian` and
        `batch_jacobian` as in TF.
    """
    def __init__(self, persistent=False, watch_accessed_variables=True):
        self._persistent = persistent
        self._auto_watch = watch_accessed_variables
        self._records = []
        self._live = set()       # ids of tensors that depend on a watched tensor
        self._keep = {}          # id → tensor, so ids stay unique while the tape lives
        self._accessed = {}      # trainable variables read under the tape
        self._recording = False
        self._used = False
        self._stack = None  # the trace stack of the thread that opened the tape

    def __enter__(self):
        self._recording = True
        self._stack = _dispatch.trace_stack()
        self._stack.append(self)
        return self

    def __exit__(self, *exc):
        self._recording = False
        stack, self._stack = self._stack, None
        if stack is not None and self in stack:
            stack.remove(self)

    def process(self, prim, inputs, params, device, level):
        """The trace-stack hook: run the call below, then record it."""
        out = _dispatch.bind_below(level, prim, inputs, params, device)
        if self._recording:
            if prim.crosses_devices:  # the grad rule needs to know where the value came from
                params = dict(params, device=device)
            self.record(prim, inputs, out if type(out) is tuple else (out,), params)
        return out

    @contextlib.contextmanager
    def stop_recording(self):
        was, self._recording = self._recording, False
        try:
            yield
        finally:
            self._recording = was

    def reset(self):
        self._records.clear(), self._live.clear(), self._keep.clear(), self._accessed.clear()

    def watch(self, tensor):
        for t in nest.flatten(tensor):
            if not isinstance(t, Tensor):
                raise TypeError(f"GradientTape.watch: expected tensors or variables, got {type(t).__name__}")
            if _differentiable(t):
                self._live.add(t._id)
                self._keep[t._id] = t

    def watched_variables(self):
        return tuple(self._accessed.values())

    def record(self, prim, inputs, outputs, params):
        if not self._recording:
            return
        live, hit = self._live, False
        for t in inputs:
            if self._auto_watch and type(t) is not Tensor and isinstance(t, Variable) and t.trainable \
                    and t._dtype.kind == "f":
                self._accessed.setdefault(t._id, t)
                live.add(t._id)
                hit = True
            elif t._id in live:
                hit = True
        if not hit or prim.grad is None:
            return
        keep = self._keep
        for t in inputs:
            keep[t._id] = t
        for t in outputs:
            if t._dtype.kind == "f":  # _differentiable, inlined: this runs for every recorded call
                live.add(t._id)
                keep[t._id] = t
        self._records.append((prim, inputs, outputs, params))

    def gradient(self, target, sources, output_gradients=None, unconnected_gradients=UnconnectedGradients.NONE):
        if self._used and not self._persistent:
            raise RuntimeError("GradientTape.gradient can only be called once on a non-persistent tape; "
                               "use GradientTape(persistent=True) to call it several times")
        self._used = True
        targets = nest.flatten(target)
        seeds = nest.flatten(output_gradients) if output_gradients is not None else [None] * len(targets)
        if len(seeds) != len(targets):
            raise ValueError(f"GradientTape.gradient: {len(targets)} targets but {len(seeds)} output_gradients")
        grads: dict[int, Tensor] = {}
        live = self._live

        def accumulate(t, g):
            # Only tensors that depend on something watched get gradients (an unwatched
            # constant or non-trainable variable gets None, as in TF).
            if g is None or t._id not in live:
                return
            if g.shape != t.shape:  # both TensorShapes (tuples)
                raise AssertionError(f"a grad rule gave shape {list(g.shape)} for an input of shape {list(t.shape)}")
            grads[t._id] = g if t._id not in grads else grads[t._id] + g

        with self.stop_recording():
            for t, seed in zip(targets, seeds):
                if isinstance(t, Tensor) and _differentiable(t):
                    accumulate(t, ops.ones_like(t) if seed is None else ops.cast(ops.convert_to_tensor(seed), t.dtype))
            for prim, inputs, outputs, params in reversed(self._records):
                if prim.n_outputs == 1:
                    g = grads.get(outputs[0]._id)
                    if g is None:  # nothing flows back through this call
                        continue
                    # inputs whose gradient `accumulate` would drop: the rule may skip computing them
                    skip = [i for i, t in enumerate(inputs) if t._id not in live]
                    in_grads = _dispatch.call_grad_rule(prim, skip, g, outputs[0], *inputs, **params)
                else:
                    outs = [grads.get(o._id) for o in outputs]
                    if all(g is None for g in outs):
                        continue
                    filled = tuple(outs) if prim.none_for_unused_outputs else \
                        tuple(g if g is not None else ops.zeros_like(o) for g, o in zip(outs, outputs))
                    skip = [i for i, t in enumerate(inputs) if t._id not in live]
                    in_grads = _dispatch.call_grad_rule(prim, skip, filled, tuple(outputs), *inputs, **params)
                for t, g in zip(inputs, in_grads):
                    accumulate(t, g)
        flat_sources = nest.flatten(sources)
        result = []
        for s in flat_sources:
            g = grads.get(s._id) if isinstance(s, Tensor) else None
            if g is None and _zero(unconnected_gradients) and isinstance(s, Tensor):
                g = ops.zeros_like(s)
            result.append(g)
        if not self._persistent:  # free what the backward pass needed; watched_variables() stays answerable
            self._records.clear(), self._keep.clear()
        return nest.pack_sequence_as(sources, result)

    def jacobian(self, target, sources, unconnected_gradients=UnconnectedGradients.NONE, parallel_iterations=None,
                 experimental_use_pfor=True):
        """d target / d sources, each of shape target.shape + source.shape (see autograd/jacobian.py)."""
        return _jacobian.jacobian(self, target, sources, unconnected_gradients, _zero(unconnected_gradients),
                                  experimental_use_pfor)

    def batch_jacobian(self, target, source, unconnected_gradients=UnconnectedGradients.NONE,
                       parallel_iterations=None, experimental_use_pfor=True):
        """Per-example jacobians, (batch,) + target.shape[1:] + source.shape[1:] (see autograd/jacobian.py)."""
        return _jacobian.batch_jacobian(self, target, source, unconnected_gradients, _zero(unconnected_gradients),
                                        experimental_use_pfor)


def stop_gradient(input, name=None):  # noqa: A002 - tf's argument name
    """The same values, but no gradient flows back through it (a primitive without a grad rule, so a traced
    function keeps it too)."""
    return state_prims.stop_gradient(operands(input)[0])
