"""Which traced functions a SavedModel exports, and the names of their inputs and outputs (TF's rules).

`signatures` is a gf.function with an input_signature, a ConcreteFunction, or a dict of those by signature
key; the single one goes under "serving_default". Left out, a Keras model exports its call (`model(x,
training=False)`, None batch dims) and any other object its one gf.function attribute that has an
input_signature. Inputs are named by their TensorSpec's name, else by the function's parameter (dict keys
inside a dict argument, `name_0`, `name_1` inside a list); outputs by their dict key, else `output_0`, ...;
a Keras model's by its input and output layers' names.
"""
from __future__ import annotations

import inspect

from .. import nest
from ..errors import InvalidArgumentError
from ..graph.function import ConcreteFunction, Function, _is_placeholder
from ..tensor import Tensor, TensorSpec
from .format import DEFAULT_SIGNATURE


class Exported:
    """One signature: its concrete function and the names of its graph's inputs and outputs, in order."""

    def __init__(self, key, concrete, input_names, output_names):
        self.key, self.concrete = key, concrete
        self.input_names, self.output_names = list(input_names), list(output_names)
        for kind, names in (("input", self.input_names), ("output", self.output_names)):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"gf.saved_model.save: signature {key!r} has several {kind}s named {dupes}; give "
                                 f"the TensorSpecs (or returned dict keys) distinct names")


def collect(obj, signatures) -> list[Exported]:
    if signatures is None:
        found = _default(obj)
        return [] if found is None else [_exported(DEFAULT_SIGNATURE, found)]
    if isinstance(signatures, dict):
        for key in signatures:
            if not isinstance(key, str) or not key:
                raise ValueError(f"gf.saved_model.save: signature keys must be non-empty strings, got {key!r}")
        return [_exported(key, fn) for key, fn in signatures.items()]
    return [_exported(DEFAULT_SIGNATURE, signatures)]


# The default signature of a type from the layers above, registered by that layer: type -> fn(obj). Keras registers
# its Model with keras_serving_function (gpuflow/keras/as_saved_model.py), so this package never imports Keras.
DEFAULT_SIGNATURES: dict = {}


def _default(obj):
    for cls, signature in DEFAULT_SIGNATURES.items():
        if isinstance(obj, cls):
            return signature(obj)
    if isinstance(obj, (Function, ConcreteFunction)):
        return obj
    found = [v for v in vars(obj).values() if isinstance(v, Function) and v.input_signature is not None] \
        if hasattr(obj, "__dict__") else []
    found += [getattr(obj, k) for k, v in vars(type(obj)).items()
              if isinstance(v, Function) and v.input_signature is not None]
    if len(found) > 1:
        raise ValueError(f"gf.saved_model.save: {type(obj).__name__} has {len(found)} gf.functions with an "
                         f"input_signature; say which to export with signatures={{'serving_default': ...}}")
    return found[0] if found else None


def _exported(key, fn) -> Exported:
    if isinstance(fn, KerasCall):
        concrete = fn.concrete()
        return Exported(key, concrete, fn.input_names, fn.output_names(concrete))
    if isinstance(fn, Function):
        if fn.input_signature is None:
            raise ValueError(f"gf.saved_model.save: signature {key!r} is a gf.function without an input_signature; "
                             f"give it one, or pass fn.get_concrete_function(gf.TensorSpec(...))")
        concrete = fn.get_concrete_function()
        _check_not_specialised(key, concrete, fn.input_signature)
    elif isinstance(fn, ConcreteFunction):
        concrete = fn
    else:
        raise TypeError(f"gf.saved_model.save: signature {key!r} must be a gf.function with an input_signature or a "
                        f"ConcreteFunction, got {type(fn).__name__}")
    args, kwargs = concrete.structured_input_signature
    python_function = fn.python_function if isinstance(fn, Function) else None
    return Exported(key, concrete, _input_names(python_function, args, kwargs),
                    _output_names(concrete.structured_outputs))


def _check_not_specialised(key, concrete, signature):
    """gf.function falls back to one trace per shape when some op cannot trace the signature's unknown dims;
    such a trace serves one shape only, which a signature must not pretend to."""
    wanted = [s.shape for s in nest.flatten(signature)]
    got = [s.shape for s in concrete.input_specs]
    if wanted != got:
        raise ValueError(f"gf.saved_model.save: signature {key!r}: some op of the function cannot be traced with the "
                         f"input_signature's unknown dimensions {wanted} (gf.function then traces per shape: see its "
                         f"log line). Give the TensorSpecs fixed sizes, or change that op")


def _input_names(python_function, args, kwargs):
    try:
        params = [p.name for p in inspect.signature(python_function).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)] if python_function else []
    except (TypeError, ValueError):
        params = []
    names = []

    def walk(value, name):
        if _is_placeholder(value) or isinstance(value, TensorSpec):
            spec = value.spec if _is_placeholder(value) else value
            names.append(spec.name or name)
        elif isinstance(value, dict):
            for k in sorted(value):  # nest's order
                walk(value[k], str(k))
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                walk(v, f"{name}_{i}")
    for i, arg in enumerate(args):
        walk(arg, params[i] if i < len(params) else f"input_{i}")
    for k in sorted(kwargs):
        walk(kwargs[k], k)
    return names


def _output_names(outputs):
    """A dict of tensors: its keys, in nest's (sorted) order, which is the graph's; anything else: numbered."""
    if isinstance(outputs, dict) and all(isinstance(v, Tensor) for v in outputs.values()):
        return [str(k) for k in sorted(outputs)]
    return _numbered(outputs)


def _numbered(outputs):
    return [f"output_{i}" for i in range(sum(isinstance(x, Tensor) for x in nest.flatten(outputs)))]


# ---------------------------------------------------------------- Keras models
class KerasCall:
    """A Keras model's serving signature: model(inputs, training=False) over specs with a None batch dim."""

    def __init__(self, model):
        self.model = model
        self.specs, self.input_names = _keras_inputs(model)

    def concrete(self):
        model, many = self.model, len(self.specs) > 1

        def serve(*inputs):
            return model(list(inputs) if many else inputs[0], training=False)
        function = Function(serve, name=f"{model.name}_serve")
        try:
            return function.get_concrete_function(*self.specs)
        except Exception as e:  # noqa: BLE001 - said with what to do, the cause chained
            raise ValueError(f"gf.saved_model.save: {model.name} cannot be traced for any batch size (inputs "
                             f"{[list(s.shape) for s in self.specs]}): {type(e).__name__}: {e}. Pass "
                             f"signatures= a gf.function whose input_signature has a fixed batch size") from e

    def output_names(self, concrete):
        outputs = concrete.structured_outputs
        if isinstance(outputs, dict):
            return _output_names(outputs)
        names = list(getattr(self.model, "output_names", None) or [])
        count = sum(isinstance(x, Tensor) for x in nest.flatten(outputs))
        return names if len(names) == count else _numbered(outputs)


def keras_serving_function(model):
    return KerasCall(model)


def _keras_inputs(model):
    inputs = getattr(model, "inputs", None)
    if inputs:
        specs = [TensorSpec((None,) + tuple(t.shape)[1:], t.dtype) for t in inputs]
        return specs, [t.name for t in inputs]
    shape = getattr(model, "_build_input_shape", None)
    if shape is None:
        raise ValueError(f"gf.saved_model.save: {model.name} has not been built, so its input shape is unknown; call "
                         f"it on a batch (or model.build(shape)) first, or pass signatures=")
    shapes = shape if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)) else [shape]
    try:
        params = [p for p in inspect.signature(model.call).parameters if p not in ("training", "mask")]
    except (TypeError, ValueError):
        params = []
    specs = [TensorSpec((None,) + tuple(s)[1:], "float32") for s in shapes]
    names = [params[0] if len(specs) == 1 and params else f"input_{i}" for i in range(len(specs))]
    if len(set(names)) != len(names):
        raise InvalidArgumentError(f"{model.name}: cannot name its inputs {names}")
    return specs, names
