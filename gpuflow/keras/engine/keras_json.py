"""A model's config in Keras 3's `model.to_json()` layout: what TensorBoard's graph plugin parses into the
conceptual graph (tensorboard/plugins/graph/keras_util.py).

gpuflow's own functional config keeps the call graph apart from the layers (a `nodes` list). Keras 3
files it under each layer instead, as `inbound_nodes` whose arguments carry a `keras_history`
[layer, node index, tensor index], with the model's `input_layers` and `output_layers` beside. This
module rewrites the one layout into the other; Sequential configs need nothing (their order is the graph).
"""
from __future__ import annotations

import json

from .layer_serialization import serialize_layer

_REF = "__keras_tensor__"


def _as_keras_tensors(value):
    """gf's `{"__keras_tensor__": [layer, node, index]}` references, nested anywhere, as Keras 3's."""
    if isinstance(value, dict):
        if set(value) == {_REF}:
            return {"class_name": _REF, "config": {"keras_history": list(value[_REF])}}
        return {key: _as_keras_tensors(v) for key, v in value.items()}
    if isinstance(value, list):
        return [_as_keras_tensors(v) for v in value]
    return value


def _references(value) -> list:
    """Every [layer, node, index] in a nested inputs/outputs structure, in order."""
    if isinstance(value, dict):
        if set(value) == {_REF}:
            return [list(value[_REF])]
        return [ref for v in value.values() for ref in _references(v)]
    if isinstance(value, list):
        return [ref for v in value for ref in _references(v)]
    return []


def keras3_layout(entry: dict) -> dict:
    """`entry` (a serialized layer or model) with every functional model in it in Keras 3's layout."""
    config = entry.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        return entry
    layers = [keras3_layout(dict(layer)) for layer in config["layers"]]
    config = dict(config, layers=layers)
    if "nodes" in config:
        by_name = {layer["config"].get("name", layer.get("name")): layer for layer in layers}
        for layer in layers:
            layer["inbound_nodes"] = []
        for node in config.pop("nodes"):
            by_name[node["layer"]]["inbound_nodes"].append(
                {"args": _as_keras_tensors(node["args"]), "kwargs": _as_keras_tensors(node.get("kwargs", {}))})
        config["input_layers"] = _references(config.get("inputs"))
        config["output_layers"] = _references(config.get("outputs"))
    return dict(entry, config=config)


def model_to_keras_json(model) -> str:
    """`model.to_json()` as Keras 3 writes it (see the module docstring)."""
    return json.dumps(keras3_layout(serialize_layer(model)))
