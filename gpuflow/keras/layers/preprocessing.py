"""Preprocessing layers that are plain tensor math: Rescaling."""
from __future__ import annotations

from ... import ops
from ..engine.base_layer import Layer


class Rescaling(Layer):
    """`inputs * scale + offset` in the layer's dtype (integer images become floats, as in Keras);
    scale and offset may be numbers or per-channel lists that broadcast against the inputs. Passes masks on."""
    supports_masking = True

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset

    def call(self, inputs):
        inputs = ops.cast(inputs, self._dtype)
        return inputs * self.scale + self.offset

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}
