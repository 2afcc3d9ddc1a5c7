"""`Input` and `InputLayer`: where a functional graph starts."""
from __future__ import annotations

from ... import dtypes as _dtypes
from .. import backend as _backend
from . import op_layer  # noqa: F401  (gives KerasTensors their operators: see op_layer.py)
from .base_layer import Layer
from .keras_tensor import KerasTensor, Node


class InputLayer(Layer):
    """Holds one symbolic input of shape `(batch_size,) + input_shape`; calling it passes data through."""

    def __init__(self, input_shape=None, batch_size=None, dtype=None, name=None, batch_input_shape=None,
                 sparse=None, ragged=None, **kwargs):
        if sparse or ragged:
            raise ValueError("InputLayer: sparse and ragged inputs are not supported by gpuflow; pass dense tensors")
        if "shape" in kwargs:  # Keras 3 spelling
            input_shape = kwargs.pop("shape")
        if "batch_shape" in kwargs:  # Keras 3's config spelling
            batch_input_shape = kwargs.pop("batch_shape")
        if batch_input_shape is None:
            if input_shape is None:
                raise ValueError("InputLayer: give the shape of one sample, e.g. Input(shape=(784,)), "
                                 "or batch_input_shape=(None, 784)")
            if isinstance(input_shape, int):
                input_shape = (input_shape,)
            batch_input_shape = (batch_size,) + tuple(input_shape)
        batch_input_shape = tuple(None if d is None else int(d) for d in batch_input_shape)
        if any(d is not None and d < 0 for d in batch_input_shape):
            raise ValueError(f"InputLayer: shape dims must be non-negative or None, got {batch_input_shape}")
        dtype = _dtypes.as_dtype(_backend.floatx() if dtype is None else getattr(dtype, "name", dtype))
        super().__init__(name=name, dtype=dtype, trainable=False, **kwargs)
        self._batch_input_shape = batch_input_shape
        self.built = True
        node = Node(self)
        node.outputs = KerasTensor(batch_input_shape, dtype, name=self.name, node=node, index=0)
        self._inbound_nodes.append(node)

    def call(self, inputs):
        return inputs

    @property
    def input(self):
        return self.output

    @property
    def input_shape(self):
        return self.output.shape

    def get_config(self):
        return {"batch_input_shape": self._batch_input_shape, "dtype": self.dtype, "name": self.name}


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None, sparse=None, ragged=None,  # noqa: N802
          tensor=None):
    """A symbolic input: `Input(shape=(784,))` has shape (None, 784). Start a functional model with it."""
    if tensor is not None:
        raise ValueError("Input(tensor=...) is not supported: gpuflow builds functional graphs from Input(shape=...)")
    layer = InputLayer(input_shape=shape, batch_size=batch_size, dtype=dtype, name=name,
                       batch_input_shape=batch_shape, sparse=sparse, ragged=ragged)
    return layer.output
