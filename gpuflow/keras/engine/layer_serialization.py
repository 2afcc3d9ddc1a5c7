"""A layer (or model) as a config entry, and back: `{"class_name", "name", "config": get_config()}`, plus the
registered name and module of a class that is not gpuflow's own.

Reading an entry runs no code from it: its class name is looked up only in the caller's `custom_objects`,
the active custom_object_scope, the registry (registration.py) and gpuflow's own layer classes
(layer_config.BUILTIN_LAYERS), and only Layer classes are accepted.
"""
from __future__ import annotations

import inspect

from .base_layer import Layer
from .layer_config import BUILTIN_LAYERS
from .registration import lookup, registered_name_or_none


def serialize_layer(layer) -> dict:
    """`layer`'s config entry (a model's holds its layers' entries)."""
    if type(layer).__name__ == "Lambda":
        raise ValueError(f"layer {layer.name!r} is a Lambda layer: its Python code is never serialised. Write a Layer "
                         f"subclass with get_config(), decorate it with @gf.keras.saving.register_keras_serializable() "
                         f"(or pass it in custom_objects when loading) and use it instead")
    return {"class_name": type(layer).__name__, "name": layer.name, "config": layer.get_config(),
            **custom_class_fields(type(layer))}


def custom_class_fields(cls) -> dict:
    """For a class that is not gpuflow's own: its registered name (how loading finds it) and its module (only
    named in errors; nothing is ever imported from a file)."""
    cls = vars(cls).get("_user_class", cls)  # `Custom(inputs, outputs)` is a copy of Custom (functional.py)
    if cls.__module__.split(".")[0] == "gpuflow":
        return {}
    registered = registered_name_or_none(cls)
    return {"module": cls.__module__, **({"registered_name": registered} if registered else {})}


def unknown_class_error(class_name, what, registered_name=None, module=None) -> ValueError:
    """The error for a config naming a class that is neither gpuflow's nor registered nor given."""
    origin = f" (from module {module!r}{', registered as ' + repr(registered_name) if registered_name else ''})" \
        if module else ""
    return ValueError(f"unknown {what} class {class_name!r}{origin}: it is not one of gf.keras' own classes and not "
                      f"registered. Decorate it with @gf.keras.saving.register_keras_serializable() in code that runs "
                      f"before loading, or pass custom_objects={{{class_name!r}: {class_name}}}")


def find_layer_class(class_name, custom_objects=None, registered_name=None, module=None):
    """The Layer class a config entry names: the user's (custom_objects, scope, registry) first, then gpuflow's
    own when the entry names no module (gpuflow writes none for its classes)."""
    found = lookup(class_name, registered_name, custom_objects)
    if found is None and not module:
        found = BUILTIN_LAYERS.get(class_name)
    # Only Layer classes: a name from a file must never reach some other object.
    if not (isinstance(found, type) and issubclass(found, Layer)):
        raise unknown_class_error(class_name, "layer", registered_name, module)
    if found.__name__ == "Lambda" and found.__module__.split(".")[0] == "gpuflow":
        raise ValueError(f"a config names a Lambda layer ({class_name!r}): gpuflow never writes one, as a Lambda's "
                         f"code cannot be saved, and never runs code from a file; use a Layer subclass with "
                         f"get_config() instead")
    return found


def deserialize_layer(entry, custom_objects=None):
    """The layer (or model) a config entry describes; nested models get `custom_objects` too."""
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str) \
            or not isinstance(entry.get("config"), dict):
        raise ValueError(f"a layer entry must be {{'class_name': str, 'config': {{...}}}}, got {entry!r:.120}")
    cls = find_layer_class(entry["class_name"], custom_objects, entry.get("registered_name"), entry.get("module"))
    if "custom_objects" in inspect.signature(cls.from_config).parameters:  # a model: its layers' classes too
        return cls.from_config(entry["config"], custom_objects=custom_objects)
    return cls.from_config(entry["config"])
