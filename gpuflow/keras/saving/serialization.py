"""Keras 3's `serialize_keras_object` / `deserialize_keras_object`: what a custom layer's get_config /
from_config use for the Keras objects it holds (a sublayer, an initializer, an activation function).

An object becomes {"class_name", "config", "module", ("registered_name")}; a function becomes
{"class_name": "function", "config": its name, "module", ...}. Deserialising looks names up only
in the caller's custom_objects, the active custom_object_scope, the registry and gpuflow's own
tables; the module is never imported (it only picks between gpuflow's tables and names a missing
class in errors).
"""
from __future__ import annotations

import inspect

import numpy as np

from ... import dtypes as _dtypes
from .. import layers  # noqa: F401  (defines gpuflow's layer classes, which configs name: see layer_config.py)
from ..engine.base_layer import Layer
from ..engine.layer_serialization import custom_class_fields, deserialize_layer, serialize_layer, unknown_class_error
from ..engine.registration import lookup, registered_name_or_none

_PLAIN = (type(None), bool, int, float, str)


def serialize_keras_object(obj):
    """`obj` as JSON-ready values: plain values and lists/dicts of them as they are, layers as their config
    entry, other objects by class and get_config(), functions by name."""
    if isinstance(obj, _PLAIN):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, _dtypes.DType):
        return obj.name
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, Layer):
        return serialize_layer(obj)
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        if obj.__name__ == "<lambda>":
            raise ValueError("serialize_keras_object: a lambda's code is never serialised; use a named function "
                             "decorated with @gf.keras.saving.register_keras_serializable()")
        registered = registered_name_or_none(obj)
        return {"class_name": "function", "config": obj.__name__, "module": obj.__module__,
                **({"registered_name": registered} if registered else {})}
    if hasattr(obj, "get_config"):
        cls = type(obj)
        return {"class_name": cls.__name__, "config": obj.get_config(), "module": cls.__module__,
                **custom_class_fields(cls)}
    raise ValueError(f"serialize_keras_object: cannot serialise {type(obj).__name__} {obj!r:.80}: it has no "
                     f"get_config()")


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """The object `serialize_keras_object` described. `safe_mode` is accepted for Keras compatibility: nothing
    from a config is ever run, so there is no unsafe mode to turn on."""
    if kwargs:
        raise TypeError(f"deserialize_keras_object: unexpected argument(s) {', '.join(sorted(kwargs))}")
    if isinstance(config, _PLAIN):
        return config
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(v, custom_objects) for v in config]
    if not isinstance(config, dict):
        raise TypeError(f"deserialize_keras_object: cannot read {type(config).__name__} {config!r:.80}")
    if "class_name" not in config or "config" not in config:  # a plain dict, maybe holding serialised objects
        return {k: deserialize_keras_object(v, custom_objects) for k, v in config.items()}
    name, registered, module = config["class_name"], config.get("registered_name"), config.get("module")
    gpuflow = isinstance(module, str) and module.split(".")[0] == "gpuflow"
    if name == "function":
        fn = lookup(config["config"], registered, custom_objects)
        if fn is None and gpuflow:
            fn = _gpuflow_function(config["config"], module)
        if fn is None:
            raise ValueError(f"unknown function {config['config']!r} (from module {module!r}): register it with "
                             f"@gf.keras.saving.register_keras_serializable() or pass it in custom_objects")
        return fn
    found = lookup(name, registered, custom_objects)
    if found is None and gpuflow:
        found = _gpuflow_class(name, module)
    if found is None and (module is None or gpuflow) and "name" in config:  # a layer entry of a model config
        return deserialize_layer(config, custom_objects)
    if found is None:
        raise unknown_class_error(name, "object", registered, module)
    if isinstance(found, type) and issubclass(found, Layer):
        return deserialize_layer({**config, "class_name": found.__name__}, {**(custom_objects or {}),
                                                                             found.__name__: found})
    return found.from_config(config["config"])


def _tables():
    """gpuflow's serialisable classes and functions by public module: the only gpuflow names a config can reach."""
    from .. import activations, constraints, initializers, losses, metrics, optimizers, regularizers
    from ..optimizers import schedules
    return {"gpuflow.keras.initializers": (initializers._FAMILY.classes, {}),
            "gpuflow.keras.regularizers": (regularizers._FAMILY.classes, {}),
            "gpuflow.keras.constraints": (constraints._FAMILY.classes, {}),
            "gpuflow.keras.optimizers.schedules": (schedules._FAMILY.classes, {}),
            "gpuflow.keras.optimizers": (optimizers._FAMILY.classes, {}),
            "gpuflow.keras.losses": (losses.CLASSES, losses.FUNCTIONS),
            "gpuflow.keras.metrics": (metrics.CLASSES, metrics.FUNCTIONS),
            "gpuflow.keras.activations": ({}, dict(activations._BY_NAME))}


def _table_for(module):
    for prefix, table in _tables().items():  # schedules before optimizers: the longer prefix first
        if module == prefix or module.startswith(prefix + "."):
            return table
    return None


def _gpuflow_class(name, module):
    table = _table_for(module)
    if table is None:
        return None  # a layer (gpuflow.keras.layers.*, .engine.*): deserialize_layer finds those
    return table[0].get(name)


def _gpuflow_function(name, module):
    table = _table_for(module)
    return table[1].get(name) if table else None
