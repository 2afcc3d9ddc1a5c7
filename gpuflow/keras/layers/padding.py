"""Zero-padding layers (Keras arguments and configs): one gf.pad over the spatial axes."""
from __future__ import annotations

from ... import ops
from ...tensor import TensorShape
from ..engine.base_layer import Layer

__all__ = ["ZeroPadding1D", "ZeroPadding2D"]


def _pair(layer, value, what):
    """(before, after) from an int (both sides) or two ints, each >= 0, or a clear error."""
    items = (value, value) if hasattr(value, "__index__") else tuple(value)
    if len(items) != 2 or not all(hasattr(v, "__index__") and int(v) >= 0 for v in items):
        raise ValueError(f"{layer.name} ({type(layer).__name__}): {what} must be a non-negative int or 2 of them, "
                         f"got {value!r}")
    return int(items[0]), int(items[1])


def _data_format(layer, data_format):
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError(f"{layer.name} ({type(layer).__name__}): data_format must be 'channels_last' or "
                         f"'channels_first', got {data_format!r}")
    return data_format or "channels_last"


class _ZeroPadding(Layer):
    rank = None

    def _spatial_axes(self):
        first = 2 if self.data_format == "channels_first" else 1
        return range(first, first + self.rank)

    def _check(self, shape):
        if len(shape) != self.rank + 2:
            layout = {(1, "channels_last"): "(batch, steps, channels)",
                      (1, "channels_first"): "(batch, channels, steps)",
                      (2, "channels_last"): "(batch, height, width, channels)",
                      (2, "channels_first"): "(batch, channels, height, width)"}[self.rank, self.data_format]
            raise ValueError(f"{self.name} ({type(self).__name__}): expects inputs of rank {self.rank + 2} {layout}, "
                             f"got shape {tuple(shape)}")

    def _paddings(self):
        """One (before, after) pair per axis of the input, zeros off the spatial axes."""
        pads = [(0, 0)] * (self.rank + 2)
        for axis, pair in zip(self._spatial_axes(), self._spatial_pads()):
            pads[axis] = pair
        return pads

    def call(self, inputs):
        self._check(tuple(inputs.shape))
        return ops.pad(inputs, self._paddings())

    def compute_output_shape(self, input_shape):
        input_shape = tuple(TensorShape(input_shape))
        self._check(input_shape)
        pads = self._paddings()
        return TensorShape(tuple(None if d is None else d + lo + hi for d, (lo, hi) in zip(input_shape, pads)))


class ZeroPadding1D(_ZeroPadding):
    """Zeros before and after the steps axis: padding is an int (both ends) or (left, right)."""
    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _pair(self, padding, "padding")
        self.data_format = _data_format(self, data_format)

    def _spatial_pads(self):
        return [self.padding]

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class ZeroPadding2D(_ZeroPadding):
    """Zeros around height and width: padding is an int (all sides), (height, width) for symmetric
    padding, or ((top, bottom), (left, right))."""
    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        if hasattr(padding, "__index__"):
            pairs = ((padding, padding), (padding, padding))
        else:
            items = tuple(padding)
            if len(items) != 2:
                raise ValueError(f"{self.name} (ZeroPadding2D): padding must be an int, 2 ints (height, width) or "
                                 f"2 pairs ((top, bottom), (left, right)), got {padding!r}")
            pairs = items
        self.padding = tuple(_pair(self, p, "each of padding's height and width entries") for p in pairs)
        self.data_format = _data_format(self, data_format)

    def _spatial_pads(self):
        return list(self.padding)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}
