"""`gf.summary.image`: pixels to PNG (Pillow) in TensorBoard's image layout, a string tensor
`[width, height, png_0, png_1, ...]` with the images plugin's metadata, as tf.summary.image writes it."""
from __future__ import annotations

import io

import numpy as np

from ._tensorboard import require
from .ops import add_value, deferred, host_array, target_step

_CHANNELS = (1, 2, 3, 4)  # grey, grey + alpha, RGB, RGBA: Pillow picks the mode from the shape


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """tf.image.convert_image_dtype's rule: floats are clipped to [0, 1] and scaled by 255.5 then truncated;
    integers are clipped to 0..255; booleans are 0 or 255."""
    if pixels.dtype == np.uint8:
        return pixels
    if pixels.dtype.kind == "b":
        return pixels.astype(np.uint8) * 255
    if pixels.dtype.kind in "iu":
        return np.clip(pixels, 0, 255).astype(np.uint8)
    return (np.clip(pixels.astype(np.float32), 0.0, 1.0) * 255.5).astype(np.uint8)


def encode_png(pixels: np.ndarray) -> bytes:
    """One `[h, w, c]` uint8 image as PNG bytes."""
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError('gf.summary.image encodes PNG with Pillow, which is not installed: '
                          'pip install "gpuflow[interop]"  (or: pip install pillow)') from e
    channels = pixels.shape[-1]
    array = pixels[..., 0] if channels == 1 else pixels
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buffer, format="PNG")
    return buffer.getvalue()


def image(name, data, step=None, max_outputs=3, description=None):
    """Write up to `max_outputs` images from `data`, shaped `[k, h, w, c]` with c = 1 (grey), 2 (grey +
    alpha), 3 (RGB) or 4 (RGBA): floats in [0, 1] or uint8 in 0..255 (TensorBoard's Images dashboard)."""
    if deferred(data, step, lambda value, at: image(name, value, at, max_outputs, description)):
        return True
    step = target_step("image", name, step)
    if step is None:
        return False
    pixels = host_array("image", name, data)
    if pixels.ndim != 4 or pixels.shape[-1] not in _CHANNELS:
        raise ValueError(f"gf.summary.image({name!r}): data must be [k, h, w, c] with c in 1..4, got shape "
                         f"{pixels.shape}; add a batch axis with data[None] for one image")
    if pixels.dtype.kind not in "biuf":
        raise TypeError(f"gf.summary.image({name!r}): pixels must be numeric, got dtype {pixels.dtype}")
    pixels = to_uint8(pixels[:max(int(max_outputs), 0)])
    height, width = pixels.shape[1:3]
    encoded = [str(width).encode(), str(height).encode(), *(encode_png(img) for img in pixels)]
    tensor_util = require("util.tensor_util", "gf.summary.image")
    metadata = require("plugins.image.metadata", "gf.summary.image")
    proto = tensor_util.make_tensor_proto(np.array(encoded, dtype=object), dtype=np.object_)
    return add_value(name, proto, metadata.create_summary_metadata(display_name=None, description=description),
                     step)
