"""A layer's config: the constructor arguments `get_config` returns and `from_config` calls the class with
(Keras's contract), which is all a saved model keeps of a layer besides its weights."""
from __future__ import annotations

import inspect

from ..mixed_precision import policy as _policy


class LayerConfig:
    """The part of `Layer` that describes it as a config. Layers whose constructor takes more arguments extend
    `get_config` (starting from `super().get_config()`)."""

    def get_config(self):
        """The constructor arguments that make this layer again (JSON-ready values), as a dict."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": _policy.serialize(self._dtype_policy)}
        if not self.autocast and "autocast" in inspect.signature(type(self).__init__).parameters:
            config["autocast"] = False  # only a class whose constructor names it can be given it back
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = tuple(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config):
        """The layer `get_config` described: `cls(**config)`."""
        return cls(**config)

    def __reduce__(self):
        raise TypeError("gpuflow layers are not pickled; save weights with save_weights (safetensors) and the "
                        "architecture with get_config()")
