"""`x + y`, `2 * x`, `-x` on KerasTensors: each makes an OpLayer, a layer that applies one gpuflow op
(tf.keras's TFOpLambda), so ported functional code with arithmetic between layers keeps working.

The operators are set on KerasTensor here, beside the layer they make: keras_tensor.py sits below
the layers and cannot name one. input_layer.py imports this module, so every KerasTensor, which
descends from an Input, has them.
"""
from __future__ import annotations

from ... import ops
from .. import backend as _backend
from .base_layer import Layer
from .keras_tensor import KerasTensor

# Operator → gpuflow op: only ops whose operands may be tensors or plain numbers.
OPERATORS = {"add": "add", "sub": "subtract", "mul": "multiply", "truediv": "divide", "pow": "pow",
             "matmul": "matmul", "neg": "negative", "abs": "abs"}
_UNARY = ("neg", "abs")


class OpLayer(Layer):
    """Applies the gpuflow op named `function` to its list of operands (tensors or numbers)."""

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


def _operator(function, reflected=False, unary=False):
    def method(self, *other):
        operands = [self] if unary else ([other[0], self] if reflected else [self, other[0]])
        return OpLayer(function)(operands)
    return method


for _op, _function in OPERATORS.items():
    setattr(KerasTensor, f"__{_op}__", _operator(_function, unary=_op in _UNARY))
    if _op not in _UNARY:
        setattr(KerasTensor, f"__r{_op}__", _operator(_function, reflected=True))
