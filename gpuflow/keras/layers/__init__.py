"""`gf.keras.layers`: every layer class, the functional merge aliases, and Input."""
from __future__ import annotations

import importlib

from ..engine.base_layer import Layer  # noqa: F401
from ..engine.input_layer import Input, InputLayer  # noqa: F401
from .core import (Activation, Dense, Dropout, Embedding, Flatten, Lambda, LeakyReLU, Permute, ReLU,  # noqa: F401
                   Reshape, Softmax)
from .merge import (Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract, add, average,  # noqa: F401
                    concatenate, maximum, minimum, multiply, subtract)
from .normalization import BatchNormalization, LayerNormalization  # noqa: F401
from .preprocessing import Rescaling  # noqa: F401

# ---- layers another engineer is adding (convolutional.py, pooling.py, recurrent.py) ---------------
# Until those modules exist, importing this package must still work; once all three are committed,
# replace this block with plain `from .convolutional import *` style imports.
def _import_if_present(module):
    try:
        mod = importlib.import_module(f".{module}", __name__)
    except ModuleNotFoundError as err:
        if err.name != f"{__name__}.{module}":
            raise  # the module exists but something it imports is missing: a real error
        return
    for name in getattr(mod, "__all__", [n for n in vars(mod) if n[:1].isupper()]):
        globals()[name] = getattr(mod, name)


for _module in ("convolutional", "pooling", "recurrent"):
    _import_if_present(_module)
