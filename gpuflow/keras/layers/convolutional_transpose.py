"""Conv2DTranspose (channels last, Keras 3 arguments and config) on gf.nn.conv2d_transpose."""
from __future__ import annotations

from ...ops import conv_ops
from ...tensor import TensorShape
from ..engine.base_layer import Layer
from ._kernel_bias import bias_activation_epilogue, kernel_bias_config, set_kernel_bias_options
from .convolutional import check_input_rank, known_channels, set_window_options

__all__ = ["Conv2DTranspose", "Convolution2DTranspose"]


def deconv_output_length(size, kernel, stride, dilation, padding, output_padding):
    """Keras' output length of a transposed convolution along one axis (None stays None)."""
    if size is None:
        return None
    span = (kernel - 1) * dilation + 1
    if output_padding is None:
        return size * stride + max(span - stride, 0) if padding == "valid" else size * stride
    pad = span // 2 if padding == "same" else 0
    return (size - 1) * stride + span - 2 * pad + output_padding


class Conv2DTranspose(Layer):
    """Transposed 2-D convolution (the gradient of Conv2D with respect to its input) over (batch, height, width,
    channels); kernel (kh, kw, filters, channels). Output size along an axis: size * stride with 'same' padding,
    size * stride + max(kernel - stride, 0) with 'valid', or as Keras' `output_padding` says."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        name = f"{self.name} (Conv2DTranspose)"
        if not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"{name}: filters must be a positive integer, got {filters!r}")
        self.filters = filters
        set_window_options(self, 2, kernel_size, strides, dilation_rate, padding, data_format)
        if output_padding is not None:
            pads = (output_padding,) * 2 if hasattr(output_padding, "__index__") else tuple(output_padding)
            if len(pads) != 2 or any(not 0 <= int(p) < s for p, s in zip(pads, self.strides)):
                raise ValueError(f"{name}: output_padding must be 2 ints each >= 0 and below its stride "
                                 f"{self.strides}, got {output_padding!r}")
            output_padding = tuple(int(p) for p in pads)
        self.output_padding = output_padding
        set_kernel_bias_options(self, activation, use_bias, kernel_initializer=kernel_initializer,
                                bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                                bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                                kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)

    def build(self, input_shape):
        channels = known_channels(self, input_shape, 2)
        self.kernel = self.add_weight("kernel", self.kernel_size + (self.filters, channels),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def call(self, inputs):
        shape = tuple(inputs.shape)
        check_input_rank(self, shape, 2)
        if shape[-1] != self.kernel.shape[-1]:
            raise ValueError(f"{self.name} (Conv2DTranspose): was built for {self.kernel.shape[-1]} input channels "
                             f"but got inputs of shape {shape}")
        out = tuple(self.compute_output_shape(shape))
        batch = shape[0] if shape[0] is not None else -1
        outputs = conv_ops.conv2d_transpose(inputs, self.kernel, [batch, out[1], out[2], self.filters],
                                            strides=self.strides, padding=self.padding.upper(),
                                            dilations=self.dilation_rate)
        return bias_activation_epilogue(self, outputs)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        pads = self.output_padding or (None, None)
        spatial = tuple(deconv_output_length(s, k, st, d, self.padding, p) for s, k, st, d, p in
                        zip(input_shape[1:3], self.kernel_size, self.strides, self.dilation_rate, pads))
        return TensorShape((input_shape[0],) + spatial + (self.filters,))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "output_padding": self.output_padding,
                "data_format": self.data_format, "dilation_rate": self.dilation_rate, **kernel_bias_config(self)}


Convolution2DTranspose = Conv2DTranspose
