"""`Sequential`: a stack of layers, each fed the previous one's output.

Once the input shape is known (an `Input`, a first layer's `input_shape=`, `build(shape)`, or
the first call on data) the stack is also called symbolically, so every layer is built and
its output shape is known for `summary()`.
"""
from __future__ import annotations

from ... import nest
from ...tensor import Tensor
from .base_layer import Layer, structure_changed
from .input_layer import Input, InputLayer
from .keras_tensor import KerasTensor
from .layer_serialization import deserialize_layer, serialize_layer
from .training import Model


class Sequential(Model):
    """A Model that runs its layers one after the other; `add` appends a layer, and an `Input` (or an
        `input_shape=` on the first layer) builds it at once.
    """
    _masks_from_graph = True  # each layer attaches its output mask as the stack runs
    _config_holds_layers = True

    def __init__(self, layers=None, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self._stack = []
        self._input_tensor = None   # the Input the symbolic graph starts from, once the shape is known
        self._shapes = {}           # id(layer) → its output shape in this model
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self):
        return list(self._stack)

    @property
    def output_names(self):
        return [self._stack[-1].name] if self._stack else None

    def add(self, layer):
        if isinstance(layer, KerasTensor):
            if not isinstance(layer.node.layer, InputLayer):
                raise TypeError("Sequential.add: a KerasTensor can only be added when it comes from gf.keras.Input")
            if self._stack or self._input_tensor is not None:
                raise ValueError("Sequential.add: an Input can only be the first thing added")
            self._input_tensor = layer
            return
        if isinstance(layer, InputLayer):
            return self.add(layer.output)
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add: expected a Layer, got {type(layer).__name__}")
        if any(layer.name == other.name for other in self._stack):
            raise ValueError(f"Sequential.add: the model already has a layer named {layer.name!r}; layer names must "
                             f"be unique within a model")
        if not self._stack and self._input_tensor is None and layer._batch_input_shape is not None:
            self._input_tensor = Input(batch_shape=layer._batch_input_shape, dtype=layer.dtype)
        self._stack.append(layer)
        structure_changed()  # an in-place append: no __setattr__ tells the cached walks
        if self._input_tensor is not None:
            self._build_graph()

    def pop(self):
        if not self._stack:
            raise TypeError("Sequential.pop: there are no layers to remove")
        layer = self._stack.pop()
        structure_changed()
        self._shapes.pop(id(layer), None)
        if self._input_tensor is not None and self._stack:
            self._build_graph()
        return layer

    def _build_graph(self):
        x = self._input_tensor
        for layer in self._stack:
            if id(layer) in self._shapes and self._shapes[id(layer)][0] is x:
                x = self._shapes[id(layer)][1]  # this layer was already called on this very input
                continue
            out = layer(x)
            if len(nest.flatten(out)) != 1:
                raise ValueError(f"Sequential: layer {layer.name!r} has {len(nest.flatten(out))} outputs; every "
                                 f"layer of a Sequential model must have one output (use the functional API)")
            self._shapes[id(layer)] = (x, out)
            x = out
        self.built = True

    def build(self, input_shape=None):
        if input_shape is None:
            if self._input_tensor is None:
                raise ValueError("Sequential.build: give the input shape, e.g. build((None, 784))")
        else:
            self._input_tensor = Input(batch_shape=tuple(input_shape))
            self._shapes.clear()
        if self._stack:
            self._build_graph()
        self.built = True

    def _maybe_build(self, inputs):
        if self._input_tensor is None and self._stack and hasattr(inputs, "shape"):
            # Built from the first data seen, with the batch dim unknown, so summary() has shapes.
            self._input_tensor = Input(batch_shape=(None,) + tuple(inputs.shape[1:]), dtype=inputs.dtype)
            self._build_graph()
        self.built = True

    def call(self, inputs, training=None, mask=None):
        if not self._stack:
            raise ValueError(f"{self.name} has no layers; add some with model.add(...) before calling it")
        if mask is not None and isinstance(inputs, Tensor):
            inputs._keras_mask = mask  # masks travel on the tensors, from layer to layer, as in Keras 3
        x = inputs
        for layer in self._stack:
            x = layer(x)
        return x

    def _layer_output_shape(self, layer):
        entry = self._shapes.get(id(layer))
        return entry[1].shape if entry else "?"

    @property
    def inputs(self):
        return [self._input_tensor] if self._input_tensor is not None else None

    @property
    def outputs(self):
        return [self._shapes[id(self._stack[-1])][1]] if self._stack and id(self._stack[-1]) in self._shapes else None

    @property
    def input_shape(self):
        if self._input_tensor is None:
            raise AttributeError(f"{self.name} has no input shape yet; build it or call it on data first")
        return self._input_tensor.shape

    @property
    def output_shape(self):
        if not self.outputs:
            raise AttributeError(f"{self.name} has no output shape yet; build it or call it on data first")
        return self.outputs[0].shape

    def get_config(self):
        inp = self._input_tensor
        return {"name": self.name, "trainable": self.trainable,
                "build_input_shape": list(inp.shape) if inp is not None else None,
                "input_dtype": inp.dtype.name if inp is not None else None,
                "layers": [serialize_layer(layer) for layer in self.layers]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        if config.get("build_input_shape") is not None:
            model.add(Input(batch_shape=tuple(config["build_input_shape"]), dtype=config.get("input_dtype")))
        for entry in config["layers"]:
            model.add(deserialize_layer(entry, custom_objects))
        return model
