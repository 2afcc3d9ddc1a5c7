"""The optimizers by name: `get`, `serialize` and `deserialize` of gf.keras.optimizers.

Identifiers: an Optimizer (returned as is), a name ('adam', 'Adam', 'sgd', 'rmsprop', ...) or a
{"class_name", "config"} dict.
"""
from __future__ import annotations

from .._objects import Family
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, Adamax, AdamW, Nadam
from .base import Optimizer
from .lion import Lion
from .rmsprop import RMSprop
from .sgd import SGD

# LossScaleOptimizer registers itself: it wraps an optimizer of this family, so it is defined above the table.
_FAMILY = Family("optimizer", [SGD, Adam, AdamW, Adamax, Nadam, RMSprop, Adagrad, Adadelta, Lion],
                 aliases={"adamw": AdamW, "rmsprop": RMSprop, "sgd": SGD})
register = _FAMILY.register


def serialize(optimizer) -> dict:
    """An optimizer as a {'class_name', 'config'} dict, for saving."""
    return _FAMILY.serialize(optimizer)


def deserialize(config, custom_objects=None):
    """The optimizer a config dict (from serialize) describes; `custom_objects` maps your own class names."""
    if isinstance(config, dict) and custom_objects and config.get("class_name") in custom_objects:
        return custom_objects[config["class_name"]].from_config(config.get("config") or {})
    return _FAMILY.deserialize(config)


def get(identifier):
    """An optimizer from a name ('adam', 'sgd', ...), a config dict, or an Optimizer (returned as is)."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, (str, dict)):
        return _FAMILY.get(identifier)
    raise ValueError(f"cannot interpret {identifier!r:.80} as an optimizer: give an Optimizer, a name like 'adam' "
                     f"or a {{'class_name', 'config'}} dict")
