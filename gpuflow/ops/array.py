"""Public shape and data-movement ops with TensorFlow's names and arguments."""
from __future__ import annotations

import builtins

import numpy as np

from .. import devices as _device
from .. import dtypes
from ..errors import InvalidArgumentError
from ..tensor import Tensor
from ..tensor.convert import tensor_on_device_of
from . import movement as sh
from ._util import normalize_axis
from .creation import constant
from .math import add, operands

# What gf exports from this module (gpuflow/ops/__init__.py takes its __all__): a new public op goes here.
__all__ = ["broadcast_to", "concat", "expand_dims", "gather", "one_hot", "pad", "rank", "reshape", "reverse",
           "roll", "shape", "size", "slice", "split", "squeeze", "stack", "tile", "transpose", "unstack"]


def _ints(value, what):
    if isinstance(value, Tensor):
        value = value.numpy().tolist()
    if isinstance(value, (int, np.integer)):
        return [int(value)]
    try:
        return [int(v) for v in value]
    except TypeError:
        raise InvalidArgumentError(f"{what} must be a list of ints, got {value!r}") from None


def reshape(tensor, shape, name=None):
    """`tensor` with the same elements in a new shape; one dimension may be -1 (or None) and is inferred.

        The result shares memory with the input where the layout allows (tensors are immutable, so this is safe).
    """
    x = operands(tensor)[0]
    if isinstance(shape, (list, tuple)):
        shape = [-1 if d is None else d for d in shape]  # Keras writes unknown sizes as None
    dims = _ints(shape, "reshape: shape")
    if dims.count(-1) > 1 or any(d < -1 for d in dims):
        raise InvalidArgumentError(f"reshape: shape {dims} may hold at most one -1 and no other negative size")
    total = x.shape.num_elements()
    if -1 in dims and total is None:  # traced with unknown dims: the -1 is resolved when the graph runs
        return sh.reshape(x, shape=tuple(dims))
    if -1 in dims:
        known = int(np.prod([d for d in dims if d != -1]))
        if known == 0 or total % known:
            raise InvalidArgumentError(f"reshape: cannot reshape {x.dtype.name}{list(x.shape)} ({total} elements) "
                                       f"to {dims}")
        dims[dims.index(-1)] = total // known
    dims = tuple(dims)
    return x if dims == tuple(x.shape) else sh.reshape(x, shape=dims)


def transpose(a, perm=None, conjugate=False, name=None):
    """Permutes the axes of `a` by `perm` (default: reversed). `conjugate` is accepted for TF's signature."""
    x = operands(a)[0]
    # Only -rank..-1 wrap around; anything else reaches the primitive's check as it is.
    perm = tuple(reversed(builtins.range(x.ndim))) if perm is None else tuple(
        p + x.ndim if -x.ndim <= p < 0 else p for p in _ints(perm, "transpose: perm"))
    return x if perm == tuple(builtins.range(x.ndim)) else sh.transpose(x, perm=perm)


def broadcast_to(input, shape, name=None):  # noqa: A002
    """`input` broadcast to `shape` by NumPy's rules; the gradient sums over the broadcast axes."""
    x = operands(input)[0]
    shape = tuple(_ints(shape, "broadcast_to: shape"))
    return x if shape == tuple(x.shape) else sh.broadcast_to(x, shape=shape)


def expand_dims(input, axis, name=None):  # noqa: A002
    """`input` with a new axis of size 1 inserted at `axis` (negative counts from the end)."""
    x = operands(input)[0]
    axis = normalize_axis("expand_dims", int(axis), x.ndim + 1)
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


def squeeze(input, axis=None, name=None):  # noqa: A002
    """`input` without its size-1 axes (all of them, or those in `axis`, which must have size 1)."""
    x = operands(input)[0]
    if axis is None:
        axes = {i for i, d in enumerate(x.shape) if d == 1}
    else:
        axes = {normalize_axis("squeeze", a, x.ndim) for a in _ints(axis, "squeeze: axis")}
        bad = [a for a in axes if x.shape[a] != 1]
        if bad:
            raise InvalidArgumentError(f"squeeze: axis {bad} of {x.dtype.name}{list(x.shape)} is not of size 1")
    return reshape(x, tuple(d for i, d in enumerate(x.shape) if i not in axes))


def concat(values, axis, name=None):
    """Joins a list of tensors of one dtype along an existing `axis`; the other dimensions must match."""
    xs = operands(*values)
    if not xs:
        raise InvalidArgumentError("concat: needs at least one tensor")
    axis = normalize_axis("concat", int(axis), xs[0].ndim)
    return xs[0] if len(xs) == 1 else sh.concat(*xs, axis=axis)


def stack(values, axis=0, name=None):
    """Joins a list of tensors of one shape and dtype along a new `axis`."""
    xs = operands(*values)
    if not xs:
        raise InvalidArgumentError("stack: needs at least one tensor")
    shapes = {tuple(x.shape) for x in xs}
    if len(shapes) > 1:
        raise InvalidArgumentError(f"stack: all tensors need one shape, got {[list(x.shape) for x in xs]}")
    axis = normalize_axis("stack", int(axis), xs[0].ndim + 1)
    return concat([expand_dims(x, axis) for x in xs], axis)


def slice(input_, begin, size, name=None):  # noqa: A001 - tf.slice
    """The block of `input_` starting at `begin` with shape `size` (-1: to the end of that axis), as tf.slice."""
    x = operands(input_)[0]
    begin, size = _ints(begin, "slice: begin"), _ints(size, "slice: size")
    if len(begin) != x.ndim or len(size) != x.ndim:
        raise InvalidArgumentError(f"slice: begin {begin} and size {size} need one entry per axis of {list(x.shape)}")
    end = [d if s == -1 else b + s for b, s, d in zip(begin, size, x.shape)]
    if any(b < 0 or e > d or e < b for b, e, d in zip(begin, end, x.shape)):
        raise InvalidArgumentError(f"slice: begin {begin}, size {size} reach outside {list(x.shape)}")
    return strided(x, tuple(begin), tuple(end), (1,) * x.ndim)


def reverse(tensor, axis, name=None):
    """tf.reverse: the elements in reverse order along each axis listed in `axis`. One strided slice
    walking those axes backwards (the strided-gather kernel with negative strides)."""
    x = operands(tensor)[0]
    axes = [normalize_axis("reverse", a, x.ndim) for a in _ints(axis, "reverse: axis")]
    if len(set(axes)) != len(axes):
        raise InvalidArgumentError(f"reverse: axis {_ints(axis, 'reverse: axis')} names an axis of "
                                   f"{x.dtype.name}{list(x.shape)} more than once")
    if x.shape.num_elements() == 0:
        return x
    flip = [k in axes and d > 1 for k, d in enumerate(x.shape)]
    return strided(x, tuple(d - 1 if f else 0 for f, d in zip(flip, x.shape)),
                   tuple(-1 if f else d for f, d in zip(flip, x.shape)), tuple(-1 if f else 1 for f in flip))


def roll(input, shift, axis, name=None):  # noqa: A002 - tf's argument name
    """Elements shifted along `axis` by `shift`, those pushed off one end coming back at the other (tf.roll).
    shift and axis may be lists of equal length; shifts of one axis add up. Two slices and a concat per axis."""
    x = operands(input)[0]
    shifts, axes = _ints(shift, "roll: shift"), _ints(axis, "roll: axis")
    if len(shifts) != len(axes):
        raise InvalidArgumentError(f"roll: shift {shifts} and axis {axes} must have the same length")
    total = {}
    for s, a in zip(shifts, axes):
        a = normalize_axis("roll", a, x.ndim)
        total[a] = total.get(a, 0) + s
    for a, s in sorted(total.items()):
        n = x.shape[a]
        if n == 0 or s % n == 0:
            continue
        cut = n - s % n
        begin, end = [0] * x.ndim, list(x.shape)
        head_end, tail_begin = list(end), list(begin)
        head_end[a], tail_begin[a] = cut, cut
        x = concat([strided(x, tail_begin, end, (1,) * x.ndim), strided(x, begin, head_end, (1,) * x.ndim)], a)
    return x


def strided(x, begin, end, strides):
    """A strided slice with normalised bounds; the whole tensor comes back as is."""
    if all(b == 0 and e == d and s == 1 for b, e, s, d in zip(begin, end, strides, x.shape)):
        return x
    return sh.strided_slice(x, begin=tuple(begin), end=tuple(end), strides=tuple(strides))


def split(value, num_or_size_splits, axis=0, num=None, name=None):
    """Splits `value` along `axis` into `num_or_size_splits` equal parts, or parts of the given sizes (one may
        be -1); a list of tensors.
    """
    x = operands(value)[0]
    axis = normalize_axis("split", int(axis), x.ndim)
    n = x.shape[axis]
    if isinstance(num_or_size_splits, (int, np.integer)):
        k = int(num_or_size_splits)
        if k <= 0 or n % k:
            raise InvalidArgumentError(f"split: axis {axis} of size {n} cannot be split into {k} equal parts")
        sizes = [n // k] * k
    else:
        sizes = _ints(num_or_size_splits, "split: sizes")
        if sizes.count(-1) == 1:
            sizes[sizes.index(-1)] = n - (sum(sizes) + 1)
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise InvalidArgumentError(f"split: sizes {sizes} do not add up to {n}, the size of axis {axis}")
    out, start = [], 0
    for size in sizes:
        begin = [0] * x.ndim
        end = list(x.shape)
        begin[axis], end[axis] = start, start + size
        out.append(strided(x, begin, end, (1,) * x.ndim))
        start += size
    return out


def unstack(value, num=None, axis=0, name=None):
    """The slices of `value` along `axis`, each without that axis, as a list."""
    x = operands(value)[0]
    axis = normalize_axis("unstack", int(axis), x.ndim)
    return [squeeze(part, axis) for part in split(x, x.shape[axis], axis)] if x.shape[axis] else []


def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None):
    """Slices of `params` along `axis` at `indices` (int32 or int64), with TF's `batch_dims`.

        The gradient scatter-adds into the gathered positions.

        Differs from TF:
            An index out of range is an error on every device (TF on a GPU gives zeros).
    """
    x = operands(params)[0]
    idx = tensor_on_device_of(x, indices, dtype_hint=dtypes.int32)
    batch_dims = int(batch_dims) + (idx.ndim if batch_dims < 0 else 0)
    axis = normalize_axis("gather", batch_dims if axis is None else int(axis), x.ndim)
    if not batch_dims:
        return sh.gather(x, idx, axis=axis)
    if not 0 < batch_dims <= min(axis, idx.ndim) or x.shape[:batch_dims] != idx.shape[:batch_dims]:
        raise InvalidArgumentError(
            f"gather: batch_dims {batch_dims} needs axis >= batch_dims (axis is {axis}) and the first batch_dims "
            f"axes of params {list(x.shape)} and indices {list(idx.shape)} to be equal")
    return _batched_gather(x, idx, axis, batch_dims)


def _batched_gather(x, idx, axis, b):
    """gather with batch dims as one plain gather: batch k's indices are offset by k * N into a
    (..., batch * N, ...) view of params, so each batch reads only its own slice."""
    batch, n = int(np.prod(x.shape[:b])), x.shape[axis]
    mid, rest = tuple(x.shape[b:axis]), tuple(x.shape[axis + 1:])
    p = reshape(x, (batch,) + mid + (n,) + rest)
    p = transpose(p, list(builtins.range(1, len(mid) + 1)) + [0] + list(builtins.range(len(mid) + 1, p.ndim)))
    p = reshape(p, mid + (batch * n,) + rest)
    with _device.device(x._device):
        offsets = constant(np.arange(batch).reshape((batch,) + (1,) * (idx.ndim - b)) * n, dtype=idx.dtype)
    flat_idx = add(reshape(idx, (batch,) + tuple(idx.shape[b:])), offsets)
    out = sh.gather(p, flat_idx, axis=len(mid))  # (mid, batch, idx..., rest)
    out = transpose(out, [len(mid)] + list(builtins.range(len(mid))) + list(builtins.range(len(mid) + 1, out.ndim)))
    return reshape(out, tuple(x.shape[:b]) + mid + tuple(idx.shape[b:]) + rest)


def one_hot(indices, depth, on_value=None, off_value=None, axis=-1, dtype=None, name=None):
    """One-hot encoding of integer `indices`: `on_value` (default 1) at each index along a new `axis` of size
        `depth`, `off_value` (default 0) elsewhere. An index outside [0, depth) gives a row of off_value, as in TF.
    """
    idx = operands(indices)[0]
    if dtype is None:  # tf: the dtype of on_value or off_value when given, else float32
        given = next((v for v in (on_value, off_value) if v is not None), None)
        dtype = dtypes.float32 if given is None else (
            given.dtype if isinstance(given, (Tensor, np.generic)) else dtypes.as_dtype(type(given)))
    dtype = dtypes.as_dtype(dtype)
    axis = normalize_axis("one_hot", int(axis), idx.ndim + 1)
    return sh.one_hot(idx, depth=int(depth), on_value=_scalar(1 if on_value is None else on_value),
                      off_value=_scalar(0 if off_value is None else off_value), axis=axis, dtype=dtype)


def _scalar(value):
    """A Python number for a primitive's params (which must be plain, hashable values)."""
    return value.numpy().item() if isinstance(value, Tensor) else value


def pad(tensor, paddings, mode="CONSTANT", constant_values=0, name=None):
    """tf.pad: mode 'CONSTANT' fills with constant_values; 'REFLECT' mirrors without repeating the
    edge (paddings < dim per axis); 'SYMMETRIC' mirrors including it (paddings <= dim). Any case."""
    x = operands(tensor)[0]
    mode_name = str(mode).upper()
    if mode_name not in sh.PAD_MODES:
        raise ValueError(f"pad: mode must be one of 'CONSTANT', 'REFLECT' or 'SYMMETRIC' (any case), got {mode!r}")
    if isinstance(paddings, Tensor):
        paddings = paddings.numpy().tolist()
    pairs = tuple(tuple(int(v) for v in p) for p in paddings)
    if any(len(p) != 2 for p in pairs):
        raise InvalidArgumentError(f"pad: paddings must be [before, after] pairs, got {paddings}")
    value = _scalar(constant_values)
    if mode_name != "CONSTANT" and value != 0:  # tf ignores it silently; a mirror mode copies values, it fills none
        raise ValueError(f"pad: constant_values={value!r} has no effect with mode {mode_name!r}, which fills the "
                         f"border by mirroring the input; drop constant_values or use mode 'CONSTANT'")
    return sh.pad(x, paddings=pairs, constant_value=value, mode=mode_name)


def tile(input, multiples, name=None):  # noqa: A002
    """`input` repeated `multiples[i]` times along each axis i."""
    x = operands(input)[0]
    return sh.tile(x, multiples=tuple(_ints(multiples, "tile: multiples")))


def shape(input, out_type=dtypes.int32, name=None):  # noqa: A002
    """The shape of `input` as a 1-D int32 (or `out_type`) tensor, on the input's device."""
    x = operands(input)[0]
    with _device.device(x._device):
        return constant(list(x.shape), dtype=out_type)


def size(input, out_type=dtypes.int32, name=None):  # noqa: A002
    """The number of elements of `input` as a 0-d int32 (or `out_type`) tensor."""
    x = operands(input)[0]
    with _device.device(x._device):
        return constant(x.shape.num_elements(), dtype=out_type)


def rank(input, name=None):  # noqa: A002
    """The number of axes of `input` as a 0-d int32 tensor."""
    x = operands(input)[0]
    with _device.device(x._device):
        return constant(x.ndim, dtype=dtypes.int32)
