"""Image primitives: resampling one axis by a tap table (gf.image.resize's bilinear and antialiased
paths; its own adjoint is its gradient), and the projective transform behind Keras' RandomRotation,
RandomZoom and RandomTranslation (TF's ImageProjectiveTransformV3, with TF's gradient rule).
Nearest-neighbour resizing is a gather, flips are reverses: they need no primitive of their own."""
from __future__ import annotations

from .. import dtypes
from ..errors import InvalidArgumentError
from ..tensor import TensorSpec
from ._util import require
from .dispatch import primitive

INTERPOLATIONS = ("nearest", "bilinear")
FILL_MODES = ("reflect", "wrap", "constant", "nearest")


def _resample_infer(x, axis, n_in, n_out, method, antialias, adjoint):
    require("image_resample", x, "f", "a floating-point")
    if n_in < 1 or n_out < 1:
        raise InvalidArgumentError(f"image_resample: sizes {n_in} -> {n_out} must be positive")
    src, dst = (n_out, n_in) if adjoint else (n_in, n_out)
    if not 0 <= axis < len(x.shape) or x.shape[axis] != src:
        raise InvalidArgumentError(f"image_resample: axis {axis} of {x.dtype.name}{list(x.shape)} must have size "
                                   f"{src} (resizing {n_in} to {n_out}{', adjoint' if adjoint else ''})")
    return TensorSpec(x.shape[:axis] + (dst,) + x.shape[axis + 1:], x.dtype)


def _resample_grad(g, out, x, axis, n_in, n_out, method, antialias, adjoint):
    # The resize is linear, x -> W x along one axis: its gradient is W^T g, the same table transposed.
    return (image_resample(g, axis=axis, n_in=n_in, n_out=n_out, method=method, antialias=antialias,
                           adjoint=not adjoint),)


image_resample = primitive("image_resample", _resample_infer, _resample_grad)


def _transform_infer(images, transforms, output_shape, interpolation, fill_mode, fill_value):
    name = "image_projective_transform"
    require(name, images, "f", "a floating-point")
    if len(images.shape) != 4:
        raise InvalidArgumentError(f"{name}: images must be 4-D (batch, height, width, channels), got "
                                   f"{images.dtype.name}{list(images.shape)}")
    n = images.shape[0]
    if transforms.dtype is not dtypes.float32 or len(transforms.shape) != 2 or transforms.shape[1] != 8 or \
            transforms.shape[0] not in (1, n):
        raise InvalidArgumentError(f"{name}: transforms must be float32 [1 or batch ({n}), 8], got "
                                   f"{transforms.dtype.name}{list(transforms.shape)}")
    if interpolation not in INTERPOLATIONS or fill_mode not in FILL_MODES:
        raise InvalidArgumentError(f"{name}: interpolation {interpolation!r} must be one of {INTERPOLATIONS} and "
                                   f"fill_mode {fill_mode!r} one of {FILL_MODES}")
    height, width = output_shape
    if height < 0 or width < 0:
        raise InvalidArgumentError(f"{name}: output_shape {list(output_shape)} must not be negative")
    return TensorSpec((n, height, width, images.shape[3]), images.dtype)


def _transform_grad(g, out, images, transforms, output_shape, interpolation, fill_mode, fill_value):
    # TF's rule (ImageProjectiveTransformV2/V3 in image_grad.py): the output gradient mapped back by the inverse
    # transform, which is the adjoint only up to interpolation; none for the transforms themselves.
    from . import array, creation, math
    from .solver_ops import inv
    n = transforms.shape[0]
    with_one = array.concat([transforms, creation.ones_like(transforms[:, :1])], axis=1)
    inverse = array.reshape(inv(array.reshape(with_one, (n, 3, 3))), (n, 9))
    flat = math.divide(inverse, inverse[:, 8:9])[:, :8]
    return image_projective_transform(g, flat, output_shape=tuple(images.shape[1:3]), interpolation=interpolation,
                                      fill_mode=fill_mode, fill_value=0.0), None


image_projective_transform = primitive("image_projective_transform", _transform_infer, _transform_grad)
