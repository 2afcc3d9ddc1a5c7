"""`gf.keras`: tf.keras's API on gpuflow ops. Submodules load on first use."""
from __future__ import annotations

import importlib

_SUBMODULES = ("activations", "backend", "callbacks", "config", "constraints", "datasets", "initializers", "layers",
               "losses", "metrics", "mixed_precision", "models", "optimizers", "preprocessing", "regularizers",
               "saving", "utils")
_FROM_MODELS = ("Model", "Sequential")


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _FROM_MODELS:
        return getattr(importlib.import_module(".models", __name__), name)
    if name == "Input":
        return importlib.import_module(".layers", __name__).Input
    raise AttributeError(f"module 'gpuflow.keras' has no attribute {name!r}")


def __dir__():
    return sorted(_SUBMODULES + _FROM_MODELS + ("Input",))
