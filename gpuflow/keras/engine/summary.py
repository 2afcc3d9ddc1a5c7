"""`model.summary()`: Keras's table of layers, output shapes and parameter counts."""
from __future__ import annotations

import numpy as np

from ...tensor import TensorShape


def readable_size(num_bytes: int) -> str:
    size, units = float(num_bytes), ("B", "KB", "MB", "GB", "TB")
    for unit in units:
        if size < 1024 or unit == units[-1]:
            return f"{size:.2f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _params(variables) -> tuple[int, int]:
    count = sum(int(np.prod(v.shape, dtype=np.int64)) for v in variables)
    size = sum(int(np.prod(v.shape, dtype=np.int64)) * v.dtype.itemsize for v in variables)
    return count, size


def _shape_text(shape) -> str:
    if isinstance(shape, str):
        return shape
    if isinstance(shape, dict):
        return "{" + ", ".join(f"{k}: {_shape_text(v)}" for k, v in shape.items()) + "}"
    if isinstance(shape, (list, tuple)) and not isinstance(shape, TensorShape):
        return "[" + ", ".join(_shape_text(s) for s in shape) + "]"
    return str(shape)


def _connections(model, layer) -> list[str]:
    """'dense[0][0]' for each tensor feeding the layer in this model (functional models only)."""
    out = []
    for node in getattr(model, "_nodes", []):
        if node.layer is layer:
            for t in node.parents:
                producers = [n for n in model._nodes if n.layer is t.node.layer]
                out.append(f"{t.node.layer.name}[{producers.index(t.node)}][{t.index}]")
    return out


def _needs_connections(model) -> bool:
    nodes = getattr(model, "_nodes", None)
    if nodes is None:
        return False
    per_layer = {}
    for node in nodes:
        per_layer[id(node.layer)] = per_layer.get(id(node.layer), 0) + 1
    return (len(model.inputs) > 1 or len(model.outputs) > 1 or any(len(n.parents) > 1 for n in nodes)
            or any(c > 1 for c in per_layer.values()))


def _row(fields, positions, print_fn):
    line = ""
    for i, text in enumerate(fields):
        width = positions[i] - (positions[i - 1] if i else 0)
        line += str(text)[:width - 1].ljust(width)
    print_fn(line.rstrip())


def print_summary(model, line_length=None, print_fn=None):
    print_fn = print_fn or print
    layers = model.layers
    if not model.built and not model.weights:
        raise ValueError(f"{model.name} has not been built yet, so its weights and shapes are unknown: call it on "
                         f"data, call model.build(input_shape), or start it with gf.keras.Input(...)")
    connected = _needs_connections(model)
    line_length = line_length or (98 if connected else 65)
    fractions = (0.33, 0.55, 0.67, 1.0) if connected else (0.45, 0.85, 1.0)
    positions = [int(line_length * f) for f in fractions]
    headers = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if connected else [])
    print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    _row(headers, positions, print_fn)
    print_fn("=" * line_length)
    shape_of = getattr(model, "_layer_output_shape", lambda layer: "?")
    for i, layer in enumerate(layers):
        shape = shape_of(layer)
        count, _ = _params(layer.weights)
        links = _connections(model, layer) if connected else []
        fields = [f"{layer.name} ({type(layer).__name__})", _shape_text(shape), f"{count:,}"]
        _row(fields + ([links[0] if links else ""] if connected else []), positions, print_fn)
        for link in links[1:]:
            _row(["", "", "", link], positions, print_fn)
        print_fn("=" * line_length if i == len(layers) - 1 else "")
    if not layers:
        print_fn("=" * line_length)
    total, total_size = _params(model.weights)
    trainable, trainable_size = _params(model.trainable_weights)
    frozen, frozen_size = _params(model.non_trainable_weights)
    print_fn(f"Total params: {total:,} ({readable_size(total_size)})")
    print_fn(f"Trainable params: {trainable:,} ({readable_size(trainable_size)})")
    print_fn(f"Non-trainable params: {frozen:,} ({readable_size(frozen_size)})")
    print_fn("_" * line_length)

