"""`gf.data.Dataset`: tf.data's input pipelines.

A Dataset is a recipe; each iteration runs it afresh. It holds the last node of its pipeline (node.py:
sources and transformations, each in the module of its kind) and each method makes a new Dataset around a
new node. User functions (map, filter, reduce, ...) run on the host (`cpu` device), as tf.data runs on
the host; only the elements handed to the user become Tensors on the current device.
"""
from __future__ import annotations

import numpy as np

from .. import devices, dtypes, nest
from ..errors import InvalidArgumentError
from ..ops.creation import constant
from . import batching as _batching
from . import cache as _cache
from . import choosing as _choosing
from . import prefetch as _prefetch
from . import shuffle as _shuffle
from . import sources as _sources
from . import structure
from . import transforms as _transforms
from .node import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Node  # noqa: F401  (tf.data's constants)


class Dataset:
    """An input pipeline with tf.data's methods: sources (`from_tensor_slices`, `from_tensors`,
        `from_generator`, `range`, `zip`, `choose_from_datasets`, `sample_from_datasets`), transformations (`map`, `filter`, `batch`, `shuffle`, `repeat`,
        `prefetch`, `cache`, `take`, `skip`, `shard`, ...) and iteration (`for x in ds`, `as_numpy_iterator`).

        Elements are built on the host and become tensors on the current device as they are produced.

        Differs from TF:
            `map` runs its function eagerly in Python (not traced), so `.numpy()` works inside it; elements hold
            numbers and bools only (no strings).
    """

    def __init__(self, node: Node):
        self._node = node  # made by the methods below: a user starts from a source (from_tensor_slices, ...)

    # --- inspecting ------------------------------------------------------------------------------
    @property
    def element_spec(self):
        """A structure of TensorSpecs like one element; None marks a dimension that varies (the batch dim)."""
        return self._node.element_spec

    def cardinality(self):
        """The number of elements as an int64 scalar tensor, or INFINITE_CARDINALITY / UNKNOWN_CARDINALITY."""
        return constant(self._node._cardinality(), dtype=dtypes.int64)

    def __len__(self):
        n = self._node._cardinality()
        if n == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown.")
        return n

    def __repr__(self):
        return f"<{type(self._node).__name__}Dataset element_spec={structure.describe(self.element_spec)}>"

    # --- iterating -------------------------------------------------------------------------------
    def __iter__(self):
        # A generator, so dropping the iterator closes the pipeline (and stops prefetch threads).
        for element in self._node._elements():
            yield structure.to_tensors(element)

    def as_numpy_iterator(self):
        for element in self._node._elements():
            yield nest.map_structure(np.array, element)  # copies: the caller may write to them

    def reduce(self, initial_state, reduce_func):
        """`reduce_func(state, element) -> state`, folded over the dataset on the host; the result on the
        current device. The state must keep its structure and dtypes."""
        state = structure.normalize(initial_state, "reduce: initial_state")
        spec = structure.spec_of(state)
        for element in self._node._elements():
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
        return Dataset(_sources.TensorSlices(tensors))

    @staticmethod
    def from_tensors(tensors, name=None):
        return Dataset(_sources.FromTensors(tensors))

    @staticmethod
    def from_generator(generator, output_types=None, output_shapes=None, args=None, output_signature=None,
                       name=None):
        return Dataset(_sources.FromGenerator(generator, output_types, output_shapes, args, output_signature))

    @staticmethod
    def range(*args, dtype=dtypes.int64, name=None):  # noqa: A003 - tf's name
        return Dataset(_sources.Range(*args, dtype=dtype))

    @staticmethod
    def zip(*datasets, name=None):  # noqa: A003 - tf's name
        return Dataset(_sources.Zip(datasets[0] if len(datasets) == 1 else datasets))

    def concatenate(self, dataset, name=None):
        return Dataset(_sources.Concatenate(self._node, dataset))

    @staticmethod
    def choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset=True):
        """The next element of `datasets[i]` for each scalar int64 `i` of `choice_dataset`. When the chosen
        dataset has run out: the end (stop_on_empty_dataset=True), or that choice is skipped."""
        return Dataset(_choosing.ChooseFromDatasets(datasets, choice_dataset, stop_on_empty_dataset))

    @staticmethod
    def sample_from_datasets(datasets, weights=None, seed=None, stop_on_empty_dataset=False,
                             rerandomize_each_iteration=None):
        """Elements of `datasets` interleaved at random, each drawn from dataset i with probability proportional
        to `weights[i]` (default: equal) among those not run out. stop_on_empty_dataset=True ends at the first
        that runs out. The draws repeat under a seed (`seed`, or gf.random.set_seed); with
        rerandomize_each_iteration each pass draws anew."""
        return Dataset(_choosing.SampleFromDatasets(datasets, weights, seed, stop_on_empty_dataset,
                                                    rerandomize_each_iteration))

    # --- transformations -------------------------------------------------------------------------
    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):  # noqa: A003
        return Dataset(_transforms.Map(self._node, map_func, num_parallel_calls, deterministic))

    def filter(self, predicate, name=None):  # noqa: A003
        return Dataset(_transforms.Filter(self._node, predicate))

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True, name=None):
        return Dataset(_shuffle.Shuffle(self._node, buffer_size, seed, reshuffle_each_iteration))

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None, deterministic=None, name=None):
        return Dataset(_batching.Batch(self._node, batch_size, drop_remainder, num_parallel_calls))

    def padded_batch(self, batch_size, padded_shapes=None, padding_values=None, drop_remainder=False, name=None):
        return Dataset(_batching.PaddedBatch(self._node, batch_size, padded_shapes, padding_values, drop_remainder))

    def unbatch(self, name=None):
        return Dataset(_batching.Unbatch(self._node))

    def prefetch(self, buffer_size, name=None):
        return Dataset(_prefetch.Prefetch(self._node, buffer_size))

    def cache(self, filename="", name=None):
        return Dataset(_cache.Cache(self._node, filename))

    def repeat(self, count=None, name=None):
        return Dataset(_transforms.Repeat(self._node, count))

    def take(self, count, name=None):
        return Dataset(_transforms.Take(self._node, count))

    def skip(self, count, name=None):
        return Dataset(_transforms.Skip(self._node, count))

    def shard(self, num_shards, index, name=None):
        return Dataset(_transforms.Shard(self._node, num_shards, index))

    def interleave(self, map_func, cycle_length=None, block_length=None, num_parallel_calls=None,
                   deterministic=None, name=None):
        return Dataset(_transforms.Interleave(self._node, map_func, cycle_length, block_length))

    def flat_map(self, map_func, name=None):
        return Dataset(_transforms.Interleave(self._node, map_func, 1, 1))

    def enumerate(self, start=0, name=None):  # noqa: A003
        count = Dataset.range(start, np.iinfo(np.int64).max)
        return Dataset.zip((count, self))

    def apply(self, transformation_func):
        return transformation_func(self)
