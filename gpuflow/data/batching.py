"""batch, padded_batch and unbatch."""
from __future__ import annotations

import itertools

import numpy as np

from .. import nest
from ..errors import InvalidArgumentError
from ..tensor import TensorSpec
from . import structure
from ._args import as_int
from .node import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Node


def _groups(source, size, drop_remainder):
    while True:
        group = list(itertools.islice(source, size))
        if not group or (drop_remainder and len(group) < size):
            return
        yield group


def _batched_cardinality(n, size, drop_remainder):
    if n in (INFINITE_CARDINALITY, UNKNOWN_CARDINALITY):
        return n
    return n // size if drop_remainder else -(-n // size)


def _columns(group, what):
    """The group's components, one list per leaf; every element must have the first one's dtypes."""
    paths = structure.leaf_paths(group[0])
    columns = list(zip(*(nest.flatten(e) for e in group)))
    for path, column in zip(paths, columns):
        for j, a in enumerate(column):
            if a.dtype != column[0].dtype:
                raise InvalidArgumentError(f"{what}: component{path} is {column[0].dtype} in the batch's element 0 "
                                           f"but {a.dtype} in element {j}")
    return paths, columns


class Batch(Node):
    def __init__(self, input_dataset, batch_size, drop_remainder, num_parallel_calls):
        self._input = input_dataset
        self._size = as_int(batch_size, "batch: batch_size", 1)
        self._drop = bool(drop_remainder)
        # Stacking is one memcpy per component, so num_parallel_calls is checked (tf code passes it) but
        # there is nothing worth spreading over threads.
        if num_parallel_calls is not None:
            as_int(num_parallel_calls, "batch: num_parallel_calls", 1, allow=(AUTOTUNE,))

    def _stack(self, group):
        paths, columns = _columns(group, "batch")
        for path, column in zip(paths, columns):
            for j, a in enumerate(column):
                if a.shape != column[0].shape:
                    raise InvalidArgumentError(
                        f"batch: cannot stack elements of different shapes: component{path} has shape "
                        f"{tuple(column[0].shape)} in the batch's element 0 but {tuple(a.shape)} in element {j}; "
                        f"use padded_batch to pad them to a common shape")
        return nest.pack_sequence_as(group[0], [np.stack(c) for c in columns])

    def _elements(self, probe=False):
        yield from map(self._stack, _groups(self._input._elements(probe), self._size, self._drop))

    def _compute_spec(self):
        return structure.batched(self._input.element_spec, self._size if self._drop else None)

    def _cardinality(self):
        return _batched_cardinality(self._input._cardinality(), self._size, self._drop)


def _padded_shape(shape, spec, path):
    """One padded shape as a list with None for 'pad to the longest in the batch'; -1 means None as in tf."""
    if shape is None:
        return [None] * len(spec.shape)
    try:
        dims = [None if d is None or int(d) == -1 else int(d) for d in shape]
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"padded_batch: padded_shapes{path} must be a list of ints or None, "
                                   f"got {shape!r:.60}") from None
    if len(dims) != len(spec.shape) or any(p is not None and d is not None and p < d for p, d in zip(dims, spec.shape)):
        raise InvalidArgumentError(f"padded_batch: padded_shapes{path} = {shape} does not fit the component's "
                                   f"shape {spec.shape} (same rank, each dimension at least as large)")
    return dims


class PaddedBatch(Node):
    def __init__(self, input_dataset, batch_size, padded_shapes, padding_values, drop_remainder):
        self._input = input_dataset
        self._size = as_int(batch_size, "padded_batch: batch_size", 1)
        self._drop = bool(drop_remainder)
        spec = input_dataset.element_spec
        specs, paths = nest.flatten(spec), structure.leaf_paths(spec)
        shapes = [None] * len(specs) if padded_shapes is None else structure.flatten_up_to(
            spec, padded_shapes, "padded_batch: padded_shapes")
        self._shapes = [_padded_shape(s, sp, p) for s, sp, p in zip(shapes, specs, paths)]
        if padding_values is None:
            values = [0] * len(specs)
        elif nest.is_nested(padding_values):
            values = structure.flatten_up_to(spec, padding_values, "padded_batch: padding_values")
        else:
            values = [padding_values] * len(specs)
        self._values = [np.asarray(v.numpy() if hasattr(v, "numpy") else v).astype(s.dtype.np)
                        for v, s in zip(values, specs)]
        self._spec = nest.pack_sequence_as(spec, [
            TensorSpec([self._size if self._drop else None] + shape, s.dtype) for shape, s in zip(self._shapes, specs)])

    def _pad(self, group):
        paths, columns = _columns(group, "padded_batch")
        out = []
        for path, column, dims, value in zip(paths, columns, self._shapes, self._values):
            longest = np.max([a.shape for a in column], axis=0) if column[0].ndim else []
            target = [int(m) if d is None else d for d, m in zip(dims, longest)]
            batch = np.full([len(column)] + target, value, dtype=column[0].dtype)
            for j, a in enumerate(column):
                if a.ndim != len(target) or any(s > t for s, t in zip(a.shape, target)):
                    raise InvalidArgumentError(f"padded_batch: component{path} of an element has shape "
                                               f"{tuple(a.shape)}, larger than the padded shape {tuple(target)}")
                batch[(j,) + tuple(slice(0, s) for s in a.shape)] = a
            out.append(batch)
        return nest.pack_sequence_as(group[0], out)

    def _elements(self, probe=False):
        yield from map(self._pad, _groups(self._input._elements(probe), self._size, self._drop))

    def _cardinality(self):
        return _batched_cardinality(self._input._cardinality(), self._size, self._drop)


class Unbatch(Node):
    def __init__(self, input_dataset):
        self._input = input_dataset

    def _elements(self, probe=False):
        for element in self._input._elements(probe):
            leaves = nest.flatten(element)
            if any(a.ndim == 0 for a in leaves) or len({a.shape[0] for a in leaves}) != 1:
                shapes = ", ".join(f"component{p} {tuple(a.shape)}"
                                   for p, a in zip(structure.leaf_paths(element), leaves))
                raise InvalidArgumentError(f"unbatch: every component needs the same first dimension; got {shapes}")
            for i in range(leaves[0].shape[0]):
                yield nest.map_structure(lambda a: a[i], element)

    def _compute_spec(self):
        return structure.unbatched(self._input.element_spec, "unbatch")

    def _cardinality(self):
        return UNKNOWN_CARDINALITY
