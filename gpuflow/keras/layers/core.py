"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Permute, Lambda, ReLU, Softmax,
LeakyReLU, Embedding, Masking (Keras 3 arguments and configs).

Masks (see base_layer.Layer): Embedding(mask_zero=True) and Masking make one; the layers Keras 3
marks `supports_masking` (Dense, Activation, ReLU, LeakyReLU, Softmax, Dropout) pass it on;
Flatten, Reshape and Permute drop it."""
from __future__ import annotations

import inspect
import math

from ... import devices, dtypes
from ... import ops
from ...ops import nn_ops
from ...tensor import TensorShape
from .. import activations, constraints, initializers, regularizers
from ..engine.base_layer import Layer
from ._kernel_bias import bias_activation_epilogue, kernel_bias_config, set_kernel_bias_options


def check_rank(layer, shape, min_rank, what):
    if len(shape) < min_rank:
        raise ValueError(f"{layer.name} ({type(layer).__name__}): expects inputs of rank >= {min_rank} ({what}), "
                         f"got shape {tuple(shape)}; reshape or expand the input first")


def _known_product(dims):
    return None if any(d is None for d in dims) else math.prod(dims)


class Dense(Layer):
    """`activation(inputs @ kernel + bias)`, the matmul over the last axis of inputs of any rank >= 2."""
    supports_masking = True

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if int(units) <= 0:
            raise ValueError(f"{self.name} (Dense): units must be a positive integer, got {units}")
        self.units = int(units)
        set_kernel_bias_options(self, activation, use_bias, kernel_initializer=kernel_initializer,
                                bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                                bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                                kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)

    def build(self, input_shape):
        input_shape = TensorShape(input_shape)
        check_rank(self, input_shape, 2, "a batch axis and a feature axis")
        if input_shape[-1] is None:
            raise ValueError(f"{self.name} (Dense): the last axis of the input must be known to create the kernel, "
                             f"got shape {input_shape}; give Input a full feature size")
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.units,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def call(self, inputs):
        check_rank(self, inputs.shape, 2, "a batch axis and a feature axis")
        if inputs.shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"{self.name} (Dense): was built for {self.kernel.shape[0]} input features but got "
                             f"inputs of shape {tuple(inputs.shape)}; a layer keeps the input size it was built with")
        return bias_activation_epilogue(self, ops.matmul(inputs, self.kernel))

    def compute_output_shape(self, input_shape):
        return TensorShape(tuple(input_shape)[:-1] + (self.units,))

    def get_config(self):
        return {**super().get_config(), "units": self.units, **kernel_bias_config(self)}


class Activation(Layer):
    """Applies an activation function (a name such as 'relu', or a callable) to its input."""
    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class ReLU(Layer):
    """max_value above max_value, x from threshold up, negative_slope * (x - threshold) below."""
    supports_masking = True

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        for arg, value in (("max_value", max_value), ("negative_slope", negative_slope), ("threshold", threshold)):
            if value is not None and value < 0:
                raise ValueError(f"{self.name} (ReLU): {arg} must be >= 0 (or None for max_value), got {value}")
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def call(self, inputs):
        return activations.relu(inputs, negative_slope=self.negative_slope, max_value=self.max_value,
                                threshold=self.threshold)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class LeakyReLU(Layer):
    """x where x > 0, negative_slope * x elsewhere (default slope 0.3; tf.keras 2's `alpha=` is accepted)."""
    supports_masking = True

    def __init__(self, negative_slope=0.3, **kwargs):
        # tf.keras 2 called the slope `alpha`: accepted so ported code runs unchanged.
        negative_slope = kwargs.pop("alpha", negative_slope)
        super().__init__(**kwargs)
        if negative_slope < 0:
            raise ValueError(f"{self.name} (LeakyReLU): negative_slope must be >= 0, got {negative_slope}")
        self.negative_slope = float(negative_slope)

    def call(self, inputs):
        return activations.leaky_relu(inputs, negative_slope=self.negative_slope)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class Softmax(Layer):
    """Softmax over `axis` (an int or a tuple of ints); masked-out positions (mask False) get probability 0.
    A sequence mask (one axis fewer than the inputs, as Embedding(mask_zero=True) makes) covers whole steps."""
    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = tuple(axis) if isinstance(axis, (list, tuple)) else int(axis)

    def call(self, inputs, mask=None):
        if mask is not None:
            if mask.ndim == inputs.ndim - 1:
                mask = ops.expand_dims(mask, -1)
            # A large negative logit rather than -inf: a fully masked row gives a uniform row, not NaN.
            large = -3e4 if inputs.dtype == dtypes.float16 else -1e9  # float16 tops out at 65504
            inputs = inputs + (1.0 - ops.cast(mask, inputs.dtype)) * large
        if isinstance(self.axis, int):
            return nn_ops.softmax(inputs, axis=self.axis)
        return ops.exp(inputs - ops.reduce_logsumexp(inputs, axis=self.axis, keepdims=True))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dropout(Layer):
    """In training, zeroes inputs with probability `rate` and scales the rest by 1 / (1 - rate); the identity
    otherwise. `noise_shape` (None entries take the input's size) shares one mask along its size-1 axes."""
    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError(f"{self.name} (Dropout): rate must be in [0, 1], got {rate}")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        if self.noise_shape is None:
            return nn_ops.dropout(inputs, self.rate, seed=self.seed)
        if len(self.noise_shape) != inputs.ndim:
            raise ValueError(f"{self.name} (Dropout): noise_shape {self.noise_shape} needs one entry per axis of "
                             f"the input, which has shape {tuple(inputs.shape)}")
        shape = tuple(d if n is None else int(n) for n, d in zip(self.noise_shape, inputs.shape))
        with devices.device(inputs._device):
            ones = ops.ones(shape, dtype=inputs.dtype)
        return inputs * nn_ops.dropout(ones, self.rate, seed=self.seed)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}


class Flatten(Layer):
    """(batch, ...) → (batch, product of the rest); channels_first inputs are moved to channels-last first,
    so the feature order matches a channels_last model's."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        data_format = data_format or "channels_last"
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(f"{self.name} (Flatten): data_format must be 'channels_last' or 'channels_first', "
                             f"got {data_format!r}")
        self.data_format = data_format

    def call(self, inputs):
        check_rank(self, inputs.shape, 1, "a batch axis")
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = ops.transpose(inputs, (0,) + tuple(range(2, inputs.ndim)) + (1,))
        return ops.reshape(inputs, (inputs.shape[0], math.prod(inputs.shape[1:])))

    def compute_output_shape(self, input_shape):
        input_shape = TensorShape(input_shape)
        return TensorShape((input_shape[0], _known_product(input_shape[1:])))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshapes each sample to `target_shape` (the batch axis is kept); one entry may be -1."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if self.target_shape.count(-1) > 1 or any(d < -1 for d in self.target_shape):
            raise ValueError(f"{self.name} (Reshape): target_shape {self.target_shape} may hold at most one -1 "
                             f"and no other negative size")

    def _resolve(self, sample_shape):
        """target_shape with -1 filled in from the sample size (None when that size is unknown)."""
        size = _known_product(sample_shape)
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 not in self.target_shape:
            if size is not None and size != known:
                raise ValueError(f"{self.name} (Reshape): cannot reshape samples of shape {tuple(sample_shape)} "
                                 f"({size} values) to {self.target_shape} ({known} values)")
            return self.target_shape
        if size is None:
            return tuple(None if d == -1 else d for d in self.target_shape)
        if known == 0 or size % known:
            raise ValueError(f"{self.name} (Reshape): cannot reshape samples of shape {tuple(sample_shape)} "
                             f"({size} values) to {self.target_shape}: {size} is not a multiple of {known}")
        return tuple(size // known if d == -1 else d for d in self.target_shape)

    def call(self, inputs):
        check_rank(self, inputs.shape, 1, "a batch axis")
        return ops.reshape(inputs, (inputs.shape[0],) + self._resolve(inputs.shape[1:]))

    def compute_output_shape(self, input_shape):
        input_shape = TensorShape(input_shape)
        return TensorShape((input_shape[0],) + self._resolve(input_shape[1:]))

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}


class Permute(Layer):
    """Permutes the non-batch axes; `dims` counts from 1 (the first axis after the batch), as in Keras."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"{self.name} (Permute): dims must be a permutation of 1..{len(self.dims)} (the batch "
                             f"axis 0 is never permuted), got {self.dims}")

    def _check(self, shape):
        if len(shape) != len(self.dims) + 1:
            raise ValueError(f"{self.name} (Permute): dims {self.dims} need inputs of rank {len(self.dims) + 1}, "
                             f"got shape {tuple(shape)}")

    def call(self, inputs):
        self._check(inputs.shape)
        return ops.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        input_shape = TensorShape(input_shape)
        self._check(input_shape)
        return TensorShape((input_shape[0],) + tuple(input_shape[d] for d in self.dims))

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class Lambda(Layer):
    """Wraps `function(inputs, **arguments)`. In memory only: Python code is never serialised (no pickle or
    marshal, which would run arbitrary code on load), so get_config raises.

    `mask` (Keras 3): the output mask, or a callable `mask(inputs, previous_mask)` computing it; without it the
    layer drops its input's mask. A function with a `mask` parameter is given the input's mask."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"{self.name} (Lambda): function must be callable, got {function!r}")
        self.function, self.output_shape_arg, self.arguments = function, output_shape, dict(arguments or {})
        self.mask = mask
        self.supports_masking = mask is not None
        try:
            self._fn_takes_mask = "mask" in inspect.signature(function).parameters
        except (TypeError, ValueError):  # a builtin without a readable signature
            self._fn_takes_mask = False

    def call(self, inputs, mask=None):
        if self._fn_takes_mask:
            return self.function(inputs, mask=mask, **self.arguments)
        return self.function(inputs, **self.arguments)

    def compute_mask(self, inputs, mask=None):
        return self.mask(inputs, mask) if callable(self.mask) else self.mask

    def compute_output_shape(self, input_shape):
        if self.output_shape_arg is None:
            return super().compute_output_shape(input_shape)
        if callable(self.output_shape_arg):
            return self.output_shape_arg(input_shape)
        return TensorShape((TensorShape(input_shape)[0],) + tuple(self.output_shape_arg))

    def get_config(self):
        raise NotImplementedError(
            f"{self.name} (Lambda): Lambda layers are not serialised, because that would mean saving Python code. "
            f"Write a Layer subclass with get_config for a model you need to save, or keep the model in memory "
            f"and save only its weights")


class Embedding(Layer):
    """Looks up rows of an (input_dim, output_dim) table for integer inputs of any shape.

    mask_zero=True: id 0 is padding, so the outputs carry the mask `ids != 0` for the layers after it (an RNN
    skips the padded steps, the loss ignores them). Id 0 still has a row: input_dim is the vocabulary size + 1."""

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, input_length=None, **kwargs):
        if input_length is not None and "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length,)  # tf.keras 2's way of giving the sequence length
        super().__init__(**kwargs)
        if int(input_dim) <= 0 or int(output_dim) <= 0:
            raise ValueError(f"{self.name} (Embedding): input_dim and output_dim must be positive, got "
                             f"{input_dim} and {output_dim}")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        # Keras 3: ids are not cast to the compute dtype (float16 holds integers exactly only up to 2048), and
        # the rows are gathered from the float32 table and then cast, rather than the whole table cast first.
        self.autocast = False
        self.embeddings = None

    def build(self, input_shape=None):
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)

    def call(self, inputs):
        if inputs.dtype.is_floating:  # e.g. NumPy ids the engine converted to floatx, as Keras casts them back
            inputs = ops.cast(inputs, dtypes.int32)
        return ops.cast(ops.gather(self.embeddings, inputs), self._dtype)

    def compute_mask(self, inputs, mask=None):
        return ops.not_equal(inputs, 0) if self.mask_zero else None

    def compute_output_shape(self, input_shape):
        return TensorShape(tuple(input_shape) + (self.output_dim,))

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
                "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
                "mask_zero": self.mask_zero}


class Masking(Layer):
    """Masks the time steps whose features all equal `mask_value`: the outputs carry the (batch, time) mask
    `any(inputs != mask_value, axis=-1)` and are zero at the masked steps (Keras 3's Masking)."""
    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)

    def call(self, inputs):
        check_rank(self, inputs.shape, 2, "a batch axis and a feature axis")
        keep = ops.reduce_any(ops.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        outputs = inputs * ops.cast(keep, inputs.dtype)
        outputs._keras_mask = ops.squeeze(keep, -1)  # computed here once rather than again in compute_mask
        return outputs

    def compute_mask(self, inputs, mask=None):
        return ops.reduce_any(ops.not_equal(inputs, self.mask_value), axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
