"""Keras' registry of custom objects: the only place, besides gf.keras' own classes and a load call's
`custom_objects`, where a saved file's class names are looked up. Nothing is ever imported or run
from a name in a file.

A registered name is "package>name" (Keras' spelling, e.g. "Custom>MyLayer").
"""
from __future__ import annotations

import contextvars
import inspect

_GLOBAL_OBJECTS: dict = {}   # registered name (or a name the user added by hand) → class or function
_GLOBAL_NAMES: dict = {}     # class or function → registered name
# The custom_objects of the innermost custom_object_scope / load_model call, so a user's from_config that
# deserialises its own sub-objects finds them too.
_SCOPE = contextvars.ContextVar("gpuflow_custom_objects", default={})


def register_keras_serializable(package="Custom", name=None):
    """Decorator registering a class (which must have get_config) or function as "package>name"."""
    for what, value in (("package", package), ("name", name)):
        if value is not None and (not isinstance(value, str) or not value or ">" in value):
            raise ValueError(f"register_keras_serializable: {what} must be a non-empty string without '>', "
                             f"got {value!r}")

    def decorator(obj):
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError(f"register_keras_serializable: {obj.__name__} has no get_config(), so it cannot be "
                             f"saved; define get_config() returning its constructor arguments")
        if not callable(obj):
            raise TypeError(f"register_keras_serializable: can only register a class or a function, got {obj!r:.80}")
        registered = f"{package}>{name if name is not None else obj.__name__}"
        # Re-registering a name replaces the old object (a notebook cell run twice redefines the class).
        _GLOBAL_OBJECTS[registered] = obj
        _GLOBAL_NAMES[obj] = registered
        return obj
    return decorator


def get_registered_name(obj) -> str:
    """The name `obj` was registered under, else its own `__name__` (as Keras)."""
    return _GLOBAL_NAMES.get(obj) or getattr(obj, "__name__", type(obj).__name__)


def registered_name_or_none(obj):
    return _GLOBAL_NAMES.get(obj)


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object called `name` in the active custom_object_scope, the registry, `custom_objects` or
    `module_objects` (Keras' lookup order); None when none has it."""
    for table in (_SCOPE.get(), _GLOBAL_OBJECTS, custom_objects or {}, module_objects or {}):
        if name in table:
            return table[name]
    return None


def get_custom_objects() -> dict:
    """The global registry itself: `get_custom_objects()["MyLayer"] = MyLayer` registers by hand, as in Keras."""
    return _GLOBAL_OBJECTS


class CustomObjectScope:
    """`with custom_object_scope({"MyLayer": MyLayer}):` makes those names known to loading inside the block."""

    def __init__(self, *custom_objects):
        self._objects = {}
        for objects in custom_objects:
            if not isinstance(objects, dict):
                raise TypeError(f"custom_object_scope: expected dicts of name → object, got {objects!r:.80}")
            self._objects.update(objects)
        self._tokens = []

    def __enter__(self):
        self._tokens.append(_SCOPE.set({**_SCOPE.get(), **self._objects}))
        return self

    def __exit__(self, *exc):
        _SCOPE.reset(self._tokens.pop())


custom_object_scope = CustomObjectScope


def lookup(class_name, registered_name=None, custom_objects=None):
    """The custom class/function a config entry names: by its registered name, then its bare name, in
    `custom_objects`, the active scope and the registry. None when it is none of those."""
    names = [n for n in (registered_name, class_name) if n]
    for table in (custom_objects or {}, _SCOPE.get(), _GLOBAL_OBJECTS):
        for name in names:
            if name in table:
                return table[name]
    return None
