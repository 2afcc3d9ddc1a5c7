"""Shape and dtype helpers shared by the primitive definitions (no compute here)."""
from __future__ import annotations

from .. import dtypes
from ..errors import InvalidArgumentError
from ..tensor import Tensor, TensorSpec


def host_int(value) -> int:
    """A Python int from a number or a 0-d tensor (read back to the host: the value sizes an output)."""
    return int(value.numpy()) if isinstance(value, Tensor) else int(value)


def broadcast_shapes(op: str, *shapes) -> tuple:
    """NumPy's broadcasting rule, with an error that names the op and every shape."""
    first = shapes[0]
    if len(shapes) == 2 and shapes[1] == first:  # the common case, kept cheap: it runs on every op
        return first
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for axis in range(rank):
        dims = {s[len(s) - rank + axis] for s in shapes if len(s) - rank + axis >= 0} - {1}
        if len(dims) > 1:
            shown = " and ".join(str(tuple(s)) for s in shapes)
            raise InvalidArgumentError(
                f"{op}: shapes {shown} cannot be broadcast together (axis {axis - rank} has sizes "
                f"{sorted(dims)}); reshape or tile one of them so each axis is equal or 1")
        out.append(dims.pop() if dims else 1)
    return tuple(out)


def same_dtype(op: str, *specs: TensorSpec):
    first = specs[0].dtype
    if all(s.dtype is first for s in specs[1:]):
        return first
    if len({s.dtype for s in specs}) > 1:
        shown = ", ".join(f"{s.dtype.name}{list(s.shape)}" for s in specs)
        raise InvalidArgumentError(f"{op}: inputs have different dtypes ({shown}); gpuflow does not promote "
                                   f"dtypes implicitly: use gf.cast on one of them")
    return specs[0].dtype


# The classes `require` names dtypes by: 'f' floats, 'i' int32/int64, 's' int8/int16, 'u' uint8/uint32,
# 'b' bool. int32/int64 are a class of their own because TF takes them (and not the 8/16-bit or unsigned
# integers) for indices, labels and most ops beyond elementwise arithmetic and reductions; 's' apart
# from 'u' because TF's negative, abs, sign and pow take signed integers only.
_CLASSES = {"int8": "s", "int16": "s"}


def dtype_class(dtype) -> str:
    return _CLASSES.get(dtype.name, dtype.kind)


def require(op: str, spec: TensorSpec, kinds: str, what: str):
    """Raise unless spec.dtype's class (above) is one of `kinds`."""
    if dtype_class(spec.dtype) not in kinds:
        accepted = ", ".join(d.name for d in dtypes.ALL if dtype_class(d) in kinds)
        raise InvalidArgumentError(f"{op}: needs {what} input, got {spec.dtype.name}{list(spec.shape)}; "
                                   f"{op} takes {accepted}: cast it with gf.cast first")


def normalize_axes(op: str, axis, rank: int) -> tuple:
    """None → all axes; int or iterable → sorted, non-negative, checked, unique."""
    if axis is None:
        return tuple(range(rank))
    items = [axis] if isinstance(axis, int) or hasattr(axis, "__index__") else list(axis)
    out = []
    for a in items:
        a = int(a)
        if rank == 0 and a not in (0, -1):
            raise InvalidArgumentError(f"{op}: axis {a} is out of range for a 0-d tensor, which has no axes; "
                                       f"reduce a scalar with axis=None (or 0 / -1, which NumPy also accepts)")
        if rank and not -rank <= a < rank:
            raise InvalidArgumentError(f"{op}: axis {a} is out of range for a tensor of rank {rank}; "
                                       f"use an axis in [{-rank}, {max(rank, 1) - 1}]")
        out.append(a % rank if rank else 0)
    if len(set(out)) != len(out):
        raise InvalidArgumentError(f"{op}: axis {tuple(items)} names an axis twice")
    return tuple(sorted(out)) if rank else ()


def normalize_axis(op: str, axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        raise InvalidArgumentError(f"{op}: axis {axis} is out of range for a tensor of rank {rank}; "
                                   f"use an axis in [{-rank}, {rank - 1}]")
    return axis % rank
