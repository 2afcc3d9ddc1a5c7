"""Layer names: Keras's default names (`dense`, `dense_1`, ...) and the rule a given name must follow."""
from __future__ import annotations

import re

from .. import backend as _backend


def to_snake_case(name: str) -> str:
    """`BatchNormalization` → `batch_normalization`, `Conv2D` → `conv2d`, `LSTM` → `lstm` (Keras's rule)."""
    name = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def layer_name(layer, name) -> str:
    """`name` checked (a weight's path is `<layer name>/<weight>`, so no '/'), or a fresh default from the class."""
    if name is not None and (not isinstance(name, str) or not name or "/" in name):
        raise ValueError(f"{type(layer).__name__}: name must be a non-empty string without '/', got {name!r}")
    return name or _backend.unique_name(to_snake_case(type(layer).__name__))
