"""`gf.image` geometry with TensorFlow's names: resize, flips (fixed and random), central and random crops,
and the projective transform Keras' random layers use. Images are 3-D (height, width, channels) or 4-D
(batch, height, width, channels), as in TF."""
from __future__ import annotations

import numpy as np

from .. import devices as _device
from .. import dtypes
from ..backend import resample as _tables
from ..errors import InvalidArgumentError, UnimplementedError
from ..tensor import Tensor
from . import image_prims, random_ops
from .array import expand_dims, gather, reverse, squeeze
from .creation import constant
from .math import cast, floor, less, minimum, operands, tensor_on_device_of, where

__all__ = ["ResizeMethod", "resize", "flip_left_right", "flip_up_down", "random_flip_left_right",
           "random_flip_up_down", "central_crop", "random_crop"]


class ResizeMethod:
    """The `method` names of `resize` (tf.image.ResizeMethod); each is the string it stands for.

        Differs from TF:
            Only BILINEAR and NEAREST_NEIGHBOR are implemented; the others raise UnimplementedError.
    """
    BILINEAR = "bilinear"
    NEAREST_NEIGHBOR = "nearest"
    BICUBIC = "bicubic"
    AREA = "area"
    LANCZOS3 = "lanczos3"
    LANCZOS5 = "lanczos5"
    GAUSSIAN = "gaussian"
    MITCHELLCUBIC = "mitchellcubic"


_KNOWN_METHODS = {v for k, v in vars(ResizeMethod).items() if k.isupper()}


def image_rank(op: str, image: Tensor, ranks=(3, 4)) -> int:
    """The rank of `image`, which must be one of `ranks`, or an error naming the op."""
    if image.ndim not in ranks:
        want = " or ".join(f"{r}-D" for r in ranks)
        raise InvalidArgumentError(f"{op}: the image must be {want} ((batch,) height, width, channels), got "
                                   f"{image.dtype.name}{list(image.shape)}")
    return image.ndim


def _batched(op, image, body):
    """body(4-D image) on a 3-D image given a batch of one, and the batch axis taken off again."""
    if image_rank(op, image) == 3:
        return squeeze(body(expand_dims(image, 0)), 0)
    return body(image)


def _size(size):
    if isinstance(size, Tensor):
        size = size.numpy()  # a symbolic tensor (inside gf.function) raises here: sizes are static
    values = np.asarray(size).reshape(-1).tolist() if not isinstance(size, (list, tuple)) else list(size)
    if len(values) != 2 or not all(isinstance(v, (int, np.integer)) or float(v).is_integer() for v in values):
        raise InvalidArgumentError(f"resize: size must be 2 integers [new_height, new_width], got {size!r}")
    return int(values[0]), int(values[1])


def _aspect_size(height, width, size):
    """TF's preserve_aspect_ratio: the largest size within `size` with the image's aspect ratio (in float32)."""
    f32 = np.float32
    scale = min(f32(size[0]) / f32(height), f32(size[1]) / f32(width))
    return int(np.round(f32(scale * f32(height)))), int(np.round(f32(scale * f32(width))))


def resize(images, size, method=ResizeMethod.BILINEAR, preserve_aspect_ratio=False, antialias=False, name=None):
    """Images resized to `size` = [new_height, new_width] (tf.image.resize, TF 2's half-pixel centers).

        `method` "bilinear" returns float32 whatever the input dtype; "nearest" keeps the input dtype.
        `antialias=True` low-pass filters when downsampling (bilinear: a triangle filter as wide as the
        scale, TF's ScaleAndTranslate); nearest ignores it, as TF does. `preserve_aspect_ratio` makes the
        result fit inside `size`, keeping the aspect ratio. Gradients flow to the images for both methods.

        Differs from TF:
            Only "bilinear" and "nearest" (the others raise UnimplementedError). `size` must be known when
            the op runs (Python ints or an eager tensor), not computed inside gf.function.
    """
    images = operands(images)[0]
    image_rank("resize", images)
    method = str(method).lower()
    if method not in ("bilinear", "nearest"):
        if method in _KNOWN_METHODS:
            raise UnimplementedError(f"resize: method {method!r} is not implemented; use 'bilinear' or 'nearest'")
        raise InvalidArgumentError(f"resize: unknown method {method!r}; use one of {sorted(_KNOWN_METHODS)}")
    new_h, new_w = _size(size)
    height, width = images.shape[-3], images.shape[-2]
    if height is None or width is None or height == 0 or width == 0:
        raise InvalidArgumentError(f"resize: the image needs a known, non-zero height and width, got "
                                   f"{images.dtype.name}{list(images.shape)}")
    if preserve_aspect_ratio and new_h > 0 and new_w > 0:
        new_h, new_w = _aspect_size(height, width, (new_h, new_w))
    if new_h <= 0 or new_w <= 0:
        raise InvalidArgumentError(f"resize: size [{new_h}, {new_w}] must be positive (resizing "
                                   f"{images.dtype.name}{list(images.shape)}"
                                   f"{', after preserve_aspect_ratio' if preserve_aspect_ratio else ''})")
    if method == "nearest":
        return _batched("resize", images, lambda x: _nearest(x, height, width, new_h, new_w))
    if images.dtype.kind not in ("f", "i", "u"):
        raise InvalidArgumentError(f"resize: bilinear needs a numeric image, got {images.dtype.name}"
                                   f"{list(images.shape)}")
    return _batched("resize", cast(images, dtypes.float32),
                    lambda x: _linear(x, height, width, new_h, new_w, bool(antialias)))


def _linear(x, height, width, new_h, new_w, antialias):
    for axis, n_in, n_out in ((1, height, new_h), (2, width, new_w)):
        if not _tables.is_identity(n_in, n_out, "bilinear", antialias):
            x = image_prims.image_resample(x, axis=axis, n_in=n_in, n_out=n_out, method="bilinear",
                                           antialias=antialias, adjoint=False)
    return x


def _nearest(x, height, width, new_h, new_w):
    for axis, n_in, n_out in ((1, height, new_h), (2, width, new_w)):
        idx = _tables.nearest_indices(n_in, n_out)
        if n_in != n_out or np.any(idx != np.arange(n_out)):
            x = gather(x, tensor_on_device_of(x, idx), axis=axis)
    return x


def flip_left_right(image):
    """The image mirrored left to right (its width axis reversed), 3-D or 4-D (tf.image.flip_left_right)."""
    image = operands(image)[0]
    return reverse(image, [image_rank("flip_left_right", image) - 2])


def flip_up_down(image):
    """The image upside down (its height axis reversed), 3-D or 4-D (tf.image.flip_up_down)."""
    image = operands(image)[0]
    return reverse(image, [image_rank("flip_up_down", image) - 3])


def _random_flip(op, image, seed, axis_from_end):
    image = operands(image)[0]
    rank = image_rank(op, image)
    batch = image.shape[0]
    if rank == 4 and batch is None:
        raise InvalidArgumentError(f"{op}: the batch size must be known, got {image.dtype.name}{list(image.shape)}")
    with _device.device(image._device):
        u = random_ops.uniform([batch, 1, 1, 1] if rank == 4 else [], seed=seed)
    flip = less(u, 0.5)  # TF: a fair coin per image
    return where(flip, reverse(image, [rank - axis_from_end]), image)


def random_flip_left_right(image, seed=None):
    """Each image (of a 4-D batch, or the one 3-D image) mirrored left to right with probability 1/2
    (tf.image.random_flip_left_right). The coin comes from gf.random's streams: `seed` or gf.random.set_seed
    repeats it, and inside gf.function each call tosses anew."""
    return _random_flip("random_flip_left_right", image, seed, 2)


def random_flip_up_down(image, seed=None):
    """Each image turned upside down with probability 1/2 (tf.image.random_flip_up_down), seeded as
    random_flip_left_right."""
    return _random_flip("random_flip_up_down", image, seed, 3)


def central_crop(image, central_fraction):
    """The central `central_fraction` (in (0, 1]) of the height and width (tf.image.central_crop); the
    offsets are rounded down as in TF, so the crop is centred to a pixel."""
    image = operands(image)[0]
    rank = image_rank("central_crop", image)
    fraction = float(central_fraction)
    if not 0.0 < fraction <= 1.0:
        raise InvalidArgumentError(f"central_crop: central_fraction must be within (0, 1], got {central_fraction}")
    if fraction == 1.0:
        return image
    h, w = image.shape[rank - 3], image.shape[rank - 2]
    top, left = int((h - h * fraction) / 2), int((w - w * fraction) / 2)
    box = (slice(top, h - top), slice(left, w - left), slice(None))
    return image[box] if rank == 3 else image[(slice(None),) + box]


def random_crop(value, size, seed=None, name=None):
    """A block of shape `size` at a uniformly random offset of `value` (any rank; tf.image.random_crop).
    One offset for the whole tensor, so a 4-D batch is cropped at one place. Seeded by gf.random's
    streams; inside gf.function each call draws a new offset, and the gradient flows to `value`."""
    x = operands(value)[0]
    sizes = [int(s) for s in (size.numpy().tolist() if isinstance(size, Tensor) else np.asarray(size).ravel())]
    shape = list(x.shape)
    if len(sizes) != len(shape) or any(d is None or s < 0 or s > d for s, d in zip(sizes, shape)):
        raise InvalidArgumentError(f"random_crop: size {sizes} needs one entry per axis of "
                                   f"{x.dtype.name}{shape}, each between 0 and that axis' length")
    if not shape:
        return x
    limits = [d - s + 1 for s, d in zip(sizes, shape)]
    with _device.device(x._device):
        u = random_ops.uniform([len(shape)], seed=seed, dtype=dtypes.float64)
        offsets = cast(minimum(floor(u * constant(np.array(limits, np.float64))),
                               constant(np.array(limits, np.float64) - 1)), dtypes.int32)
        steps = [constant(np.arange(s, dtype=np.int32)) for s in sizes]
    for axis, (s, d) in enumerate(zip(sizes, shape)):
        if s < d:
            x = gather(x, offsets[axis] + steps[axis], axis=axis)
    return x


def projective_transform(images, transforms, output_shape=None, interpolation="bilinear", fill_mode="reflect",
                         fill_value=0.0):
    """`images` (4-D) resampled through projective `transforms` (float32 [batch or 1, 8], each the
    [a0, a1, a2, b0, b1, b2, c0, c1] of TF's ImageProjectiveTransformV3, mapping output to input
    coordinates). Keras' RandomRotation, RandomZoom and RandomTranslation build on it."""
    images = operands(images)[0]
    image_rank("projective_transform", images, (4,))
    transforms = tensor_on_device_of(images, transforms, dtype_hint=dtypes.float32)
    output_shape = tuple(images.shape[1:3]) if output_shape is None else tuple(int(d) for d in output_shape)
    return image_prims.image_projective_transform(images, transforms, output_shape=output_shape,
                                                  interpolation=interpolation, fill_mode=fill_mode,
                                                  fill_value=float(fill_value))
