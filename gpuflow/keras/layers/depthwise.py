"""DepthwiseConv2D and SeparableConv2D (channels last, Keras 3 arguments and configs) on gf.nn.depthwise_conv2d."""
from __future__ import annotations

from .. import constraints, initializers, regularizers
from ...ops import conv_ops
from ...tensor import TensorShape
from ..engine.base_layer import Layer
from ._kernel_bias import bias_activation_epilogue, kernel_bias_config, set_kernel_bias_options
from .convolutional import check_input_rank, conv_output_length, known_channels, set_window_options

__all__ = ["DepthwiseConv2D", "SeparableConv2D", "SeparableConvolution2D"]


class _Depthwise(Layer):
    """The spatial part both layers share: a (kh, kw, channels, depth_multiplier) kernel per input channel."""

    def _init_spatial(self, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier):
        name = f"{self.name} ({type(self).__name__})"
        if not isinstance(depth_multiplier, int) or depth_multiplier <= 0:
            raise ValueError(f"{name}: depth_multiplier must be a positive integer, got {depth_multiplier!r}")
        self.depth_multiplier = depth_multiplier
        set_window_options(self, 2, kernel_size, strides, dilation_rate, padding, data_format)

    def _depthwise(self, inputs, kernel):
        shape = tuple(inputs.shape)
        check_input_rank(self, shape, 2)
        if shape[-1] != kernel.shape[2]:
            raise ValueError(f"{self.name} ({type(self).__name__}): was built for {kernel.shape[2]} input channels "
                             f"but got inputs of shape {shape}")
        return conv_ops.depthwise_conv2d(inputs, kernel, (1, *self.strides, 1), self.padding.upper(),
                                         dilations=self.dilation_rate)

    def _spatial_shape(self, input_shape, channels_out):
        input_shape = tuple(input_shape)
        spatial = tuple(conv_output_length(s, k, st, d, self.padding) for s, k, st, d in
                        zip(input_shape[1:3], self.kernel_size, self.strides, self.dilation_rate))
        return TensorShape((input_shape[0],) + spatial + (channels_out,))

    def _spatial_config(self):
        return {"kernel_size": self.kernel_size, "strides": self.strides, "padding": self.padding,
                "depth_multiplier": self.depth_multiplier, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate}


class DepthwiseConv2D(_Depthwise):
    """Each input channel convolved with its own `depth_multiplier` filters: output channels channels *
    depth_multiplier, channel c * depth_multiplier + m from kernel[:, :, c, m]."""

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self._init_spatial(kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier)
        set_kernel_bias_options(self, activation, use_bias, kernel_initializer=depthwise_initializer,
                                bias_initializer=bias_initializer, kernel_regularizer=depthwise_regularizer,
                                bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                                kernel_constraint=depthwise_constraint, bias_constraint=bias_constraint)

    def build(self, input_shape):
        channels = known_channels(self, input_shape, 2)
        self.kernel = self.add_weight("kernel", self.kernel_size + (channels, self.depth_multiplier),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight("bias", (channels * self.depth_multiplier,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def call(self, inputs):
        return bias_activation_epilogue(self, self._depthwise(inputs, self.kernel))

    def compute_output_shape(self, input_shape):
        channels = tuple(input_shape)[-1]
        return self._spatial_shape(input_shape, None if channels is None else channels * self.depth_multiplier)

    def get_config(self):
        config = kernel_bias_config(self)
        for option in ("initializer", "regularizer", "constraint"):  # Keras' names for the kernel's options
            config[f"depthwise_{option}"] = config.pop(f"kernel_{option}")
        return {**super().get_config(), **self._spatial_config(), **config}


class SeparableConv2D(_Depthwise):
    """A DepthwiseConv2D (kernel `depthwise_kernel`, (kh, kw, channels, depth_multiplier)) followed by a 1x1
    convolution to `filters` channels (kernel `pointwise_kernel`, (1, 1, channels * depth_multiplier, filters))."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1),
                 depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"{self.name} (SeparableConv2D): filters must be a positive integer, got {filters!r}")
        self.filters = filters
        self._init_spatial(kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier)
        set_kernel_bias_options(self, activation, use_bias, kernel_initializer=pointwise_initializer,
                                bias_initializer=bias_initializer, kernel_regularizer=pointwise_regularizer,
                                bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                                kernel_constraint=pointwise_constraint, bias_constraint=bias_constraint)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)

    def build(self, input_shape):
        channels = known_channels(self, input_shape, 2)
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", (1, 1, channels * self.depth_multiplier, self.filters),
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def call(self, inputs):
        spatial = self._depthwise(inputs, self.depthwise_kernel)
        return bias_activation_epilogue(self, conv_ops.conv2d(spatial, self.pointwise_kernel, strides=1,
                                                              padding="VALID"))

    def compute_output_shape(self, input_shape):
        return self._spatial_shape(input_shape, self.filters)

    def get_config(self):
        config = kernel_bias_config(self)
        for option in ("initializer", "regularizer", "constraint"):  # the 1x1 kernel's options: Keras' pointwise_*
            config[f"pointwise_{option}"] = config.pop(f"kernel_{option}")
        config.update({"depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                       "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
                       "depthwise_constraint": constraints.serialize(self.depthwise_constraint)})
        return {**super().get_config(), "filters": self.filters, **self._spatial_config(), **config}


SeparableConvolution2D = SeparableConv2D
