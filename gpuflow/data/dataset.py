"""`gf.data.Dataset`: tf.data's input pipelines.

A Dataset is a recipe; each iteration runs it afresh. Every node implements `_elements(probe)`,
a generator of elements in the internal form (nested tuples/dicts of NumPy arrays, see structure.py),
and `_cardinality()`. User functions (map, filter, reduce, ...) run on the host (`cpu` device), as
tf.data runs on the host; only the elements handed to the user become Tensors on the current device.
`probe=True` asks for elements only to learn their spec: it must not advance state such as a
shuffle's epoch, and need not start threads.
"""
from __future__ import annotations

import numpy as np

from .. import devices, dtypes, nest
from ..errors import InvalidArgumentError
from . import structure

AUTOTUNE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2


class Dataset:
    """An input pipeline with tf.data's methods: sources (`from_tensor_slices`, `from_tensors`,
        `from_generator`, `range`, `zip`), transformations (`map`, `filter`, `batch`, `shuffle`, `repeat`,
        `prefetch`, `cache`, `take`, `skip`, `shard`, ...) and iteration (`for x in ds`, `as_numpy_iterator`).

        Elements are built on the host and become tensors on the current device as they are produced.

        Differs from TF:
            `map` runs its function eagerly in Python (not traced), so `.numpy()` works inside it; elements hold
            numbers and bools only (no strings).
    """
    _spec = None

    # --- what every node provides --------------------------------------------------------------
    def _elements(self, probe=False):
        raise NotImplementedError(f"{type(self).__name__} must implement _elements")

    def _cardinality(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement _cardinality")

    def _compute_spec(self):
        raise NotImplementedError(f"{type(self).__name__} must set _spec or implement _compute_spec")

    # --- inspecting ------------------------------------------------------------------------------
    @property
    def element_spec(self):
        """A structure of TensorSpecs like one element; None marks a dimension that varies (the batch dim)."""
        if self._spec is None:
            self._spec = self._compute_spec()
        return self._spec

    def cardinality(self):
        """The number of elements as an int64 scalar tensor, or INFINITE_CARDINALITY / UNKNOWN_CARDINALITY."""
        from ..ops.creation import constant
        return constant(self._cardinality(), dtype=dtypes.int64)

    def __len__(self):
        n = self._cardinality()
        if n == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown.")
        return n

    def __repr__(self):
        return f"<{type(self).__name__}Dataset element_spec={structure.describe(self.element_spec)}>"

    # --- iterating -------------------------------------------------------------------------------
    def __iter__(self):
        # A generator, so dropping the iterator closes the pipeline (and stops prefetch threads).
        for element in self._elements():
            yield structure.to_tensors(element)

    def as_numpy_iterator(self):
        for element in self._elements():
            yield nest.map_structure(np.array, element)  # copies: the caller may write to them

    def reduce(self, initial_state, reduce_func):
        """`reduce_func(state, element) -> state`, folded over the dataset on the host; the result on the
        current device. The state must keep its structure and dtypes."""
        state = structure.normalize(initial_state, "reduce: initial_state")
        spec = structure.spec_of(state)
        for element in self._elements():
            with devices.device("cpu"):
                new = reduce_func(structure.to_tensors(state), structure.to_tensors(element))
            state = structure.normalize(new, "reduce: reduce_func returned")
            got = structure.spec_of(state)
            if structure.merge_specs(spec, got) is None:
                raise InvalidArgumentError(f"reduce: reduce_func must return a state like initial_state: expected "
                                           f"{structure.describe(spec)}, got {structure.describe(got)}")
        return structure.to_tensors(state)

    # --- sources ---------------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors, name=None):
        return _sources.TensorSlices(tensors)

    @staticmethod
    def from_tensors(tensors, name=None):
        return _sources.FromTensors(tensors)

    @staticmethod
    def from_generator(generator, output_types=None, output_shapes=None, args=None, output_signature=None,
                       name=None):
        return _sources.FromGenerator(generator, output_types, output_shapes, args, output_signature)

    @staticmethod
    def range(*args, dtype=dtypes.int64, name=None):  # noqa: A003 - tf's name
        return _sources.Range(*args, dtype=dtype)

    @staticmethod
    def zip(*datasets, name=None):  # noqa: A003 - tf's name
        return _sources.Zip(datasets[0] if len(datasets) == 1 else datasets)

    def concatenate(self, dataset, name=None):
        return _sources.Concatenate(self, dataset)

    # --- transformations -------------------------------------------------------------------------
    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):  # noqa: A003
        return _transforms.Map(self, map_func, num_parallel_calls, deterministic)

    def filter(self, predicate, name=None):  # noqa: A003
        return _transforms.Filter(self, predicate)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True, name=None):
        return _shuffle.Shuffle(self, buffer_size, seed, reshuffle_each_iteration)

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None, deterministic=None, name=None):
        return _batching.Batch(self, batch_size, drop_remainder, num_parallel_calls)

    def padded_batch(self, batch_size, padded_shapes=None, padding_values=None, drop_remainder=False, name=None):
        return _batching.PaddedBatch(self, batch_size, padded_shapes, padding_values, drop_remainder)

    def unbatch(self, name=None):
        return _batching.Unbatch(self)

    def prefetch(self, buffer_size, name=None):
        return _prefetch.Prefetch(self, buffer_size)

    def cache(self, filename="", name=None):
        return _cache.Cache(self, filename)

    def repeat(self, count=None, name=None):
        return _transforms.Repeat(self, count)

    def take(self, count, name=None):
        return _transforms.Take(self, count)

    def skip(self, count, name=None):
        return _transforms.Skip(self, count)

    def shard(self, num_shards, index, name=None):
        return _transforms.Shard(self, num_shards, index)

    def interleave(self, map_func, cycle_length=None, block_length=None, num_parallel_calls=None,
                   deterministic=None, name=None):
        return _transforms.Interleave(self, map_func, cycle_length, block_length)

    def flat_map(self, map_func, name=None):
        return _transforms.Interleave(self, map_func, 1, 1)

    def enumerate(self, start=0, name=None):  # noqa: A003
        count = Dataset.range(start, np.iinfo(np.int64).max)
        return Dataset.zip((count, self))

    def apply(self, transformation_func):
        return transformation_func(self)


# The node modules subclass Dataset, so they load after it.
from . import batching as _batching  # noqa: E402
from . import cache as _cache  # noqa: E402
from . import prefetch as _prefetch  # noqa: E402
from . import shuffle as _shuffle  # noqa: E402
from . import sources as _sources  # noqa: E402
from . import transforms as _transforms  # noqa: E402
