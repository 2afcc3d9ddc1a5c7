"""A functional model's config, and the model made again from one.

The config lists the layers (their entries) and the calls between them as `nodes`, each naming the layer
called and its arguments, where a KerasTensor is `{"__keras_tensor__": [layer name, call index, output
index]}`; `inputs` and `outputs` refer to tensors the same way. (keras_json.py rewrites it into Keras 3's
layout.) The model class is given, so this module needs none of the model classes.
"""
from __future__ import annotations

import inspect

from ... import nest
from .input_layer import InputLayer
from .keras_tensor import KerasTensor
from .layer_serialization import deserialize_layer, serialize_layer


def takes_functional_arguments(cls) -> bool:
    """Whether `cls(inputs, outputs, name=...)` builds a `cls`, so a functional config can be revived as one
    (Keras's rule): its __init__ starts (inputs, outputs, ...), as Functional's does, or is (*args, **kwargs), as
    Model's is. A subclass whose __init__ takes its own arguments is made by cls(**config) instead."""
    try:
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    except (TypeError, ValueError):
        return False
    kinds = [p.kind for p in params]
    return [p.name for p in params[:2]] == ["inputs", "outputs"] or kinds == [inspect.Parameter.VAR_POSITIONAL,
                                                                             inspect.Parameter.VAR_KEYWORD]


_REF = "__keras_tensor__"


def functional_config(model) -> dict:
    """The config of a functional model (see the module docstring)."""
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
    """`cls(inputs, outputs)` for the graph `config` describes, its layers made from their entries."""
    layers = {entry["name"]: deserialize_layer(entry, custom_objects) for entry in config["layers"]}
    made, counts = {}, {}
    for name, layer in layers.items():
        if isinstance(layer, InputLayer):
            made[(name, 0)] = [layer.output]

    def decode(value):
        if isinstance(value, dict) and set(value) == {_REF}:
            name, k, i = value[_REF]
            if name not in layers:
                raise ValueError(f"model config: a tensor of layer {name!r} is used, but the model's layers list has "
                                 f"no such layer")
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
