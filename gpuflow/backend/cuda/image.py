"""Image primitives on cuda/sim: kernels/image.cu. The resample tables come from the host
(gpuflow/backend/resample.py, cached) and are uploaded once per table (device_table)."""
from __future__ import annotations

import math

import numpy as np

from ..resample import table
from ._registry import impl
from .elementwise import device_table
from .movement import ctype, dtype_of

FILE = "image.cu"
BLOCK = 256
FILL_MODES = {"reflect": 0, "wrap": 1, "constant": 2, "nearest": 3}  # fill_mode in image.cu


@impl("image_resample")
def image_resample(backend, x, axis, n_in, n_out, method, antialias, adjoint):
    x = backend.xp.ascontiguousarray(x)
    dtype = dtype_of(x)
    idx, w = table(n_in, n_out, method, antialias, adjoint, "float64" if dtype.name == "float64" else "float32")
    n_dst, taps = idx.shape
    out = backend.empty(x.shape[:axis] + (n_dst,) + x.shape[axis + 1:], dtype)
    outer, inner = math.prod(x.shape[:axis]), math.prod(x.shape[axis + 1:])
    if out.size:
        backend.kernel(FILE, f"resample<{ctype(x)}>")(
            (backend.grid_for(out.size),), (BLOCK,),
            (x, out, device_table(backend, idx), device_table(backend, w), np.int64(outer), np.int64(x.shape[axis]),
             np.int64(n_dst), np.int64(inner), np.int32(taps)))
    return out


@impl("image_projective_transform")
def image_projective_transform(backend, images, transforms, output_shape, interpolation, fill_mode, fill_value):
    xp = backend.xp
    images, transforms = xp.ascontiguousarray(images), xp.ascontiguousarray(transforms)
    n, h, w, c = images.shape
    out = backend.empty((n,) + tuple(output_shape) + (c,), dtype_of(images))
    if out.size:
        backend.kernel(FILE, f"projective_transform<{ctype(images)}>")(
            (backend.grid_for(out.size),), (BLOCK,),
            (images, transforms, out, np.int64(n), np.int64(h), np.int64(w), np.int64(c), np.int64(output_shape[0]),
             np.int64(output_shape[1]), np.int32(transforms.shape[0] != 1), np.int32(interpolation == "bilinear"),
             np.int32(FILL_MODES[fill_mode]), np.float32(fill_value)))
    return out
