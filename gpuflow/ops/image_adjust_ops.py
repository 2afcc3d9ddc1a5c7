"""`gf.image` pixel values with TensorFlow's names: convert_image_dtype (TF's scaling between integer and
float images), adjust_brightness, adjust_contrast, per_image_standardization. All compositions of
existing primitives, so their gradients come from those."""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..errors import InvalidArgumentError
from .math import cast, floordiv, maximum, minimum, operands, reduce_mean, reduce_std, rsqrt, tensor_on_device_of

__all__ = ["convert_image_dtype", "adjust_brightness", "adjust_contrast", "per_image_standardization"]


def _is_int(dtype) -> bool:
    return dtype.kind in ("i", "u")  # signed, and unsigned (uint8...) where gpuflow has them


def _int_range(dtype) -> tuple[int, int]:
    info = np.iinfo(dtype.np)
    return int(info.min), int(info.max)


def _clip(x, lo, hi):
    """x limited to [lo, hi], bounds given as NumPy scalars of x's dtype."""
    return minimum(maximum(x, tensor_on_device_of(x, np.asarray(lo))), tensor_on_device_of(x, np.asarray(hi)))


def _saturate_cast(x, dtype):
    """cast(x, dtype) with x first clipped to what dtype holds (TF's saturate_cast). The upper bound is the
    largest value of x's own dtype that does not exceed dtype's maximum (float32 cannot hold 2**31 - 1)."""
    lo, hi = _int_range(dtype)
    if _is_int(x.dtype):
        own_lo, own_hi = _int_range(x.dtype)
        return cast(_clip(x, x.dtype.np.type(max(lo, own_lo)), x.dtype.np.type(min(hi, own_hi))), dtype)
    top = np.asarray(hi, x.dtype.np)
    if float(top) > hi:  # rounded up: step down one value (a positive float's bits count its values)
        bits = np.dtype(f"u{top.itemsize}")
        top = np.asarray(top.view(bits) - bits.type(1), bits).view(x.dtype.np)
    return cast(_clip(x, x.dtype.np.type(lo), top[()]), dtype)


def convert_image_dtype(image, dtype, saturate=False, name=None):
    """`image` converted to `dtype`, rescaling values as TF does (tf.image.convert_image_dtype): floats
    are images in [0, 1), integers use their whole positive range. Integer to float multiplies by
    1 / max; float to integer multiplies by max + 0.5 and truncates; integer to integer shifts by the
    ratio of the ranges (dividing with floor when narrowing); float to float is a cast. `saturate`
    clips before casting, so out-of-range values do not wrap around. The same dtype returns `image`."""
    image = operands(image)[0]
    dtype = dtypes.as_dtype(dtype)
    for d, what in ((image.dtype, "image"), (dtype, "dtype")):
        if not (d.is_floating or _is_int(d)):
            raise InvalidArgumentError(f"convert_image_dtype: the {what} dtype must be a float or integer type, got "
                                       f"{d.name} (image {image.dtype.name}{list(image.shape)})")
    if dtype == image.dtype:
        return image
    if _is_int(image.dtype) and _is_int(dtype):
        in_max, out_max = _int_range(image.dtype)[1], _int_range(dtype)[1]
        if in_max > out_max:  # narrowing: divide first, so in.max lands below out.max + 1
            scaled = floordiv(image, (in_max + 1) // (out_max + 1))
            return _saturate_cast(scaled, dtype) if saturate else cast(scaled, dtype)
        widened = _saturate_cast(image, dtype) if saturate else cast(image, dtype)
        return widened * ((out_max + 1) // (in_max + 1))
    if image.dtype.is_floating and dtype.is_floating:
        return cast(image, dtype)
    if _is_int(image.dtype):
        return cast(image, dtype) * (1.0 / _int_range(image.dtype)[1])
    scaled = image * (_int_range(dtype)[1] + 0.5)  # + 0.5: 1.0 becomes max, not max - 1, after truncation
    return _saturate_cast(scaled, dtype) if saturate else cast(scaled, dtype)


def _at_least_3d(op, image):
    image = operands(image)[0]
    if image.ndim < 3:
        raise InvalidArgumentError(f"{op}: the image must be at least 3-D (height, width, channels), got "
                                   f"{image.dtype.name}{list(image.shape)}")
    return image


def _as_float(op, image):
    """TF's adjust_* working copy: float16/float32 images as they are, others converted to float32."""
    image = _at_least_3d(op, image)
    return image, (image if image.dtype in (dtypes.float16, dtypes.float32) else
                   convert_image_dtype(image, dtypes.float32))


def adjust_brightness(image, delta):
    """`delta` added to every value (tf.image.adjust_brightness): integer images are converted to float
    ([0, 1)) first and back afterwards with saturation; float64 and bfloat16 go through float32."""
    image, work = _as_float("adjust_brightness", image)
    return convert_image_dtype(work + cast(tensor_on_device_of(work, delta), work.dtype), image.dtype, saturate=True)


def adjust_contrast(images, contrast_factor):
    """Each channel of each image moved away from (factor > 1) or towards (factor < 1) its mean over the
    height and width: (x - mean) * contrast_factor + mean (tf.image.adjust_contrast). Integer images are
    converted as in adjust_brightness."""
    images, work = _as_float("adjust_contrast", images)
    mean = reduce_mean(cast(work, dtypes.float32), axis=[-3, -2], keepdims=True)
    factor = cast(tensor_on_device_of(mean, contrast_factor), dtypes.float32)
    adjusted = (cast(work, dtypes.float32) - mean) * factor + mean
    return convert_image_dtype(cast(adjusted, work.dtype), images.dtype, saturate=True)


def per_image_standardization(image):
    """Each image scaled to mean 0 and variance 1 over its height, width and channels: (x - mean) /
    max(stddev, 1 / sqrt(N)) with N its number of values, the floor guarding uniform images
    (tf.image.per_image_standardization). The result is float32, as in TF."""
    return standardize(cast(_at_least_3d("per_image_standardization", image), dtypes.float32))


def standardize(image):
    """per_image_standardization in the image's own float dtype (float64 keeps gradients checkable)."""
    axes = [-1, -2, -3]
    n = int(np.prod(image.shape[-3:]))
    mean = reduce_mean(image, axis=axes, keepdims=True)
    floor = rsqrt(tensor_on_device_of(image, np.asarray(n, image.dtype.np)))
    return (image - mean) / maximum(reduce_std(image, axis=axes, keepdims=True), floor)
