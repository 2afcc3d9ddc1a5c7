"""Where elements come from: tensors, generators, ranges, and datasets zipped or concatenated."""
from __future__ import annotations

import numpy as np

from .. import dtypes, nest
from ..errors import InvalidArgumentError
from ..tensor import Tensor, TensorSpec
from . import structure
from ._args import as_callable, as_int
from .node import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Node, node_of


def _frozen(value, where):
    """The user's value copied once and made read-only, so slices handed out later cannot change it."""
    def freeze(a):
        a = np.array(a, copy=True)
        a.flags.writeable = False
        return a
    return nest.map_structure(freeze, structure.normalize(value, where))


class TensorSlices(Node):
    def __init__(self, tensors):
        self._value = _frozen(tensors, "from_tensor_slices")
        leaves, paths = nest.flatten(self._value), structure.leaf_paths(self._value)
        shapes = [f"  component{p or ''} has shape {tuple(a.shape)}" for p, a in zip(paths, leaves)]
        if any(a.ndim == 0 for a in leaves) or len({a.shape[0] for a in leaves}) != 1:
            raise InvalidArgumentError("from_tensor_slices: every component must have the same first dimension "
                                       "(the one sliced into elements):\n" + "\n".join(shapes))
        self._n = leaves[0].shape[0]
        self._spec = structure.unbatched(structure.spec_of(self._value), "from_tensor_slices")

    def _elements(self, probe=False):
        for i in range(self._n):
            yield nest.map_structure(lambda a: a[i], self._value)

    def _cardinality(self):
        return self._n


class FromTensors(Node):
    def __init__(self, tensors):
        self._value = _frozen(tensors, "from_tensors")
        self._spec = structure.spec_of(self._value)

    def _elements(self, probe=False):
        yield self._value

    def _cardinality(self):
        return 1


def _signature(output_types, output_shapes, output_signature):
    if output_signature is not None:
        if output_types is not None or output_shapes is not None:
            raise InvalidArgumentError("from_generator: give output_signature, or output_types and output_shapes, "
                                       "not both")
        for leaf in nest.flatten(output_signature):
            if not isinstance(leaf, TensorSpec):
                raise InvalidArgumentError(f"from_generator: output_signature must be a structure of gf.TensorSpec, "
                                           f"found {leaf!r:.60}")
        return output_signature
    if output_types is None or output_shapes is None:
        raise InvalidArgumentError("from_generator needs output_signature=gf.TensorSpec(shape, dtype) (or a tuple/"
                                   "dict of them), or both output_types and output_shapes")
    types = nest.map_structure(dtypes.as_dtype, output_types)
    shapes = structure.flatten_up_to(types, output_shapes, "from_generator: output_shapes")
    return nest.pack_sequence_as(types, [TensorSpec(s, t) for s, t in zip(shapes, nest.flatten(types))])


def _conform(value, spec, where):
    """One yielded component as an array of `spec`: Python values take the spec's dtype (as tf converts
    them), arrays and tensors must already have it."""
    if isinstance(value, (Tensor, np.ndarray, np.generic)):
        array = structure.to_array(value, where)
        if array.dtype != spec.dtype.np:
            raise InvalidArgumentError(f"{where}: expected {structure.describe(spec)}, got an array of dtype "
                                       f"{array.dtype} with shape {tuple(array.shape)}")
    else:
        array = np.asarray(value)
        if array.dtype.kind not in "biuf" or (spec.dtype.is_integer and array.dtype.kind == "f") or (
                spec.dtype.is_bool and array.dtype.kind != "b"):
            raise InvalidArgumentError(f"{where}: expected {structure.describe(spec)}, got {value!r:.80}")
        array = array.astype(spec.dtype.np)
    if not spec.is_compatible_with(TensorSpec(array.shape, spec.dtype)):
        raise InvalidArgumentError(f"{where}: expected {structure.describe(spec)}, got shape {tuple(array.shape)}")
    return array


class FromGenerator(Node):
    def __init__(self, generator, output_types, output_shapes, args, output_signature):
        self._generator = as_callable(generator, "from_generator: generator")
        self._args = tuple(structure.normalize(tuple(args), "from_generator: args")) if args is not None else ()
        self._spec = _signature(output_types, output_shapes, output_signature)

    def _elements(self, probe=False):
        specs = nest.flatten(self._spec)
        for i, element in enumerate(self._generator(*self._args)):
            where = f"from_generator: element {i}"
            parts = structure.flatten_up_to(self._spec, element, where)
            arrays = [_conform(v, s, where + p) for v, s, p in zip(parts, specs, structure.leaf_paths(self._spec))]
            yield nest.pack_sequence_as(self._spec, arrays)

    def _cardinality(self):
        return UNKNOWN_CARDINALITY


class Range(Node):
    def __init__(self, *args, dtype=dtypes.int64):
        if not 1 <= len(args) <= 3:
            raise InvalidArgumentError(f"range takes (stop), (start, stop) or (start, stop, step), got {len(args)} "
                                       f"arguments")
        bounds = [as_int(a, "range: " + n) for a, n in zip(args if len(args) > 1 else (0,) + args,
                                                           ("start", "stop", "step"))]
        if len(bounds) == 3 and bounds[2] == 0:
            raise InvalidArgumentError("range: step must not be 0")
        self._range = range(*bounds)
        self._dtype = dtypes.as_dtype(dtype)
        self._spec = TensorSpec((), self._dtype)

    def _elements(self, probe=False):
        for i in self._range:
            yield np.array(i, dtype=self._dtype.np)

    def _cardinality(self):
        return len(self._range)


class Zip(Node):
    def __init__(self, datasets):
        self._datasets = nest.map_structure(lambda d: node_of(d, "zip takes gf.data.Dataset objects"), datasets)

    def _elements(self, probe=False):
        iterators = [d._elements(probe) for d in nest.flatten(self._datasets)]
        try:
            for parts in zip(*iterators):
                yield nest.pack_sequence_as(self._datasets, list(parts))
        finally:
            for it in iterators:
                it.close()

    def _compute_spec(self):
        return nest.map_structure(lambda d: d.element_spec, self._datasets)

    def _cardinality(self):
        result = INFINITE_CARDINALITY
        for d in nest.flatten(self._datasets):
            n = d._cardinality()
            if n == UNKNOWN_CARDINALITY:
                return n
            if n != INFINITE_CARDINALITY and (result == INFINITE_CARDINALITY or n < result):
                result = n
        return result


class Concatenate(Node):
    def __init__(self, first, second):
        self._first, self._second = first, node_of(second, "concatenate takes a gf.data.Dataset")
        self._spec = structure.merge_specs(first.element_spec, second.element_spec)
        if self._spec is None:
            raise InvalidArgumentError(
                f"concatenate: the datasets' elements must have the same structure, dtypes and ranks:\n"
                f"  this dataset:  {structure.describe(first.element_spec)}\n"
                f"  the other one: {structure.describe(second.element_spec)}")

    def _elements(self, probe=False):
        yield from self._first._elements(probe)
        yield from self._second._elements(probe)

    def _cardinality(self):
        a, b = self._first._cardinality(), self._second._cardinality()
        if INFINITE_CARDINALITY in (a, b):
            return INFINITE_CARDINALITY
        return UNKNOWN_CARDINALITY if UNKNOWN_CARDINALITY in (a, b) else a + b

