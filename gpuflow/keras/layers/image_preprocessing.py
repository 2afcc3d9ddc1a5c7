"""Image preprocessing layers: Resizing, CenterCrop, and the augmentations RandomFlip, RandomRotation,
RandomZoom and RandomTranslation (Keras 3's names, arguments and transforms).

The random layers act only in training: called alone (a Dataset.map, a preprocessing function) they
default to training=True as Keras' do; inside a model, fit trains them and predict/evaluate/model(x) pass
training=False, so they return their input. Their random numbers come from gf.random's Philox streams
(`seed`, gf.random.set_seed), drawn as ops: a gf.function (fit's compiled step) draws new ones on every
call, and Dataset.map's threads draw the same numbers whatever order they run in.
"""
from __future__ import annotations

import math

import numpy as np

from ... import devices, dtypes, ops
from ...ops import image_ops, random_ops
from ..engine.base_layer import _TRAINING, Layer
from ..engine.keras_tensor import any_symbolic

_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_INTERPOLATIONS = ("bilinear", "nearest")


def _data_format(layer, data_format):
    data_format = data_format or "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{layer.name} ({type(layer).__name__}): data_format must be 'channels_last' or "
                         f"'channels_first', got {data_format!r}")
    return data_format


class _ImageLayer(Layer):
    """Images in, images of the same layout out: 3-D (one image) or 4-D (a batch), channels last or first.
    `call` hands `_images` a channels-last 4-D float batch in the compute dtype and undoes the layout after."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _data_format(self, data_format)

    def call(self, inputs, training=None):
        x = ops.cast(inputs, self._dtype)
        if x.ndim not in (3, 4):
            raise ValueError(f"{self.name} ({type(self).__name__}): expects images of rank 3 (height, width, "
                             f"channels) or 4 (batch, ...), got shape {tuple(x.shape)}")
        single = x.ndim == 3
        if single:
            x = ops.expand_dims(x, 0)
        if self.data_format == "channels_first":
            x = ops.transpose(x, (0, 2, 3, 1))
        x = self._images(x, training)
        if self.data_format == "channels_first":
            x = ops.transpose(x, (0, 3, 1, 2))
        return ops.squeeze(x, 0) if single else x

    def _images(self, x, training):
        raise NotImplementedError

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Resizing(_ImageLayer):
    """Images resized to (`height`, `width`) with gf.image.resize (`interpolation` "bilinear" or "nearest"),
    in the layer's compute dtype. `crop_to_aspect_ratio` first crops the largest centred window with the
    target's aspect ratio; `pad_to_aspect_ratio` instead pads the image with `fill_value` to that ratio, so
    nothing is distorted either way (Keras 3's rules).

        Differs from TF:
            Only "bilinear" and "nearest" interpolation; `fill_mode` takes only "constant".
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False, pad_to_aspect_ratio=False,
                 fill_mode="constant", fill_value=0.0, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.height, self.width = int(height), int(width)
        if self.height <= 0 or self.width <= 0:
            raise ValueError(f"{self.name} (Resizing): height and width must be positive, got {height} and {width}")
        if interpolation not in _INTERPOLATIONS:
            raise ValueError(f"{self.name} (Resizing): interpolation {interpolation!r} is not one of "
                             f"{_INTERPOLATIONS} (the methods gf.image.resize implements)")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError(f"{self.name} (Resizing): crop_to_aspect_ratio and pad_to_aspect_ratio cannot both be "
                             f"True")
        if fill_mode != "constant":
            raise ValueError(f"{self.name} (Resizing): fill_mode must be 'constant', got {fill_mode!r}")
        self.interpolation = interpolation
        self.crop_to_aspect_ratio, self.pad_to_aspect_ratio = bool(crop_to_aspect_ratio), bool(pad_to_aspect_ratio)
        self.fill_mode, self.fill_value = fill_mode, float(fill_value)

    def _images(self, x, training):
        h, w = x.shape[1], x.shape[2]
        if self.crop_to_aspect_ratio:
            x = _crop_to_aspect_ratio(x, self.height, self.width)
        elif self.pad_to_aspect_ratio:
            pad_h = max(h, int(np.float32(w * self.height) / np.float32(self.width)))
            pad_w = max(w, int(np.float32(h * self.width) / np.float32(self.height)))
            top, left = int(np.float32(pad_h - h) / 2), int(np.float32(pad_w - w) / 2)
            x = ops.pad(x, [[0, 0], [top, pad_h - h - top], [left, pad_w - w - left], [0, 0]],
                        constant_values=self.fill_value)
        return ops.cast(image_ops.resize(x, [self.height, self.width], method=self.interpolation), self._dtype)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        rows = len(shape) - (2 if self.data_format == "channels_first" else 3)
        shape[rows:rows + 2] = [self.height, self.width]
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation, "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value}


def _crop_to_aspect_ratio(x, height, width):
    """The largest centred window of the (batch, h, w, channels) images with the aspect ratio height / width."""
    h, w = x.shape[1], x.shape[2]
    crop_h = max(min(h, int(np.float32(w * height) / np.float32(width))), 1)
    crop_w = max(min(w, int(np.float32(h * width) / np.float32(height))), 1)
    top, left = int(np.float32(h - crop_h) / 2), int(np.float32(w - crop_w) / 2)
    return x[:, top:top + crop_h, left:left + crop_w, :]


class CenterCrop(_ImageLayer):
    """The centred (`height`, `width`) window of each image (3-D, or a 4-D batch; `data_format`
    "channels_last" or "channels_first"), in the layer's compute dtype. An image smaller than that on
    either side is instead cropped to the target's aspect ratio and resized to it (bilinear), as Keras 3's
    CenterCrop does, so the output always has the requested size."""

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.height, self.width = int(height), int(width)
        if self.height <= 0 or self.width <= 0:
            raise ValueError(f"{self.name} (CenterCrop): height and width must be positive, got {height} and {width}")

    def _images(self, x, training):
        h, w = x.shape[1], x.shape[2]
        if h is None or w is None:
            raise ValueError(f"{self.name} (CenterCrop): the images' height and width must be known, got shape "
                             f"{tuple(x.shape)} (channels last)")
        if h >= self.height and w >= self.width:
            top, left = (h - self.height) // 2, (w - self.width) // 2
            return x[:, top:top + self.height, left:left + self.width, :]
        x = _crop_to_aspect_ratio(x, self.height, self.width)
        return ops.cast(image_ops.resize(x, [self.height, self.width], method="bilinear"), self._dtype)

    compute_output_shape = Resizing.compute_output_shape

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


class _RandomImageLayer(_ImageLayer):
    """The random layers' shared rules: training defaults to True when called alone (Keras' call signature
    default), the identity (in the compute dtype) when not training, and per-image draws from gf.random."""

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.seed = seed

    def __call__(self, *args, **kwargs):
        # Keras resolves training from the call, then the enclosing call, then `call`'s own default, which is
        # True for these layers; the engine here stops at the enclosing call (False when there is none).
        # A symbolic (functional) call records no flag: the model's own flag reaches the layer when it runs.
        if "training" not in kwargs and _TRAINING.get() is None and not any_symbolic((args, kwargs)):
            kwargs["training"] = True
        return super().__call__(*args, **kwargs)

    def _images(self, x, training):
        return self._augment(x) if training else x

    def _uniform(self, like, lower, upper):
        """One draw per image of the batch `like`, uniform in [lower, upper), as float32 [batch]."""
        batch = like.shape[0]
        if batch is None:
            raise ValueError(f"{self.name} ({type(self).__name__}): the batch size must be known to draw one random "
                             f"transform per image, got images of shape {tuple(like.shape)}")
        with devices.device(like._device):
            return random_ops.uniform([batch], minval=lower, maxval=upper, seed=self.seed)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class RandomFlip(_RandomImageLayer):
    """In training, flips each image left-right and/or up-down with probability 1/2 each (`mode`:
    "horizontal", "vertical" or "horizontal_and_vertical"); the input otherwise.

        Differs from TF:
            With "horizontal_and_vertical" the two flips are drawn independently, as in tf.keras 2 (Keras 3
            uses one coin for both).
    """

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        if mode not in ("horizontal", "vertical", "horizontal_and_vertical"):
            raise ValueError(f"{self.name} (RandomFlip): mode must be 'horizontal', 'vertical' or "
                             f"'horizontal_and_vertical', got {mode!r}")
        self.mode = mode

    def _augment(self, x):
        if self.mode != "vertical":
            x = image_ops.random_flip_left_right(x, seed=self.seed)
        if self.mode != "horizontal":
            x = image_ops.random_flip_up_down(x, seed=self.seed)
        return x

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


def _range(layer, what, factor, low=-math.inf, high=math.inf):
    """A factor as Keras reads it: a number f means (-f, f), a pair is (lower, upper), both within [low, high]."""
    if isinstance(factor, (list, tuple)):
        if len(factor) != 2:
            raise ValueError(f"{layer.name} ({type(layer).__name__}): {what} must be a number or a pair "
                             f"(lower, upper), got {factor!r}")
        lower, upper = float(factor[0]), float(factor[1])
    else:
        if float(factor) < 0:
            raise ValueError(f"{layer.name} ({type(layer).__name__}): a single {what} must not be negative, got "
                             f"{factor!r}; give a pair (lower, upper) for an asymmetric range")
        lower, upper = -float(factor), float(factor)
    if lower > upper or lower < low or upper > high:
        raise ValueError(f"{layer.name} ({type(layer).__name__}): {what} {factor!r} must give lower <= upper within "
                         f"[{low}, {high}]")
    return lower, upper


class _RandomTransform(_RandomImageLayer):
    """A random affine transform per image, applied by gf.image's projective transform (TF's
    ImageProjectiveTransformV3): `fill_mode` ("reflect", "wrap", "constant", "nearest") says what lies
    outside the image, `interpolation` ("bilinear", "nearest") how pixels are read."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(seed, data_format, **kwargs)
        if fill_mode not in _FILL_MODES:
            raise ValueError(f"{self.name} ({type(self).__name__}): fill_mode must be one of {_FILL_MODES}, got "
                             f"{fill_mode!r}")
        if interpolation not in _INTERPOLATIONS:
            raise ValueError(f"{self.name} ({type(self).__name__}): interpolation must be one of {_INTERPOLATIONS}, "
                             f"got {interpolation!r}")
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, float(fill_value)

    def _augment(self, x):
        rows = self._transforms(x, float(x.shape[1]), float(x.shape[2]))
        zero = ops.zeros_like(rows[0])
        flat = ops.stack([zero if r is None else ops.cast(r, dtypes.float32) for r in rows], axis=1)
        return image_ops.projective_transform(x, flat, interpolation=self.interpolation, fill_mode=self.fill_mode,
                                              fill_value=self.fill_value)

    def _transforms(self, x, height, width):
        """The 8 entries of each image's transform (each [batch] or None for 0), output -> input coordinates."""
        raise NotImplementedError

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "fill_value": self.fill_value}


class RandomRotation(_RandomTransform):
    """In training, rotates each image about its centre by a random angle of `factor` turns (a number f:
    uniform in [-f, f) * 2 pi; a pair: [lower, upper) * 2 pi; positive is counter-clockwise); the input
    otherwise. Keras 3's transform, applied with `fill_mode` and `interpolation`."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = factor
        self._lower, self._upper = _range(self, "factor", factor)

    def _transforms(self, x, height, width):
        angle = self._uniform(x, self._lower * 2 * math.pi, self._upper * 2 * math.pi)
        cos, sin = ops.cos(angle), ops.sin(angle)
        x_offset = ((width - 1) - (cos * (width - 1) - sin * (height - 1))) / 2.0
        y_offset = ((height - 1) - (sin * (width - 1) + cos * (height - 1))) / 2.0
        return [cos, -sin, x_offset, sin, cos, y_offset, None, None]

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class RandomZoom(_RandomTransform):
    """In training, zooms each image about its centre: `height_factor` f draws a vertical scale in
    [1 - f, 1 + f) (a pair: [1 + lower, 1 + upper)); positive values zoom out, negative zoom in.
    `width_factor` likewise, or None to keep the aspect ratio (the height's scale for both). The input
    otherwise."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._height = _range(self, "height_factor", height_factor, low=-1.0)
        self._width = None if width_factor is None else _range(self, "width_factor", width_factor, low=-1.0)

    def _transforms(self, x, height, width):
        zoom_y = self._uniform(x, 1.0 + self._height[0], 1.0 + self._height[1])
        zoom_x = zoom_y if self._width is None else self._uniform(x, 1.0 + self._width[0], 1.0 + self._width[1])
        return [zoom_x, None, (width - 1) / 2.0 * (1.0 - zoom_x), None, zoom_y, (height - 1) / 2.0 * (1.0 - zoom_y),
                None, None]

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}


class RandomTranslation(_RandomTransform):
    """In training, shifts each image by a random fraction of its size: `height_factor` f draws a vertical
    shift in [-f, f) * height (a pair: [lower, upper) * height, within [-1, 1]; positive moves down), and
    `width_factor` a horizontal one (positive moves right). The input otherwise."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._height = _range(self, "height_factor", height_factor, -1.0, 1.0)
        self._width = _range(self, "width_factor", width_factor, -1.0, 1.0)

    def _transforms(self, x, height, width):
        dy = self._uniform(x, self._height[0], self._height[1]) * height
        dx = self._uniform(x, self._width[0], self._width[1]) * width
        one = ops.ones_like(dx)
        return [one, None, -dx, None, one, -dy, None, None]

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}

