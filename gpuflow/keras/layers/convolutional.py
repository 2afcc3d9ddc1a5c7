"""Conv1D and Conv2D (channels last, Keras 3 arguments and configs) on gf.nn.conv2d / conv1d."""
from __future__ import annotations

from ...ops import array, conv_ops
from ...tensor import TensorShape
from ..engine.base_layer import Layer
from ._kernel_bias import bias_activation_epilogue, kernel_bias_config, set_kernel_bias_options

__all__ = ["Conv1D", "Conv2D", "Convolution1D", "Convolution2D"]


def as_tuple(layer, what, value, rank):
    """Keras' int-or-tuple arguments as a tuple of `rank` positive ints, or a clear error."""
    items = (value,) * rank if hasattr(value, "__index__") else tuple(value)
    if len(items) != rank or not all(hasattr(v, "__index__") and int(v) > 0 for v in items):
        raise ValueError(f"{layer.name} ({type(layer).__name__}): {what} must be a positive int or {rank} of them, "
                         f"got {value!r}")
    return tuple(int(v) for v in items)


def check_data_format(layer, data_format):
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{layer.name} ({type(layer).__name__}): only data_format='channels_last' is supported, got "
                         f"{data_format!r}; transpose your inputs to channels last (NHWC / NWC)")
    return "channels_last"


def check_input_rank(layer, shape, rank):
    if len(shape) != rank + 2:
        layout = "(batch, steps, channels)" if rank == 1 else "(batch, height, width, channels)"
        raise ValueError(f"{layer.name} ({type(layer).__name__}): expects inputs of rank {rank + 2} {layout}, got "
                         f"shape {tuple(shape)}")


def set_window_options(layer, rank, kernel_size, strides, dilation_rate, padding, data_format,
                       paddings=("valid", "same")):
    """Set layer.kernel_size, strides and dilation_rate (each `rank` positive ints), padding (one of `paddings`,
    lower-case) and data_format (channels last), checked as Keras' convolutions check them."""
    if str(padding).lower() not in paddings:
        options = ", ".join(repr(p) for p in paddings[:-1]) + f" or {paddings[-1]!r}"
        raise ValueError(f"{layer.name} ({type(layer).__name__}): padding must be {options}, got {padding!r}")
    layer.kernel_size = as_tuple(layer, "kernel_size", kernel_size, rank)
    layer.strides = as_tuple(layer, "strides", strides, rank)
    layer.dilation_rate = as_tuple(layer, "dilation_rate", dilation_rate, rank)
    layer.padding = str(padding).lower()
    layer.data_format = check_data_format(layer, data_format)


def known_channels(layer, input_shape, rank) -> int:
    """The input's channel count, after checking its rank; a clear error when it is not known (build needs it)."""
    input_shape = TensorShape(input_shape)
    check_input_rank(layer, input_shape, rank)
    if input_shape[-1] is None:
        raise ValueError(f"{layer.name} ({type(layer).__name__}): the input channel count must be known, got input "
                         f"shape {input_shape}")
    return input_shape[-1]


def conv_output_length(size, kernel, stride, dilation, padding):
    """Output length along one axis (None stays None). 'same' is tf's ceil(size / stride); 'causal'
    pads the start by the kernel's span, which gives the same length."""
    if size is None:
        return None
    if padding in ("same", "causal"):
        return -(-size // stride)
    return (size - (kernel - 1) * dilation - 1) // stride + 1


class _Conv(Layer):
    rank = None

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1, groups=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        name = f"{self.name} ({type(self).__name__})"
        if not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"{name}: filters must be a positive integer, got {filters!r}")
        if not isinstance(groups, int) or groups <= 0 or filters % groups:
            raise ValueError(f"{name}: groups must be a positive integer dividing filters ({filters}), got {groups!r}")
        self.filters, self.groups = filters, groups
        set_window_options(self, self.rank, kernel_size, strides, dilation_rate, padding, data_format,
                           ("valid", "same", "causal") if self.rank == 1 else ("valid", "same"))
        set_kernel_bias_options(self, activation, use_bias, kernel_initializer=kernel_initializer,
                                bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                                bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                                kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)

    def build(self, input_shape):
        input_shape = TensorShape(input_shape)
        check_input_rank(self, input_shape, self.rank)
        channels = input_shape[-1]
        if channels is None or channels % self.groups:
            raise ValueError(f"{self.name} ({type(self).__name__}): the input channel count must be known and a "
                             f"multiple of groups={self.groups}, got input shape {input_shape}")
        self.kernel = self.add_weight("kernel", self.kernel_size + (channels // self.groups, self.filters),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def _check_call(self, shape):
        check_input_rank(self, shape, self.rank)
        built_channels = self.kernel.shape[-2] * self.groups
        if shape[-1] != built_channels:
            raise ValueError(f"{self.name} ({type(self).__name__}): was built for {built_channels} input channels but "
                             f"got inputs of shape {tuple(shape)}; a layer keeps the channel count it was built with")
        for axis, (size, k, d) in enumerate(zip(shape[1:-1], self.kernel_size, self.dilation_rate)):
            span = (k - 1) * d + 1
            if self.padding == "valid" and size < span:
                raise ValueError(f"{self.name} ({type(self).__name__}): the kernel {self.kernel_size} with dilation "
                                 f"{self.dilation_rate} spans {span} but spatial axis {axis} of the input "
                                 f"{tuple(shape)} has only {size}; use padding='same' or a larger input")

    def call(self, inputs):
        self._check_call(tuple(inputs.shape))
        return bias_activation_epilogue(self, self._convolve(inputs))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        spatial = tuple(conv_output_length(s, k, st, d, self.padding) for s, k, st, d in
                        zip(input_shape[1:-1], self.kernel_size, self.strides, self.dilation_rate))
        return TensorShape((input_shape[0],) + spatial + (self.filters,))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate, "groups": self.groups,
                **kernel_bias_config(self)}


class Conv2D(_Conv):
    """2-D convolution over (batch, height, width, channels); kernel (kh, kw, channels / groups, filters)."""
    rank = 2

    def _convolve(self, inputs):
        return conv_ops.conv2d(inputs, self.kernel, strides=self.strides, padding=self.padding.upper(),
                               dilations=self.dilation_rate)


class Conv1D(_Conv):
    """1-D convolution over (batch, steps, channels); 'causal' pads only the start, so output t sees inputs <= t."""
    rank = 1

    def _convolve(self, inputs):
        padding = self.padding
        if padding == "causal":
            left = (self.kernel_size[0] - 1) * self.dilation_rate[0]
            inputs = array.pad(inputs, [[0, 0], [left, 0], [0, 0]])
            padding = "valid"
        return conv_ops.conv1d(inputs, self.kernel, stride=self.strides[0], padding=padding.upper(),
                               dilations=self.dilation_rate[0])


Convolution1D, Convolution2D = Conv1D, Conv2D
