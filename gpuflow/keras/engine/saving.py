"""Weights files (safetensors, keyed by weight path like `dense/kernel`) and model configs.

Configs name each layer's class and hold its `get_config()`; classes are looked up in
`gf.keras.layers` (or `custom_objects`). Code (Lambda layers) is never serialised.
"""
from __future__ import annotations

import os

import ml_dtypes
import numpy as np

from ... import nest
from ...tensor import Variable
from .atomic_file import atomic_file
from .base_layer import to_snake_case
from .input_layer import InputLayer
from .keras_tensor import KerasTensor

_SUFFIXES = (".weights.h5", ".h5", ".safetensors")


# ---------------------------------------------------------------- weights
def weight_paths(model) -> list[tuple[str, Variable]]:
    """(path, variable) for every weight, in `model.weights` order. A path names each layer from the model down
    by its class in snake_case, numbered within its parent as Keras 3 does (`dense`, `dense_1`, then the weight:
    `dense_1/kernel`), so a model rebuilt in the same session, whose layers got new global names, still matches."""
    paths = {}

    def walk(layer, prefix, visited):
        visited.add(id(layer))
        own = {id(v) for _, v, _ in layer._own_weights}
        for short, var, _ in layer._own_weights:
            paths.setdefault(id(var), prefix + short)
        for value in layer._tracked_values():
            if isinstance(value, Variable) and id(value) not in own:
                paths.setdefault(id(value), prefix + value.name.split(":")[0].split("/")[-1])
        used = {}
        for sub in layer._layers:
            base = to_snake_case(type(sub).__name__)
            count = used.get(base, 0)
            used[base] = count + 1
            if id(sub) not in visited:
                walk(sub, prefix + (base if count == 0 else f"{base}_{count}") + "/", visited)
    walk(model, "", set())
    out = [(paths[id(v)], v) for v in model.weights]
    names = [p for p, _ in out]
    dupes = sorted({p for p in names if names.count(p) > 1})
    if dupes:
        raise ValueError(f"{model.name}: several weights have the path(s) {', '.join(dupes)}; give them distinct "
                         f"names in add_weight so they can be told apart in the file")
    return out


def _check_path(filepath) -> str:
    path = os.fspath(filepath)
    if not path.endswith(_SUFFIXES):
        raise ValueError(f"weights file {path!r} must end in .weights.h5 or .safetensors (the contents are "
                         f"safetensors either way)")
    return path


def save_weights(model, filepath, overwrite=True):
    path = _check_path(filepath)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"save_weights: {path} exists; pass overwrite=True to replace it")
    from safetensors.numpy import save_file
    entries = weight_paths(model)
    if not entries:
        raise ValueError(f"save_weights: {model.name} has no weights yet; build it (call it on data) first")
    tensors = {p: np.asarray(v.numpy(), order="C") for p, v in entries}
    with atomic_file(path) as tmp:    # a crash never leaves a half-written weights file
        save_file(tensors, tmp, metadata={"format": "gpuflow", "model": model.name})


def load_weights(model, filepath, skip_mismatch=False):
    path = _check_path(filepath)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_weights: no file {path}")
    with open(path, "rb") as f:
        stored = read_safetensors(f.read())
    entries = weight_paths(model)
    if not entries:
        raise ValueError(f"load_weights: {model.name} has no weights yet; build it (call it on data or give the "
                         f"first layer an input shape) before loading")
    ok, problems = match_weights(entries, stored)
    if problems and not skip_mismatch:
        raise ValueError(f"load_weights: {path} does not match {model.name} ({len(problems)} difference(s)):\n  "
                         + "\n  ".join(problems))
    assign_all(ok)


# safetensors' dtype names → NumPy dtypes. safetensors.numpy has no BF16 (NumPy itself has none), so the
# bytes are read here and bfloat16 comes from ml_dtypes, as gpuflow's bfloat16 tensors do.
_SAFETENSORS_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": ml_dtypes.bfloat16, "I64": "<i8",
                       "I32": "<i4", "I16": "<i2", "I8": "i1", "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1",
                       "BOOL": "?"}


def read_safetensors(blob) -> dict:
    """{name: array} from the bytes of a safetensors file; raises ValueError for a corrupt one."""
    import safetensors
    try:
        entries = safetensors.deserialize(bytes(blob))
    except Exception as e:  # the reader raises its own exception type (SafetensorError) for a corrupt header
        raise ValueError(f"not a valid safetensors file ({e})") from None
    out = {}
    for name, entry in entries:
        dtype = _SAFETENSORS_DTYPES.get(entry["dtype"])
        if dtype is None:
            raise ValueError(f"tensor {name!r} has dtype {entry['dtype']}, which gpuflow does not read")
        out[name] = np.frombuffer(entry["data"], dtype=dtype).reshape(entry["shape"])
    return out


def match_weights(entries, stored):
    """([(variable, array)] whose path and shape match, [problem lines]) for (path, variable) `entries`
    against the arrays `stored` (path → array)."""
    problems, ok = [], []
    for p, var in entries:
        if p not in stored:
            problems.append(f"missing from the file: {p} (shape {tuple(var.shape)})")
        elif tuple(stored[p].shape) != tuple(var.shape):
            problems.append(f"shape mismatch for {p}: the model has {tuple(var.shape)}, the file has "
                            f"{tuple(stored[p].shape)}")
        else:
            ok.append((var, stored[p]))
    known = {p for p, _ in entries}
    problems += [f"not in the model: {k} (shape {tuple(stored[k].shape)})" for k in sorted(set(stored) - known)]
    return ok, problems


def assign_all(pairs):
    for var, value in pairs:
        var.assign(value.astype(var.dtype.np))


# ---------------------------------------------------------------- configs
def serialize_layer(layer) -> dict:
    if type(layer).__name__ == "Lambda":
        raise ValueError(f"layer {layer.name!r} is a Lambda layer: its Python code is never serialised. Write a Layer "
                         f"subclass with get_config(), decorate it with @gf.keras.saving.register_keras_serializable() "
                         f"(or pass it in custom_objects when loading) and use it instead")
    return {"class_name": type(layer).__name__, "name": layer.name, "config": layer.get_config(),
            **custom_class_fields(type(layer))}


def custom_class_fields(cls) -> dict:
    """For a class that is not gpuflow's own: its registered name (how loading finds it) and its module (only
    named in errors; nothing is ever imported from a file)."""
    if cls.__module__.split(".")[0] == "gpuflow":
        return {}
    from ..saving.registration import registered_name_or_none
    from .functional import Functional
    if len(cls.__bases__) == 2 and cls.__bases__[1] is Functional and cls.__bases__[0].__name__ == cls.__name__:
        cls = cls.__bases__[0]  # `Custom(inputs, outputs)` is a copy of Custom with Functional mixed in (functional.py)
    registered = registered_name_or_none(cls)
    return {"module": cls.__module__, **({"registered_name": registered} if registered else {})}


def unknown_class_error(class_name, what, registered_name=None, module=None) -> ValueError:
    origin = f" (from module {module!r}{', registered as ' + repr(registered_name) if registered_name else ''})" \
        if module else ""
    return ValueError(f"unknown {what} class {class_name!r}{origin}: it is not one of gf.keras' own classes and not "
                      f"registered. Decorate it with @gf.keras.saving.register_keras_serializable() in code that runs "
                      f"before loading, or pass custom_objects={{{class_name!r}: {class_name}}}")


def _find_class(class_name, custom_objects, registered_name=None, module=None):
    from ..saving.registration import lookup
    found = lookup(class_name, registered_name, custom_objects)
    if found is not None:
        return found
    from .base_layer import Layer
    from .functional import Functional
    from .op_layer import OpLayer
    from .sequential import Sequential
    from .training import Model
    engine = {"InputLayer": InputLayer, "Sequential": Sequential, "Functional": Functional, "Model": Model,
              "OpLayer": OpLayer}
    if class_name in engine and not module:
        return engine[class_name]
    from .. import layers
    cls = None if module else getattr(layers, class_name, None)
    # Only Layer classes: a name from a file must never reach some other attribute of the module.
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise unknown_class_error(class_name, "layer", registered_name, module)
    return cls


def deserialize_layer(entry, custom_objects=None):
    cls = _find_class(entry["class_name"], custom_objects, entry.get("registered_name"), entry.get("module"))
    from .training import Model
    if isinstance(cls, type) and issubclass(cls, Model) and "layers" in entry["config"]:
        return cls.from_config(entry["config"], custom_objects=custom_objects)
    return cls.from_config(entry["config"])


def sequential_config(model) -> dict:
    inp = model._input_tensor
    return {"name": model.name, "trainable": model.trainable,
            "build_input_shape": list(inp.shape) if inp is not None else None,
            "input_dtype": inp.dtype.name if inp is not None else None,
            "layers": [serialize_layer(layer) for layer in model.layers]}


def sequential_from_config(cls, config, custom_objects=None):
    from .input_layer import Input
    model = cls(name=config.get("name"), trainable=config.get("trainable", True))
    if config.get("build_input_shape") is not None:
        model.add(Input(batch_shape=tuple(config["build_input_shape"]), dtype=config.get("input_dtype")))
    for entry in config["layers"]:
        model.add(deserialize_layer(entry, custom_objects))
    return model


_REF = "__keras_tensor__"


def functional_config(model) -> dict:
    index, counts = {}, {}
    for node in model._nodes:
        k = counts.get(id(node.layer), 0)
        index[id(node)] = (node.layer.name, k)
        counts[id(node.layer)] = k + 1

    def encode(value):
        if isinstance(value, KerasTensor):
            name, k = index[id(value.node)]
            return {_REF: [name, k, value.index]}
        if isinstance(value, dict):
            return {key: encode(v) for key, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [encode(v) for v in value]
        return value
    nodes = [{"layer": n.layer.name, "args": encode(list(n.args)), "kwargs": encode(n.kwargs)}
             for n in model._nodes if not isinstance(n.layer, InputLayer)]
    return {"name": model.name, "trainable": model.trainable,
            "layers": [serialize_layer(layer) for layer in model.layers], "nodes": nodes,
            "inputs": encode(model._nested_inputs), "outputs": encode(model._nested_outputs)}


def functional_from_config(cls, config, custom_objects=None):
    layers = {entry["name"]: deserialize_layer(entry, custom_objects) for entry in config["layers"]}
    made, counts = {}, {}
    for name, layer in layers.items():
        if isinstance(layer, InputLayer):
            made[(name, 0)] = [layer.output]

    def decode(value):
        if isinstance(value, dict) and set(value) == {_REF}:
            name, k, i = value[_REF]
            if (name, k) not in made:
                raise ValueError(f"model config: call {k} of layer {name!r} is used before it is made; the config's "
                                 f"nodes are not in graph order")
            return made[(name, k)][i]
        if isinstance(value, dict):
            return {key: decode(v) for key, v in value.items()}
        if isinstance(value, list):
            return [decode(v) for v in value]
        return value
    for node in config["nodes"]:
        name = node["layer"]
        if name not in layers:
            raise ValueError(f"model config: a node calls layer {name!r}, which is not in its layers list")
        out = layers[name](*decode(node["args"]), **decode(node["kwargs"]))
        k = counts.get(name, 0)
        made[(name, k)] = nest.flatten(out)
        counts[name] = k + 1
    return cls(decode(config["inputs"]), decode(config["outputs"]), name=config.get("name"),
               trainable=config.get("trainable", True))
