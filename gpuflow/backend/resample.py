"""The tap tables behind gf.image.resize: which source pixels, with which weights, make each output pixel
along one axis. Shared by the cpu and cuda/sim impls of `image_resample` (and by gf.image.resize, which
asks for the nearest-neighbour indices), so every device applies the same weights.

A table is the gather form of a sparse (n_dst, n_src) matrix: `idx[d, k]` and `w[d, k]` for k < taps,
unused taps padded with index 0 and weight 0. Resizing one axis is out[d] = sum_k w[d, k] x[idx[d, k]];
its adjoint (the gradient) is the table of the transposed matrix, so one kernel does both, with no
atomics and a fixed summation order.

The weights follow TensorFlow 2's kernels bit for bit in float32 (tables for float64 tensors are
computed in float64 the same way):
  bilinear   ResizeBilinear with half_pixel_centers: source s = (d + 0.5) * in/out - 0.5, taps
             floor(s) and ceil(s) clamped to the image, weights 1 - frac(s) and frac(s);
  antialias  ScaleAndTranslate with the triangle kernel: when downsampling the kernel widens to
             in/out pixels, so every source pixel counts (a low-pass filter), weights normalised to 1;
  nearest    ResizeNearestNeighbor with half_pixel_centers: floor((d + 0.5) * in/out), clamped.
"""
from __future__ import annotations

import functools

import numpy as np

METHODS = ("bilinear",)


@functools.lru_cache(maxsize=256)
def nearest_indices(n_in: int, n_out: int) -> np.ndarray:
    """int32 source index of each of n_out positions (TF's half-pixel nearest neighbour, in float32)."""
    scale = np.float32(n_in) / np.float32(n_out)
    src = np.floor((np.arange(n_out, dtype=np.float32) + np.float32(0.5)) * scale)
    idx = np.clip(src, 0, n_in - 1).astype(np.int32)
    idx.setflags(write=False)
    return idx


def _bilinear(n_in, n_out, dt):
    """COO (dst, src, weight) of ResizeBilinear's two taps per output position."""
    scale = dt(n_in) / dt(n_out)
    src = (np.arange(n_out, dtype=dt) + dt(0.5)) * scale - dt(0.5)
    floor = np.floor(src)
    lerp = (src - floor).astype(dt)
    lower = np.maximum(floor, 0).astype(np.int64)
    upper = np.minimum(np.ceil(src), n_in - 1).astype(np.int64)
    dst = np.repeat(np.arange(n_out), 2)
    return dst, np.stack([lower, upper], 1).ravel(), np.stack([dt(1) - lerp, lerp], 1).ravel()


def _triangle(n_in, n_out, dt):
    """COO of ScaleAndTranslate(kernel_type='triangle', antialias=True, translation 0)."""
    scale = dt(n_out) / dt(n_in)
    inv_scale = dt(1.0 / float(scale))  # C++: `const float inv_scale = 1.0 / scale;`
    kernel_scale = max(inv_scale, dt(1))  # widened only when downsampling: a low-pass filter
    sample = (np.arange(n_out, dtype=dt) + dt(0.5)) * inv_scale
    start = np.clip(np.ceil(sample - kernel_scale - dt(0.5)), 0, n_in - 1).astype(np.int64)
    end = np.clip(np.floor(sample + kernel_scale - dt(0.5)), 0, n_in - 1).astype(np.int64) + 1
    span = int(min(2 * int(np.ceil(kernel_scale)) + 1, n_in))
    src = start[:, None] + np.arange(span)[None, :]
    inside = src < end[:, None]
    pos = (src.astype(dt) + dt(0.5) - sample[:, None]) / kernel_scale
    weight = np.where(inside, np.maximum(dt(0), dt(1) - np.abs(pos)), dt(0)).astype(dt)
    total = np.zeros(n_out, dt)
    for k in range(span):  # TF adds the weights up in order, in the table's precision
        total = (total + weight[:, k]).astype(dt)
    ok = (np.abs(total) >= dt(1000) * np.finfo(dt).tiny) & (sample >= 0) & (sample <= n_in)
    weight = np.where(ok[:, None], weight * (dt(1) / np.where(ok, total, dt(1)))[:, None], dt(0)).astype(dt)
    dst = np.repeat(np.arange(n_out), span)
    return dst, np.minimum(src, n_in - 1).ravel(), weight.ravel()


def _gather_form(dst, src, weight, n_dst, dt):
    """(idx int32 [n_dst, taps], w [n_dst, taps]) from COO entries; entries sharing (dst, src) are summed
    (a clamped tap that repeats its neighbour), zero weights are dropped, rows keep ascending src order."""
    keep = weight != 0
    dst, src, weight = dst[keep], src[keep], weight[keep]
    order = np.lexsort((src, dst))
    dst, src, weight = dst[order], src[order], weight[order]
    first = np.ones(len(dst), bool)
    first[1:] = (dst[1:] != dst[:-1]) | (src[1:] != src[:-1])
    group = np.cumsum(first) - 1
    summed = np.zeros(int(first.sum()), dt)
    np.add.at(summed, group, weight)
    dst, src = dst[first], src[first]
    counts = np.bincount(dst, minlength=n_dst)
    taps = max(int(counts.max(initial=0)), 1)
    slot = np.arange(len(dst)) - np.repeat(np.cumsum(counts) - counts, counts)
    idx = np.zeros((n_dst, taps), np.int32)
    w = np.zeros((n_dst, taps), dt)
    idx[dst, slot], w[dst, slot] = src, summed
    return idx, w


@functools.lru_cache(maxsize=256)
def table(n_in: int, n_out: int, method: str, antialias: bool, adjoint: bool, precision: str):
    """The (idx, w) table resizing an axis of n_in to n_out (adjoint: the transposed one, n_out to n_in),
    weights in `precision` ('float32' or 'float64'). Cached: a training loop resizes the same sizes."""
    if method not in METHODS:
        raise ValueError(f"image_resample: no tap table for method {method!r}")
    dt = np.dtype(precision).type
    dst, src, weight = (_triangle if antialias else _bilinear)(n_in, n_out, dt)
    if adjoint:
        dst, src = src, dst
    idx, w = _gather_form(dst, src, weight, n_in if adjoint else n_out, dt)
    idx.setflags(write=False)
    w.setflags(write=False)
    return idx, w


def is_identity(n_in: int, n_out: int, method: str, antialias: bool) -> bool:
    """Whether resizing n_in to n_out leaves the axis as it is (every output reads its own pixel, weight 1)."""
    if n_in != n_out:
        return False
    idx, w = table(n_in, n_out, method, antialias, False, "float32")
    return idx.shape[1] == 1 and bool(np.all(w == 1)) and bool(np.all(idx[:, 0] == np.arange(n_in)))
