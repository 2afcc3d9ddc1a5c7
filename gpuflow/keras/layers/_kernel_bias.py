"""What Dense and the convolutions share: the kernel/bias options (resolved and serialised one way)
and the epilogue after the matmul or convolution."""
from __future__ import annotations

import functools

from ... import keras as _keras
from ...ops import dense_prims

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


@functools.lru_cache(maxsize=None)
def _fusable():
    # Activations with a fused bias-add kernel (ops/dense_prims.py); others are applied after the add.
    a = _keras.activations
    return {a.linear: "linear", a.relu: "relu", a.relu6: "relu6", a.sigmoid: "sigmoid", a.tanh: "tanh",
            a.elu: "elu"}


def bias_activation_epilogue(layer, outputs):
    """outputs + bias, then the activation (one fused kernel when it can be), then the activity penalty."""
    fused = _fusable().get(layer.activation)
    if layer.bias is not None and fused is not None:
        outputs = dense_prims.bias_act(outputs, layer.bias, activation=fused)
    else:
        if layer.bias is not None:
            outputs = outputs + layer.bias
        outputs = layer.activation(outputs)
    if layer.activity_regularizer is not None:
        layer.add_loss(layer.activity_regularizer(outputs))
    return outputs
