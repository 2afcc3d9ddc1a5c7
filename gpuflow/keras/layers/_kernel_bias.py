"""The kernel/bias options Dense and the convolutions share: resolved one way, serialised one way."""
from __future__ import annotations

from ... import keras as _keras

OPTIONS = ("kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
           "activity_regularizer", "kernel_constraint", "bias_constraint")


def _module(option):
    kind = option.rsplit("_", 1)[1]  # initializer, regularizer or constraint
    return getattr(_keras, {"initializer": "initializers", "regularizer": "regularizers",
                            "constraint": "constraints"}[kind])


def set_kernel_bias_options(layer, activation, use_bias, **options):
    """Set layer.activation, layer.use_bias and the seven OPTIONS from Keras identifiers."""
    layer.activation = _keras.activations.get(activation)
    layer.use_bias = bool(use_bias)
    for option in OPTIONS:
        setattr(layer, option, _module(option).get(options[option]))
    layer.kernel, layer.bias = None, None


def kernel_bias_config(layer) -> dict:
    config = {"activation": _keras.activations.serialize(layer.activation), "use_bias": layer.use_bias}
    config.update({option: _module(option).serialize(getattr(layer, option)) for option in OPTIONS})
    return config
