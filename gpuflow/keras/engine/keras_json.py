"""`model.to_json()` and `model_from_json()`: a model's architecture as JSON in Keras 3's layout, which is also
what TensorBoard's graph plugin parses into the conceptual graph (tensorboard/plugins/graph/keras_util.py).

gpuflow's own functional config (functional_config.py) keeps the call graph apart from the layers, as a
`nodes` list. Keras 3 files it under each layer instead: `inbound_nodes`, whose arguments hold
`{"class_name": "__keras_tensor__", "config": {"keras_history": [layer, node index, tensor index]}}`, with
the model's `input_layers` and `output_layers` beside, shaped like its inputs and outputs (one [layer,
node, tensor] triple, a list or a dict of them). This module rewrites the one layout into the other, both
ways; Sequential configs need nothing (their order is the graph).

Two Keras rules carry over: a functional model used as a layer counts its first call as node 1 (Keras gives
it a node of its own at 0), and a single input or output written as a one-item list is read as that item.
Reading also takes tf.keras 2's `inbound_nodes` ([[layer, node, tensor, kwargs], ...] per call) and entries
whose `module` is Keras' own ("keras.layers"): they name the gpuflow class of the same name.

Reading runs no code from the text: every class is looked up as layer_serialization.py says.
"""
from __future__ import annotations

import json

from .. import layers  # noqa: F401  (defines gpuflow's layer classes, which configs name: see layer_config.py)
from .layer_serialization import deserialize_layer, serialize_layer
from .registration import CustomObjectScope

_REF = "__keras_tensor__"


# ---------------------------------------------------------------- writing
def _is_functional(entry) -> bool:
    config = entry.get("config") if isinstance(entry, dict) else None
    return isinstance(config, dict) and isinstance(config.get("layers"), list) and \
        ("nodes" in config or "input_layers" in config)


def _history(ref, functional_layers, shift):
    name, node, index = ref
    return [name, node + shift if name in functional_layers else node, index]


def _as_keras_tensors(value, functional_layers):
    """gf's `{"__keras_tensor__": [layer, node, index]}` references, nested anywhere, as Keras 3's."""
    if isinstance(value, dict):
        if set(value) == {_REF}:
            return {"class_name": _REF, "config": {"keras_history": _history(value[_REF], functional_layers, 1)}}
        return {key: _as_keras_tensors(v, functional_layers) for key, v in value.items()}
    if isinstance(value, list):
        return [_as_keras_tensors(v, functional_layers) for v in value]
    return value


def _as_triples(value, functional_layers, flat):
    """A model's gf inputs/outputs structure as Keras 3's input_layers/output_layers (`flat`: a list of triples
    whatever the structure, for TensorBoard, which reads no dict)."""
    if isinstance(value, dict) and set(value) == {_REF}:
        triple = _history(value[_REF], functional_layers, 1)
        return [triple] if flat else triple
    if isinstance(value, dict):
        parts = {k: _as_triples(v, functional_layers, flat) for k, v in value.items()}
        return [t for v in parts.values() for t in v] if flat else parts
    if isinstance(value, list):
        parts = [_as_triples(v, functional_layers, flat) for v in value]
        return [t for v in parts for t in v] if flat else parts
    raise ValueError(f"model config: cannot read {value!r:.80} as model inputs or outputs")


def keras3_layout(entry: dict, flat_io: bool = False) -> dict:
    """`entry` (a serialized layer or model) with every functional model in it in Keras 3's layout."""
    config = entry.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        return entry
    layers = [keras3_layout(dict(layer), flat_io) for layer in config["layers"]]
    config = dict(config, layers=layers)
    if "nodes" in config:
        functional_layers = {layer["name"] for layer in layers if _is_functional(layer)}
        by_name = {layer["name"]: layer for layer in layers}
        for layer in layers:
            layer["inbound_nodes"] = []
        for node in config.pop("nodes"):
            by_name[node["layer"]]["inbound_nodes"].append(
                {"args": _as_keras_tensors(node["args"], functional_layers),
                 "kwargs": _as_keras_tensors(node.get("kwargs", {}), functional_layers)})
        config["input_layers"] = _as_triples(config.pop("inputs"), functional_layers, flat_io)
        config["output_layers"] = _as_triples(config.pop("outputs"), functional_layers, flat_io)
    return dict(entry, config=config)


def model_to_keras_json(model, flat_io: bool = False, **json_kwargs) -> str:
    """`model.to_json()` as Keras 3 writes it (see the module docstring); `json_kwargs` go to json.dumps."""
    return json.dumps(keras3_layout(serialize_layer(model), flat_io), **json_kwargs)


# ---------------------------------------------------------------- reading
def _is_triple(value) -> bool:
    return isinstance(value, list) and len(value) == 3 and isinstance(value[0], str) and \
        all(isinstance(i, int) and not isinstance(i, bool) for i in value[1:])


def _ref(history, functional_layers, where):
    if not _is_triple(list(history)[:3]):
        raise ValueError(f"model JSON: {where}: expected [layer name, node index, tensor index], got {history!r:.80}")
    name, node, index = _history(list(history)[:3], functional_layers, -1)
    if node < 0:
        raise ValueError(f"model JSON: {where}: node index {history[1]} of the functional model {name!r} is its "
                         f"own node, which no layer can be fed from")
    return {_REF: [name, node, index]}


def _from_keras_tensors(value, functional_layers, where):
    if isinstance(value, dict):
        if value.get("class_name") == _REF:
            history = (value.get("config") or {}).get("keras_history")
            return _ref(history if isinstance(history, list) else [], functional_layers, where)
        return {key: _from_keras_tensors(v, functional_layers, where) for key, v in value.items()}
    if isinstance(value, list):
        return [_from_keras_tensors(v, functional_layers, where) for v in value]
    return value


def _node_call(node, functional_layers, where):
    """(args, kwargs) of one inbound node, in gf's references."""
    if isinstance(node, dict):
        return (_from_keras_tensors(node.get("args", []), functional_layers, where),
                _from_keras_tensors(node.get("kwargs", {}), functional_layers, where))
    if isinstance(node, list):  # tf.keras 2: [[layer, node, tensor, kwargs], ...], one per input tensor
        tensors, kwargs = [], {}
        for item in node:
            if not isinstance(item, list) or len(item) not in (3, 4):
                raise ValueError(f"model JSON: {where}: cannot read the inbound node {node!r:.80}")
            tensors.append(_ref(item[:3], functional_layers, where))
            kwargs = item[3] if len(item) == 4 else kwargs
        return [tensors[0] if len(tensors) == 1 else tensors], dict(kwargs)
    raise ValueError(f"model JSON: {where}: cannot read the inbound node {node!r:.80}")


def _from_triples(value, functional_layers, where):
    if _is_triple(value):
        return _ref(value, functional_layers, where)
    if isinstance(value, dict):
        return {k: _from_triples(v, functional_layers, where) for k, v in value.items()}
    if isinstance(value, list):
        items = [_from_triples(v, functional_layers, where) for v in value]
        return items[0] if len(items) == 1 else items  # Keras reads a one-item list as the item
    raise ValueError(f"model JSON: {where}: cannot read {value!r:.80}")


def _graph_order(nodes, inputs, where):
    """`nodes` ((layer, call index, args, kwargs, the calls they use)) so that each comes after the calls it
    uses and after the same layer's earlier calls (Keras's files list calls by layer, not in graph order);
    `inputs` name the layers called by no node (the Input layers), whose one call exists from the start."""
    made, order, pending = {(name, 0) for name in inputs}, [], list(nodes)
    while pending:
        ready = [n for n in pending if n[4] <= made and (n[0], n[1] - 1) in made | {(n[0], -1)}]
        if not ready:
            missing = sorted({f"{layer}[{k}]" for n in pending for layer, k in n[4] - made})
            raise ValueError(f"model JSON: {where}: calls of {', '.join(missing)} are used but never made (or the "
                             f"calls form a cycle)")
        for n in ready:
            made.add((n[0], n[1]))
            order.append(n)
        pending = [n for n in pending if (n[0], n[1]) not in made]
    return order


def _refs_in(value) -> set:
    if isinstance(value, dict):
        if set(value) == {_REF}:
            return {tuple(value[_REF][:2])}
        return set().union(*map(_refs_in, value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*map(_refs_in, value)) if value else set()
    return set()


def gf_layout(entry):
    """The inverse of keras3_layout: `entry` with every functional model in Keras 3's (or tf.keras 2's) layout
    in gf's, and Keras' own module names dropped (gpuflow's classes have Keras' names)."""
    if not isinstance(entry, dict):
        raise ValueError(f"model JSON: expected a layer entry (an object), got {entry!r:.80}")
    entry = dict(entry)
    module = entry.get("module")
    if module is None or (isinstance(module, str) and module.split(".")[0] == "keras"):
        entry.pop("module", None)  # Keras' own class (or gpuflow's): found by its name
    if entry.get("registered_name") is None or entry.get("registered_name") == entry.get("class_name"):
        entry.pop("registered_name", None)  # Keras writes the class name, or null, for its own classes
    entry.pop("inbound_nodes", None)
    config = entry.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        return entry
    where = f"model {config.get('name', entry.get('class_name'))!r}"
    raw = config["layers"]
    layers = [gf_layout(layer) for layer in raw]
    config = dict(config, layers=layers)
    if "input_layers" in config:
        for layer in layers:
            layer.setdefault("name", (layer.get("config") or {}).get("name"))
        functional_layers = {layer["name"] for layer, original in zip(layers, raw) if _is_functional(original)}
        nodes = []
        for layer, original in zip(layers, raw):
            for k, node in enumerate(original.get("inbound_nodes") or []):
                args, kwargs = _node_call(node, functional_layers, where)
                nodes.append((layer["name"], k, args, kwargs, _refs_in([args, kwargs])))
        inputs = {layer["name"] for layer, original in zip(layers, raw) if not original.get("inbound_nodes")}
        config["nodes"] = [{"layer": n[0], "args": n[2], "kwargs": n[3]} for n in _graph_order(nodes, inputs, where)]
        config["inputs"] = _from_triples(config.pop("input_layers"), functional_layers, where)
        config["outputs"] = _from_triples(config.pop("output_layers"), functional_layers, where)
    return dict(entry, config=config)


def model_from_keras_json(json_string, custom_objects=None):
    """The model a `to_json()` string describes, with fresh weights (see the module docstring)."""
    if not isinstance(json_string, (str, bytes, bytearray)):
        raise TypeError(f"model_from_json: expected a JSON string, got {type(json_string).__name__}")
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(f"model_from_json: custom_objects must be a dict of name → class, got "
                        f"{type(custom_objects).__name__}")
    try:
        entry = json.loads(json_string)
    except json.JSONDecodeError as e:
        raise ValueError(f"model_from_json: not valid JSON ({e})") from None
    if not isinstance(entry, dict) or "class_name" not in entry or not isinstance(entry.get("config"), dict):
        raise ValueError(f"model_from_json: expected an object with 'class_name' and 'config' (what model.to_json() "
                         f"writes), got {json_string[:80]!r}")
    with CustomObjectScope(custom_objects or {}):  # so layers that revive their own sublayers find them too
        model = deserialize_layer(gf_layout(entry), custom_objects)
    return model
