"""Data-movement primitives: reshape, transpose, broadcast_to, concat, strided slicing, pad,
gather/scatter_add, tile, one_hot. No arithmetic. Where a grad rule is another of these primitives it is
here; the others (written in the public ops) are in gpuflow/autograd/grads/movement.py."""
from __future__ import annotations

import math

from ..errors import InvalidArgumentError
from ..tensor import TensorSpec
from ._util import broadcast_shapes, require, same_dtype
from .dispatch import primitive


def _reshape_infer(x, shape):
    if None in x.shape:  # traced with unknown dims: at most one -1, the one unknown output dim
        if shape.count(-1) > 1 or any(d < -1 for d in shape):
            raise InvalidArgumentError(f"reshape: shape {list(shape)} may hold at most one -1 and no other "
                                       f"negative size")
        return TensorSpec(tuple(None if d == -1 else d for d in shape), x.dtype)
    if any(d < 0 for d in shape) or math.prod(shape) != math.prod(x.shape):
        raise InvalidArgumentError(f"reshape: cannot reshape {x.dtype.name}{list(x.shape)} "
                                   f"({math.prod(x.shape)} elements) to {list(shape)} ({math.prod(shape)} elements)")
    return TensorSpec(shape, x.dtype)


reshape = primitive("reshape", _reshape_infer)


def _transpose_infer(x, perm):
    if sorted(perm) != list(range(len(x.shape))):
        raise InvalidArgumentError(f"transpose: perm {list(perm)} is not a permutation of the "
                                   f"{len(x.shape)} axes of {x.dtype.name}{list(x.shape)}")
    return TensorSpec(tuple(x.shape[p] for p in perm), x.dtype)


transpose = primitive("transpose", _transpose_infer)


def _broadcast_infer(x, shape):
    if len(shape) < len(x.shape) or broadcast_shapes("broadcast_to", x.shape, shape) != tuple(shape):
        raise InvalidArgumentError(f"broadcast_to: {x.dtype.name}{list(x.shape)} cannot be broadcast to "
                                   f"{list(shape)}; each axis must be equal or 1")
    return TensorSpec(shape, x.dtype)


broadcast_to = primitive("broadcast_to", _broadcast_infer)


def _concat_infer(*xs, axis):
    dtype = same_dtype("concat", *xs)
    first = xs[0].shape
    for x in xs:
        if len(x.shape) != len(first) or any(a != b for i, (a, b) in enumerate(zip(x.shape, first)) if i != axis):
            shown = ", ".join(str(list(s.shape)) for s in xs)
            raise InvalidArgumentError(f"concat: along axis {axis} all other dimensions must match; got {shown}")
    return TensorSpec(first[:axis] + (sum(x.shape[axis] for x in xs),) + first[axis + 1:], dtype)


concat = primitive("concat", _concat_infer)


def slice_length(start, stop, step):
    return len(range(start, stop, step))


def _slice_infer(x, begin, end, strides):
    if not len(begin) == len(end) == len(strides) == len(x.shape) or 0 in strides:
        raise InvalidArgumentError(f"strided_slice: begin {list(begin)}, end {list(end)} and non-zero strides "
                                   f"{list(strides)} need one entry per axis of {x.dtype.name}{list(x.shape)}")
    for b, e, s, d in zip(begin, end, strides, x.shape):
        # Bounds as slice.indices() gives them: end -1 only means "through index 0" when walking backwards.
        n = slice_length(b, e, s)
        if (n and not (0 <= b < d and 0 <= b + (n - 1) * s < d)) or e < -1 or (e == -1 and s > 0):
            raise InvalidArgumentError(f"strided_slice: begin {list(begin)}, end {list(end)}, strides {list(strides)} "
                                       f"reach outside {x.dtype.name}{list(x.shape)}; normalise them with "
                                       f"slice(...).indices(size)")
    return TensorSpec(tuple(slice_length(*t) for t in zip(begin, end, strides)), x.dtype)


strided_slice = primitive(
    "strided_slice", _slice_infer,
    lambda g, out, x, begin, end, strides: (strided_slice_grad(g, shape=tuple(x.shape), begin=begin, end=end,
                                                               strides=strides),))
strided_slice_grad = primitive(
    "strided_slice_grad", lambda g, shape, begin, end, strides: TensorSpec(shape, g.dtype),
    lambda gg, out, g, shape, begin, end, strides: (strided_slice(gg, begin=begin, end=end, strides=strides),))


PAD_MODES = ("CONSTANT", "REFLECT", "SYMMETRIC")


def _pad_infer(x, paddings, constant_value, mode):
    if mode not in PAD_MODES:
        raise InvalidArgumentError(f"pad: mode {mode!r} is not one of {list(PAD_MODES)}")
    if len(paddings) != len(x.shape) or any(lo < 0 or hi < 0 for lo, hi in paddings):
        raise InvalidArgumentError(f"pad: paddings {list(map(list, paddings))} must be one non-negative "
                                   f"[before, after] pair per axis of {x.dtype.name}{list(x.shape)}")
    if mode != "CONSTANT":
        # tf's MirrorPad bounds: REFLECT skips the edge, so it can mirror at most dim - 1 values
        # (and an empty axis cannot be reflected at all); SYMMETRIC repeats the edge: at most dim.
        limit_shift = 1 if mode == "REFLECT" else 0
        for axis, ((lo, hi), d) in enumerate(zip(paddings, x.shape)):
            if max(lo, hi) > d - limit_shift:
                bound = (f"less than the dimension size {d}" if mode == "REFLECT"
                         else f"no greater than the dimension size {d}")
                if d == 0 and mode == "REFLECT":
                    bound += " (REFLECT cannot mirror an empty axis, even by 0, as in tf)"
                raise InvalidArgumentError(
                    f"pad: mode {mode} on axis {axis} of {x.dtype.name}{list(x.shape)}: paddings [{lo}, {hi}] must be "
                    f"{bound}; use smaller paddings on that axis, or mode 'CONSTANT'")
    return TensorSpec(tuple(d + lo + hi for d, (lo, hi) in zip(x.shape, paddings)), x.dtype)


def _on_axis(ndim, axis, value, rest):
    """A per-axis tuple: `value` at `axis`, `rest` elsewhere."""
    return tuple(value if k == axis else rest for k in range(ndim))


def _cut(g, axis, begin, end, step):
    """g[begin:end:step] along `axis` (end -1 with step -1: through index 0), all of every other axis."""
    ndim = len(g.shape)
    return strided_slice(g, begin=_on_axis(ndim, axis, begin, 0),
                         end=tuple(end if k == axis else d for k, d in enumerate(g.shape)),
                         strides=_on_axis(ndim, axis, step, 1))


def _place(part, axis, before, after):
    """part zero-padded along `axis` so it lines up with the input positions it belongs to."""
    return pad(part, paddings=_on_axis(len(part.shape), axis, (before, after), (0, 0)), constant_value=0,
               mode="CONSTANT")


def _mirror_pad_grad(g, x_shape, paddings, symmetric):
    """Fold g (the padded shape) back onto x_shape one axis at a time: each border, read backwards
    by one strided slice, is zero-padded onto the input positions it was copied from and added to
    the interior, in a fixed order (deterministic, no atomics)."""
    s = int(symmetric)
    for axis, ((lo, hi), d) in enumerate(zip(paddings, x_shape)):
        if lo == hi == 0:
            continue
        folded = _cut(g, axis, lo, lo + d, 1)
        if lo:  # output lo-1 .. 0 (read backwards) came from input 1-s .. lo-s
            folded = folded + _place(_cut(g, axis, lo - 1, -1, -1), axis, 1 - s, d - lo - 1 + s)
        if hi:  # output lo+d+hi-1 .. lo+d (read backwards) came from input d-1+s-hi .. d-2+s
            folded = folded + _place(_cut(g, axis, lo + d + hi - 1, lo + d - 1, -1), axis, d - 1 + s - hi, 1 - s)
        g = folded
    return g


def _pad_grad(g, out, x, paddings, constant_value, mode):
    if mode != "CONSTANT":
        return (_mirror_pad_grad(g, tuple(x.shape), paddings, mode == "SYMMETRIC"),)
    begin = tuple(lo for lo, _ in paddings)
    end = tuple(lo + d for (lo, _), d in zip(paddings, x.shape))
    return (strided_slice(g, begin=begin, end=end, strides=(1,) * len(begin)),)


pad = primitive("pad", _pad_infer, _pad_grad)


def _gather_infer(params, indices, axis):
    require("gather", indices, "i", "integer indices")
    return TensorSpec(params.shape[:axis] + indices.shape + params.shape[axis + 1:], params.dtype)


def _gather_grad(g, out, params, indices, axis):
    return scatter_add(g, indices, axis=axis, dim_size=params.shape[axis]), None


gather = primitive("gather", _gather_infer, _gather_grad)


def _scatter_infer(updates, indices, axis, dim_size):
    require("scatter_add", indices, "i", "integer indices")
    require("scatter_add", updates, "fi", "numeric updates")
    n = len(indices.shape)
    if updates.shape[axis:axis + n] != indices.shape:
        raise InvalidArgumentError(f"scatter_add: updates {list(updates.shape)} do not hold indices "
                                   f"{list(indices.shape)} at axis {axis}")
    return TensorSpec(updates.shape[:axis] + (dim_size,) + updates.shape[axis + n:], updates.dtype)


scatter_add = primitive(
    "scatter_add", _scatter_infer,
    lambda gg, out, updates, indices, axis, dim_size: (gather(gg, indices, axis=axis), None))


def _tile_infer(x, multiples):
    if len(multiples) != len(x.shape) or any(m < 0 for m in multiples):
        raise InvalidArgumentError(f"tile: multiples {list(multiples)} must give one non-negative count per axis "
                                   f"of {x.dtype.name}{list(x.shape)}")
    return TensorSpec(tuple(d * m for d, m in zip(x.shape, multiples)), x.dtype)


tile = primitive("tile", _tile_infer)


def _one_hot_infer(indices, depth, on_value, off_value, axis, dtype):
    require("one_hot", indices, "i", "integer indices")
    if depth < 0:
        raise InvalidArgumentError(f"one_hot: depth must be >= 0, got {depth}")
    shape = list(indices.shape)
    shape.insert(axis, depth)
    return TensorSpec(shape, dtype)


one_hot = primitive("one_hot", _one_hot_infer)
