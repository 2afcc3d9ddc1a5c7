"""Pooling layers (channels last, Keras 3 arguments and configs): windowed max/average pooling on
the pooling primitives, global pooling as reductions over the spatial axes."""
from __future__ import annotations

from ... import ops
from ...ops import conv_ops
from ...tensor import TensorShape
from ..engine.base_layer import Layer
from .convolutional import as_tuple, check_data_format, check_input_rank, conv_output_length

__all__ = ["MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D",
           "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "MaxPool1D", "MaxPool2D",
           "AvgPool1D", "AvgPool2D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D"]


class _Pooling(Layer):
    rank = None
    op = None  # the conv_ops function: (inputs, ksize, strides, padding)

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = as_tuple(self, "pool_size", pool_size, self.rank)
        self.strides = self.pool_size if strides is None else as_tuple(self, "strides", strides, self.rank)
        if str(padding).lower() not in ("valid", "same"):
            raise ValueError(f"{self.name} ({type(self).__name__}): padding must be 'valid' or 'same', got {padding!r}")
        self.padding = str(padding).lower()
        self.data_format = check_data_format(self, data_format)

    def call(self, inputs):
        shape = tuple(inputs.shape)
        check_input_rank(self, shape, self.rank)
        if self.padding == "valid" and any(s < k for s, k in zip(shape[1:-1], self.pool_size)):
            raise ValueError(f"{self.name} ({type(self).__name__}): pool_size {self.pool_size} is larger than the "
                             f"input {shape} along a spatial axis; use padding='same' or a smaller pool_size")
        pool = self.pool_size if self.rank == 2 else self.pool_size[0]
        strides = self.strides if self.rank == 2 else self.strides[0]
        return type(self).op(inputs, pool, strides, self.padding.upper())

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        spatial = tuple(conv_output_length(s, k, st, 1, self.padding)
                        for s, k, st in zip(input_shape[1:-1], self.pool_size, self.strides))
        return TensorShape((input_shape[0],) + spatial + (input_shape[-1],))

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format}


class MaxPooling2D(_Pooling):
    """Maximum over `pool_size` windows of (batch, height, width, channels) inputs, moved by `strides`.

        Differs from TF:
            Channels-last only: `data_format='channels_first'` raises.
    """
    rank, op = 2, staticmethod(conv_ops.max_pool2d)


class AveragePooling2D(_Pooling):
    """Mean over `pool_size` windows of (batch, height, width, channels) inputs, moved by `strides`.

        Differs from TF:
            Channels-last only: `data_format='channels_first'` raises.
    """
    rank, op = 2, staticmethod(conv_ops.avg_pool2d)


class MaxPooling1D(_Pooling):
    """Maximum over `pool_size` windows of (batch, steps, channels) inputs, moved by `strides`.

        Differs from TF:
            Channels-last only: `data_format='channels_first'` raises.
    """
    rank, op = 1, staticmethod(conv_ops.max_pool1d)


class AveragePooling1D(_Pooling):
    """Mean over `pool_size` windows of (batch, steps, channels) inputs, moved by `strides`.

        Differs from TF:
            Channels-last only: `data_format='channels_first'` raises.
    """
    rank, op = 1, staticmethod(conv_ops.avg_pool1d)


class _GlobalPooling(Layer):
    rank = None
    reduce = None  # gf.reduce_mean or gf.reduce_max

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(self, data_format)
        self.keepdims = bool(keepdims)

    def call(self, inputs):
        check_input_rank(self, tuple(inputs.shape), self.rank)
        return type(self).reduce(inputs, axis=list(range(1, self.rank + 1)), keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        middle = (1,) * self.rank if self.keepdims else ()
        return TensorShape((input_shape[0],) + middle + (input_shape[-1],))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling):
    """The mean over height and width: (batch, channels), or (batch, 1, 1, channels) with keepdims.

        Differs from TF:
            Channels-last only: `data_format='channels_first'` raises.
    """
    rank, reduce = 2, staticmethod(ops.reduce_mean)


class GlobalMaxPooling2D(_GlobalPooling):
    """The maximum over height and width: (batch, channels), or (batch, 1, 1, channels) with keepdims.

        Differs from TF:
            Channels-last only: `data_format='channels_first'` raises.
    """
    rank, reduce = 2, staticmethod(ops.reduce_max)


class GlobalAveragePooling1D(_GlobalPooling):
    """The mean over the time axis; with a (batch, time) mask, the mean over the unmasked steps (Keras 3's).
    The output has no time axis, so it carries no mask."""
    rank, reduce = 1, staticmethod(ops.reduce_mean)
    supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        check_input_rank(self, tuple(inputs.shape), self.rank)
        if tuple(mask.shape) != tuple(inputs.shape[:2]):
            raise ValueError(f"{self.name} (GlobalAveragePooling1D): the mask must have shape (batch, steps) = "
                             f"{tuple(inputs.shape[:2])} for inputs of shape {tuple(inputs.shape)}, got "
                             f"{tuple(mask.shape)}")
        weights = ops.expand_dims(ops.cast(mask, inputs.dtype), 2)
        total = ops.reduce_sum(inputs * weights, axis=1, keepdims=self.keepdims)
        return total / ops.reduce_sum(weights, axis=1, keepdims=self.keepdims)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalMaxPooling1D(_GlobalPooling):
    """The maximum over the steps axis: (batch, channels), or (batch, 1, channels) with keepdims.

        Differs from TF:
            Channels-last only: `data_format='channels_first'` raises.
    """
    rank, reduce = 1, staticmethod(ops.reduce_max)


MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D = MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
