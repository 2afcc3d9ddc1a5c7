"""`gf.keras.models`: Model, Sequential, clone_model, and load_model/save_model for `.keras` files."""
from __future__ import annotations

from .engine.functional import Functional
from .engine.model_file import load_model, save_model
from .engine.sequential import Sequential
from .engine.training import Model

__all__ = ["Model", "Sequential", "Functional", "clone_model", "load_model", "save_model"]


def clone_model(model, input_tensors=None, clone_function=None):
    """A new model with the same architecture and freshly initialised weights (from the model's config)."""
    if input_tensors is not None or clone_function is not None:
        raise ValueError("clone_model: input_tensors and clone_function are not supported; clone, then rebuild")
    # The model's own layer classes, so custom layers clone without being registered.
    classes = {type(layer).__name__: type(layer) for layer in model._flatten_layers(include_self=False)}
    if isinstance(model, Sequential):
        return Sequential.from_config(model.get_config(), custom_objects=classes)
    if isinstance(model, Functional):
        return Functional.from_config(model.get_config(), custom_objects=classes)
    raise ValueError(f"clone_model: {type(model).__name__} is a subclassed model, whose code cannot be cloned from "
                     f"a config; construct a new instance instead")
