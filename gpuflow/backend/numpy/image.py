"""Image primitives on NumPy: resampling by tap tables and TF's projective transform, both in float32
(float64 for float64 images) the way the kernels compute them."""
from __future__ import annotations

import numpy as np

from ..resample import table
from ._registry import impl, narrow, quiet, widen


@impl("image_resample")
def image_resample(x, axis, n_in, n_out, method, antialias, adjoint):
    w_x = widen(x)
    idx, w = table(n_in, n_out, method, antialias, adjoint, "float64" if x.dtype == np.float64 else "float32")
    shape = [1] * x.ndim
    shape[axis] = idx.shape[0]
    out = np.zeros(x.shape[:axis] + (idx.shape[0],) + x.shape[axis + 1:], w_x.dtype)
    with quiet():  # inf * 0 at a padded tap: NaN, as on the device
        for k in range(idx.shape[1]):  # taps in order: the kernel's summation order
            out += w[:, k].reshape(shape) * np.take(w_x, idx[:, k], axis=axis)
    return narrow(out, x.dtype)


def _round_half_away(v):
    """C's roundf (std::round in TF's kernel): halves away from zero, unlike np.round."""
    return np.sign(v) * np.floor(np.abs(v) + np.float32(0.5))


def map_coordinate(c, size, fill_mode):
    """TF's MapCoordinate (image_ops.h) for one axis of `size`, in float32. `wrap` is a true modulo, where
    TF's kernel mis-wraps coordinates more than one period away."""
    f32 = np.float32
    if fill_mode == "constant":
        return c
    if size <= 1:
        return np.zeros_like(c)
    last = f32(size - 1)
    if fill_mode == "reflect":  # [abcd] -> dcba|abcd|dcba
        sz2 = f32(2 * size)
        neg = c < 0
        lo = sz2 * np.trunc(-c / sz2) + c
        lo = np.where(lo < -size, lo + sz2, -lo - f32(1))
        hi = c - sz2 * np.trunc(c / sz2)
        hi = np.where(hi >= size, sz2 - hi - f32(1), hi)
        c = np.where(neg, lo, np.where(c > last, hi, c))
    elif fill_mode == "wrap":  # [abcd] -> abcd|abcd|abcd
        c = np.where((c < 0) | (c > last), c - f32(size) * np.floor(c / f32(size)), c)
    return np.clip(c, f32(0), last).astype(np.float32)


@impl("image_projective_transform")
def image_projective_transform(images, transforms, output_shape, interpolation, fill_mode, fill_value):
    x = widen(images)
    n, height, width, channels = x.shape
    out_h, out_w = output_shape
    f32 = np.float32
    t = np.broadcast_to(transforms.astype(f32), (n, 8))[:, :, None, None]
    oy, ox = np.meshgrid(np.arange(out_h, dtype=f32), np.arange(out_w, dtype=f32), indexing="ij")
    with quiet():
        projection = t[:, 6] * ox + t[:, 7] * oy + f32(1)
        safe = np.where(projection == 0, f32(1), projection)
        in_x = map_coordinate(((t[:, 0] * ox + t[:, 1] * oy + t[:, 2]) / safe).astype(f32), width, fill_mode)
        in_y = map_coordinate(((t[:, 3] * ox + t[:, 4] * oy + t[:, 5]) / safe).astype(f32), height, fill_mode)
    fill = x.dtype.type(fill_value)
    batch = np.arange(n)[:, None, None]

    def read(y, xx):  # [n, out_h, out_w, channels]: the pixel at whole-number (y, xx), or fill_value outside
        inside = (y >= 0) & (y < height) & (xx >= 0) & (xx < width)  # compared as floats: no int overflow
        if not x.size:
            return np.full(y.shape + (channels,), fill, x.dtype)
        got = x[batch, np.where(inside, y, 0).astype(np.int64), np.where(inside, xx, 0).astype(np.int64)]
        return np.where(inside[..., None], got, fill)

    if interpolation == "nearest":
        out = read(_round_half_away(in_y), _round_half_away(in_x))
    else:
        y0, x0 = np.floor(in_y), np.floor(in_x)
        y1, x1 = y0 + f32(1), x0 + f32(1)
        wx0, wx1 = (x1 - in_x)[..., None], (in_x - x0)[..., None]
        top = wx0 * read(y0, x0) + wx1 * read(y0, x1)
        bottom = wx0 * read(y1, x0) + wx1 * read(y1, x1)
        out = (y1 - in_y)[..., None] * top + (in_y - y0)[..., None] * bottom
    out = np.where((projection == 0)[..., None], fill, out).astype(x.dtype)
    return narrow(np.ascontiguousarray(out), images.dtype)
