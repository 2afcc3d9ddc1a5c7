"""Op params as JSON with explicit type tags, and back.

JSON's own ints, floats (always written with a decimal point), bools, strings and null stand for themselves.
Everything else is a one-key object naming its type: {"tuple": [...]}, {"list": [...]}, {"dtype": "float32"},
{"shape": [null, 3]}, {"float": "nan"} (nan and the infinities, which JSON lacks), {"device": "cuda"} (the kind
only: a loaded model runs where it is loaded) and {"graph": {...}} (a cond branch or loop body). A param of any
other type (a host callable, an array, an object) cannot be saved, and saving says which op and param it is.
"""
from __future__ import annotations

import math

import numpy as np

from .. import devices as _devices
from .. import dtypes
from ..dtypes import DType
from ..tensor import TensorShape
from .format import DEVICE_KINDS


class Unsaveable(TypeError):
    """A param value that has no JSON form."""


def encode(value, encode_graph):
    """`value` as JSON data; `encode_graph(graph)` encodes a sub-graph."""
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if kind is float or isinstance(value, np.floating):
        value = float(value)
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if kind is DType:
        return {"dtype": value.name}
    if kind is TensorShape:
        return {"shape": list(value)}
    if kind is _devices.Device:
        return {"device": value.kind}
    if kind is tuple or kind is list:
        return {kind.__name__: [encode(v, encode_graph) for v in value]}
    from ..graph.ir import Graph
    if kind is Graph:
        return {"graph": encode_graph(value)}
    raise Unsaveable(f"{kind.__name__} {value!r:.80}")


_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def decode(data, where, decode_graph, device):
    """The param `data` (JSON) stands for; `where` (a format.Where) names it in errors, `decode_graph(data,
    where)` decodes a sub-graph and `device` is where the loaded model runs."""
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        raise where.error("a list must be tagged {\"tuple\": [...]} or {\"list\": [...]}")
    if type(data) is not dict or len(data) != 1:
        raise where.error(f"expected a value or a one-key type tag, got {data!r:.80}")
    (tag, body), = data.items()
    if tag in ("tuple", "list"):
        if type(body) is not list:
            raise where.error(f"{{{tag!r}: ...}} must hold a list")
        items = [decode(v, where / i, decode_graph, device) for i, v in enumerate(body)]
        return tuple(items) if tag == "tuple" else items
    if tag == "dtype":
        if body not in {d.name for d in dtypes.ALL}:
            raise where.error(f"unknown dtype {body!r}; gpuflow has {', '.join(d.name for d in dtypes.ALL)}")
        return dtypes.as_dtype(body)
    if tag == "shape":
        if type(body) is not list or not all(d is None or (type(d) is int and d >= 0) for d in body):
            raise where.error(f"a shape must be a list of sizes >= 0 or null, got {body!r:.80}")
        return TensorShape(body)
    if tag == "float":
        if body not in _FLOATS:
            raise where.error(f"{{\"float\": ...}} must be one of {sorted(_FLOATS)}, got {body!r:.40}")
        return _FLOATS[body]
    if tag == "device":
        if body not in DEVICE_KINDS:
            raise where.error(f"unknown device kind {body!r:.40}; expected one of {list(DEVICE_KINDS)}")
        return device
    if tag == "graph":
        return decode_graph(body, where / "graph")
    raise where.error(f"unknown type tag {tag!r:.40}; this gpuflow reads "
                      f"tuple, list, dtype, shape, float, device and graph")
