"""Primitives and the one dispatch point.

A primitive is a name plus rules kept in one record: `infer` (shapes and dtypes from
specs, with the input checks, no compute), `grad` (written in gpuflow ops, so it runs
on every device and can itself be differentiated), and one implementation per backend
(registered by the backend packages, keyed by the primitive's name).

`bind` is the only way an op runs: it checks devices, then hands the call to the current
*trace*. Traces sit on a stack local to each thread (JAX's interpreter stack): with none,
`evaluate` infers the output spec, calls the backend and checks the backend kept the
promise; a GradientTape records the call and passes it down; a graph trace (gf.function)
records an IR node without running anything. A thread starts with an empty stack, so ops
run in another thread (Dataset.map workers, a user's thread) never reach this thread's tapes.
"""
from __future__ import annotations

import threading
from typing import Callable

from .. import _traces as _trace_state
from .._traces import init_scope  # noqa: F401  (TF's init_scope, with the dispatch point: keras takes it from here)
from ..backend import register_output_specs
from ..backend.numerics import NUMERICS
from ..dtypes import DType
from ..errors import InvalidArgumentError, UnimplementedError
from ..tensor import AUTOCAST, Symbol, Tensor, TensorShape, TensorSpec, Variable

PRIMITIVES: dict[str, "Primitive"] = {}


_traces = _trace_state.traces  # this thread's trace stack: see gpuflow/_traces.py


def trace_stack() -> list:
    """The calling thread's trace stack (innermost last). Traces push and remove themselves."""
    return _traces.stack


class Primitive:
    __slots__ = ("name", "infer", "grad", "n_outputs", "crosses_devices", "none_for_unused_outputs", "specs")

    def __init__(self, name, infer, grad=None, n_outputs=1, crosses_devices=False, none_for_unused_outputs=False):
        self.name, self.infer, self.grad, self.n_outputs = name, infer, grad, n_outputs
        self.crosses_devices = crosses_devices  # copy_to: inputs on one device, outputs on `device`
        # With several outputs: the grad rule takes None for an output no gradient reaches (else zeros).
        self.none_for_unused_outputs = none_for_unused_outputs
        self.specs = {}  # infer's answers by (input shapes and dtypes, params): see _infer

    def __repr__(self):
        return f"<primitive {self.name}>"

    def __call__(self, *inputs, **params):
        return bind(self, *inputs, **params)


def primitive(name: str, infer: Callable, grad: Callable | None = None, n_outputs: int = 1,
              crosses_devices: bool = False, none_for_unused_outputs: bool = False) -> Primitive:
    """Define a primitive. `grad(g, out, *inputs, **params)` returns one gradient (or None) per input: given
    here when written with the primitives below it, else attached later with `defgrad`."""
    if name in PRIMITIVES:
        raise ValueError(f"primitive {name!r} defined twice")
    PRIMITIVES[name] = prim = Primitive(name, infer, grad, n_outputs, crosses_devices, none_for_unused_outputs)
    return prim


def defgrad(prim: Primitive):
    """`@defgrad(prim)`: the decorated function becomes prim's grad rule (TF's RegisterGradient). Rules written
    in the public ops sit above them, in gpuflow/autograd/grads/, and attach themselves from there."""
    def attach(rule):
        if prim.grad is not None:
            raise ValueError(f"primitive {prim.name!r} has a grad rule already")
        prim.grad = rule
        return rule
    return attach


_rule_call = threading.local()  # .skip: (grad rule, input indices whose gradient the running tape drops)


def grad_needed(rule: Callable, index: int) -> bool:
    """For a grad rule (`rule` is the rule itself): whether the tape calling it keeps the gradient
    of input `index`. A tape drops the gradients of inputs that depend on nothing watched (data,
    constants), so a rule may skip computing those and return None, as TensorFlow's grad
    functions do with skip_input_indices; the first layer's data gradient, a whole matmul, is
    the usual saving. Outside a tape's call of that very rule, every gradient is needed."""
    skip = getattr(_rule_call, "skip", None)
    return skip is None or skip[0] is not rule or index not in skip[1]


def call_grad_rule(prim: "Primitive", skip, *args, **params):
    """prim.grad(*args, **params), telling it (through grad_needed) which inputs' gradients are dropped."""
    outer = getattr(_rule_call, "skip", None)
    if not skip and outer is None:  # the common case: every gradient is kept, no rule is running
        return prim.grad(*args, **params)
    _rule_call.skip = (prim.grad, skip)  # even when empty: an outer call's skips must not leak in
    try:
        return prim.grad(*args, **params)
    finally:
        _rule_call.skip = outer


def describe(inputs) -> str:
    """'float32[2,3] on cpu:0, int32[] on cpu:0': how errors name a call's inputs."""
    return ", ".join(f"{t.dtype.name}{list(t.shape)} on {t.device}" for t in inputs)


class _Uncacheable(Exception):
    """A param value whose equality may not mean 'same output spec' (lists, arrays, objects)."""


# Param values a spec may be cached under. The type is part of the key, so 1, 1.0 and True
# (equal and equally hashed in Python) never share an entry.
_ATOMS = frozenset({int, float, bool, str, type(None), DType})
SPEC_CACHE_SIZE = 256  # entries per primitive; a full cache is emptied (params that change every call,
                       # like an optimizer's step-dependent powers, must not grow it without bound)


def _param_key(value):
    kind = type(value)
    if kind in _ATOMS:
        return kind, value
    if kind is tuple or kind is TensorShape:
        return tuple, tuple(map(_param_key, value))
    raise _Uncacheable


def _infer(prim: Primitive, inputs, params):
    """prim.infer's specs, cached per (input shapes and dtypes, params).

    Every infer rule is a pure function of its inputs' shapes and dtypes and of its params (no
    values, devices or globals), so a call with the same key gets the same specs back, and a
    call that fails its checks raises again because failures are never cached. Calls without
    tensor inputs (random draws: a new key and offset each time) are not cached.
    """
    if not inputs:
        return prim.infer(**params)
    key = tuple([(t._shape, t._dtype) for t in inputs])
    if params:
        try:
            key = key, tuple([(k, _param_key(v)) for k, v in params.items()])
        except _Uncacheable:
            return prim.infer(*inputs, **params)
    cache = prim.specs
    specs = cache.get(key)
    if specs is None:
        specs = prim.infer(*inputs, **params)
        if len(cache) >= SPEC_CACHE_SIZE:
            cache.clear()
        cache[key] = specs
    return specs


def _output_specs(name, inputs, params):
    """Shape inference as the backends see it: [(shape, DType)] of the inputs in, of the outputs out."""
    prim = PRIMITIVES[name]
    specs = prim.infer(*[TensorSpec(shape, dtype) for shape, dtype in inputs], **params)
    return [(tuple(s.shape), s.dtype) for s in (specs if prim.n_outputs != 1 else (specs,))]


register_output_specs(_output_specs)  # sim's stream queues allocate an op's outputs before it runs


def bind(prim: Primitive, *inputs: Tensor, **params):
    # `device` names where the outputs live: given for ops without inputs (creation, random)
    # and for copy_to; otherwise it is the inputs' device.
    device = params.pop("device", None) or inputs[0]._device
    if AUTOCAST.active and prim.name != "cast":  # some thread is inside a mixed-precision layer's call
        dtype = AUTOCAST.dtype
        if dtype is not None:
            inputs = autocast(inputs, dtype)
    if not prim.crosses_devices:
        for t in inputs:
            if t._device is not device and t._device != device:
                raise InvalidArgumentError(
                    f"{prim.name}: inputs are on different devices ({describe(inputs)}). gpuflow never copies "
                    f"behind your back: move one with t.to('{device}') or gf.identity under gf.device(...).")
    stack = _traces.stack
    if stack:
        return stack[-1].process(prim, inputs, params, device, len(stack) - 1)
    return evaluate(prim, inputs, params, device)


def bind_below(level: int, prim: Primitive, inputs, params, device):
    """For the trace at `level` of this thread's stack: hand the call to the trace below it (or evaluate it)."""
    if level == 0:
        return evaluate(prim, inputs, params, device)
    return _traces.stack[level - 1].process(prim, inputs, params, device, level - 1)


def evaluate(prim: Primitive, inputs, params, device):
    """Run the call now on `device`'s backend: the bottom of every trace stack."""
    specs = _infer(prim, inputs, params)  # tensors quack like TensorSpecs: .shape and .dtype
    backend = device.backend
    impl = backend.impls.get(prim.name)
    if impl is None:
        raise UnimplementedError(f"{prim.name} is not implemented on {device.kind} (inputs: {describe(inputs) or 'none'}); "
                                 f"run it on another device, e.g. under gf.device('cpu')")
    try:
        out = impl(*[t._data for t in inputs], **params)
    except Exception:
        _refuse_symbols(prim, inputs)
        raise
    if prim.n_outputs == 1:
        # The backend must keep infer's promise: a wrong shape or dtype here is a backend bug, and
        # catching it at the source is cheaper than debugging it three ops later.
        if out.shape != specs.shape or out.dtype != backend.storage_dtype(specs.dtype):
            _broken_promise(prim, device, out, specs)
        result = Tensor(out, specs.dtype, device)
        if NUMERICS.enabled:  # gf.debugging.enable_check_numerics
            NUMERICS.check(prim, inputs, (result,))
        return result
    results = []
    for data, spec in zip(out, specs):
        if data.shape != spec.shape or data.dtype != backend.storage_dtype(spec.dtype):
            _broken_promise(prim, device, data, spec)
        results.append(Tensor(data, spec.dtype, device))
    if NUMERICS.enabled:  # gf.debugging.enable_check_numerics
        NUMERICS.check(prim, inputs, results)
    return tuple(results)


def autocast(inputs, dtype):
    """Float Variables among `inputs` read in `dtype` (a recorded cast, so their gradients come back in their own
    dtype), as Keras 3 reads a variable in a mixed-precision layer; other values as they are. An explicit cast of
    a variable (the `cast` primitive, skipped by bind) reads it as it is: casting to the compute dtype first
    would round it twice."""
    if not any(isinstance(t, Variable) for t in inputs):  # isinstance: gf.distribute's MirroredVariable too
        return inputs
    cast = PRIMITIVES["cast"]  # elementwise.py's, defined with this module's `primitive`
    return tuple(cast(t, dtype=dtype) if isinstance(t, Variable) and t._autocast and t._dtype.kind == "f"
                 and t._dtype is not dtype else t for t in inputs)


def _refuse_symbols(prim, inputs):
    """A symbolic tensor (a value inside a gf.function's trace) reached the eager path: say so, not what broke."""
    if any(type(t._data) is Symbol for t in inputs):
        raise InvalidArgumentError(
            f"{prim.name}: an input is a symbolic tensor of a gf.function trace ({describe(inputs)}) used outside "
            f"that trace; return it from the function instead of keeping it in Python state")


def _broken_promise(prim, device, data, spec):
    raise AssertionError(f"{prim.name} on {device.kind} returned {data.dtype}{list(data.shape)}, "
                         f"inferred {spec.dtype.name}{list(spec.shape)}: a backend bug")
