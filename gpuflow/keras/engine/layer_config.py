"""A layer's config: the constructor arguments `get_config` returns and `from_config` calls the class with
(Keras's contract), which is all a saved model keeps of a layer besides its weights."""
from __future__ import annotations

import inspect

from ..mixed_precision import policy as _policy

# gpuflow's own public layer classes by name: the classes a config may name with no module and no registration.
# Each joins when it is defined (LayerConfig.__init_subclass__), so the engine, below gf.keras.layers, finds
# Dense without importing it; whoever reads configs imports gf.keras.layers first (model_loading, keras_json).
BUILTIN_LAYERS: dict = {}


def _is_builtin(cls) -> bool:
    # (A user's Model subclass called functionally gets a copy with Functional mixed in: see functional.py.)
    return cls.__module__.split(".")[0] == "gpuflow" and not cls.__name__.startswith("_") \
        and "_user_class" not in vars(cls)


class LayerConfig:
    """The part of `Layer` that describes it as a config. Layers whose constructor takes more arguments extend
    `get_config` (starting from `super().get_config()`)."""
    _config_holds_layers = False  # True for Sequential and functional models: their config lists their layers'

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if _is_builtin(cls):
            known = BUILTIN_LAYERS.get(cls.__name__)
            if known is not None and known.__module__ != cls.__module__:
                raise TypeError(f"two gpuflow layer classes are named {cls.__name__} ({known.__module__} and "
                                f"{cls.__module__}): a config names a class by its name alone, so rename one")
            BUILTIN_LAYERS[cls.__name__] = cls

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
