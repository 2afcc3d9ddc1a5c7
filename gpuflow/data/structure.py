"""Dataset elements and their specs.

Inside a pipeline an element is a nested structure of tuples (namedtuples too) and dicts whose
leaves are NumPy arrays: cheap to slice, stack and hand between threads. Only when an element
reaches the user does it become gpuflow Tensors on the current device (`to_tensors`).
As in tf.data, a Python list is a value (it becomes one array), not a structure.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes, nest
from ..errors import InvalidArgumentError
from ..tensor import Tensor, TensorShape, TensorSpec

_SUPPORTED = ", ".join(d.name for d in dtypes.ALL)


def _python_array(value) -> np.ndarray:
    """TF's rules for Python values: floats → float32, ints → int32 (int64 when they do not fit)."""
    array = np.asarray(value)
    dtype = dtypes.of_python_values(array)
    return array if dtype is None else array.astype(dtype.np)


def to_array(value, where: str) -> np.ndarray:
    if isinstance(value, Tensor):
        array = value.numpy()
    elif isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        array = array.astype(dtypes.widened(array.dtype), copy=False)
    else:
        try:
            array = _python_array(value)
        except ValueError as e:  # NumPy refuses ragged nested lists
            raise InvalidArgumentError(f"{where}: cannot make a tensor from {value!r:.80}: nested lists must be "
                                       f"rectangular ({e})") from None
    try:
        dtypes.as_dtype(array.dtype)
    except TypeError:
        raise InvalidArgumentError(f"{where}: cannot make a tensor from {type(value).__name__} {value!r:.80} "
                                   f"(NumPy dtype {array.dtype}): gf.data holds numbers and bools ({_SUPPORTED}), "
                                   f"not strings or objects") from None
    return array


def normalize(element, where: str):
    """Any user value (Tensors, arrays, Python numbers, nested tuples/dicts) → the internal form."""
    if isinstance(element, tuple):
        kids = [normalize(e, where) for e in element]
        return type(element)(*kids) if hasattr(element, "_fields") else tuple(kids)
    if isinstance(element, dict):
        return {k: normalize(v, where) for k, v in element.items()}
    return to_array(element, where)


def spec_of(element):
    return nest.map_structure(lambda a: TensorSpec(a.shape, dtypes.as_dtype(a.dtype)), element)


def to_tensors(element):
    """The element as Tensors on the current device: the one place a pipeline touches a device."""
    from ..ops.creation import constant
    return nest.map_structure(constant, element)


def leaf_paths(structure) -> list:
    """Names of the leaves in `nest.flatten` order: '[0]', "['image']", '[1][0]'; '' for a lone leaf."""
    if isinstance(structure, dict):
        return [f"[{k!r}]{p}" for k in sorted(structure) for p in leaf_paths(structure[k])]
    if isinstance(structure, tuple):
        return [f"[{i}]{p}" for i, kid in enumerate(structure) for p in leaf_paths(kid)]
    return [""]


def flatten_up_to(structure, value, what: str) -> list:
    """`value`'s parts at the leaves of `structure` (a leaf of `structure` may match a list or tuple in `value`,
    as padded_shapes do); a list may stand for a tuple. Raises showing both when they do not line up."""
    def walk(s, v):
        if isinstance(s, dict):
            if not isinstance(v, dict) or sorted(v, key=repr) != sorted(s, key=repr):
                raise _mismatch()
            return [x for k in sorted(s) for x in walk(s[k], v[k])]
        if isinstance(s, tuple):
            if not isinstance(v, (tuple, list)) or len(v) != len(s):
                raise _mismatch()
            return [x for a, b in zip(s, v) for x in walk(a, b)]
        return [v]

    def _mismatch():
        return InvalidArgumentError(f"{what}: the structure {value!r:.200} does not match the element structure "
                                    f"{describe(structure)}")
    return walk(structure, value)


def merge_specs(a, b):
    """The most specific spec both `a` and `b` fit (differing dims become None), or None if incompatible."""
    try:
        nest.assert_same_structure(a, b)
    except ValueError:
        return None
    if type(a) is not type(b) and not (isinstance(a, dict) and isinstance(b, dict)):
        return None
    merged = []
    for x, y in zip(nest.flatten(a), nest.flatten(b)):
        if x.dtype != y.dtype or len(x.shape) != len(y.shape):
            return None
        merged.append(TensorSpec([p if p == q else None for p, q in zip(x.shape, y.shape)], x.dtype))
    return nest.pack_sequence_as(a, merged)


def batched(spec, size):
    return nest.map_structure(lambda s: TensorSpec((size,) + tuple(s.shape), s.dtype), spec)


def unbatched(spec, where: str):
    def drop(s):
        if not s.shape:
            raise InvalidArgumentError(f"{where}: every component needs a first dimension; the element spec is "
                                       f"{describe(spec)}")
        return TensorSpec(s.shape[1:], s.dtype)
    return nest.map_structure(drop, spec)


def describe(structure) -> str:
    """A spec structure (or arrays) written compactly: `(float32[None, 3], {'y': int32[]})`."""
    if isinstance(structure, dict):
        return "{" + ", ".join(f"{k!r}: {describe(structure[k])}" for k in sorted(structure)) + "}"
    if isinstance(structure, tuple):
        inner = ", ".join(describe(s) for s in structure)
        return f"({inner}{',' if len(structure) == 1 else ''})"
    if isinstance(structure, (TensorSpec, np.ndarray)):
        shape = TensorShape(structure.shape)
        return f"{dtypes.as_dtype(structure.dtype).name}[{', '.join('None' if d is None else str(d) for d in shape)}]"
    return repr(structure)
