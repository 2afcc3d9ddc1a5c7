"""`x + y`, `2 * x`, `-x` on KerasTensors: each makes an OpLayer, a layer that applies one gpuflow op
(tf.keras's TFOpLambda), so ported functional code with arithmetic between layers keeps working."""
from __future__ import annotations

from ... import ops
from .. import backend as _backend
from .base_layer import Layer
from .keras_tensor import OPERATORS


class OpLayer(Layer):
    def __init__(self, function, name=None, **kwargs):
        if function not in OPERATORS.values():
            raise ValueError(f"OpLayer: {function!r} is not one of the ops it applies ({', '.join(OPERATORS.values())})")
        super().__init__(name=name or _backend.unique_name(f"tf.math.{function}"), **kwargs)
        self.function = function

    def _convert_inputs(self, inputs):
        return inputs  # numbers stay numbers, so the op gives them the tensor's dtype

    def call(self, inputs):
        return getattr(ops, self.function)(*inputs)

    def get_config(self):
        return {**super().get_config(), "function": self.function}
