"""SpatialDropout1D and SpatialDropout2D: Dropout that drops whole feature maps (Keras 3's arguments).

Neighbouring steps or pixels of one channel are strongly correlated, so dropping them one by one hardly
regularises; these draw one keep-or-drop per (sample, channel) and share it along the other axes, as
Dropout's noise_shape does."""
from __future__ import annotations

from .core import Dropout


class _SpatialDropout(Dropout):
    """Dropout with a noise_shape fixed by the layout: None (the input's size) on the batch and channel axes,
    1 elsewhere."""
    _rank = None

    def call(self, inputs, training=None):
        if inputs.ndim != self._rank:  # checked in inference too, as Keras' input_spec does
            raise ValueError(f"{self.name} ({type(self).__name__}): expects inputs of rank {self._rank} "
                             f"{self._layout()}, got shape {tuple(inputs.shape)}")
        return super().call(inputs, training=training)

    def get_config(self):
        config = super().get_config()
        del config["noise_shape"]  # not an argument here: the layout decides it
        return config


class SpatialDropout1D(_SpatialDropout):
    """In training, zeroes whole channels of (batch, steps, channels) inputs with probability `rate` (one
    draw per sample and channel, for all steps) and scales the rest by 1 / (1 - rate); the identity
    otherwise."""
    _rank = 3

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, noise_shape=(None, 1, None), seed=seed, **kwargs)

    def _layout(self):
        return "(batch, steps, channels)"


class SpatialDropout2D(_SpatialDropout):
    """In training, zeroes whole feature maps of 4-D image inputs with probability `rate` (one draw per sample
    and channel, for all pixels) and scales the rest by 1 / (1 - rate); the identity otherwise.
    `data_format` "channels_last" (the default) or "channels_first" says where the channels are."""
    _rank = 4

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        data_format = data_format or "channels_last"
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(f"SpatialDropout2D: data_format must be 'channels_last' or 'channels_first', got "
                             f"{data_format!r}")
        noise_shape = (None, 1, 1, None) if data_format == "channels_last" else (None, None, 1, 1)
        super().__init__(rate, noise_shape=noise_shape, seed=seed, **kwargs)
        self.data_format = data_format

    def _layout(self):
        return "(batch, rows, cols, channels)" if self.data_format == "channels_last" else \
            "(batch, channels, rows, cols)"

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}
