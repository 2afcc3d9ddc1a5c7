"""Small pieces the engine tests share: a Dense-like layer and a mean-squared-error loss, so these tests do not
depend on gf.keras.layers / losses (written separately)."""
from __future__ import annotations

import gpuflow as gf
from gpuflow.keras.engine.base_layer import Layer


class Lin(Layer):
    """y = x @ kernel + bias."""

    def __init__(self, units, kernel_initializer="glorot_uniform", kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units, self.kernel_initializer, self.kernel_regularizer = units, kernel_initializer, kernel_regularizer

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        self.bias = self.add_weight("bias", (self.units,), initializer="zeros")

    def call(self, x):
        return gf.matmul(x, self.kernel) + self.bias

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def mse(y_true, y_pred):
    return gf.reduce_mean(gf.square(y_pred - gf.cast(y_true, y_pred.dtype)), axis=-1)
