"""Keras' reshaping layers: RepeatVector, Cropping1D/2D and UpSampling1D/2D (ZeroPadding is in padding.py)."""
from __future__ import annotations

from ... import image, ops
from ...tensor import TensorShape
from ..engine.base_layer import Layer
from .padding import _data_format, _pair

__all__ = ["RepeatVector", "Cropping1D", "Cropping2D", "UpSampling1D", "UpSampling2D"]


def _rank(layer, shape, rank, layout):
    if len(shape) != rank:
        raise ValueError(f"{layer.name} ({type(layer).__name__}): expects inputs of rank {rank} {layout}, got shape "
                         f"{tuple(shape)}")


class RepeatVector(Layer):
    """(batch, features) → (batch, n, features): the input repeated n times along a new axis 1."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if int(n) < 1:
            raise ValueError(f"{self.name} (RepeatVector): n must be a positive integer, got {n}")
        self.n = int(n)

    def call(self, inputs):
        _rank(self, inputs.shape, 2, "(batch, features)")
        return ops.repeat(ops.expand_dims(inputs, 1), self.n, axis=1)

    def compute_output_shape(self, input_shape):
        return TensorShape((input_shape[0], self.n, input_shape[1]))

    def get_config(self):
        return {**super().get_config(), "n": self.n}


class Cropping1D(Layer):
    """(batch, steps, features) with `cropping` = (start, end) steps (or one int for both) cut off."""

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = _pair(self, cropping, "cropping")

    def call(self, inputs):
        _rank(self, inputs.shape, 3, "(batch, steps, features)")
        start, end = self.cropping
        if start + end > inputs.shape[1]:
            raise ValueError(f"{self.name} (Cropping1D): cropping {self.cropping} removes more than the "
                             f"{inputs.shape[1]} steps of the input")
        return inputs[:, start:inputs.shape[1] - end]

    def compute_output_shape(self, input_shape):
        steps = input_shape[1]
        return TensorShape((input_shape[0], None if steps is None else steps - sum(self.cropping), input_shape[2]))

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping}


class Cropping2D(Layer):
    """Rows and columns cut off an image batch: cropping is an int (every side), (rows, columns) symmetric, or
    ((top, bottom), (left, right))."""

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        pairs = ((cropping, cropping), (cropping, cropping)) if hasattr(cropping, "__index__") else tuple(cropping)
        if len(pairs) != 2:
            raise ValueError(f"{self.name} (Cropping2D): cropping must be an int, 2 ints or 2 pairs, got {cropping!r}")
        self.cropping = tuple(_pair(self, p, "each of cropping's entries") for p in pairs)
        self.data_format = _data_format(self, data_format)

    def _axes(self):
        return (2, 3) if self.data_format == "channels_first" else (1, 2)

    def call(self, inputs):
        _rank(self, inputs.shape, 4, "(batch, height, width, channels)" if self.data_format == "channels_last"
              else "(batch, channels, height, width)")
        index = [slice(None)] * 4
        for axis, (lo, hi) in zip(self._axes(), self.cropping):
            if lo + hi > inputs.shape[axis]:
                raise ValueError(f"{self.name} (Cropping2D): cropping {self.cropping} removes more than the input's "
                                 f"{inputs.shape[axis]} along axis {axis}")
            index[axis] = slice(lo, inputs.shape[axis] - hi)
        return inputs[tuple(index)]

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, (lo, hi) in zip(self._axes(), self.cropping):
            shape[axis] = None if shape[axis] is None else shape[axis] - lo - hi
        return TensorShape(shape)

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}


class UpSampling1D(Layer):
    """(batch, steps, features) → (batch, steps * size, features), each step repeated `size` times."""

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        if int(size) < 1:
            raise ValueError(f"{self.name} (UpSampling1D): size must be a positive integer, got {size}")
        self.size = int(size)

    def call(self, inputs):
        _rank(self, inputs.shape, 3, "(batch, steps, features)")
        return ops.repeat(inputs, self.size, axis=1)

    def compute_output_shape(self, input_shape):
        steps = input_shape[1]
        return TensorShape((input_shape[0], None if steps is None else steps * self.size, input_shape[2]))

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class UpSampling2D(Layer):
    """Images scaled up by (rows, columns) = `size`: each pixel repeated (interpolation 'nearest'), or
    resized bilinearly ('bilinear', as gf.image.resize)."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        size = (size, size) if hasattr(size, "__index__") else tuple(size)
        if len(size) != 2 or not all(int(s) >= 1 for s in size):
            raise ValueError(f"{self.name} (UpSampling2D): size must be a positive int or 2 of them, got {size!r}")
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"{self.name} (UpSampling2D): interpolation must be 'nearest' or 'bilinear', got "
                             f"{interpolation!r}")
        self.size = (int(size[0]), int(size[1]))
        self.data_format = _data_format(self, data_format)
        self.interpolation = interpolation

    def call(self, inputs):
        _rank(self, inputs.shape, 4, "(batch, height, width, channels)" if self.data_format == "channels_last"
              else "(batch, channels, height, width)")
        x = ops.transpose(inputs, (0, 2, 3, 1)) if self.data_format == "channels_first" else inputs
        if self.interpolation == "nearest":
            x = ops.repeat(ops.repeat(x, self.size[0], axis=1), self.size[1], axis=2)
        else:
            x = ops.cast(image.resize(x, (x.shape[1] * self.size[0], x.shape[2] * self.size[1]), "bilinear"),
                         inputs.dtype)
        return ops.transpose(x, (0, 3, 1, 2)) if self.data_format == "channels_first" else x

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        axes = (2, 3) if self.data_format == "channels_first" else (1, 2)
        for axis, s in zip(axes, self.size):
            shape[axis] = None if shape[axis] is None else shape[axis] * s
        return TensorShape(shape)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format,
                "interpolation": self.interpolation}
