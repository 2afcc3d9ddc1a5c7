"""Primitives and the one dispatch point.

A primitive is a name plus rules kept in one record: `infer` (shapes and dtypes from
specs, with the input checks, no compute), `grad` (written in gpuflow ops, so it runs
on every device and can itself be differentiated), and one implementation per backend
(registered by the backend packages, keyed by the primitive's name).

`bind` is the only way an op runs: it checks devices, infers the output spec, calls the
backend, checks the backend kept the promise, and shows the call to every observer
(GradientTapes today, the graph tracer later).
"""
from __future__ import annotations

from typing import Callable

from ..tensor import Tensor
from ..errors import InvalidArgumentError, UnimplementedError

PRIMITIVES: dict[str, "Primitive"] = {}
observers: list = []  # objects with .record(prim, inputs, outputs, params); see autograd.tape


class Primitive:
    __slots__ = ("name", "infer", "grad", "n_outputs", "crosses_devices")

    def __init__(self, name, infer, grad=None, n_outputs=1, crosses_devices=False):
        self.name, self.infer, self.grad, self.n_outputs = name, infer, grad, n_outputs
        self.crosses_devices = crosses_devices  # copy_to: inputs on one device, outputs on `device`

    def __repr__(self):
        return f"<primitive {self.name}>"

    def __call__(self, *inputs, **params):
        return bind(self, *inputs, **params)


def primitive(name: str, infer: Callable, grad: Callable | None = None, n_outputs: int = 1,
              crosses_devices: bool = False) -> Primitive:
    """Define a primitive. `grad(g, out, *inputs, **params)` returns one gradient (or None) per input."""
    if name in PRIMITIVES:
        raise ValueError(f"primitive {name!r} defined twice")
    PRIMITIVES[name] = prim = Primitive(name, infer, grad, n_outputs, crosses_devices)
    return prim


def describe(inputs) -> str:
    """'float32[2,3] on cpu:0, int32[] on cpu:0': how errors name a call's inputs."""
    return ", ".join(f"{t.dtype.name}{list(t.shape)} on {t.device}" for t in inputs)


def bind(prim: Primitive, *inputs: Tensor, **params):
    # `device` names where the outputs live: given for ops without inputs (creation, random)
    # and for copy_to; otherwise it is the inputs' device.
    device = params.pop("device", None) or inputs[0]._device
    for t in inputs:
        if t._device is not device and t._device != device and not prim.crosses_devices:
            raise InvalidArgumentError(
                f"{prim.name}: inputs are on different devices ({describe(inputs)}). gpuflow never copies "
                f"behind your back: move one with t.to('{device}') or gf.identity under gf.device(...).")
    specs = prim.infer(*inputs, **params)  # tensors quack like TensorSpecs: .shape and .dtype
    backend = device.backend
    impl = backend.impls.get(prim.name)
    if impl is None:
        raise UnimplementedError(f"{prim.name} is not implemented on {device.kind} (inputs: {describe(inputs) or 'none'}); "
                                 f"run it on another device, e.g. under gf.device('cpu')")
    out = impl(*[t._data for t in inputs], **params)
    single = prim.n_outputs == 1
    outs, specs = ((out,), (specs,)) if single else (out, specs)
    results = []
    for data, spec in zip(outs, specs):
        if data.shape != spec.shape or data.dtype != backend.storage_dtype(spec.dtype):
            raise AssertionError(f"{prim.name} on {device.kind} returned {data.dtype}{list(data.shape)}, "
                                 f"inferred {spec.dtype.name}{list(spec.shape)}: a backend bug")
        results.append(Tensor(data, spec.dtype, device))
    if prim.crosses_devices:
        params = dict(params, device=device)
    for observer in observers:
        observer.record(prim, inputs, results, params)
    return results[0] if single else tuple(results)
