"""Shape and dtype helpers shared by the primitive definitions (no compute here)."""
from __future__ import annotations

from ..errors import InvalidArgumentError
from ..tensor import TensorSpec


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
    dtypes = {s.dtype for s in specs}
    if len(dtypes) > 1:
        shown = ", ".join(f"{s.dtype.name}{list(s.shape)}" for s in specs)
        raise InvalidArgumentError(f"{op}: inputs have different dtypes ({shown}); gpuflow does not promote "
                                   f"dtypes implicitly: use gf.cast on one of them")
    return specs[0].dtype


def require(op: str, spec: TensorSpec, kinds: str, what: str):
    """Raise unless spec.dtype.kind is one of `kinds` ('f' float, 'i' int, 'b' bool)."""
    if spec.dtype.kind not in kinds:
        raise InvalidArgumentError(f"{op}: needs {what} input, got {spec.dtype.name}{list(spec.shape)}; "
                                   f"cast it with gf.cast first")


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
