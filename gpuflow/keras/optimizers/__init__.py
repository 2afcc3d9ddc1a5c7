"""`gf.keras.optimizers`: Keras 3's optimizers on fused update kernels, plus `get`/`serialize`/`deserialize`.

Identifiers: an Optimizer (returned as is), a name ('adam', 'Adam', 'sgd', 'rmsprop', ...) or a
{"class_name", "config"} dict.
"""
from __future__ import annotations

from . import schedules  # noqa: F401
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, Adamax, AdamW, Nadam
from .base import Optimizer
from .family import deserialize, get, serialize
from .lion import Lion
from .loss_scale_optimizer import LossScaleOptimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "LossScaleOptimizer", "SGD", "Adam", "AdamW", "Adamax", "Nadam", "RMSprop", "Adagrad", "Adadelta", "Lion", "get",
           "serialize", "deserialize", "schedules"]
