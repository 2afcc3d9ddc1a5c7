"""`gf.keras.saving`: Keras 3's whole-model files (`.keras`: JSON config + safetensors weights, never pickle)
and the registry of custom classes and functions those files may name."""
from __future__ import annotations

from ..engine.model_file import save_model
from ..engine.model_loading import load_model
from ..engine.registration import (CustomObjectScope, custom_object_scope, get_custom_objects, get_registered_name,
                                  get_registered_object, register_keras_serializable)
from .serialization import deserialize_keras_object, serialize_keras_object

__all__ = ["save_model", "load_model", "register_keras_serializable", "get_registered_object",
           "get_registered_name", "get_custom_objects", "custom_object_scope", "CustomObjectScope",
           "serialize_keras_object", "deserialize_keras_object"]
