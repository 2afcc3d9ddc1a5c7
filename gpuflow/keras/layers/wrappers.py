"""Layer wrappers: TimeDistributed (Bidirectional, which wraps recurrent layers only, is in recurrent.py)."""
from __future__ import annotations

from ... import nest, ops
from ...tensor import TensorShape
from ..engine.base_layer import Layer, names_parameter
from ..engine.layer_serialization import deserialize_layer, serialize_layer


class TimeDistributed(Layer):
    """Applies `layer` to every time slice of inputs shaped (batch, time, ...): `TimeDistributed(Dense(8))` maps
    (batch, time, features) to (batch, time, 8) with one kernel shared by all steps.

    The batch and time axes are folded into one, the layer is called once on (batch * time, ...) and the result
    is unfolded: one call (one kernel launch per op), not a Python loop over the steps. A (batch, time) input
    mask is passed on to the outputs unchanged (Keras 3), and to the wrapped layer, folded to (batch * time,
    ...), when its `call` takes a `mask`."""
    supports_masking = True

    def __init__(self, layer, **kwargs):
        if isinstance(layer, dict):  # from_config: the wrapped layer's serialised entry
            layer = deserialize_layer(layer)
        if not isinstance(layer, Layer):
            raise ValueError(f"TimeDistributed: layer must be a gf.keras.layers.Layer instance, got {layer!r:.80}")
        # NumPy inputs are converted to this layer's dtype before the wrapped layer sees them: follow its dtype
        # unless told otherwise, so TimeDistributed(Dense(4, dtype="float64")) takes float64 data as is.
        kwargs.setdefault("dtype", layer.dtype_policy)
        super().__init__(**kwargs)
        self.layer = layer  # tracked: its weights are this layer's, shared by every time step

    def _child_shape(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) < 3:
            raise ValueError(f"{self.name} (TimeDistributed): expects inputs of rank >= 3 (batch, time, ...), got "
                             f"shape {shape}; a (batch, features) input has no time axis to distribute over")
        batch, steps = shape[0], shape[1]
        return TensorShape((None if batch is None or steps is None else batch * steps,) + shape[2:])

    def build(self, input_shape):
        child = self._child_shape(input_shape)
        if not self.layer.built:
            self.layer.build(child)
            self.layer._build_input_shape, self.layer.built = child, True
        super().build(input_shape)

    def call(self, inputs, training=None, mask=None):
        shape = tuple(inputs.shape)
        folded_shape = self._child_shape(shape)
        batch, steps = shape[:2]
        kwargs = {"training": training}  # Layer.__call__ passes it on only if the layer's call takes it
        if mask is not None:
            if tuple(mask.shape[:2]) != (batch, steps):
                raise ValueError(f"{self.name} (TimeDistributed): the mask must be shaped ({batch}, {steps}, ...) "
                                 f"like the inputs' first two axes, got mask shape {tuple(mask.shape)} for inputs "
                                 f"{shape}")
            if names_parameter(self.layer.call, "mask"):
                kwargs["mask"] = ops.reshape(mask, (batch * steps,) + tuple(mask.shape[2:]))
        outputs = self.layer(ops.reshape(inputs, tuple(folded_shape)), **kwargs)
        return nest.map_structure(lambda y: ops.reshape(y, (batch, steps) + tuple(y.shape[1:])), outputs)

    def get_config(self):
        return {**super().get_config(), "layer": serialize_layer(self.layer)}
